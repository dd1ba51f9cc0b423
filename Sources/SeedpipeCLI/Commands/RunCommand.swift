import ArgumentParser
import Foundation
import Logging
import Pipeline
import Stages

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
    @OptionGroup var backend: BackendOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let maxGenerations, maxGenerations < 0 { throw ValidationError("--max-generations must be 0 or more") }
        if let maxCost, maxCost < 0 { throw ValidationError("--max-cost must be 0 or more") }
    }

    func run() async throws {
        global.apply()
        // Validate and plan before connecting: nothing starts for a broken or too costly pipeline.
        // The pipeline is loaded once; the client reaches the stages through the run's services.
        let storage = try options.storage()
        storage.digests.rehash = rehash
        // Priced as the backend bills: an emulator's work is emulated, at its own price.
        let pipeline = try await options.loadPriced(storage, backend: await backend.kind())
        try options.claimName(pipeline.graph.name, record: true)
        let plan = await Planner.plan(pipeline, storage: storage)
        Terminal.note(PlanCommand.summary(plan))
        if let maxGenerations, plan.generations > maxGenerations {
            throw ValidationError("this run would \(plan.cost.emulated ? "emulate" : "pay for") \(plural(plan.generations, "generation")) (\(plan.secondsToPay) s of video), "
                                  + "more than --max-generations \(maxGenerations); nothing was started")
        }
        if let maxCost, plan.generations > 0 {
            guard let estimate = plan.cost.money else {
                throw ValidationError("--max-cost needs a price, and none is known yet: give --price-per-second USD "
                                      + "(or SEEDPIPE_PRICE_PER_SECOND), or run once without --max-cost so the cache learns it; nothing was started")
            }
            if estimate > maxCost + 1e-9 {
                throw ValidationError(String(format: "this run is estimated at $%.2f (%d generations, %d s of video), over --max-cost $%.2f; nothing was started",
                                             estimate, plan.generations, plan.secondsToPay, maxCost))
            }
        }
        let started = Date()
        let result = await Self.execute(pipeline, storage: storage, plan: plan, cacheFolder: options.cacheFolder, backend: backend,
                                        options: flags.execution(keepGoing: keepGoing), json: flags.json, verbose: global.verbose,
                                        budget: maxCost.map { SpendingLimit(limit: $0) })
        let report: RunReport
        switch result {
        case .success(let value):
            report = value
        case .failure(is CancellationError):
            Terminal.error("interrupted: nothing partial was cached; remote generations stay journaled (seedpipe jobs), run again to resume")
            throw ExitCode(130)
        case .failure(let error as PipelineError):
            if let partial = error.report { try await Self.write(partial, pipeline: pipeline, storage: storage, started: started, options: options, out: out) }
            throw error
        case .failure(let error):
            throw error
        }
        let folder = try await Self.write(report, pipeline: pipeline, storage: storage, started: started, options: options, out: out)
        let hits = report.stages.values.filter(\.cached).count
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        if let failure = report.firstFailure(in: pipeline) {
            // What was made is delivered; this line says what failed, the error (the last line) why.
            let failed = pipeline.steps.map(\.node.name).filter { report.failures[$0] != nil }
            let skipped = report.stages.values.filter(\.skipped).count
            Terminal.error("finished in \(seconds) s with \(failed.count) failed (\(failed.joined(separator: ", ")))"
                           + (skipped == 0 ? "" : " and \(skipped) skipped") + Self.spent(report)
                           + "; \(report.outputs.count) of \(plural(pipeline.graph.outputs.count, "output")) and report.html in \(folder.relativePath)/")
            throw failure
        }
        Terminal.note("done in \(seconds) s: \(plural(report.stages.count, "stage")), \(hits) from cache"
                       + Self.spent(report) + "; outputs and report.html in \(folder.relativePath)/")
    }

    /// What a run paid for, and what an emulator made in place of paid work: `; paid for 2
    /// generations, $0.80` or `; emulated 3 generations (12 s of video, nothing paid)`.
    static func spent(_ report: RunReport) -> String {
        let paid = report.paid, emulated = report.emulated
        var text = ""
        if paid.generations > 0 {
            text += "; paid for \(plural(paid.generations, "generation"))" + (paid.money.map { String(format: ", $%.2f", $0) } ?? "")
        }
        if emulated.generations > 0 {
            let credits = (emulated.money ?? 0) > 0 ? String(format: ", $%.2f of emulator credits", emulated.money!) : ""
            text += "; emulated \(plural(emulated.generations, "generation")) (\(Int(emulated.seconds.rounded())) s of video\(credits), nothing paid)"
        }
        return text
    }

    /// Runs a pipeline as `run` does: holds the cache's shared lock (`cache gc` waits for
    /// it), connects (or starts the offline emulator) only when the plan pays for
    /// something, prints events as they come, and stops cleanly on Ctrl-C.
    static func execute(_ pipeline: ValidatedPipeline, storage: Storage, plan: Plan, cacheFolder: URL, backend: BackendOptions,
                        options: ExecutionOptions, json: Bool, verbose: Bool, budget: SpendingLimit? = nil)
        async -> Result<RunReport, any Error>
    {
        let cacheLock: FileLock
        let connection: BackendOptions.Connection?
        do {
            cacheLock = try await FileLock.acquire(Storage.lockFile(of: cacheFolder), exclusive: false)
            // Should a cached object vanish mid-run, its generation fails with a clear
            // "no SeedanceService" error and the next run plans it properly.
            // The plan was priced for this backend: an emulator's plan is emulated (no second question to it).
            connection = plan.generations > 0 ? try await backend.connect(emulated: plan.cost.emulated) : nil
        } catch {
            return .failure(error)
        }
        defer { withExtendedLifetime(cacheLock) {} }
        var services = Services()
        if let connection {
            services.set(SeedanceService(client: connection.client,
                                         pollInterval: connection.emulator == nil ? .seconds(2) : .milliseconds(200), budget: budget,
                                         emulated: connection.emulated))
        }
        let executor = Executor(pipeline: pipeline, storage: storage, services: services, options: options)
        let (events, continuation) = AsyncStream.makeStream(of: ExecutionEvent.self)
        // The run as it goes, for a studio page on this cache (`seedpipe studio`).
        let live = LiveLog(cache: cacheFolder, pipeline: pipeline.graph.name)
        live?.begin(pipeline.steps.map(\.node.name))
        let printer = Task { await EventPrinter(json: json, verbose: verbose, live: live).print(events) }
        let runTask = Task { try await executor.run(events: continuation) }
        let interrupt = Task {
            if await SignalWaiter.waitForTermination() != nil { runTask.cancel() }
        }
        let result = await runTask.result
        interrupt.cancel()
        continuation.finish()
        await printer.value
        await connection?.close()
        live?.end(result)
        return result
    }

    /// Every shot's takes, their posters copied to `takes/` beside run.json.
    /// `pipeline` is the one run: without a picks file there are no re-rolled takes, so it
    /// holds every take and the file is not read again.
    static func takes(into folder: URL, storage: Storage, options: PipelineOptions, pipeline: ValidatedPipeline) async
        -> [ShotTakes.Shot] {
        let everyTake = FileManager.default.fileExists(atPath: options.picksFile.path) ? try? options.loadAllTakes()
            : (try? Picks.load(options.picksFile)).map { (pipeline, $0) }
        guard let (all, picks) = everyTake else { return [] }
        var shots = await ShotTakes.read(all, picks: picks, storage: storage,
                                         posters: options.cacheFolder.appendingPathComponent("posters")).shots
        let posters = folder.appendingPathComponent("takes")
        try? FileManager.default.removeItem(at: posters)
        for (s, shot) in shots.enumerated() {
            for (t, take) in shot.takes.enumerated() {
                guard let poster = take.poster else { continue }
                let name = "\(shot.shot)-take\(take.take).jpg"
                try? FileManager.default.createDirectory(at: posters, withIntermediateDirectories: true)
                let copied = (try? FileManager.default.copyItem(at: URL(fileURLWithPath: poster), to: posters.appendingPathComponent(name))) != nil
                shots[s].takes[t].poster = copied ? "takes/\(name)" : nil
            }
        }
        return shots
    }

    /// Copies the outputs out of the store and writes run.json.
    @discardableResult
    static func write(_ report: RunReport, pipeline: ValidatedPipeline, storage: Storage, started: Date, options: PipelineOptions,
                      out: String?) async throws -> URL {
        let folder = URL(fileURLWithPath: out ?? "out/\(pipeline.graph.name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files: [String: [String]] = [:]
        for (name, value) in report.outputs.sorted(by: { $0.key < $1.key }) {
            let artifacts = value.artifacts
            for (index, artifact) in artifacts.enumerated() {
                let file = folder.appendingPathComponent(artifacts.count == 1 ? "\(name).\(artifact.fileExtension)"
                                                             : "\(name)-\(index + 1).\(artifact.fileExtension)")
                let source = try await storage.artifacts.verifiedLocation(of: artifact)
                // A copy this command made on an earlier run, untouched since, stays as it is.
                if !storage.digests.vouches(for: file.standardizedFileURL.path, digest: artifact.digest) {
                    try? FileManager.default.removeItem(at: file)
                    try FileManager.default.copyItem(at: source, to: file)
                    storage.digests.remember(file.standardizedFileURL.path, digest: artifact.digest)
                }
                files[name, default: []].append(file.lastPathComponent)
            }
        }
        // Shots' takes need the pipeline with every take: only worth loading when it has shots.
        let hasShots = pipeline.steps.contains { $0.stage.signature.takes != nil }
        let summary = await RunSummary(report: report, pipeline: pipeline, journal: storage.journal, started: started, files: files,
                                       shots: hasShots ? await takes(into: folder, storage: storage, options: options, pipeline: pipeline) : [])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Whole or not at all, not fsynced: a report is written again by the next run.
        try AtomicFile.write(try encoder.encode(summary), to: folder.appendingPathComponent("run.json"), durable: false)
        try AtomicFile.write(Data(HTMLReport.render(summary).utf8), to: folder.appendingPathComponent("report.html"), durable: false)
        let digests = storage.digests
        try? await BlockingIO.run { digests.save() }
        return folder
    }
}

