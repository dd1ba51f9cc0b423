import ArgumentParser
import Foundation
import SeedpipeKit
import SeedanceAPI

/// `seedpipe studio`: a local page to watch a run, compare takes, pick and re-roll.
struct StudioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "A local page on a pipeline: watch runs live, compare every take side by side, pick and re-roll.",
        discussion: """
            Serves one pipeline and its cache on loopback (127.0.0.1 unless --host says
            otherwise) and prints the page's URL. Open it in a browser: the graph with
            what is cached and what a run would pay for; each shot with all its takes,
            playable side by side; pick a take or re-roll a shot (each shows what it
            will make and cost first); start a run, or follow one started with
            `seedpipe run` in another terminal on the same cache. The page is private:
            every request needs the token in the printed URL (opening it sets a
            cookie) and the studio's own address in its Host header. Ctrl-C stops.

            In a pipeline with profiles, each shot shows its takes (explored in the
            default profile) beside its finished version, and each take can be
            finished: picked and generated in the finishing profile (--profile, else
            the first profile after the default one), its cost shown first.

            Examples:
              seedpipe studio pipelines/waterfall-journey.yaml
              seedpipe studio pipelines/waterfall-journey.yaml --port 8765
              seedpipe studio pipelines/storyboard.yaml --profile final
            """
    )

    @OptionGroup var options: PipelineOptions

    @Option(help: "Port (0 picks a free one).")
    var port = 0

    @Option(help: "Address to listen on; anything but loopback lets others on the network reach the page.")
    var host = "127.0.0.1"

    @Option(help: "Folder of the run's outputs (default: out/<pipeline>, or out/<pipeline>/<profile>, as `run` writes them).")
    var out: String?

    @OptionGroup var flags: RunFlags
    @OptionGroup var backend: BackendOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
    }

    func run() async throws {
        global.apply()
        let project = options.project
        let graph = try project.load().graph  // a broken pipeline is an error here, not on the page
        let name = graph.name
        try project.claimName(name, record: true)
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        let server = StudioServer(launched: project, backend: backend, flags: flags, token: token, host: host, port: port, out: out,
                                  pipelineName: name, profile: graph.profile,
                                  finishProfile: graph.profiles.flatMap { choice in
                                      choice.finishing ? choice.selected : choice.names.first { $0 != choice.defaultName }
                                  })
        let (url, task) = try await server.start()
        if !SeedanceClient.isLoopback(url) {
            Terminal.error("note: --host \(host) lets other machines reach this page; every request still needs the token")
        }
        print("seedpipe studio on \(options.pipeline): \(url.absoluteString)")
        print("(open it in a browser; Ctrl-C stops)")
        Terminal.flush()
        let stop = Task { _ = await SignalWaiter.waitForTermination(); task.cancel() }
        _ = await task.result
        stop.cancel()
    }
}
