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
    /// What a second of video costs, by resolution (money is unknown without a price).
    public let prices: PriceBook

    public init(prices: PriceBook = PriceBook()) { self.prices = prices }

    /// What `seedpipe stages` and the schema say of the generation's inputs and parameters
    /// (the chain and storyboard pass the same through).
    static let parameterHelp: [String: String] = [
        "prompt": "what happens in the shot; {{cast.NAME}} cites a member of the cast",
        "duration": "seconds of video (what is paid for): \(GenerationRequest.durations.map(String.init).joined(separator: ", "))",
        "resolution": "\(GenerationRequest.resolutions.joined(separator: ", ")) (the first for drafts)",
        "aspect_ratio": "the frame's shape: \(GenerationRequest.aspectRatios.joined(separator: ", "))",
        "generate_audio": "generate synchronized sound",
        "seed": "the same seed and request give the same clip",
        "return_last_frame": "ask the service for the clip's last frame as PNG (else it is extracted)",
        "skip_moderation": "ask the service to skip its moderation step",
        "sound": "the clip's own sound: full, no-music (ambience and effects, for a soundtrack over the film) or none",
        "retries_on_blocked": "tries with the next seed after a moderation refusal (not part of the cache key)",
        "cast": "names of the pipeline's cast members this shot shows (their references are sent)",
        "takes": "how many takes of the shot to make (seeds step by one); `seedpipe pick` chooses",
        "first_frame": "the image the clip starts on",
        "last_frame": "the image the clip ends on",
        "reference_images": "images the clip draws on (up to 9)",
        "reference_videos": "videos the clip draws on (up to 3)",
        "reference_audios": "audio the clip draws on (up to 3)",
    ]

    public var documentation: StageDocumentation {
        let inputs = Self.parameterHelp.filter { key, _ in signature.inputs.contains { $0.name == key } }
        return StageDocumentation("one Seedance 2.0 Mini generation: a clip with sound from a prompt, optionally from a first (and last) frame and references; journaled so it is never paid twice",
                                  inputs: inputs,
                                  outputs: ["video": "the clip (MP4)", "last_frame": "its last frame (PNG), to start the next shot on"],
                                  parameters: Self.parameterHelp.filter { inputs[$0.key] == nil },
                                  example: ["prompt": .string("A lighthouse at dusk, waves below, the lamp turning"),
                                            "duration": .number(5), "resolution": .string("720p")])
    }

    /// One generation, of `duration` seconds (5 when not given), priced when the price of
    /// its resolution is known.
    public func cost(_ parameters: [String: Value]) -> Cost {
        let seconds = parameters["duration"]?.number ?? 5
        let price = prices.price(resolution: parameters["resolution"]?.string ?? "720p")
        return Cost(generations: 1, seconds: seconds, money: price.map { $0 * seconds }, emulated: prices.emulated)
    }

    public var signature: StageSignature {
        StageSignature(
            inputs: [Port("first_frame", .image, required: false), Port("last_frame", .image, required: false),
                     Port("reference_images", .list(.image), required: false, maximum: GenerationRequest.maximumReferenceImages),
                     Port("reference_videos", .list(.video), required: false, maximum: GenerationRequest.maximumReferenceVideos),
                     Port("reference_audios", .list(.audio), required: false, maximum: GenerationRequest.maximumReferenceAudios)],
            outputs: [Port("video", .video), Port("last_frame", .image)],
            parameters: [
                ParameterSpec("prompt", .string, required: true),
                // The API's values, from one definition (GenerationRequest): the schema's enums
                // and the check's words both come from there.
                ParameterSpec("duration", .integer, default: .number(5), allowed: GenerationRequest.durations.map { .number(Double($0)) }),
                ParameterSpec("resolution", .string, default: .string("720p"), allowed: GenerationRequest.resolutions.map(Value.string)),
                ParameterSpec("aspect_ratio", .string, default: .string("16:9"), allowed: GenerationRequest.aspectRatios.map(Value.string)),
                ParameterSpec("generate_audio", .boolean, default: .bool(true)),
                ParameterSpec("seed", .integer, default: .number(42)),
                ParameterSpec("return_last_frame", .boolean, default: .bool(true)),
                ParameterSpec("skip_moderation", .boolean, default: .bool(false)),
                // full (as generated), no-music (ambience and effects only, for a soundtrack
                // laid over the film), none (no audio generated, whatever generate_audio
                // says). Absent means full.
                ParameterSpec("sound", .string, allowed: Sound.allCases.map { .string($0.rawValue) }),
                // How to run, not what to make: not part of the key.
                ParameterSpec("retries_on_blocked", .integer, range: 0...10, keyed: false),
                // Set from `cast: [names]`: each member's kind, number and note.
                ParameterSpec("cast", .object),
            ],
            pool: .seedance,
            takes: TakeSupport(seed: "seed", identity: "video",
                               bridge: .init(input: "last_frame", output: "last_frame")),
            cast: CastSupport(inputs: ["image": "reference_images", "video": "reference_videos", "audio": "reference_audios"]))
    }

    /// What a clip's own sound should carry (`sound:`).
    public enum Sound: String, CaseIterable, Sendable {
        case full
        case noMusic = "no-music"
        case none
    }

    /// Added to the prompt of a `sound: no-music` shot.
    public static let noMusicInstruction = "Audio: ambient sound and sound effects only, no music."

    /// The inputs that are sent as URLs: frames and references.
    static let fileInputs = ["first_frame", "last_frame", "reference_images", "reference_videos", "reference_audios"]

    /// Tries after a refusal, when `retries_on_blocked` is not given.
    public static let defaultRetriesOnBlocked = 2

    /// The API's own rules (duration 7, resolution 4k, a prompt citing `image 3` when the
    /// shot sends 2, …), named by parameter. Values only running can tell arrive as `null`
    /// (given, not known); a reference list keeps its length.
    public func check(_ parameters: [String: Value]) -> [String] {
        let placeholder = "https://placeholder.invalid/file"
        var urls: [String: [String]] = [:]
        for name in Self.fileInputs where parameters[name] != nil {
            urls[name] = Array(repeating: placeholder, count: parameters[name]?.list?.count ?? 1)
        }
        var problems: [String] = []
        let prompt = parameters["prompt"]?.string
        if let prompt {
            let cast = parameters["cast"]?.object ?? [:]
            for name in Self.castNames(in: prompt) where cast[name.member] == nil {
                problems.append("prompt: {{cast.\(name.text)}} names no member of this shot's cast"
                                + (cast.isEmpty ? " (give the stage `cast: [\(name.member)]`)" : " (its cast: \(cast.keys.sorted().joined(separator: ", ")))"))
            }
            // Any other tag would reach the paid API as literal text.
            for tag in Self.tags(in: prompt) where !tag.hasPrefix("cast.") {
                let name = tag.hasPrefix("vars.") ? String(tag.dropFirst(5)) : tag
                problems.append("prompt: {{\(tag)}} is not filled in (a generation's prompt fills only {{cast.NAME}}), so it would be sent as written: "
                                + "write `${vars.\(name)}` for a var of the pipeline, or the words themselves")
            }
        }
        if urls["first_frame"] != nil, let images = urls["reference_images"], !images.isEmpty {
            problems.append("first_frame: cannot be sent with reference images (the API refuses the pair): drop `first_frame`, "
                            + "or the images (`reference_images`, and image members of `cast`); to fix how a shot starts while a cast "
                            + "keeps the character, make that frame a storyboard keyframe showing the character instead of sending it as a reference")
        }
        problems += request(parameters, urls: urls).problems()
            .filter { $0.parameter != "prompt" || prompt != nil }
            .filter { $0.parameter != "first_frame_url" || !$0.message.contains("reference_images") }
            .filter { !$0.parameter.hasPrefix("reference_") }  // counted by the ports, before this
            .map { "\($0.parameter == "first_frame_url" ? "first_frame" : $0.parameter == "last_frame_url" ? "last_frame" : $0.parameter): \($0.message)" }
        return problems
    }

    /// The API request for these values and the URLs of its files (`first_frame`, `reference_images`, …).
    func request(_ values: [String: Value], urls: [String: [String]]) -> GenerationRequest {
        let sound = values["sound"]?.string.flatMap(Sound.init(rawValue:)) ?? .full
        var prompt = Self.citing(values["prompt"]?.string ?? "", cast: values["cast"]?.object ?? [:])
        if sound == .noMusic { prompt += (prompt.hasSuffix(" ") || prompt.isEmpty ? "" : " ") + Self.noMusicInstruction }
        return GenerationRequest(
            prompt: prompt,
            aspectRatio: values["aspect_ratio"]?.string,
            duration: values["duration"]?.number.map { Int($0) }, firstFrameURL: urls["first_frame"]?.first,
            lastFrameURL: urls["last_frame"]?.first, generateAudio: sound == .none ? false : values["generate_audio"]?.bool,
            referenceImages: urls["reference_images"], referenceVideos: urls["reference_videos"],
            referenceAudios: urls["reference_audios"], resolution: values["resolution"]?.string,
            returnLastFrame: values["return_last_frame"]?.bool, seed: values["seed"]?.number.map { Int($0) },
            skipModeration: values["skip_moderation"]?.bool == true ? true : nil)
    }

    /// `{{cast.hero}}` → the citation the API wants for that member in this shot ("image 1"),
    /// `{{cast.hero.note}}` → its note.
    static func citing(_ prompt: String, cast: [String: Value]) -> String {
        guard prompt.contains("{{cast.") else { return prompt }
        var text = prompt
        for name in castNames(in: prompt) {
            guard let member = cast[name.member]?.object else { continue }
            let replacement = name.field == "note" ? member["note"]?.string ?? ""
                : "\(member["kind"]?.string ?? "image") \(Int(member["number"]?.number ?? 1))"
            text = text.replacingOccurrences(of: "{{cast.\(name.text)}}", with: replacement)
        }
        return text
    }

    /// Every `{{…}}` tag of a prompt, as written between the braces (trimmed).
    static func tags(in prompt: String) -> [String] {
        var tags: [String] = []
        var rest = Substring(prompt)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            tags.append(String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return tags
    }

    /// The `{{cast.NAME}}` and `{{cast.NAME.note}}` tags of a prompt.
    static func castNames(in prompt: String) -> [(text: String, member: String, field: String?)] {
        var names: [(String, String, String?)] = []
        var rest = Substring(prompt)
        while let open = rest.range(of: "{{cast."), let close = rest[open.upperBound...].range(of: "}}") {
            let text = String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
            let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
            names.append((text, parts.first ?? "", parts.count > 1 ? parts[1] : nil))
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// The clip lasts the duration it asks for (5 s when not given).
    public func estimatedDurations(_ parameters: [String: Value]) -> [String: Double] {
        guard let seconds = parameters["duration"].map({ $0 == .null ? nil : $0.number }) ?? 5 else { return [:] }
        return ["video": seconds]
    }

    /// A generation whose request an earlier run sent (accepted, its id journaled) is fetched
    /// by the next run without paying again: `plan` says `resume` for it.
    public func resumes(_ record: JournalRecord) -> Bool {
        guard let entry = try? record.payload.decode(GenerationEntry.self) else { return false }
        // An intent is a request sent whose answer was lost: settled through request history first.
        return [.submitted, .completed].contains(entry.state) && entry.requestID != nil || entry.state == .intent
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
        // An emulator's clip whose files are gone (collected: emulated work is not kept as paid
        // work is) cannot be fetched again (the built-in emulator lived for one run): made again, free.
        if let done = entry, done.emulated == true, done.state == .downloaded { entry = nil }
        var run = Run(stage: self, service: try context.services.require(SeedanceService.self), context: context)
        // Sent by an earlier run of this cache (interrupted before it was downloaded): fetched now, paid then.
        // (An intent whose answer was lost counts too once request history has it; see generate.)
        run.resumed = entry.map { ([.submitted, .completed].contains($0.state) && $0.requestID != nil || $0.state == .intent) && $0.adoptedFrom == nil } ?? false
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
                run.resumed = false
            }
        }
    }
}

