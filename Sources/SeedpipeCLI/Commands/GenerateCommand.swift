import ArgumentParser
import Foundation
import Pipeline
import SeedanceAPI
import Stages

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate one clip with Seedance 2.0 Mini.",
        discussion: """
            Without SEGMIND_API_KEY the clip is rendered by the built-in emulator (offline
            preview). Local images are uploaded first. If the wait times out, the request
            keeps running: fetch it later with --resume REQUEST_ID instead of paying again.

            Examples:
              seedpipe generate --prompt "The waterfall cascades down mossy cliffs" \\
                  -o clip.mp4
              seedpipe generate --prompt "Shot 1: the camera pushes in" \\
                  --first-frame pipelines/assets/waterfall.jpg --duration 8 \\
                  --resolution 1080p --return-last-frame -o shot1.mp4

            A wait that timed out is fetched later, without paying again, by its
            request id: seedpipe generate --resume REQUEST_ID -o shot1.mp4, or by running
            the same command again: each request sent is journaled in the cache (--cache,
            default .seedpipe here), so the same request is fetched, never paid twice.
            """
    )

    @Option(help: "What the video shows (cite assets as image 1, video 1, audio 1).")
    var prompt: String?

    @Option(help: "The first frame: a local image (uploaded) or a URL.")
    var firstFrame: String?

    @Option(help: "The last frame: a local image (uploaded) or a URL; needs --first-frame.")
    var lastFrame: String?

    @Option(help: "Seconds: \(GenerationRequest.durations.map(String.init).joined(separator: ", ")).")
    var duration = 5

    @Option(help: "\(GenerationRequest.resolutions.joined(separator: ", ")).")
    var resolution = "720p"

    @Option(help: "\(GenerationRequest.aspectRatios.joined(separator: ", ")).")
    var aspectRatio = "16:9"

    @Flag(help: "Generate without audio.")
    var noAudio = false

    @Option(parsing: .unconditional, help: "-1 (random) to 2147483647.")
    var seed = 42

    @Flag(help: "Also write the final frame as OUTPUT-last.png (to chain the next clip).")
    var returnLastFrame = false

    @Flag(help: "Bypass the moderation pre-filter.")
    var skipModeration = false

    @Option(help: "Wait for an earlier request instead of submitting a new one.")
    var resume: String?

    @Option(help: "The cache whose journal remembers each request sent, so the same command run again pays nothing new (default: .seedpipe here, or $SEEDPIPE_CACHE).")
    var cache: String?

    @Option(help: "Seconds to wait before giving up (the request keeps running).")
    var timeout: Double = 900

    @Option(name: .shortAndLong, help: "The MP4 file to write.")
    var output: String

    @OptionGroup var backend: BackendOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard prompt != nil || resume != nil else { throw ValidationError("give --prompt TEXT (or --resume REQUEST_ID)") }
        for path in [firstFrame, lastFrame].compactMap({ $0 }) where !Self.isURL(path) {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path): no such file") }
        }
        let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder) else {
            throw ValidationError("-o \(output): the folder \(folder) does not exist")
        }
        if let prompt {
            // Check the rules now, with placeholder URLs for local files, so nothing is uploaded for a bad request.
            let problems = request(prompt: prompt, first: firstFrame.map { _ in "https://placeholder.invalid/f.png" },
                                   last: lastFrame.map { _ in "https://placeholder.invalid/l.png" }).problems()
            guard problems.isEmpty else {
                throw ValidationError(problems.map(\.description).joined(separator: "; "))
            }
        }
    }

    static func isURL(_ text: String) -> Bool { text.hasPrefix("http://") || text.hasPrefix("https://") }

    func request(prompt: String, first: String?, last: String?) -> GenerationRequest {
        GenerationRequest(
            prompt: prompt, aspectRatio: aspectRatio, duration: duration, firstFrameURL: first, lastFrameURL: last,
            generateAudio: !noAudio, resolution: resolution, returnLastFrame: returnLastFrame, seed: seed,
            skipModeration: skipModeration ? true : nil)
    }

    func run() async throws {
        global.apply()
        let connection = try await backend.connect()
        do {
            try await generate(with: connection.client, emulated: connection.emulated)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The cache whose journal remembers each request sent: `--cache`, else `$SEEDPIPE_CACHE`, else `.seedpipe` here.
    var cacheFolder: URL {
        URL(fileURLWithPath: cache ?? ProcessInfo.processInfo.environment["SEEDPIPE_CACHE"] ?? ".seedpipe")
    }

    /// What identifies this request across runs of the command: its parameters, with each
    /// local file by the SHA-256 of its bytes (its upload URL differs every time).
    func identity() throws -> String {
        func named(_ path: String?) throws -> String? {
            guard let path else { return nil }
            return Self.isURL(path) ? path : "sha256:" + (try ContentDigest.sha256(of: URL(fileURLWithPath: path)))
        }
        let described = request(prompt: prompt ?? "", first: try named(firstFrame), last: try named(lastFrame))
        return try Value(encoding: described).canonicalJSON
    }

    private func generate(with client: SeedanceClient, emulated: Bool) async throws {
        let job: SubmittedJob
        // Journaled as a pipeline's generation is: the same command run again (after Ctrl-C, a
        // crash, a lost connection) fetches the request it sent instead of paying again.
        let journal = try LocalJournal(root: cacheFolder.appendingPathComponent("journal"))
        let key = "generate-" + ContentDigest.sha256(of: Data(try identity().utf8))
        let stage = URL(fileURLWithPath: output).lastPathComponent
        func write(_ entry: GenerationEntry) async throws {
            try await journal.write(JournalRecord(key: key, kind: GenerateStage.kind, pipeline: "generate", stage: stage,
                                                  payload: try Value(encoding: entry)))
        }
        var entry = resume == nil ? await GenerationEntry.find(key, in: journal) : nil
        if entry?.state == .failed { entry = nil }
        if let resume {
            job = client.job(requestID: resume)
        } else if let known = entry, let requestID = known.requestID {
            Terminal.note("request \(requestID) was sent for this same request by an earlier `seedpipe generate`: fetching it, nothing new paid")
            job = client.job(requestID: requestID)
        } else if let known = entry, let match = try await known.findInHistory(client: client) {
            // Sent before, its answer lost (an interruption between the submit and its reply).
            Terminal.note("request \(match.requestID) was sent for this same request (found in request history): fetching it, nothing new paid")
            var found = known
            found.requestID = match.requestID
            found.state = .submitted
            try await write(found)
            entry = found
            job = client.job(requestID: match.requestID)
        } else {
            let local = [firstFrame, lastFrame].compactMap { $0 }.filter { !Self.isURL($0) }
            var uploaded: [String: String] = [:]
            if !local.isEmpty {
                Terminal.note("uploading \(local.joined(separator: ", "))")
                let urls = try await client.upload(local.map { URL(fileURLWithPath: $0) })
                uploaded = Dictionary(uniqueKeysWithValues: zip(local, urls))
            }
            let sent = request(prompt: prompt!, first: firstFrame.map { uploaded[$0] ?? $0 }, last: lastFrame.map { uploaded[$0] ?? $0 })
            var intent = GenerationEntry(key: key, pipeline: "generate", stage: stage, requestBody: try Value(encoding: sent),
                                         seconds: sent.effectiveDuration)
            intent.emulated = emulated ? true : nil
            try await write(intent)
            job = try await client.submit(sent)
            intent.requestID = job.requestID
            intent.state = .submitted
            try await write(intent)
            entry = intent
            Terminal.note("submitted request \(job.requestID)")
        }
        let progress = ProgressLine()
        let result = try await client.wait(for: job, timeout: .milliseconds(Int64(timeout * 1000)), interval: .seconds(1)) {
            state, elapsed in progress.update("\(state.rawValue.lowercased()) \(elapsed.components.seconds) s")
        }
        progress.finish()
        guard let video = result.output else {
            throw ValidationError("request \(job.requestID) completed without an output URL")
        }
        let destination = URL(fileURLWithPath: output)
        try await client.download(video, to: destination)
        var written = [output]
        if let frame = result.lastFrameURL {
            let framePath = destination.deletingPathExtension().relativePath + "-last.png"
            try await client.download(frame, to: URL(fileURLWithPath: framePath))
            written.append(framePath)
        }
        if var done = entry {
            done.state = .downloaded
            try await write(done)
        }
        print("wrote \(written.joined(separator: " and ")) (request \(job.requestID))")
    }
}
