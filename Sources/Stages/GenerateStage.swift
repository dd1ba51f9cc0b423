import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `seedance.generate`: one Seedance generation, journaled so it is never paid for twice.
///
/// Before the submit the request body is written durably; the request id is written the
/// moment the submit answers; the output is downloaded into the store as soon as it
/// completes. A rerun after a crash at any of these points picks up from the journal:
/// it polls a recorded request, recovers an expired one through request history, and
/// reconciles an intent with no recorded id against history by its body before anything
/// is sent again. A submit is repeated only when nothing was paid for.
///
/// The client comes from the run's services (``SeedanceService``), so the same stage plans
/// offline and runs online.
public struct GenerateStage: Stage {
    public static let kind = "seedance.generate"
    public var kind: String { Self.kind }
    public let version = "1"

    public init() {}

    /// One generation, of `duration` seconds (5 when not given).
    public func cost(_ parameters: [String: Value]) -> Cost {
        Cost(generations: 1, seconds: parameters["duration"]?.number ?? 5)
    }

    public var signature: StageSignature {
        StageSignature(
            inputs: [Port("first_frame", .image, required: false), Port("last_frame", .image, required: false)],
            outputs: [Port("video", .video), Port("last_frame", .image)],
            parameters: [
                ParameterSpec("prompt", .string, required: true),
                ParameterSpec("duration", .integer, default: .number(5)),
                ParameterSpec("resolution", .string, default: .string("720p")),
                ParameterSpec("aspect_ratio", .string, default: .string("16:9")),
                ParameterSpec("generate_audio", .boolean, default: .bool(true)),
                ParameterSpec("seed", .integer, default: .number(42)),
                ParameterSpec("return_last_frame", .boolean, default: .bool(true)),
                ParameterSpec("skip_moderation", .boolean, default: .bool(false)),
                // How to run, not what to make: not part of the key.
                ParameterSpec("retries_on_blocked", .integer, range: 0...10, keyed: false),
            ],
            pool: .seedance,
            takes: TakeSupport(seed: "seed", identity: "video",
                               bridge: .init(input: "last_frame", output: "last_frame")))
    }

    /// Tries after a refusal, when `retries_on_blocked` is not given.
    public static let defaultRetriesOnBlocked = 2

    /// The API's own rules (duration 7, resolution 4k, …), named by parameter.
    public func check(_ parameters: [String: Value]) -> [String] {
        request(parameters, firstFrame: nil, lastFrame: nil).problems()
            .filter { $0.parameter != "prompt" || parameters["prompt"] != nil }
            .map { "\($0.parameter): \($0.message)" }
    }

    /// The API request for these values and uploaded frame URLs.
    func request(_ values: [String: Value], firstFrame: String?, lastFrame: String?) -> GenerationRequest {
        GenerationRequest(
            prompt: values["prompt"]?.string ?? "", aspectRatio: values["aspect_ratio"]?.string,
            duration: values["duration"]?.number.map { Int($0) }, firstFrameURL: firstFrame, lastFrameURL: lastFrame,
            generateAudio: values["generate_audio"]?.bool, resolution: values["resolution"]?.string,
            returnLastFrame: values["return_last_frame"]?.bool, seed: values["seed"]?.number.map { Int($0) },
            skipModeration: values["skip_moderation"]?.bool == true ? true : nil)
    }

