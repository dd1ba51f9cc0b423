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
public struct GenerateStage: Stage {
    public let kind = "seedance.generate"
    public let version = "1"
    let client: SeedanceClient
    /// Between status polls.
    let pollInterval: Duration
    /// Longest wait in one run (the request keeps running after; a rerun resumes it).
    let waitTimeout: Duration

    public init(client: SeedanceClient, pollInterval: Duration = .seconds(2), waitTimeout: Duration = .seconds(3600)) {
        self.client = client
        self.pollInterval = pollInterval
        self.waitTimeout = waitTimeout
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
            ],
            pool: .seedance)
    }

    /// The API's own rules (duration 7, resolution 4k, …), named by parameter.
    public func check(_ parameters: [String: Value]) -> [String] {
        request(parameters, firstFrame: nil, lastFrame: nil).problems()
            .filter { $0.parameter != "prompt" || parameters["prompt"] != nil }
            .map { "\($0.parameter): \($0.message)" }
    }

    func request(_ values: [String: Value], firstFrame: String?, lastFrame: String?) -> GenerationRequest {
        GenerationRequest(
            prompt: values["prompt"]?.string ?? "", aspectRatio: values["aspect_ratio"]?.string,
            duration: values["duration"]?.number.map { Int($0) }, firstFrameURL: firstFrame, lastFrameURL: lastFrame,
            generateAudio: values["generate_audio"]?.bool, resolution: values["resolution"]?.string,
            returnLastFrame: values["return_last_frame"]?.bool, seed: values["seed"]?.number.map { Int($0) },
            skipModeration: values["skip_moderation"]?.bool == true ? true : nil)
    }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let journal = context.journal
        var entry = journal.entry(context.actionKey)
        if let done = entry, done.state == .downloaded, let outputs = done.outputs,
           outputs.values.flatMap(\.artifacts).allSatisfy({ (try? context.store.verifiedLocation(of: $0)) != nil }) {
            return outputs
        }
        if entry == nil || entry?.state == .failed {
            entry = try await submitFresh(invocation, context: context)
        } else if entry?.state == .intent {
            entry = try await reconcile(entry!, context: context)
        }
        guard var current = entry else { throw GenerationFailure("the journal lost its entry") }
        if current.state == .submitted {
            current = try await waitForResult(current, context: context)
        }
        return try await download(current, context: context)
    }

    /// Uploads local frames, writes the intent, submits, writes the request id.
    private func submitFresh(_ invocation: StageInvocation, context: StageContext) async throws -> JournalEntry {
        var frames: [String: String] = [:]
        let given = ["first_frame", "last_frame"].filter { invocation[$0]?.artifact != nil }
        if !given.isEmpty {
            context.progress(nil, "uploading \(given.joined(separator: " and "))")
            var files: [URL] = []
            for name in given {
                let artifact = invocation[name]!.artifact!
                let file = context.scratch.appendingPathComponent("\(name).\(artifact.fileExtension.isEmpty ? "png" : artifact.fileExtension)")
                try FileManager.default.copyItem(at: try context.store.verifiedLocation(of: artifact), to: file)
                files.append(file)
            }
            frames = Dictionary(uniqueKeysWithValues: zip(given, try await client.upload(files)))
        }
        let request = request(invocation.values, firstFrame: frames["first_frame"], lastFrame: frames["last_frame"])
        var entry = JournalEntry(key: context.actionKey, pipeline: context.pipeline, stage: invocation.name,
                                 requestBody: try Self.value(of: request), seconds: request.effectiveDuration)
        try context.journal.write(entry)
        return try await submit(request, entry: &entry, context: context)
    }

    private func submit(_ request: GenerationRequest, entry: inout JournalEntry, context: StageContext) async throws -> JournalEntry {
        context.progress(nil, "submitting")
        do {
            let job = try await client.submit(request)
            entry.requestID = job.requestID
            entry.state = .submitted
            try context.journal.write(entry)
            return entry
        } catch let error as SeedanceError where error.code == .submitOutcomeUnknown {
            // It may have been accepted: look for it before anyone sends it again.
            let reconciled = try await reconcile(entry, context: context, resubmit: false)
            guard reconciled.requestID != nil else {
                throw GenerationFailure("the submit got no answer and is not (yet) in request history; "
                                        + "the next run will look again before sending anything: \(error)")
            }
            return reconciled
        }
    }

    /// An intent with no recorded request id: find it in request history by its body;
    /// submit again only when history proves it was never received.
    private func reconcile(_ entry: JournalEntry, context: StageContext, resubmit: Bool = true) async throws -> JournalEntry {
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
                try context.journal.write(entry)
                throw GenerationFailure("generation \(match.requestID) failed: \(match.error ?? "no reason given")")
            } else {
                entry.state = .submitted
            }
            try context.journal.write(entry)
            return entry
        }
        guard resubmit else { return entry }
        let request = try JSONDecoder().decode(GenerationRequest.self, from: Data(entry.requestBody.canonicalJSON.utf8))
        return try await submit(request, entry: &entry, context: context)
    }

    private func findInHistory(_ entry: JournalEntry) async throws -> HistoryEntry? {
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "UTC")
        day.dateFormat = "yyyy-MM-dd"
        let from = day.string(from: entry.createdAt.addingTimeInterval(-86_400))
        let to = day.string(from: Date())
        for page in 1...10 {
            let listing = try await client.history(page: page, perPage: 100, from: from, to: to)
            for row in listing.data {
                guard let body = row.requestBody, let value = try? Self.value(of: body) else { continue }
                if value == entry.requestBody { return row }
            }
            if listing.data.count < 100 { break }
        }
        return nil
    }

    private func waitForResult(_ entry: JournalEntry, context: StageContext) async throws -> JournalEntry {
        var entry = entry
        let job = client.job(requestID: entry.requestID!)
        do {
            let result = try await client.wait(for: job, timeout: waitTimeout, interval: pollInterval) { state, elapsed in
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
            try context.journal.write(entry)
            throw error
        }
        try context.journal.write(entry)
        return entry
    }

    private func download(_ entry: JournalEntry, context: StageContext) async throws -> [String: Value] {
        var entry = entry
        guard let output = entry.outputURL else { throw GenerationFailure("generation \(entry.requestID ?? "?") has no output URL") }
        context.progress(nil, "downloading")
        let clip = context.scratch.appendingPathComponent("clip.mp4")
        try await client.download(output, to: clip)
        let video = try context.store.put(file: clip, type: .video)
        let frame = context.scratch.appendingPathComponent("last.png")
        if let url = entry.lastFrameURL {
            try await client.download(url, to: frame)
        } else {
            try await MediaThread.run { try VideoFile(clip).lastFrame().write(to: frame) }
        }
        let outputs: [String: Value] = ["video": .artifact(video),
                                        "last_frame": .artifact(try context.store.put(file: frame, type: .image))]
        entry.outputs = outputs
        entry.state = .downloaded
        try context.journal.write(entry)
        return outputs
    }

    static func value<T: Encodable>(of encodable: T) throws -> Value {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try JSONDecoder().decode(Value.self, from: encoder.encode(encodable))
    }
}

/// A generation that cannot go on, with the reason.
public struct GenerationFailure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
