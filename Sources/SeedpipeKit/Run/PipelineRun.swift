import Foundation
import Pipeline
import SeedanceAPI
import Stages

/// Runs a pipeline as `seedpipe run` does, for the CLI, the studio and any tool that embeds
/// seedpipe: the pipeline loaded with its plugins, picks and prices; the ``plan`` before
/// anything is paid; the run's ``events`` as they come; and at the end the outputs copied to
/// the out folder with `run.json` and `report.html` beside them, and the live log the studio
/// follows. Cancelling the task that awaits ``run()`` is Ctrl-C: the run stops cleanly, what
/// was paid for stays journaled, and the next run resumes without paying twice.
///
/// ```swift
/// let run = try await PipelineRun(project: PipelineProject(file: URL(fileURLWithPath: "film.yaml")),
///                                 options: .init(backend: .emulator, maxGenerations: 6))
/// print(run.plan.summary)
/// Task { for await event in run.events { print(event.jsonLine) } }
/// let result = try await run.run()
/// ```
public final class PipelineRun: Sendable {
    /// How it runs: the options of `seedpipe run`.
    public struct Options: Sendable {
        /// Where the outputs, run.json and report.html go (default: `out/<pipeline>`, from the
        /// current folder, and `out/<pipeline>/<profile>` when the pipeline has profiles).
        public var out: URL?
        public var backend: Backend
        /// The Segmind key (default: `SEGMIND_API_KEY`). Never logged, never written.
        public var apiKey: APIKey?
        /// Generations at once (the seedance pool).
        public var jobs: Int
        /// Local stages at once (the cpu pool; nil: the core count).
        public var cpuJobs: Int?
        /// Finish every branch that does not depend on a failure, and deliver its outputs.
        public var keepGoing: Bool
        /// Refuse to start a run that would pay for (or emulate) more generations than this.
        public var maxGenerations: Int?
        /// Refuse to start a run estimated over this many USD, and stop submitting once the
        /// spend would pass it.
        public var maxCost: Double?
        /// API requests per minute, for every generation of the run together.
        public var rpm: Int
        /// How long the in-process emulator takes per clip.
        public var emulatorLatency: Duration
        /// Read every file again instead of trusting the digests remembered by their stamps.
        public var rehash: Bool
        /// After an ambiguous submit, how long request history is watched for it before the
        /// request is sent again (``SeedanceService/historyGrace``).
        public var historyGrace: Duration = SeedanceService.defaultHistoryGrace
        /// The team's journal of paid generations: each generation is claimed there before it
        /// is paid for, so machines sharing it submit each clip once between them.
        public var sharedJournal: SharedJournal?
        /// Without the shared journal reachable, submit anyway with this machine's journal
        /// alone (else paid submits are refused, exit 3; cached work still runs).
        public var allowLocalJournal = false
        /// Part of the pipeline (`--only`, `--until`): those stages and what they need.
        public var selection = StageSelection()

        public init(out: URL? = nil, backend: Backend = .auto, apiKey: APIKey? = .fromEnvironment(), jobs: Int = 4,
                    cpuJobs: Int? = nil, keepGoing: Bool = false, maxGenerations: Int? = nil, maxCost: Double? = nil,
                    rpm: Int = 50, emulatorLatency: Duration = .seconds(1), rehash: Bool = false) {
            self.out = out
            self.backend = backend
            self.apiKey = apiKey
            self.jobs = jobs
            self.cpuJobs = cpuJobs
            self.keepGoing = keepGoing
            self.maxGenerations = maxGenerations
            self.maxCost = maxCost
            self.rpm = rpm
            self.emulatorLatency = emulatorLatency
            self.rehash = rehash
        }

        var execution: ExecutionOptions {
            ExecutionOptions(poolLimits: [.seedance: jobs, .cpu: cpuJobs ?? ProcessInfo.processInfo.activeProcessorCount],
                             keepGoing: keepGoing)
        }
    }

    /// The pipeline file, when the run was made from one.
    public let project: PipelineProject?
    /// The pipeline as it will run.
    public let pipeline: ValidatedPipeline
    /// What the run will make and what it costs, worked out before anything is paid.
    public let plan: Plan
    public let storage: Storage
    public let cacheFolder: URL
    public let options: Options
    /// Whether the backend bills (Segmind) or emulates.
    public let backendKind: Backend.Kind
    /// The run's events, from ``RunEvent/runStarted(_:)`` to ``RunEvent/runFinished(_:)``, for
    /// one reader; they are buffered until read.
    public let events: AsyncStream<RunEvent>
    private let continuation: AsyncStream<RunEvent>.Continuation
    /// Whether the outputs, run.json and report.html are written (not for a re-roll's takes).
    private let delivers: Bool
    /// The outputs of the whole pipeline (a partial run makes some of them).
    private let allOutputs: [String]

