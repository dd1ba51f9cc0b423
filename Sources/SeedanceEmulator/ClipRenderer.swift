import AsyncHTTPClient
import Foundation
import Media
import NIOCore
import SeedanceAPI

/// Turns an accepted generation into real files: the MP4 (and the last frame as PNG when
/// asked), rendered with Media on threads of their own (`MediaThread`), so renders never
/// hold the cooperative pool that answers HTTP and starts the other jobs' clocks. Identical
/// requests (same parameters, images and seed) reuse one render, which is byte-identical anyway.
struct ClipRenderer: Sendable {
    enum Outcome: Sendable {
        case completed(video: String, lastFrame: String?, rendered: Bool)
        case failed(String)
    }

    let configuration: EmulatorConfiguration
    /// Served at `/files/`.
    let files: URL
    let http: HTTPClient
    private let coalescer = RenderCoalescer()

    init(configuration: EmulatorConfiguration, files: URL, http: HTTPClient) {
        self.configuration = configuration
        self.files = files
        self.http = http
    }

    /// Processes one job, taking at least the configured latency.
    func process(_ job: EmulatorJob) async -> Outcome {
        let clock = configuration.clock, start = clock.now
        let outcome: Outcome
        if job.request.prompt.lowercased().contains(configuration.blockedWord.lowercased()) {
            // Moderation blocks come back quickly, as FAILED.
            try? await clock.sleep(for: configuration.latency / 10)
            return .failed("Content moderation: the prompt was blocked by the safety filter (it contains disallowed content)")
        }
        if configuration.refuses(prompt: job.request.prompt, seed: job.request.seed, skipModeration: job.request.skipModeration == true) {
            try? await clock.sleep(for: configuration.latency / 10)
            return .failed("Content moderation: the generation was flagged by the safety filter (seed \(job.request.seed ?? 0))")
        }
        do {
            let first = try await image(job.request.firstFrame, parameter: "first_frame_url")
            let last = try await image(job.request.lastFrame, parameter: "last_frame_url")
            outcome = try await render(job, first: first, last: last, references: try await references(of: job.request))
        } catch let failure as RenderFailure {
            outcome = .failed(failure.reason)
        } catch {
            outcome = .failed("Internal error while rendering: \(error)")
        }
        let remaining = configuration.latency - (clock.now - start)
        if remaining > .zero { try? await clock.sleep(for: remaining) }
        return outcome
    }

    struct RenderFailure: Error {
        var reason: String
    }

    /// What the request's references put in the clip: each image as an inset, four frames
    /// of each video showing through, the first audio as the soundtrack.
    struct References {
        var insets: [FrameImage] = []
        var showThrough: [FrameImage] = []
        var soundtrack: AudioSamples?
    }

    private func references(of request: GenerationRequest) async throws -> References {
        var references = References()
        for (index, address) in (request.referenceImages ?? []).enumerated() {
            if let image = try await image(address, parameter: "reference_images[\(index)]") { references.insets.append(image) }
        }
        for (index, address) in (request.referenceVideos ?? []).enumerated() {
            let parameter = "reference_videos[\(index)]"
            let frames = try await withFetched(address, parameter: parameter) { local in
                try await MediaThread.run {
                    let video = VideoFile(local)
                    let duration = try MediaInfo.probe(local).duration ?? 0
                    return try (0..<4).map { try video.frame(at: duration * Double($0) / 4) }
                }
            }
            references.showThrough += frames
        }
        if let address = request.referenceAudios?.first {
            let seconds = Double(request.effectiveDuration)
            references.soundtrack = try await withFetched(address, parameter: "reference_audios[0]") { local in
                try await MediaThread.run { try AudioSamples.read(local, seconds: seconds) }
            }
        }
        return references
    }