extension StageInvocation {
    /// The invocation with its `seed` set.
    func seeded(_ seed: Int) -> StageInvocation {
        var values = self.values
        values["seed"] = .number(Double(seed))
        return StageInvocation(name: name, values: values, take: take)
    }
}

/// One run of the stage: the client and context it works with.
private struct Run {
    let stage: GenerateStage
    let service: SeedanceService
    let context: StageContext
    /// This machine's claim in the team's journal, while it owns the generation.
    var seat: TeamSeat?
    /// Whether the generation was sent by an earlier run (its cost is reported as paid before).
    var resumed = false
    var client: SeedanceClient { service.client }

    init(stage: GenerateStage, service: SeedanceService, context: StageContext) {
        self.stage = stage
        self.service = service
        self.context = context
    }

    /// One attempt: submits (or resumes `entry`), waits, downloads.
    mutating func generate(_ invocation: StageInvocation, seed: Int, entry: GenerationEntry?, refusals: [GenerationEntry.Refusal]) async throws
        -> [String: Value]
    {
        var entry = entry
        if let team = service.team, entry == nil || entry?.state == .intent {
            return try await coordinated(team, invocation, seed: seed, entry: entry, refusals: refusals)
        }
        if entry == nil {
            entry = try await submitFresh(invocation.seeded(seed), refusals: refusals)
        } else if var intent = entry, intent.state == .intent {
            // Sent before an interruption, its answer lost: found in request history, it was paid
            // then; not found, it is sent now (and paid now).
            intent = try await settle(intent)
            if intent.requestID == nil {
                resumed = false
                let request = try JSONDecoder().decode(GenerationRequest.self, from: Data(intent.requestBody.canonicalJSON.utf8))
                intent = try await submit(request, entry: &intent)
            }
            entry = intent
        }
        guard let current = entry else { throw StageError(.generationFailed, "the journal lost its entry") }
        return try await finish(current)
    }