    /// A run of a pipeline file: loaded with its plugins, picks and prices, priced as the
    /// backend bills, and planned. Nothing is paid or started yet.
    public convenience init(project: PipelineProject, options: Options = Options()) async throws {
        let storage = try project.storage()
        storage.digests.rehash = options.rehash
        let kind = await options.backend.kind(apiKey: options.apiKey)
        let whole = try await project.loadPriced(storage, backend: kind)
        let pipeline = try whole.selecting(options.selection)
        try project.claimName(pipeline.graph.name, record: true)
        self.init(pipeline: pipeline, plan: await Planner.plan(pipeline, storage: storage), storage: storage,
                  cacheFolder: project.cacheFolder, project: project, kind: kind, options: options, delivers: true,
                  allOutputs: whole.graph.outputs.keys.sorted())
    }

    /// A run of a pipeline built in Swift (``PipelineBuilder``, ``PipelineGraph``), with the
    /// built-in stages priced as the backend bills unless `registry` is given.
    public convenience init(graph: PipelineGraph, registry: StageRegistry? = nil, cacheFolder: URL, remoteCache: RemoteCache? = nil,
                            pricePerSecond: Double? = nil, options: Options = Options()) async throws {
        let storage = try Storage.local(at: cacheFolder, remote: remoteCache)
        storage.digests.rehash = options.rehash
        let kind = await options.backend.kind(apiKey: options.apiKey)
        let stages: StageRegistry
        if let registry {
            stages = registry
        } else {
            stages = BuiltinStages.registry(prices: try await PipelineProject.prices(storage, backend: kind, pricePerSecond: pricePerSecond))
        }
        let whole = try PipelineValidator.validate(graph, registry: stages)
        let pipeline = try whole.selecting(options.selection)
        self.init(pipeline: pipeline, plan: await Planner.plan(pipeline, storage: storage), storage: storage, cacheFolder: cacheFolder,
                  project: nil, kind: kind, options: options, delivers: true, allOutputs: whole.graph.outputs.keys.sorted())
    }

    /// A run of part of a pipeline already planned (a re-roll's new takes): executed, its
    /// events told, nothing written to the out folder.
    convenience init(part pipeline: ValidatedPipeline, plan: Plan, storage: Storage, project: PipelineProject, kind: Backend.Kind,
                     options: Options) {
        self.init(pipeline: pipeline, plan: plan, storage: storage, cacheFolder: project.cacheFolder, project: project, kind: kind,
                  options: options, delivers: false)
    }

    private init(pipeline: ValidatedPipeline, plan: Plan, storage: Storage, cacheFolder: URL, project: PipelineProject?,
                 kind: Backend.Kind, options: Options, delivers: Bool, allOutputs: [String]? = nil) {
        self.allOutputs = allOutputs ?? pipeline.graph.outputs.keys.sorted()
        self.pipeline = pipeline
        self.plan = plan
        self.storage = storage
        self.cacheFolder = cacheFolder
        self.project = project
        backendKind = kind
        self.options = options
        self.delivers = delivers
        (events, continuation) = AsyncStream.makeStream(of: RunEvent.self)
    }

    /// The folder the outputs go to.
    /// `out/<pipeline>/`, and `out/<pipeline>/<profile>/` for a pipeline with profiles.
    public var outFolder: URL { options.out ?? Self.defaultOutFolder(pipeline: pipeline.graph.name, profile: pipeline.graph.profile) }

    /// `out/<pipeline>/`, or `out/<pipeline>/<profile>/` (from the current folder).
    public static func defaultOutFolder(pipeline: String, profile: String?) -> URL {
        URL(fileURLWithPath: "out/\(pipeline)" + (profile.map { "/\($0)" } ?? ""))
    }

    /// What a run ended with.
    public struct Result: Sendable {
        public var report: RunReport
        /// Where the outputs, run.json and report.html were written (nil for a re-roll's takes).
        public var folder: URL?
        public var seconds: Double
        /// The first stage that failed (with keep-going the run goes on and delivers the rest).
        public var failure: PipelineError?
    }

