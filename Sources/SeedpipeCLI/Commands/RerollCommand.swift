import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit

/// `seedpipe reroll`: more takes of one shot, and nothing else.
struct RerollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reroll",
        abstract: "Generate more takes of one shot (new seeds) and nothing else; pick the newest.",
        discussion: """
            In a chain the shots after this one start on its last frame, so a new take
            means the next run regenerates them (this command says which, and the
            cost). With --keep-after the new take is made between its neighbours: it
            starts on the shot before's last frame and ends on the first frame of the
            shot after, so every later shot stays as it is and nothing else is paid
            for; the seams on both sides are reported.

            Examples:
              seedpipe reroll pipelines/waterfall-journey.yaml shots-2
              seedpipe reroll pipelines/waterfall-journey.yaml shots 2 --count 3 \\
                  --keep-after
            """
    )

    @OptionGroup var options: PipelineOptions

    @Argument(help: "The shot: shots-2, or a chain's or storyboard's own name and then the shot number (shots 2).")
    var stage: String

    @Argument(help: "The shot number, when STAGE is a chain's or storyboard's own name.")
    var shot: Int?

    @Option(help: "How many new takes.")
    var count = 1

    @Flag(help: "Make the new take between its neighbours, so the shots after it are kept.")
    var keepAfter = false

    @OptionGroup var flags: RunFlags
    @OptionGroup var backend: BackendOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...20).contains(count) else { throw ValidationError("--count must be 1 to 20") }
    }

    func run() async throws {
        global.apply()
        let project = options.project
        let reroll = try await TakeActions.reroll(shot.map { "\(stage)-\($0)" } ?? stage, count: count, keepAfter: keepAfter,
                                                  project: project, storage: try project.storage(), backend: await backend.kind())
        if let note = reroll.note { Terminal.error(note) }
        Terminal.note(reroll.summary)
        if !reroll.consequences.added.isEmpty {
            Terminal.note("then " + reroll.consequences.text + (reroll.anchor == nil ? " (--keep-after keeps them)" : ""))
        }
        let report: RunReport
        switch await RunConsole.run(reroll.run(options: flags.options(backend: backend)), json: flags.json, verbose: global.verbose) {
        case .success(let value): report = value.report
        case .failure(is CancellationError):
            Terminal.error("interrupted: remote generations stay journaled; reroll again (or run) to resume")
            throw ExitCode(130)
        case .failure(let error): throw error
        }
        print(try await reroll.finish(report))
        if let failure = report.firstFailure(in: reroll.only) { throw failure }
    }
}
