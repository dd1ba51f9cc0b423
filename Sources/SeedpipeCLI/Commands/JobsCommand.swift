import ArgumentParser
import Foundation
import Pipeline
import Stages

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the remote generations in the journal and their state.",
        discussion: """
            intent: about to submit (a rerun checks request history before sending);
            submitted: paid for, still running; completed: output ready to download;
            downloaded: in the cache; failed: ended FAILED.

            Examples:
              seedpipe jobs pipelines/waterfall-journey.yaml
              seedpipe jobs --cache pipelines/.seedpipe --json
            """
    )

    @OptionGroup var location: CacheCommand.Location

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let folder = location.folder
        var entries = try await GenerationEntry.all(in: try location.storage().journal)
        // A pipeline named: its generations only (the cache may hold others').
        let name = location.pipeline.map { PipelineFile.name(of: URL(fileURLWithPath: $0)) }
        if let name { entries = entries.filter { $0.pipeline == name } }
        if json { return try Terminal.json(entries) }
        guard !entries.isEmpty else { return print("no journaled generations\(name.map { " of \($0)" } ?? "") in \(folder.relativePath)") }
        let formatter = ISO8601DateFormatter()
        for entry in entries {
            print("\(entry.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(entry.pipeline)/\(entry.stage)  "
                  + "request \(entry.requestID ?? "—")  \(entry.seconds) s  \(formatter.string(from: entry.createdAt))"
                  + (entry.error.map { "  (\($0))" } ?? ""))
        }
    }
}

extension PipelineOptions {
    init(pipeline: String, cache: String?) {
        self.init()
        self.pipeline = pipeline
        self.cache = cache
    }
}