    /// Generates (or resumes) the shot. A generation refused by moderation (it ends FAILED
    /// and is not billed) is tried again with the next seed, `retries_on_blocked` times;
    /// the seeds step by the shot's declared takes, so a retry never lands on another take's
    /// seed. Every attempt is journaled under the same action key before it is sent.
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        var entry = try await context.journal.read(GenerationEntry.self)
        if let done = entry, done.state == .downloaded, let outputs = done.outputs,
           (try? await context.store.verifiedLocations(of: outputs.values.flatMap(\.artifacts))) != nil {
            return outputs  // paid for and downloaded before: no service needed
        }
        let run = Run(stage: self, service: try context.services.require(SeedanceService.self), context: context)
        let retries = invocation["retries_on_blocked"]?.number.map { Int($0) } ?? Self.defaultRetriesOnBlocked
        let stride = max(invocation.take?.stride ?? 1, 1)
        let baseSeed = Int(invocation["seed"]?.number ?? 42)
        // A run that ended refused starts again from the shot's own seed; one cut short mid-retry resumes.
        var refusals = entry?.state == .failed ? [] : entry?.refusals ?? []
        if entry?.state == .failed { entry = nil }
        while true {
            let seed = baseSeed + stride * refusals.count
            do {
                return try await run.generate(invocation, seed: seed, entry: entry, refusals: refusals)
            } catch let error where GenerationEntry.isRefusal(error) {
                refusals.append(.init(seed: seed, reason: GenerationEntry.reason(of: error)))
                let seeds = refusals.map { String($0.seed) }.joined(separator: ", ")
                guard refusals.count <= retries else {
                    throw StageError(.generationFailed, "refused by moderation at seed\(refusals.count == 1 ? "" : "s") \(seeds) "
                                     + "(\(refusals.count == 1 ? "no retries" : "\(refusals.count - 1) retries")): \(refusals.last!.reason)",
                                     underlying: error)
                }
                context.logger.warning("\(invocation.name): refused by moderation at seed \(seed); trying seed \(baseSeed + stride * refusals.count)")
                entry = nil
            }
        }
    }
}

/// One run of the stage: the client and context it works with.
private struct Run {
    let stage: GenerateStage
    let service: SeedanceService
    let context: StageContext
    var client: SeedanceClient { service.client }

    /// One attempt: submits (or resumes `entry`), waits, downloads.
    func generate(_ invocation: StageInvocation, seed: Int, entry: GenerationEntry?, refusals: [GenerationEntry.Refusal]) async throws
        -> [String: Value]
    {
        var entry = entry
        if entry == nil {
            var values = invocation.values
            values["seed"] = .number(Double(seed))
            entry = try await submitFresh(StageInvocation(name: invocation.name, values: values, take: invocation.take), refusals: refusals)
        } else if entry?.state == .intent {
            entry = try await reconcile(entry!)
        }
        guard var current = entry else { throw StageError(.generationFailed, "the journal lost its entry") }
        if current.state == .submitted {
            current = try await waitForResult(current)
        }
        return try await download(current)
    }

    /// Uploads local frames, writes the intent, submits, writes the request id.
    func submitFresh(_ invocation: StageInvocation, refusals: [GenerationEntry.Refusal]) async throws -> GenerationEntry {
        var frames: [String: String] = [:]
        let given = ["first_frame", "last_frame"].filter { invocation[$0]?.artifact != nil }
        if !given.isEmpty {
            context.progress(nil, "uploading \(given.joined(separator: " and "))")
            var files: [URL] = []
            for name in given {
                let artifact = invocation[name]!.artifact!
                let file = context.scratch.appendingPathComponent("\(name).\(artifact.fileExtension.isEmpty ? "png" : artifact.fileExtension)")
                try? FileManager.default.removeItem(at: file)  // from an attempt moderation refused
                try FileManager.default.copyItem(at: try await context.store.verifiedLocation(of: artifact), to: file)
                files.append(file)
            }
            frames = Dictionary(uniqueKeysWithValues: zip(given, try await client.upload(files)))
        }
        let request = stage.request(invocation.values, firstFrame: frames["first_frame"], lastFrame: frames["last_frame"])
        var entry = GenerationEntry(key: context.actionKey, pipeline: context.pipeline, stage: invocation.name,
                                    requestBody: try Value(encoding: request), seconds: request.effectiveDuration)
        entry.refusals = refusals.isEmpty ? nil : refusals
        try await write(entry)
        return try await submit(request, entry: &entry)
    }

    func write(_ entry: GenerationEntry) async throws {
        var entry = entry
        entry.updatedAt = Date()
        try await context.journal.write(entry)
    }