/// Prints execution events: plain lines on standard error, or JSON lines on standard output.
struct EventPrinter {
    let json: Bool
    /// Stages' `info` log lines too, not only warnings and errors.
    var verbose = false
    /// Where the studio follows the run.
    var live: LiveLog?

    func print(_ events: AsyncStream<ExecutionEvent>) async {
        if !json && Terminal.standardErrorIsTerminal && !Terminal.isQuiet {
            // Live lines per running stage, redrawn as events come and every quarter second.
            let display = LiveDisplay(verbose: verbose)
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    await display.redraw()
                }
            }
            for await event in events {
                live?.append(event)
                await display.handle(event)
            }
            ticker.cancel()
            await display.close()
            return
        }
        for await event in events {
            live?.append(event)
            if json {
                Swift.print(Self.json(event))
                Terminal.flush()
                continue
            }
            switch event {
            case .started(let stage, let kind): Terminal.note("▶ \(stage) (\(kind))")
            case .progress: break
            case .cacheHit(let stage, _): Terminal.note("• \(stage): cached")
            case .finished(let stage, _, let seconds): Terminal.note("✓ \(stage) \(String(format: "%.1f", seconds)) s")
            case .failed(let stage, let error): Terminal.error("✗ \(stage): \(error.message)")
            case .skipped(let stage, let because): Terminal.note("– \(stage): skipped (\(because) failed)")
            case .log(let stage, let level, let message):
                if let line = Self.logLine(stage: stage, level: level, message: message, verbose: verbose) {
                    Terminal.error(line)
                }
            }
        }
    }

    /// A stage's log line for the console: warnings and errors always, `info` with --verbose.
    static func logLine(stage: String, level: Logger.Level, message: String, verbose: Bool) -> String? {
        guard level >= .warning || verbose else { return nil }
        return "  \(stage): " + (level >= .warning ? "\(level.rawValue): " : "") + message
    }

    static func json(_ event: ExecutionEvent) -> String {
        var fields: [String: Value] = [:]
        switch event {
        case .started(let stage, let kind): fields = ["event": .string("started"), "stage": .string(stage), "kind": .string(kind)]
        case .progress(let stage, let fraction, let status):
            fields = ["event": .string("progress"), "stage": .string(stage), "status": .string(status),
                      "fraction": fraction.map { .number($0) } ?? .null]
        case .cacheHit(let stage, let key): fields = ["event": .string("cache_hit"), "stage": .string(stage), "key": .string(key)]
        case .finished(let stage, let key, let seconds):
            fields = ["event": .string("finished"), "stage": .string(stage), "key": .string(key), "seconds": .number(seconds)]
        case .failed(let stage, let error):
            fields = ["event": .string("failed"), "stage": .string(stage), "message": .string(error.message)]
        case .skipped(let stage, let because): fields = ["event": .string("skipped"), "stage": .string(stage), "because": .string(because)]
        case .log(let stage, let level, let message):
            fields = ["event": .string("log"), "stage": .string(stage), "level": .string(level.rawValue), "message": .string(message)]
        }
        return Value.object(fields).canonicalJSON
    }
}
