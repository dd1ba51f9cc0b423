import Foundation
import Media
import MediaTestSupport

/// A team on one cache, against a real nginx (WebDAV PUT) on loopback: the time a remote
/// lookup adds to each cached stage (a machine with an empty cache getting a 50-stage pipeline
/// from the team's cache, against the same machine's local rerun), and upload throughput (a
/// machine publishing a film of about 100 MB).
enum TeamBench {
    static func run(seedpipe: String) async throws {
        guard TestNginx.installed else {
            print("nginx is not installed: make servers")
            exit(2)
        }
        let nginx = try await TestNginx.start()
        defer { nginx.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("team-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        guard FileManager.default.changeCurrentDirectoryPath(folder.path) else { fatalError("cannot enter \(folder.path)") }
        let remote = ["--remote-cache", nginx.url.absoluteString]

        // 1. The 50 stages of PipelineBench (thumbnails and probes of a local clip).
        try PipelineBench.writeFiftyStages(in: folder)
        let run = { (cache: String, extra: [String]) in
            [seedpipe, "run", "fifty.yaml", "--backend", "http://127.0.0.1:9", "--out", "out", "--cache", cache] + extra
        }
        let published = ProcessRun.measure(run("publisher", remote))
        let fromRemote = (0..<5).map { index in ProcessRun.measure(run("machine-\(index)", remote)) }
        let localRerun = (0..<7).map { _ in ProcessRun.measure(run("publisher", [])) }
        let remoteRerun = (0..<7).map { _ in ProcessRun.measure(run("publisher", remote)) }
        let fetched = SeedanceBench.median(fromRemote.map(\.seconds)), local = SeedanceBench.median(localRerun.map(\.seconds))
        print(String(format: "50 cached stages from the team's cache (nginx on loopback), empty local cache: median %.0f ms "
                     + "(exit %d); local rerun %.0f ms; rerun with the remote configured %.0f ms: a remote lookup adds %.1f ms per cached stage "
                     + "(publishing run %.0f ms)",
                     fetched * 1000, fromRemote.last?.status ?? -1, local * 1000, SeedanceBench.median(remoteRerun.map(\.seconds)) * 1000,
                     (fetched - local) * 1000 / 50, published.seconds * 1000))

        // 2. Upload throughput: a film of twelve 1080p clips joined (stream copy), published.
        try SyntheticClip(width: 1920, height: 1080, duration: 10, preset: "ultrafast")
            .render(to: folder.appendingPathComponent("big.mp4"))
        let clips = Array(repeating: "big.mp4", count: 12).map { "\"\($0)\"" }.joined(separator: ", ")
        try "pipeline: big\nstages:\n  film: { uses: concat, with: { clips: [\(clips)] } }\noutputs: { film: \"${film.video}\" }\n"
            .write(to: folder.appendingPathComponent("big.yaml"), atomically: true, encoding: .utf8)
        let (status, lines) = try events([seedpipe, "run", "big.yaml", "--out", "big-out", "--cache", "big-cache", "--json"] + remote)
        let note = lines.first { $0.contains("uploaded") && $0.contains("team's cache") } ?? "no upload note (exit \(status))"
        print("upload: \(note)")
    }

    /// Runs a command and returns its exit status and the messages of its JSON notes.
    static func events(_ arguments: [String]) throws -> (Int32, [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let messages = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return object["message"] as? String
        }
        return (process.terminationStatus, messages)
    }
}