    /// A submitted or completed generation: waited for (when still running), then downloaded.
    func finish(_ entry: GenerationEntry) async throws -> [String: Value] {
        try await download(entry.state == .submitted ? try await waitForResult(entry) : entry)
    }

    /// The team's journal failing (not a lost claim) as the stage says it: nothing submitted.
    func unavailable(_ error: TeamLedgerError, _ invocation: StageInvocation) -> StageError {
        StageError(.unavailable, "not submitting \(invocation.name): \(error)", underlying: error)
    }

    /// A generation not yet submitted from here, with a team's journal: claimed there first.
    /// Another machine's accepted request is polled (never submitted again); another's live
    /// claim is waited for; an expired one is taken over with a new epoch, and a submit its
    /// owner left uncertain is settled through request history before anything is sent.
    func coordinated(_ team: any TeamLedger, _ invocation: StageInvocation, seed: Int, entry: GenerationEntry?,
                     refusals: [GenerationEntry.Refusal]) async throws -> [String: Value] {
        let wait = min(max(team.lease / 4, .milliseconds(100)), .seconds(2))
        while true {
            let claim: TeamClaim
            do {
                claim = try await team.claim(context.actionKey, pipeline: context.pipeline, stage: invocation.name)
            } catch let error as TeamLedgerError {
                throw unavailable(error, invocation)
            }
            switch claim {
            case .accepted(let row):
                return try await adopt(row, invocation: invocation)
            case .busy(let row):
                context.progress(nil, "waiting: \(row.owner) has it (\(row.state.rawValue))")
                try await client.clock.sleep(for: wait)
            case .owned(let seat):
                var run = self
                run.seat = seat
                let beat = Self.heartbeat(team, seat, clock: client.clock)
                defer { beat.cancel() }
                var submitted = false
                do {
                    let current: GenerationEntry
                    if let body = seat.uncertainBody ?? (entry?.state == .intent ? entry?.requestBody : nil) {
                        // An earlier submit (its owner vanished, or this machine crashed) may have been taken.
                        var intent = entry?.requestBody == body ? entry! : GenerationEntry(
                            key: context.actionKey, pipeline: context.pipeline, profile: context.profile, stage: invocation.name, requestBody: body,
                            seconds: Self.seconds(of: body))
                        intent.emulated = service.emulated ? true : nil
                        try await write(intent)
                        current = try await run.reconcile(intent)
                    } else {
                        current = try await run.submitFresh(invocation.seeded(seed), refusals: refusals)
                    }
                    submitted = true
                    beat.cancel()
                    return try await run.finish(current)
                } catch let error as TeamLedgerError {
                    guard case .lostClaim(let message) = error else { throw unavailable(error, invocation) }
                    context.logger.notice("\(invocation.name): \(message); looking again")
                } catch {
                    if !submitted { try? await team.release(seat) }
                    throw error
                }
            }
        }
    }