    /// Refuses a run over ``Options/maxGenerations`` or ``Options/maxCost`` (``RunError/Code/refused``).
    public func checkLimits() throws {
        if let maxGenerations = options.maxGenerations, plan.generations > maxGenerations {
            throw RunError(.refused, "this run would \(plan.cost.emulated ? "emulate" : "pay for") \(plural(plan.generations, "generation")) "
                           + "(\(plan.secondsToPay) s of video), more than --max-generations \(maxGenerations); nothing was started")
        }
        if let maxCost = options.maxCost, plan.generations > 0 {
            guard let estimate = plan.cost.money else {
                throw RunError(.refused, "--max-cost needs a price, and none is known yet: give --price-per-second USD "
                               + "(or SEEDPIPE_PRICE_PER_SECOND), or run once without --max-cost so the cache learns it; nothing was started")
            }
            if estimate > maxCost + 1e-9 {
                throw RunError(.refused, String(format: "this run is estimated at $%.2f (%d generations, %d s of video), over --max-cost $%.2f; nothing was started",
                                                estimate, plan.generations, plan.secondsToPay, maxCost))
            }
        }
    }

    /// Runs it: checks the limits, holds the cache's shared lock (`cache gc` waits for it),
    /// connects (or starts the offline emulator) only when the plan makes a generation, and
    /// delivers. Returns when every stage has finished, failed or been skipped (with
    /// keep-going, failures are in the result); throws when the run stopped (after writing
    /// what it made), was cancelled (`CancellationError`) or was refused (``RunError``).
    /// Call it once.
    public func run() async throws -> Result {
        defer { continuation.finish() }
        let started = Date()
        let live = LiveLog(cache: cacheFolder, pipeline: pipeline.graph.name)
        func tell(_ event: RunEvent) {
            live?.append(event)
            continuation.yield(event)
        }
        let outcome: Swift.Result<RunReport, any Error>
        do {
            try checkLimits()
            tell(.runStarted(RunStarted(pipeline: pipeline.graph.name, stages: pipeline.steps.map(\.node.name),
                                        at: started.timeIntervalSince1970, generations: plan.generations, seconds: plan.secondsToPay,
                                        money: plan.generations > 0 ? plan.cost.money : 0, emulated: plan.cost.emulated)))
            outcome = await execute(tell, live: live)
        } catch {
            outcome = .failure(error)
        }
        var folder: URL?
        var files: [String: [String]] = [:]
        var result: Swift.Result<Result, any Error>
        switch outcome {
        case .success(let report):
            do {
                if delivers { (folder, files) = try await deliver(report, started: started) }
                result = .success(Result(report: report, folder: folder, seconds: Date().timeIntervalSince(started),
                                         failure: report.firstFailure(in: pipeline)))
            } catch {
                result = .failure(error)
            }
        case .failure(let error):
            // What a stopped run made is delivered too.
            if delivers, let partial = (error as? PipelineError)?.report, let written = try? await deliver(partial, started: started) {
                (folder, files) = written
            }
            result = .failure(error)
        }
        // Uploads to a team's cache finish before the run says it is done.
        await storage.finishing?()
        if let remote = (storage.artifacts as? RemoteArtifactStore)?.remote, case let (bytes, seconds) = remote.uploaded, bytes > 0 {
            tell(.note(level: "info", message: String(format: "uploaded %.1f MB to the team's cache (%@) at %.0f MB/s", Double(bytes) / 1e6,
                                                      remote.shown, Double(bytes) / 1e6 / max(seconds, 1e-6))))
        }
        let report: RunReport? = switch outcome {
        case .success(let report): report
        case .failure(let error): (error as? PipelineError)?.report
        }
        let end = finished(result, report: report, folder: folder, files: files, started: started)
        if delivers { record(end, report: report, started: started, tell: tell) }
        tell(.runFinished(end))
        live?.close()
        return try result.get()
    }

    /// Appends the run to `<cache>/runs.jsonl` (`seedpipe log`); a history that cannot be
    /// written costs the run nothing but a warning.
    private func record(_ end: RunFinished, report: RunReport?, started: Date, tell: (RunEvent) -> Void) {
        let stages = RunRecord.stages(report, order: pipeline.steps.map(\.node.name))
        let text = project?.text
        let record = RunRecord(
            id: RunRecord.newID(started: started), pipeline: pipeline.graph.name, file: project?.file.path,
            fileDigest: text.map(RunRecord.digest), profile: pipeline.graph.profile,
            options: .init(backend: backendKind == .service ? "segmind" : "emulator", jobs: options.jobs, keepGoing: options.keepGoing,
                           maxGenerations: options.maxGenerations, maxCost: options.maxCost,
                           only: options.selection.only.isEmpty ? nil : options.selection.only, until: options.selection.until,
                           sharedJournal: options.sharedJournal == nil ? nil : true),
            started: started, ended: Date(), seconds: end.seconds, status: end.status, exitCode: end.exitCode, message: end.message,
            stages: stages, ran: stages.filter { $0.status == "ran" }.count, cached: stages.filter { $0.status == "cached" }.count,
            failed: stages.filter { $0.status == "failed" }.count, generationsPaid: end.generationsPaid, moneyPaid: end.moneyPaid,
            generationsEmulated: end.generationsEmulated, out: end.folder)
        do { try RunHistory(cache: cacheFolder).append(record) } catch {
            tell(.note(level: "warning", message: "the run history (runs.jsonl) was not written: \(error)"))
        }
    }

