import Foundation
import Media
import MediaTestSupport
import SeedanceAPI
import SeedanceEmulator
import Testing

@Suite(.timeLimit(.minutes(10))) struct GenerateCommandTests {
    let folder = TemporaryFolder("generate")
    let small = ["--duration", "4", "--resolution", "480p"]

    @Test func offlineGenerationSaysSoAndWritesTheClip() async throws {
        let outcome = try await SeedpipeBinary.run(["generate", "--prompt", "A waterfall at dawn", "--return-last-frame", "-o", "shot.mp4"] + small,
                                             in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix("offline preview: clips are rendered locally; set SEGMIND_API_KEY to generate with Seedance\n"))
        #expect(outcome.stdout.contains("wrote shot.mp4 and shot-last.png"))
        let info = try MediaInfo.probe(folder.file("shot.mp4"))
        #expect(info.video?.width == 854 && info.video?.height == 480)
        #expect(try FrameImage(contentsOf: folder.file("shot-last.png")).pixels == VideoFile(folder.file("shot.mp4")).lastFrame().pixels)
    }

    @Test func localFirstFrameIsUploaded() async throws {
        let picture = FrameImage(width: 854, height: 480, red: 200, green: 60, blue: 30)
        try picture.write(to: folder.file("still.png"))
        let outcome = try await SeedpipeBinary.run(["generate", "--prompt", "The still comes alive", "--first-frame", "still.png",
                                              "-o", "alive.mp4"] + small, in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("uploading still.png"))
        #expect(try #require(try VideoFile(folder.file("alive.mp4")).frame(at: 0).psnr(to: picture)) > 35)
    }

    @Test func badParametersAreRefusedBeforeAnythingIsSent() async throws {
        let outcome = try await SeedpipeBinary.run(["generate", "--prompt", "x", "--duration", "7", "--seed", "-9", "-o", "x.mp4"], in: folder)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("duration: must be one of 4, 5, 6, 8, 10, 12, 15 seconds (got 7)"))
        #expect(outcome.stderr.contains("seed: must be from -1"))
        #expect(!outcome.stderr.contains("offline preview"), "nothing was started")
        let missing = try await SeedpipeBinary.run(["generate", "--prompt", "x", "--first-frame", "nope.png", "-o", "x.mp4"], in: folder)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("nope.png: no such file"))
    }

    @Test func blockedPromptFailsWithTheServersReason() async throws {
        let outcome = try await SeedpipeBinary.run(["generate", "--prompt", "a moderation-test scene", "-o", "x.mp4"] + small, in: folder)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("generation failed:"))
        #expect(outcome.stderr.contains("moderation"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("x.mp4").path))
    }

    @Test func resumingAnUnknownRequestIsAServiceError() async throws {
        let outcome = try await SeedpipeBinary.run(["generate", "--resume", "no-such-id", "-o", "x.mp4"], in: folder)
        #expect(outcome.status == 3)
        #expect(outcome.stderr.contains("HTTP 404"))
    }
}

extension GenerateCommandTests {
    /// `seedpipe generate` journals its request as a pipeline's generation does: interrupted
    /// while the clip is processing, the same command run again fetches that request.
    @Test func theSameCommandAfterAnInterruptionPaysNothingNew() async throws {
        let clock = ManualClock()
        var configuration = EmulatorConfiguration(apiKey: "generate-key", latency: .seconds(30), preset: "ultrafast", identifiesAsEmulator: false)
        configuration.clock = clock
        let emulator = try SeedanceEmulator(configuration: configuration)
        let url = try await emulator.start()
        var environment = ProcessInfo.processInfo.environment
        environment["SEGMIND_API_KEY"] = "generate-key"
        let arguments = ["generate", "--prompt", "A heron lifts off", "--backend", url.absoluteString, "-o", "heron.mp4"] + small
        let child = Process()
        child.executableURL = SeedpipeBinary.url
        child.arguments = arguments
        child.currentDirectoryURL = folder.url
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        let sent = await eventually { await journaledGenerations(folder.file(".seedpipe")).contains { $0.state == .submitted } }
        try #require(sent, "the request was sent and journaled")
        child.interrupt()
        await child.exited()
        clock.runFreely()
        let again = try await SeedpipeBinary.run(arguments, in: folder, environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("was sent for this same request by an earlier `seedpipe generate`: fetching it, nothing new paid"), "\(again.stderr)")
        #expect(await emulator.stats().submitted == 1, "paid once")
        #expect(try MediaInfo.probe(folder.file("heron.mp4")).video != nil)
        // Another request is another generation.
        let other = try await SeedpipeBinary.run(arguments.map { $0 == "A heron lifts off" ? "A heron lands" : $0 }, in: folder, environment: environment)
        let submitted = await emulator.stats().submitted
        #expect(other.status == 0 && submitted == 2, "\(other.stderr)")
        await emulator.stop()
    }
}

@Suite(.timeLimit(.minutes(10))) struct ServeCommandTests {
    @Test func serveAnswersLikeSegmindAndStopsOnCtrlC() async throws {
        let served = try await ServedEmulator(["--latency", "0.1", "--api-key", "serve-test-key"])
        let address = served.address
        let client = SeedanceClient(endpoints: .single(URL(string: address)!), apiKey: APIKey("serve-test-key"))
        let result = try await client.wait(
            for: try await client.submit(GenerationRequest(prompt: "lake", duration: 4, resolution: "480p")),
            interval: .milliseconds(50))
        #expect(result.state == .completed)
        let wrongKey = SeedanceClient(endpoints: .single(URL(string: address)!), apiKey: APIKey("nope"))
        await #expect(throws: SeedanceError.self) { try await wrongKey.history() }
        #expect(served.stop() == 0)
    }
}
