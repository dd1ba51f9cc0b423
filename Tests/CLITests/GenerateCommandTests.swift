import Foundation
import Media
import MediaTestSupport
import SeedanceAPI
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