    /// The last event for how the run ended.
    private func finished(_ result: Swift.Result<Result, any Error>, report: RunReport?, folder: URL?, files: [String: [String]],
                          started: Date) -> RunFinished {
        let failed = pipeline.steps.map(\.node.name).filter { report?.failures[$0] != nil }
        let status: RunFinished.Status
        let code: Int32
        var message: String?
        switch result {
        case .success(let value):
            if let failure = value.failure {
                status = .failed
                code = ExitStatus.of(failure) ?? ExitStatus.checkFailed
                message = failure.message
            } else {
                status = .succeeded
                code = ExitStatus.success
            }
        case .failure(let error):
            code = ExitStatus.of(error) ?? ExitStatus.checkFailed
            status = code == ExitStatus.interrupted ? .interrupted : .failed
            message = error is CancellationError ? "interrupted" : "\(error)"
        }
        let paid = report?.paid, emulated = report?.emulated
        return RunFinished(status: status, exitCode: code, message: message, failed: failed,
                           generationsPaid: paid?.generations ?? 0, secondsPaid: Int((paid?.seconds ?? 0).rounded()),
                           moneyPaid: (paid?.generations ?? 0) == 0 ? 0 : paid?.money,
                           generationsEmulated: emulated?.generations ?? 0, secondsEmulated: Int((emulated?.seconds ?? 0).rounded()),
                           outputs: files, folder: folder?.relativePath, seconds: Date().timeIntervalSince(started))
    }

    /// The executor's run, with the lock held and the backend connected when it is needed.
    private func execute(_ tell: (RunEvent) -> Void, live: LiveLog?) async -> Swift.Result<RunReport, any Error> {
        let cacheLock: FileLock
        let connection: Backend.Connection?
        do {
            cacheLock = try await FileLock.acquire(Storage.lockFile(of: cacheFolder), exclusive: false)
            // Should a cached object vanish mid-run, its generation fails with a clear
            // "no SeedanceService" error and the next run plans it properly.
            // The plan was priced for this backend: an emulator's plan is emulated (no second question to it).
            var notes: [RunEvent] = []
            // A generation sent before an interruption (resume) is fetched from the service too.
            let resuming = plan.steps.contains { $0.status == .resume }
            connection = plan.generations > 0 || resuming
                ? try await options.backend.connect(apiKey: options.apiKey, rpm: options.rpm, emulatorLatency: options.emulatorLatency,
                                                    emulated: plan.generations > 0 ? plan.cost.emulated : nil,
                                                    note: { notes.append(.note(level: $1 ? "warning" : "info", message: $0)) })
                : nil
            for note in notes { tell(note) }
        } catch {
            return .failure(error)
        }
        defer { withExtendedLifetime(cacheLock) {} }
        var services = Services()
        if let connection {
            services.set(SeedanceService(client: connection.client,
                                         pollInterval: connection.emulator == nil ? .seconds(2) : .milliseconds(200),
                                         budget: options.maxCost.map { SpendingLimit(limit: $0) }, emulated: connection.emulated,
                                         historyGrace: options.historyGrace, team: await team(tell)))
        }
        let executor = Executor(pipeline: pipeline, storage: storage, services: services, options: options.execution)
        let (stageEvents, stageContinuation) = AsyncStream.makeStream(of: ExecutionEvent.self)
        let forward = Task { [continuation] in
            for await event in stageEvents {
                let event = RunEvent(event)
                live?.append(event)
                continuation.yield(event)
            }
        }
        // In this task, so cancelling the caller cancels the run.
        let result: Swift.Result<RunReport, any Error>
        do { result = .success(try await executor.run(events: stageContinuation)) } catch { result = .failure(error) }
        stageContinuation.finish()
        await forward.value
        await connection?.close()
        return result
    }

