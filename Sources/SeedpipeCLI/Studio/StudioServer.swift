import ArgumentParser
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import Pipeline
import SeedpipeKit
import Stages

/// `seedpipe studio`: a local web app on one pipeline and its cache. It serves the page,
/// the pipeline's state (graph, plan, every shot's takes, the last film), media by digest
/// (with range requests, so seeking works), run outputs by name, and a server-sent event
/// stream of the run in progress on the cache, whoever started it. Every request needs the
/// launch's token and the studio's own address (``StudioGuard``).
struct StudioServer: Sendable {
    /// The pipeline file as launched; each request reads it afresh (``current``), so an edit
    /// to the file shows on the next look.
    let launched: PipelineProject
    let backend: BackendOptions
    let flags: RunFlags
    let token: String
    let host: String
    let port: Int
    let out: String?
    /// The pipeline's name (from its file, read once at launch).
    let pipelineName: String
    /// The profile it works in (nil: the pipeline has none).
    let profile: String?
    /// The profile a take is finished in (nil: the pipeline has no profile to finish in).
    let finishProfile: String?
    let jobs = StudioJobs()
    /// The port it listens on, once it does (the guard checks `Host` against it).
    let boundPort = NIOLockedValueBox(0)

    /// The pipeline file, read again for this request.
    var project: PipelineProject { launched.reread() }

    var outFolder: URL { out.map { URL(fileURLWithPath: $0) } ?? PipelineRun.defaultOutFolder(pipeline: pipelineName, profile: profile) }
    var liveFile: URL { LiveLog.location(cache: project.cacheFolder, pipeline: pipelineName) }