    private func render(_ job: EmulatorJob, first: FrameImage?, last: FrameImage?, references: References) async throws -> Outcome {
        let request = job.request
        let size = OutputSize(resolution: request.effectiveResolution, aspectRatio: request.effectiveAspectRatio,
                              firstFrameAspect: first.map { Double($0.width) / Double($0.height) })
        let key = Self.digest([
            request.prompt, String(request.effectiveDuration), size.description, String(request.effectiveGenerateAudio),
            String(job.seed), request.firstFrame ?? "", request.lastFrame ?? "", String(configuration.frameRate),
            configuration.preset, (request.referenceImages ?? []).joined(separator: ","),
            (request.referenceVideos ?? []).joined(separator: ","), (request.referenceAudios ?? []).joined(separator: ","),
        ].joined(separator: "\u{1F}") + (configuration.drift == 0 ? "" : "\u{1F}drift \(configuration.drift)"))
        let renders = files.appendingPathComponent("renders", isDirectory: true)
        let cached = renders.appendingPathComponent("\(key).mp4")
        let cachedFrame = renders.appendingPathComponent("\(key)-last.png")
        var scene = SceneClip(
            width: size.width, height: size.height, frameRate: configuration.frameRate,
            duration: Double(request.effectiveDuration), seed: Self.seed(prompt: request.prompt, seed: job.seed),
            firstFrame: first, lastFrame: last, audio: request.effectiveGenerateAudio, preset: configuration.preset,
            insets: references.insets, showThrough: references.showThrough, soundtrack: references.soundtrack)
        scene.drift = configuration.drift
        let clip = scene
        let rendered = try await coalescer.run(key) {
            try await MediaThread.run {
                try FileManager.default.createDirectory(at: renders, withIntermediateDirectories: true)
                guard !FileManager.default.fileExists(atPath: cached.path) else { return false }
                try clip.render(to: cached)
                try VideoFile(cached).lastFrame().write(to: cachedFrame)
                return true
            }
        }
        let video = "\(job.id).mp4"
        try link(cached, to: files.appendingPathComponent(video))
        var lastFrame: String?
        if request.effectiveReturnLastFrame {
            lastFrame = "\(job.id)-last.png"
            try link(cachedFrame, to: files.appendingPathComponent(lastFrame!))
        }
        return .completed(video: video, lastFrame: lastFrame, rendered: rendered)
    }

    /// Reads an image the request points at: one of the emulator's own files, or any http(s) URL.
    private func image(_ address: String?, parameter: String) async throws -> FrameImage? {
        guard let address else { return nil }
        return try await withFetched(address, parameter: parameter) { local in
            do {
                return try await MediaThread.run { try FrameImage(contentsOf: local) }
            } catch {
                throw RenderFailure(reason: "\(parameter) \(address) is not a readable image: \(error)")
            }
        }
    }

    /// Runs `body` on a local copy of what `address` names: one of the emulator's own files
    /// (uploads), or any http(s) URL fetched for the call.
    private func withFetched<T>(_ address: String, parameter: String, _ body: (URL) async throws -> T) async throws -> T {
        guard let url = URL(string: address), url.scheme == "http" || url.scheme == "https" else {
            throw RenderFailure(reason: "\(parameter) \(address) is not an http(s) URL")
        }
        if url.path.hasPrefix("/files/"), url.host == "127.0.0.1" || url.host == "localhost" || url.host == configuration.host {
            return try await body(files.appendingPathComponent(String(url.path.dropFirst("/files/".count))))
        }
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("emulator-fetch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: local) }
        do {
            let response = try await http.execute(HTTPClientRequest(url: address), timeout: .seconds(30))
            guard response.status.code == 200 else {
                throw RenderFailure(reason: "cannot fetch \(parameter) \(address): HTTP \(response.status.code)")
            }
            let body = try await response.body.collect(upTo: 200 << 20)
            try Data(buffer: body).write(to: local)
        } catch let failure as RenderFailure {
            throw failure
        } catch {
            throw RenderFailure(reason: "cannot fetch \(parameter) \(address): \(error)")
        }
        return try await body(local)
    }

    private func link(_ source: URL, to destination: URL) throws {
        try? FileManager.default.removeItem(at: destination)
        do {
            try FileManager.default.linkItem(at: source, to: destination)
        } catch {
            try FileManager.default.copyItem(at: source, to: destination)
        }
    }

    /// The render seed: the request's seed mixed with the prompt, so prompts differ visibly.
    static func seed(prompt: String, seed: Int) -> UInt64 {
        fnv1a(prompt) ^ UInt64(bitPattern: Int64(seed)) &* 0x9E37_79B9_7F4A_7C15
    }

    static func digest(_ text: String) -> String { String(fnv1a(text), radix: 16) }

    /// Whether `--moderation-rate` refuses this request: a stable hash of prompt and seed
    /// mapped to 0…1, under the rate.
    static func refused(_ request: GenerationRequest, rate: Double) -> Bool {
        guard rate > 0 else { return false }
        var mixed = fnv1a("moderation\u{0}\(request.prompt)\u{0}\(request.seed ?? -1)")
        mixed ^= mixed >> 33
        mixed &*= 0xFF51_AFD7_ED55_8CCD
        mixed ^= mixed >> 33
        return Double(mixed >> 11) / Double(1 << 53) < rate
    }

    /// FNV-1a, 64-bit: stable across runs and machines (unlike `Hasher`).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