    func submit(_ request: GenerationRequest, entry: inout GenerationEntry) async throws -> GenerationEntry {
        context.progress(nil, "submitting")
        do {
            let job = try await client.submit(request)
            entry.requestID = job.requestID
            entry.state = .submitted
            try await write(entry)
            return entry
        } catch let error as SeedanceError where error.code == .submitOutcomeUnknown {
            // It may have been accepted: look for it before anyone sends it again.
            let reconciled = try await reconcile(entry, resubmit: false)
            guard reconciled.requestID != nil else {
                throw StageError(.generationUnresolved, "the submit got no answer and is not (yet) in request history; "
                                 + "the next run will look again before sending anything: \(error)", underlying: error)
            }
            return reconciled
        }
    }

    /// An intent with no recorded request id: find it in request history by its body;
    /// submit again only when history proves it was never received.
    func reconcile(_ entry: GenerationEntry, resubmit: Bool = true) async throws -> GenerationEntry {
        var entry = entry
        context.progress(nil, "reconciling with request history")
        if let match = try await findInHistory(entry) {
            entry.requestID = match.requestID
            if match.modelStatus == "COMPLETED", let url = match.generationURL {
                entry.outputURL = url
                entry.state = .completed
            } else if match.modelStatus == "FAILED" {
                entry.state = .failed
                entry.error = match.error
                try await write(entry)
                throw StageError(.generationFailed, "generation \(match.requestID) failed: \(match.error ?? "no reason given")")
            } else {
                entry.state = .submitted
            }
            try await write(entry)
            return entry
        }
        guard resubmit else { return entry }
        let request = try JSONDecoder().decode(GenerationRequest.self, from: Data(entry.requestBody.canonicalJSON.utf8))
        return try await submit(request, entry: &entry)
    }

    func findInHistory(_ entry: GenerationEntry) async throws -> HistoryEntry? {
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "UTC")
        day.dateFormat = "yyyy-MM-dd"
        let from = day.string(from: entry.createdAt.addingTimeInterval(-86_400))
        let to = day.string(from: Date())
        for page in 1...10 {
            let listing = try await client.history(page: page, perPage: 100, from: from, to: to)
            for row in listing.data {
                guard let body = row.requestBody, let value = try? Value(encoding: body) else { continue }
                if value == entry.requestBody { return row }
            }
            if listing.data.count < 100 { break }
        }
        return nil
    }

    func waitForResult(_ entry: GenerationEntry) async throws -> GenerationEntry {
        var entry = entry
        let job = client.job(requestID: entry.requestID!)
        do {
            let result = try await client.wait(for: job, timeout: service.waitTimeout, interval: service.pollInterval) { state, elapsed in
                context.progress(nil, "\(state.rawValue.lowercased()) \(elapsed.components.seconds) s")
            }
            entry.outputURL = result.output
            entry.lastFrameURL = result.lastFrameURL
            entry.state = .completed
        } catch let error as SeedanceError where error.code == .notFound {
            // Past the 1-hour retention: what was paid for is still in request history.
            let row = try await client.historyEntry(requestID: entry.requestID!)
            guard let url = row.generationURL else { throw error }
            entry.outputURL = url
            entry.state = .completed
        } catch let error as SeedanceError where error.code == .inferenceFailed {
            entry.state = .failed
            entry.error = error.message
            try await write(entry)
            throw error
        }
        try await write(entry)
        return entry
    }

    func download(_ entry: GenerationEntry) async throws -> [String: Value] {
        var entry = entry
        guard let output = entry.outputURL else {
            throw StageError(.generationFailed, "generation \(entry.requestID ?? "?") has no output URL")
        }
        context.progress(nil, "downloading")
        let clip = context.scratch.appendingPathComponent("clip.mp4")
        try await client.download(output, to: clip)
        let video = try await context.store.put(file: clip, type: .video)
        let frame = context.scratch.appendingPathComponent("last.png")
        if let url = entry.lastFrameURL {
            try await client.download(url, to: frame)
        } else {
            _ = try await MediaThread.run { try VideoFile(clip).writeLastFrame(to: frame) }
        }
        let outputs: [String: Value] = ["video": .artifact(video),
                                        "last_frame": .artifact(try await context.store.put(file: frame, type: .image))]
        entry.outputs = outputs
        entry.state = .downloaded
        try await write(entry)
        return outputs
    }
}
