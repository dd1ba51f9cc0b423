import Foundation
import Media
import MediaTestSupport
import SeedanceAPI
import SeedanceEmulator
import SeedanceTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct GenerationTests {
    @Test func submitWaitDownloadGivesARealClip() async throws {
        let harness = try await EmulatorHarness()
        let client = harness.client()
        let job = try await client.submit(EmulatorHarness.request())
        #expect(job.statusURL.hasPrefix(harness.url.absoluteString))
        let result = try await client.wait(for: job, interval: .milliseconds(50))
        #expect(result.state == .completed)
        let file = harness.folder.file("clip.mp4")
        try await client.download(try #require(result.output), to: file)
        let info = try MediaInfo.probe(file)
        #expect(info.video?.width == 854 && info.video?.height == 480)
        #expect(abs((info.duration ?? 0) - 4) < 0.1)
        #expect(info.audio?.codec == "aac")
        await harness.stop()
    }
}
