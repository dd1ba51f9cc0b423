import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline: generate what is missing, reuse everything cached.",
        discussion: """
            Independent stages run in parallel (up to --jobs generations at once). Every
            result is cached by content, so a rerun pays only for what changed, and a run
            cut short (Ctrl-C, a crash) resumes without paying twice: remote generations
            are journaled. Outputs land in --out with run.json beside them.

            Examples:
              seedpipe run pipelines/waterfall-journey.yaml
              seedpipe run pipelines/product-teaser.yaml --var product="a red kettle" \\
                  --max-generations 4
              seedpipe run pipelines/storyboard.yaml --backend emulator --keep-going --json
              seedpipe run pipelines/waterfall-journey.yaml --only shots   # the shots alone
              seedpipe run pipelines/waterfall-journey.yaml --until joined

            Every run is appended to the cache's runs.jsonl: seedpipe log lists them.
            """
    )

    @OptionGroup var options: PipelineOptions

    @Option(help: "Folder for the outputs (default: out/<pipeline>).")
    var out: String?

    @Flag(help: "Finish every branch that does not depend on a failure, and deliver its outputs.")
    var keepGoing = false

    @Option(help: "Refuse to start a run that would pay for more generations than this.")
    var maxGenerations: Int?

    @Option(help: ArgumentHelp("Refuse to start a run estimated over this many USD, and stop submitting once the spend would pass it (what runs finishes and is kept).",
                               valueName: "USD"))
    var maxCost: Double?

    @Flag(help: ArgumentHelp("Read every file again (plugin programs, local inputs, cached objects) instead of trusting the digests remembered by their stat stamps."))
    var rehash = false

    @OptionGroup var flags: RunFlags
    @OptionGroup var selection: SelectionOptions
    @OptionGroup var backend: BackendOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let maxGenerations, maxGenerations < 0 { throw ValidationError("--max-generations must be 0 or more") }
        if let maxCost, maxCost < 0 { throw ValidationError("--max-cost must be 0 or more") }
    }

    func run() async throws {
        global.apply()
        var settings = flags.options(backend: backend, keepGoing: keepGoing)
        settings.out = out.map { URL(fileURLWithPath: $0) }
        settings.maxGenerations = maxGenerations
        settings.maxCost = maxCost
        settings.rehash = rehash
        settings.selection = selection.selection
        // Validated and planned before connecting: nothing starts for a broken or too costly pipeline.
        let run = try await PipelineRun(project: options.project, options: settings)
        Terminal.note(run.plan.summary)
        try run.checkLimits()
        let result: PipelineRun.Result
        switch await RunConsole.run(run, json: flags.json, verbose: global.verbose) {
        case .success(let value): result = value
        case .failure(is CancellationError):
            Terminal.error("interrupted: nothing partial was cached; remote generations stay journaled (seedpipe jobs), run again to resume")
            throw ExitCode(130)
        case .failure(let error): throw error
        }
        let report = result.report, folder = result.folder?.relativePath ?? run.outFolder.relativePath
        let seconds = String(format: "%.1f", result.seconds)
        if let failure = result.failure {
            // What was made is delivered; this line says what failed, the error (the last line) why.
            let failed = run.pipeline.steps.map(\.node.name).filter { report.failures[$0] != nil }
            let skipped = report.stages.values.filter(\.skipped).count
            Terminal.error("finished in \(seconds) s with \(failed.count) failed (\(failed.joined(separator: ", ")))"
                           + (skipped == 0 ? "" : " and \(skipped) skipped") + report.spentSummary
                           + "; \(report.outputs.count) of \(plural(run.pipeline.graph.outputs.count, "output")) and report.html in \(folder)/")
            throw failure
        }
        Terminal.note("done in \(seconds) s: \(plural(report.stages.count, "stage")), \(report.stages.values.filter(\.cached).count) from cache"
                      + report.spentSummary + "; outputs and report.html in \(folder)/")
    }
}