    /// Another machine's accepted request, polled and downloaded here (paid for there).
    func adopt(_ row: TeamGeneration, invocation: StageInvocation) async throws -> [String: Value] {
        var entry = GenerationEntry(key: context.actionKey, pipeline: context.pipeline, profile: context.profile, stage: invocation.name,
                                    requestBody: row.requestBody ?? .null, seconds: row.seconds ?? Self.seconds(of: row.requestBody))
        entry.requestID = row.requestID
        entry.state = .submitted
        entry.adoptedFrom = row.owner
        entry.emulated = service.emulated ? true : nil
        try await write(entry)
        context.logger.notice("\(invocation.name): \(row.owner) submitted it (request \(row.requestID ?? "?")); polling that request")
        return try await finish(entry)
    }

    /// Renews a claim's lease until cancelled (or taken over), on the client's clock.
    static func heartbeat(_ team: any TeamLedger, _ seat: TeamSeat, clock: any APIClock) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                try? await clock.sleep(for: team.lease / 3)
                if Task.isCancelled { return }
                if (try? await team.renew(seat)) == false { return }
            }
        }
    }

    /// Seconds of video a recorded request body asks for.
    static func seconds(of body: Value?) -> Int {
        (try? body?.decode(GenerationRequest.self))?.effectiveDuration ?? 5
    }

    /// Uploads local frames, writes the intent, submits, writes the request id.
    func submitFresh(_ invocation: StageInvocation, refusals: [GenerationEntry.Refusal]) async throws -> GenerationEntry {
        // Frames and references: local files are uploaded (once per file, see `uploadedURL`), URLs sent as they are.
        var urls: [String: [String]] = [:]
        let local = GenerateStage.fileInputs.flatMap { invocation[$0]?.list ?? invocation[$0].map { [$0] } ?? [] }.compactMap(\.artifact)
        if !local.isEmpty { context.progress(nil, local.count == 1 ? "uploading 1 file" : "uploading \(local.count) files") }
        for name in GenerateStage.fileInputs {
            guard let given = invocation[name] else { continue }
            var list: [String] = []
            for item in given.list ?? [given] {
                if let artifact = item.artifact {
                    list.append(try await uploadedURL(of: artifact, as: name))
                } else if let address = item.string {
                    list.append(address)
                }
            }
            urls[name] = list
        }
        // Checked before the intent is journaled: a request the API's rules refuse is never
        // recorded as about to be paid for.
        let request = try stage.request(invocation.values, urls: urls).validated()
        var entry = GenerationEntry(key: context.actionKey, pipeline: context.pipeline, profile: context.profile, stage: invocation.name,
                                    requestBody: try Value(encoding: request), seconds: request.effectiveDuration)
        entry.refusals = refusals.isEmpty ? nil : refusals
        entry.emulated = service.emulated ? true : nil
        try await write(entry)
        return try await submit(request, entry: &entry)
    }

    /// The URL of a stored file on the service's storage: uploaded the first time, then
    /// found in the journal by the file's digest (and the storage it went to), so a rerun or
    /// another shot with the same file does not upload it again; one upload at a time per file.
    func uploadedURL(of artifact: Artifact, as name: String) async throws -> String {
        let storage = client.endpoints.storage.absoluteString
        let key = "upload-" + ContentDigest.sha256(of: Data("\(storage)\u{0}\(artifact.digest)".utf8))
        let record = JournalEntryHandle(journal: context.journal.journal, key: key, kind: UploadEntry.kind,
                                        pipeline: context.pipeline, stage: "")
        return try await service.uploads.run(key) {
            if let known = try await record.read(UploadEntry.self) { return known.url }
            let file = context.scratch.appendingPathComponent("\(artifact.digest).\(artifact.fileExtension.isEmpty ? "png" : artifact.fileExtension)")
            let stored = try await context.store.verifiedLocation(of: artifact)
            try await BlockingIO.run {
                if !FileManager.default.fileExists(atPath: file.path) { try FileManager.default.copyItem(at: stored, to: file) }
            }
            guard let url = try await client.upload([file]).first else {
                throw StageError(.generationFailed, "the upload of \(name) answered no URL")
            }
            try await record.write(UploadEntry(digest: artifact.digest, storage: storage, url: url, uploadedAt: Date()))
            return url
        }
    }

    func write(_ entry: GenerationEntry) async throws {
        var entry = entry
        entry.updatedAt = Date()
        try await context.journal.write(entry)
    }

    /// Submits, and settles a submit whose outcome is not known before it ends: a 5xx answer
    /// or a connection lost after the request went out may come after the service accepted
    /// the job (a gateway's 502/504 can). Such a submit is looked for in request history by
    /// its body, and again over ``SeedanceService/historyGrace`` (history may lag); found, its
    /// request id is adopted; not found, the request is sent again after the retry policy's
    /// backoff. Each decision is journaled before it is acted on, so a crash in the middle
    /// resumes without paying twice. The shot fails only when the policy is used up.
    func submit(_ request: GenerationRequest, entry: inout GenerationEntry) async throws -> GenerationEntry {
        context.progress(nil, "submitting")
        try await service.gate.check()
        let estimate = stage.cost(["duration": .number(Double(request.effectiveDuration)),
                                   "resolution": .string(request.effectiveResolution)]).money ?? 0
        if let budget = service.budget { try await budget.reserve(estimate, key: entry.key, for: entry.stage) }
        entry.estimate = estimate
        var attempt = 0
        while true {
            attempt += 1
            if let team = service.team, let seat {
                do {
                    try await team.beginSubmit(seat, body: entry.requestBody, seconds: entry.seconds, estimate: estimate)
                } catch let error as TeamLedgerError {
                    await service.budget?.settle(entry.key, actual: 0)
                    guard case .overBudget(let message) = error else { throw error }
                    throw StageError(.stopped, "stopped submitting: \(message)", underlying: error)
                }
            }
            do {
                let job = try await client.submit(request)
                entry.requestID = job.requestID
                entry.state = .submitted
                try await write(entry)
                await recordSubmitted(job.requestID)
                return entry
            } catch let error as SeedanceError where error.code == .insufficientCredits || error.code == .modelRetired {
                await service.budget?.settle(entry.key, actual: 0)
                throw await service.gate.close(error)
            } catch let error as SeedanceError where Self.isAmbiguous(error) {
                // It may have been accepted: journaled as such, then looked for, before anything is sent again.
                entry.ambiguous = (entry.ambiguous ?? []) + [Self.reason(error)]
                try await write(entry)
                context.logger.notice("\(entry.stage): \(Self.reason(error)); looking for it in request history")
                let settled = try await settle(entry)
                if settled.requestID != nil { return settled }
                entry = settled
                let reasons = entry.ambiguous ?? []
                guard let delay = client.retry.delay(afterAttempt: attempt) else {
                    await service.budget?.settle(entry.key, actual: 0)
                    throw StageError(.generationUnresolved,
                                     "\(reasons.count == 1 ? "the submit's outcome is" : "\(reasons.count) submits' outcomes are") unknown "
                                     + "(\(reasons.joined(separator: "; "))) and none is in request history after "
                                     + "\(service.historyGrace.secondsText); run the same command again to resume: it looks in "
                                     + "history again before sending anything", underlying: error)
                }
                context.logger.notice("\(entry.stage): not in request history after \(service.historyGrace.secondsText); sending it again in \(delay)")
                try await client.clock.sleep(for: delay)
                context.progress(nil, "submitting again (try \(attempt + 1))")
            } catch let error as SeedanceError {
                await service.budget?.settle(entry.key, actual: 0)
                throw error
            }
        }
    }

    /// Tells the team's journal the request id (others poll it from now on). Best effort: the
    /// local journal has it, and should this not reach the team, the claim's lease runs out and
    /// the next machine finds the request in history by its body.
    func recordSubmitted(_ requestID: String) async {
        guard let team = service.team, let seat else { return }
        do { try await team.submitted(seat, requestID: requestID) } catch {
            context.logger.warning("\(context.actionKey.prefix(12)): the team's journal did not take request \(requestID): \(error)")
        }
    }

    /// A submit whose answer does not say whether the job was taken.
    static func isAmbiguous(_ error: SeedanceError) -> Bool {
        error.code == .submitOutcomeUnknown || (error.httpStatus.map { (500...599).contains($0) } ?? false)
    }

    static func reason(_ error: SeedanceError) -> String {
        if let status = error.httpStatus { return "submit answered HTTP \(status)" }
        return "submit sent, connection lost before the answer"
    }

    /// Looks for an intent in request history, and again until the history grace has passed:
    /// the entry with its request id when found (adopted and journaled), else as it was.
    func settle(_ entry: GenerationEntry) async throws -> GenerationEntry {
        let grace = service.historyGrace
        let step = min(max(grace / 10, .milliseconds(100)), .seconds(3))
        var waited: Duration = .zero
        while true {
            let found = try await adoptFromHistory(entry)
            if found.requestID != nil || waited >= grace { return found }
            try await client.clock.sleep(for: step)
            waited += step
        }
    }

    /// An intent with no recorded request id (a run resuming one): find it in request history
    /// by its body over the history grace, as after an ambiguous submit; submit again only
    /// when history has not shown it.
    func reconcile(_ entry: GenerationEntry) async throws -> GenerationEntry {
        var entry = try await settle(entry)
        if entry.requestID != nil { return entry }
        let request = try JSONDecoder().decode(GenerationRequest.self, from: Data(entry.requestBody.canonicalJSON.utf8))
        return try await submit(request, entry: &entry)
    }

    /// One look in request history for an intent: found, its request id (and state, output or
    /// failure) is adopted and journaled; else the entry comes back as it was.
    func adoptFromHistory(_ entry: GenerationEntry) async throws -> GenerationEntry {
        var entry = entry
        context.progress(nil, "looking in request history")
        if let match = try await findInHistory(entry) {
            entry.requestID = match.requestID
            if match.modelStatus == "COMPLETED", let url = match.generationURL {
                entry.outputURL = url
                entry.cost = match.creditsDeduction
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
            await recordSubmitted(match.requestID)
        }
        return entry
    }

    func findInHistory(_ entry: GenerationEntry) async throws -> HistoryEntry? {
        try await entry.findInHistory(client: client)
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
            entry.cost = result.cost
            entry.remainingCredits = result.remainingCredits
            entry.state = .completed
        } catch let error as SeedanceError where error.code == .notFound {
            // Past the 1-hour retention: what was paid for is still in request history.
            let row = try await client.historyEntry(requestID: entry.requestID!)
            guard let url = row.generationURL else { throw error }
            entry.outputURL = url
            entry.cost = row.creditsDeduction
            entry.state = .completed
        } catch let error as SeedanceError where error.code == .inferenceFailed {
            // A FAILED generation is not billed.
            await service.budget?.settle(entry.key, actual: 0)
            entry.state = .failed
            entry.error = error.message
            try await write(entry)
            try? await service.team?.failed(entry.key, requestID: entry.requestID!, error: error.message)
            throw error
        }
        // Another machine's generation was paid for there.
        await service.budget?.settle(entry.key, actual: entry.adoptedFrom != nil ? 0 : entry.cost ?? entry.estimate ?? 0)
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
        if let team = service.team, let requestID = entry.requestID {
            do { try await team.done(entry.key, requestID: requestID, cost: entry.cost, outputs: outputs) } catch {
                context.logger.warning("\(entry.stage): the team's journal did not take its result: \(error)")
            }
        }
        if entry.adoptedFrom != nil {
            context.reportCost(Cost(generations: 0, seconds: 0, money: 0, emulated: entry.emulated == true))  // paid for by its owner
        } else if entry.cost != nil || entry.emulated == true {
            context.reportCost(Cost(generations: 1, seconds: Double(entry.seconds), money: entry.cost ?? 0, emulated: entry.emulated == true,
                                    resumed: resumed))
        }
        return outputs
    }
}