    /// Starts listening; returns the URL (with the token) and the running server.
    func start() async throws -> (URL, Task<Void, any Error>) {
        let tail = LiveTail(file: liveFile)
        await tail.start()
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router(tail: tail),
                              configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "seedpipe-studio"),
                              onServerRunning: { [boundPort] channel in
                                  boundPort.withLockedValue { $0 = channel.localAddress?.port ?? 0 }
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              },
                              // The studio speaks for itself (its URL on stdout, errors on stderr): no server log lines.
                              logger: Logger(label: "seedpipe.studio", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task {
            defer { continuation.finish() }
            try await app.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else {
            task.cancel()
            if case .failure(let error) = await task.result { throw ValidationError("cannot listen on \(host):\(port): \(error)") }
            throw ValidationError("cannot listen on \(host):\(port)")
        }
        let shown = host.contains(":") ? "[\(host)]" : host
        return (URL(string: "http://\(shown):\(bound)/?token=\(token)")!, task)
    }

    func router(tail: LiveTail) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: StudioGuard(token: token, host: host, port: boundPort))
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: StudioPage.html)))
        }
        router.get("/api/state") { _, _ in await respond { try await state() } }
        router.get("/events") { _, _ in events(tail) }
        router.post("/api/run") { request, _ in await changing(request) { body in try await run(body) } }
        router.post("/api/pick") { request, _ in await changing(request) { body in try await pick(body) } }
        router.post("/api/reroll") { request, _ in await changing(request) { body in try await reroll(body) } }
        router.post("/api/finish") { request, _ in await changing(request) { body in try await finish(body) } }
        router.get("/media/:name") { request, context in try await media(context.parameters.get("name") ?? "", request, context) }
        router.get("/poster/:name") { request, context in try await poster(context.parameters.get("name") ?? "", request, context) }
        router.get("/out/:name") { request, context in try await output(context.parameters.get("name") ?? "", request, context) }
        return router
    }

    // MARK: State

    struct StageState: Encodable {
        var name: String
        var kind: String
        var status: String
        var reason: String?
        var dependencies: [String]
        var take: TakeRole?
    }

    struct OutputFile: Encodable {
        var name: String
        var file: String
        var url: String
    }

    struct State: Encodable {
        var pipeline: String
        var stages: [StageState]
        var generations: Int
        var seconds: Int
        var money: Double?
        var plan: String
        var shots: [ShotTakes.Shot]
        /// The profile the studio works in, and the one the page's Finish makes a take in.
        var profile: String?
        var finishProfile: String?
        var outputs: [OutputFile]
        var seams: [Value]
        var audio: [Value]
        var running: Bool
        /// The pipeline's runs, newest first (the last 20), as `seedpipe log` lists them.
        var runs: [RunRow]
    }

    /// One run, as the page's run list shows it.
    struct RunRow: Encodable {
        var id: String
        var started: String
        var status: String
        var exitCode: Int32
        var ran: Int
        var cached: Int
        var failed: Int
        var generated: Int
        var paid: Double?
        var seconds: Double
        var partial: String?
        var profile: String?

        init(_ record: RunRecord) {
            id = record.id
            started = ISO8601DateFormatter().string(from: record.started)
            status = record.status.rawValue
            exitCode = record.exitCode
            (ran, cached, failed) = (record.ran, record.cached, record.failed)
            generated = record.generationsPaid + record.generationsEmulated
            paid = record.moneyPaid
            seconds = record.seconds
            let selection = StageSelection(only: record.options.only ?? [], until: record.options.until)
            partial = selection.isEmpty ? nil : selection.description
            profile = record.profile
        }
    }

    func state() async throws -> State {
        let project = self.project
        let storage = try project.storage()
        let pipeline = try await project.loadPriced(storage, backend: await backend.kind())
        let plan = await Planner.plan(pipeline, storage: storage)
        let (all, picks) = try project.loadAllTakes()
        let posters = project.cacheFolder.appendingPathComponent("posters")
        var shots = await ShotTakes.read(all, picks: picks, storage: storage, posters: posters)
        if let finishProfile {
            var finishing = project
            finishing.profile = finishProfile
            if let finished = try? finishing.load(picks: picks) {
                shots.attach(finished: await ShotTakes.finished(finished, storage: storage, posters: posters), profile: finishProfile)
            }
        }
        let steps = Dictionary(plan.steps.map { ($0.stage, $0) }, uniquingKeysWith: { a, _ in a })
        // In the order the pipeline declares them; the page groups take nodes under their shot.
        let stages = pipeline.graph.stages.map { node in
            StageState(name: node.name, kind: node.kind, status: steps[node.name]?.status.rawValue ?? "run",
                       reason: steps[node.name]?.reason, dependencies: node.dependencies.sorted(), take: node.take)
        }
        var outputs: [OutputFile] = []
        var seams: [Value] = []
        var audio: [Value] = []
        if let data = try? Data(contentsOf: outFolder.appendingPathComponent("run.json")),
           let run = try? JSONDecoder().decode(Value.self, from: data).object {
            for (name, files) in (run["files"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
                for file in files.list ?? [] {
                    guard let file = file.string else { continue }
                    // Versioned by the file's time, so a page keeps a playing film until a run replaces it.
                    let modified = (try? FileManager.default.attributesOfItem(atPath: outFolder.appendingPathComponent(file).path))?[.modificationDate]
                        as? Date
                    outputs.append(OutputFile(name: name, file: file, url: "/out/\(file)?v=\(Int((modified ?? .distantPast).timeIntervalSince1970))"))
                }
            }
            for stage in run["stages"]?.list ?? [] {
                let fields = stage.object ?? [:]
                if let list = fields["outputs"]?.object?["report"]?.object?["seams"]?.list { seams += list }
                if fields["kind"]?.string == "audio-check", let report = fields["outputs"]?.object?["report"] { audio.append(report) }
            }
        }
        return State(pipeline: pipeline.graph.name, stages: stages, generations: plan.generations, seconds: plan.secondsToPay,
                     money: plan.generations > 0 ? plan.cost.money : 0, plan: plan.summary, shots: shots.shots,
                     profile: profile, finishProfile: finishProfile,
                     outputs: outputs, seams: seams, audio: audio, running: await jobs.busy,
                     runs: RunHistory(cache: project.cacheFolder).records().filter { $0.pipeline == pipeline.graph.name }.prefix(20).map(RunRow.init))
    }

    // MARK: Events

    /// Server-sent events: the current run's lines so far, then each as it comes.
    func events(_ tail: LiveTail) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                 body: ResponseBody { writer in
                     let lines = await tail.subscribe()
                     try await writer.write(ByteBuffer(string: ": seedpipe studio\n\n"))
                     for await line in lines {
                         try await writer.write(ByteBuffer(string: "data: \(line)\n\n"))
                     }
                     try await writer.finish(nil)
                 })
    }

    // MARK: Changes

    struct Change: Decodable {
        var preview: Bool?
        var stage: String?
        var take: Int?
        var count: Int?
        var keepAfter: Bool?
        /// The profile to finish a take in (default: the studio's finishing profile).
        var profile: String?

        enum CodingKeys: String, CodingKey {
            case preview, stage, take, count, profile
            case keepAfter = "keep_after"
        }
    }

    func changing(_ request: Request, _ body: @Sendable (Change) async throws -> [String: Value]) async -> Response {
        // The guard has checked the token (cookie or header), the Host and the Origin.
        return await respond {
            let buffer = try await request.body.collect(upTo: 1 << 16)
            let change = buffer.readableBytes == 0 ? Change() : try JSONDecoder().decode(Change.self, from: Data(buffer: buffer))
            return try await body(change)
        }
    }

    /// The run's options: the studio's flags, delivered where `run` delivers.
    var runOptions: PipelineRun.Options {
        var options = flags.options(backend: backend)
        options.out = outFolder
        return options
    }

    func run(_ change: Change) async throws -> [String: Value] {
        // Planned here (the answer says what it costs); run by the same PipelineRun as `seedpipe run`.
        let run = try await PipelineRun(project: project, options: runOptions)
        if change.preview == true {
            return ["text": .string(run.plan.summary), "generations": .number(Double(run.plan.generations))]
        }
        try run.checkLimits()
        try await jobs.start {
            // Its events go to the live log, which the page follows; nobody reads the stream here.
            _ = try? await run.run()
        }
        return ["text": .string("running: " + run.plan.summary)]
    }

    func pick(_ change: Change) async throws -> [String: Value] {
        guard let stage = change.stage, let take = change.take else { throw ValidationError("pick needs `stage` and `take`") }
        let pick = try await TakeActions.pick(stage, take: take, project: project, storage: try project.storage(),
                                              backend: await backend.kind())
        let text = "\(pick.shot): take \(take) (now take \(pick.was)). " + pick.consequences.text
        if change.preview == true { return ["text": .string(text)] }
        try pick.write()
        return ["text": .string("picked: " + text)]
    }

    func reroll(_ change: Change) async throws -> [String: Value] {
        guard let stage = change.stage else { throw ValidationError("reroll needs `stage`") }
        let project = self.project
        let storage = try project.storage()
        let reroll = try await TakeActions.reroll(stage, count: max(1, min(change.count ?? 1, 20)), keepAfter: change.keepAfter == true,
                                                  project: project, storage: storage, backend: await backend.kind())
        var text = reroll.summary
        if !reroll.consequences.added.isEmpty { text += "; then " + reroll.consequences.text }
        if change.preview == true { return ["text": .string(text)] }
        let run = reroll.run(options: runOptions)
        try await jobs.start {
            if let result = try? await run.run() { _ = try? await reroll.finish(result.report) }
        }
        return ["text": .string("re-rolling: " + text)]
    }

    /// Finishes a take: picks it and makes its shot in the finishing profile (the preview says
    /// what that makes and costs).
    func finish(_ change: Change) async throws -> [String: Value] {
        guard let stage = change.stage, let take = change.take else { throw ValidationError("finish needs `stage` and `take`") }
        guard let profile = change.profile ?? finishProfile else {
            throw ValidationError("\(pipelineName) has no profile to finish in: add `profiles:` (such as final: { resolution: 1080p })")
        }
        let project = self.project
        let finish = try await TakeActions.finish(stage, take: take, profile: profile, project: project, storage: try project.storage(),
                                                  backend: await backend.kind())
        if change.preview == true { return ["text": .string(finish.summary), "generations": .number(Double(finish.plan.generations))] }
        var options = flags.options(backend: backend)
        options.out = out.map { URL(fileURLWithPath: $0 + "/\(profile)") }
        let run = try await finish.run(options: options)
        try run.checkLimits()
        try await jobs.start { _ = try? await run.run() }
        return ["text": .string("finishing: " + finish.summary)]
    }

    // MARK: Files: only the cache's objects and posters by digest, and the run's outputs by name

    func media(_ name: String, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let (digest, ext) = Self.digestName(name), let type = Self.types[ext] else { return Self.notFound(name) }
        let artifact = Artifact(digest: digest, type: type.artifact, fileExtension: ext, size: 0)
        guard let location = try? await project.storage().artifacts.verifiedLocation(of: artifact) else { return Self.notFound(name) }
        return try await Self.file(location, contentType: type.mime, request, context)
    }

    func poster(_ name: String, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let (digest, ext) = Self.digestName(name), ext == "jpg" else { return Self.notFound(name) }
        let file = project.cacheFolder.appendingPathComponent("posters").appendingPathComponent("\(digest).jpg")
        guard FileManager.default.fileExists(atPath: file.path) else { return Self.notFound(name) }
        return try await Self.file(file, contentType: "image/jpeg", request, context)
    }

    func output(_ name: String, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        // Only what the last run.json lists (and run.json and report.html themselves).
        var allowed: Set<String> = ["run.json", "report.html"]
        if let data = try? Data(contentsOf: outFolder.appendingPathComponent("run.json")),
           let run = try? JSONDecoder().decode(Value.self, from: data).object {
            for files in (run["files"]?.object ?? [:]).values { for file in files.list ?? [] { if let file = file.string { allowed.insert(file) } } }
        }
        guard allowed.contains(name), !name.contains("/"), !name.hasPrefix(".") else { return Self.notFound(name) }
        let file = outFolder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: file.path) else { return Self.notFound(name) }
        let ext = file.pathExtension.lowercased()
        return try await Self.file(file, contentType: Self.types[ext]?.mime ?? (ext == "html" ? "text/html; charset=utf-8" : "application/octet-stream"),
                                   request, context)
    }

    static let types: [String: (mime: String, artifact: ArtifactType)] = [
        "mp4": ("video/mp4", .video), "png": ("image/png", .image), "jpg": ("image/jpeg", .image),
        "m4a": ("audio/mp4", .audio), "wav": ("audio/wav", .audio), "json": ("application/json", .json),
        "srt": ("application/x-subrip", .file), "vtt": ("text/vtt", .file),
    ]

    /// `HEX64.ext`, or nil.
    static func digestName(_ name: String) -> (String, String)? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return (String(parts[0]), String(parts[1]).lowercased())
    }

    /// A whole file, or the byte range a `Range: bytes=…` header asks for (206), so a video seeks.
    static func file(_ url: URL, contentType: String, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
        var headers: HTTPFields = [.contentType: contentType, .acceptRanges: "bytes", .cacheControl: "no-cache"]
        guard let header = request.headers[.range] else {
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers, body: try await FileIO().loadFile(path: url.path, context: context))
        }
        guard let range = byteRange(header, size: size) else {
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
        headers[.contentLength] = String(range.count)
        return Response(status: .partialContent, headers: headers,
                        body: try await FileIO().loadFile(path: url.path, range: range, context: context))
    }

    /// One range of `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX`, clamped to the file.
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = header.dropFirst(6).split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let bounds = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard bounds.count == 2 else { return nil }
        if bounds[0].isEmpty {
            guard let suffix = Int(bounds[1]), suffix > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int(bounds[0]), start < size else { return nil }
        let end = bounds[1].isEmpty ? size - 1 : min(Int(bounds[1]) ?? -1, size - 1)
        return end >= start ? start...end : nil
    }

    static func notFound(_ name: String) -> Response {
        json(.notFound, ["error": "not found: \(name.prefix(100))"])
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// JSON of what `body` gives, or a 400 with the error's one-line message (409 while busy).
    func respond(_ body: () async throws -> some Encodable) async -> Response {
        do {
            return Self.json(.ok, try await body())
        } catch let busy as StudioJobs.Busy {
            return Self.json(.conflict, ["error": busy.message])
        } catch let error as ValidationError {
            return Self.json(.badRequest, ["error": error.message])
        } catch {
            return Self.json(.badRequest, ["error": "\(error)"])
        }
    }
}

/// One run (or re-roll) at a time from the page.
actor StudioJobs {
    struct Busy: Error { var message = "a run started here is still going; wait for it to finish" }
    private var current: Task<Void, Never>?

    var busy: Bool { current != nil }

    func start(_ work: @escaping @Sendable () async -> Void) throws {
        guard current == nil else { throw Busy() }
        current = Task {
            await work()
            self.finished()
        }
    }

    private func finished() { current = nil }
}
