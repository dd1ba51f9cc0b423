import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List the runs made with a cache, newest first, or show one.",
        discussion: """
            Every run appends a line to the cache's runs.jsonl: when, the pipeline file and
            its digest, the options, the stages run, cached and failed, what was generated
            and paid, the exit status and the out folder.

            Examples:
              seedpipe log pipelines/waterfall-journey.yaml
              seedpipe log pipelines/waterfall-journey.yaml --json
              seedpipe log --cache pipelines/.seedpipe
            """
    )

    @Argument(help: "A pipeline file (its runs, from its cache) and/or a run id (one run, with its stages).")
    var arguments: [String] = []

    @Option(help: "Cache folder (default: .seedpipe beside the pipeline, or $SEEDPIPE_CACHE, or ./.seedpipe).")
    var cache: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard arguments.count <= 2 else { throw ValidationError("give a pipeline file, a run id, or both") }
    }

    func run() async throws {
        global.apply()
        let pipeline = arguments.first { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        let id = arguments.first { $0 != pipeline }
        let folder = cache.map { URL(fileURLWithPath: $0) }
            ?? pipeline.map { PipelineOptions(pipeline: $0, cache: nil).cacheFolder }
            ?? ProcessInfo.processInfo.environment["SEEDPIPE_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: ".seedpipe")
        var records = RunHistory(cache: folder).records()
        if let pipeline { records = records.filter { $0.pipeline == PipelineFile.name(of: URL(fileURLWithPath: pipeline)) } }
        if let id {
            guard let record = records.first(where: { $0.id == id || $0.id.hasSuffix(id) }) else {
                Terminal.error("error: no run \(id) in \(folder.relativePath)/runs.jsonl (seedpipe log lists them)")
                throw ExitCode(2)
            }
            if json { return try Terminal.json(record) }
            return print(Self.describe(record))
        }
        if json { return try Terminal.json(records) }
        guard !records.isEmpty else { return print("no runs recorded in \(folder.relativePath)/runs.jsonl") }
        let formatter = ISO8601DateFormatter()
        print("RUN ID                 STARTED               PIPELINE             STATUS            RAN CACHED FAILED  GENERATED  PAID     TIME")
        for record in records {
            let paid = record.moneyPaid.map { String(format: "$%.2f", $0) } ?? (record.generationsPaid > 0 ? "?" : "$0.00")
            let generated = record.generationsPaid + record.generationsEmulated
            print([record.id.padding(toLength: 22, withPad: " ", startingAt: 0),
                   formatter.string(from: record.started).padding(toLength: 21, withPad: " ", startingAt: 0),
                   record.pipeline.padding(toLength: 20, withPad: " ", startingAt: 0),
                   "\(record.status.rawValue) (\(record.exitCode))".padding(toLength: 17, withPad: " ", startingAt: 0),
                   String(format: "%3d %6d %6d  %9d  %-7@ %5.1f s", record.ran, record.cached, record.failed, generated, paid, record.seconds)]
                .joined(separator: " ") + (record.profile.map { "  --profile \($0)" } ?? "")
                  + (record.options.only.map { "  --only \($0.joined(separator: ","))" } ?? "")
                  + (record.options.until.map { "  --until \($0)" } ?? ""))
        }
    }

    static func describe(_ record: RunRecord) -> String {
        let formatter = ISO8601DateFormatter()
        var lines = ["run \(record.id): \(record.pipeline), \(record.status.rawValue) (exit \(record.exitCode)) in \(String(format: "%.1f", record.seconds)) s",
                     "started \(formatter.string(from: record.started)), ended \(formatter.string(from: record.ended))"]
        if let file = record.file { lines.append("file \(file)" + (record.fileDigest.map { " (sha256 \($0.prefix(16)))" } ?? "")) }
        var options = ["backend \(record.options.backend)", "jobs \(record.options.jobs)"]
        if let profile = record.profile { options.insert("profile \(profile)", at: 0) }
        if record.options.keepGoing { options.append("keep-going") }
        if let only = record.options.only { options.append("--only \(only.joined(separator: ","))") }
        if let until = record.options.until { options.append("--until \(until)") }
        if let cost = record.options.maxCost { options.append(String(format: "--max-cost %.2f", cost)) }
        if record.options.sharedJournal == true { options.append("shared journal") }
        lines.append("options: " + options.joined(separator: ", "))
        if let message = record.message { lines.append("why: \(message)") }
        lines.append("stages: \(record.ran) ran, \(record.cached) cached, \(record.failed) failed; generated \(record.generationsPaid) paid"
                     + (record.moneyPaid.map { String(format: " ($%.2f)", $0) } ?? "") + ", \(record.generationsEmulated) emulated")
        let width = (record.stages.map(\.stage.count).max() ?? 5) + 2
        for stage in record.stages {
            var line = "  " + stage.stage.padding(toLength: width, withPad: " ", startingAt: 0)
                + stage.status.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: "%6.2f s  ", stage.seconds) + stage.kind
            if let generations = stage.generations {
                line += "  \(generations) generation\(generations == 1 ? "" : "s")" + (stage.emulated == true ? " emulated"
                    : stage.money.map { String(format: " $%.2f", $0) } ?? "")
            }
            if let error = stage.error { line += "  (\(error))" }
            lines.append(line)
        }
        if let out = record.out { lines.append("out: \(out)") }
        return lines.joined(separator: "\n")
    }
}