    /// The shared journal generations are claimed in. Unreachable, it is still given (each paid
    /// submit is then refused, exit 3), unless ``Options/allowLocalJournal`` lets this
    /// machine's journal stand alone, with one warning.
    private func team(_ tell: (RunEvent) -> Void) async -> SharedJournal? {
        guard let journal = options.sharedJournal else { return nil }
        guard options.allowLocalJournal else { return journal }
        do {
            try await journal.prepare()
            return journal
        } catch {
            tell(.note(level: "warning", message: "\(error); --allow-local-journal: submitting with this machine's journal alone "
                       + "(another machine may pay for the same clip)"))
            return nil
        }
    }

    /// Copies the outputs out of the store and writes run.json and report.html; saves the digests.
    private func deliver(_ report: RunReport, started: Date) async throws -> (URL, [String: [String]]) {
        let folder = outFolder
        try await BlockingIO.run { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        var files: [String: [String]] = [:]
        for (name, value) in report.outputs.sorted(by: { $0.key < $1.key }) {
            let artifacts = value.artifacts
            for (index, artifact) in artifacts.enumerated() {
                let file = folder.appendingPathComponent(artifacts.count == 1 ? "\(name).\(artifact.fileExtension)"
                                                             : "\(name)-\(index + 1).\(artifact.fileExtension)")
                let source = try await storage.artifacts.verifiedLocation(of: artifact)
                // A copy made on an earlier run, untouched since, stays as it is.
                if !storage.digests.vouches(for: file.standardizedFileURL.path, digest: artifact.digest) {
                    try await BlockingIO.run {
                        try? FileManager.default.removeItem(at: file)
                        try FileManager.default.copyItem(at: source, to: file)
                    }
                    storage.digests.remember(file.standardizedFileURL.path, digest: artifact.digest)
                }
                files[name, default: []].append(file.lastPathComponent)
            }
        }
        // Shots' takes need the pipeline with every take: only worth loading when it has shots.
        let hasShots = pipeline.steps.contains { $0.stage.signature.takes != nil }
        var summary = await RunSummary(report: report, pipeline: pipeline, journal: storage.journal, started: started, files: files,
                                       shots: hasShots ? await takes(into: folder) : [])
        if !options.selection.isEmpty {
            summary.partial = RunSummary.Partial(only: options.selection.only, until: options.selection.until,
                                                 produced: files.keys.sorted(), notProduced: allOutputs.filter { files[$0] == nil })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Whole or not at all, not fsynced: a report is written again by the next run.
        try AtomicFile.write(try encoder.encode(summary), to: folder.appendingPathComponent("run.json"), durable: false)
        try AtomicFile.write(Data(HTMLReport.render(summary).utf8), to: folder.appendingPathComponent("report.html"), durable: false)
        let digests = storage.digests
        try? await BlockingIO.run { digests.save() }
        return (folder, files)
    }

    /// Every shot's takes (as explored, in the default profile), their posters copied to
    /// `takes/` beside run.json. Without a picks file there are no re-rolled takes, so a run
    /// in the default profile holds every take.
    private func takes(into folder: URL) async -> [ShotTakes.Shot] {
        let everyTake: (ValidatedPipeline, Picks)?
        if let project, FileManager.default.fileExists(atPath: project.picksFile.path) || pipeline.graph.profiles?.finishing == true {
            everyTake = try? project.loadAllTakes()
        } else {
            everyTake = (pipeline, Picks())
        }
        guard let (all, picks) = everyTake else { return [] }
        var shots = await ShotTakes.read(all, picks: picks, storage: storage, posters: cacheFolder.appendingPathComponent("posters")).shots
        let posters = folder.appendingPathComponent("takes")
        // Small files, but files: copied on the I/O pool, all at once.
        let copies = shots.flatMap { shot in
            shot.takes.compactMap { take in take.poster.map { (file: $0, name: "\(shot.shot)-take\(take.take).jpg") } }
        }
        let copied = (try? await BlockingIO.run { () -> Set<String> in
            try? FileManager.default.removeItem(at: posters)
            var copied: Set<String> = []
            for copy in copies {
                try? FileManager.default.createDirectory(at: posters, withIntermediateDirectories: true)
                if (try? FileManager.default.copyItem(at: URL(fileURLWithPath: copy.file), to: posters.appendingPathComponent(copy.name))) != nil {
                    copied.insert(copy.name)
                }
            }
            return copied
        }) ?? []
        for (s, shot) in shots.enumerated() {
            for (t, take) in shot.takes.enumerated() where take.poster != nil {
                let name = "\(shot.shot)-take\(take.take).jpg"
                shots[s].takes[t].poster = copied.contains(name) ? "takes/\(name)" : nil
            }
        }
        return shots
    }
}
