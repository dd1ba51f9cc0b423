import Foundation
import Media
import MediaTestSupport
import SeedanceAPI
import SeedanceEmulator
import SeedanceTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct EmulatorClipTests {
    /// A picture with a diagonal gradient and a bright block, distinct per `hue`.
    static func picture(width: Int, height: Int, hue: Int) -> FrameImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let offset = (y * width + x) * 3
                pixels[offset] = UInt8((x * 255 / width + hue * 80) % 256)
                pixels[offset + 1] = UInt8((y * 255 / height + hue * 40) % 256)
                pixels[offset + 2] = UInt8(hue * 97 % 256)
                if x > width / 3 && x < width / 2 && y > height / 3 && y < height / 2 {
                    pixels[offset] = 250; pixels[offset + 1] = 250; pixels[offset + 2] = 250
                }
            }
        }
        return FrameImage(width: width, height: height, pixels: pixels)
    }

    func generate(_ harness: EmulatorHarness, _ request: GenerationRequest, name: String = "clip.mp4") async throws
        -> (URL, JobResult)
    {
        let client = harness.client()
        let result = try await client.wait(for: try await client.submit(request), interval: .milliseconds(20))
        let file = harness.folder.file(name)
        try await client.download(try #require(result.output), to: file)
        return (file, result)
    }

    @Test func clipStartsAndEndsOnTheGivenImages() async throws {
        let harness = try await EmulatorHarness()
        let first = Self.picture(width: 854, height: 480, hue: 1), last = Self.picture(width: 854, height: 480, hue: 2)
        try first.write(to: harness.folder.file("first.png"))
        try last.write(to: harness.folder.file("last.png"))
        let urls = try await harness.client().upload([harness.folder.file("first.png"), harness.folder.file("last.png")])
        #expect(urls.count == 2 && urls.allSatisfy { $0.hasPrefix(harness.url.absoluteString) })
        let (clip, _) = try await generate(harness, EmulatorHarness.request {
            $0.firstFrameURL = urls[0]
            $0.lastFrameURL = urls[1]
        })
        let opening = try VideoFile(clip).frame(at: 0), closing = try VideoFile(clip).lastFrame()
        #expect(try #require(opening.psnr(to: first)) > 30, "first \(opening.psnr(to: first)!) last \(closing.psnr(to: last)!)")
        #expect(try #require(closing.psnr(to: last)) > 30)
        // And something moves in between: the middle is neither picture.
        let middle = try VideoFile(clip).frame(at: 2)
        #expect(try #require(middle.psnr(to: first)) < 25)
        #expect(try #require(middle.psnr(to: last)) < 25)
        await harness.stop()
    }

    @Test func returnLastFrameGivesExactlyTheClipsLastFrame() async throws {
        let harness = try await EmulatorHarness()
        let (clip, result) = try await generate(harness, EmulatorHarness.request { $0.returnLastFrame = true })
        let frameURL = try #require(result.lastFrameURL)
        let png = harness.folder.file("last.png")
        try await harness.client().download(frameURL, to: png)
        #expect(try MediaInfo.probe(png).video?.codec == "png")
        #expect(try FrameImage(contentsOf: png).pixels == (try VideoFile(clip).lastFrame()).pixels)
        await harness.stop()
    }

    @Test(arguments: [("9:16", 480, 854), ("1:1", 480, 480), ("21:9", 1120, 480)])
    func sizeFollowsAspectRatio(aspect: String, width: Int, height: Int) async throws {
        let harness = try await EmulatorHarness()
        let (clip, _) = try await generate(harness, EmulatorHarness.request { $0.aspectRatio = aspect })
        let info = try MediaInfo.probe(clip)
        #expect(info.video?.width == width && info.video?.height == height)
        #expect(abs((info.duration ?? 0) - 4) < 0.1)
        await harness.stop()
    }

    @Test func adaptiveTakesTheFirstFramesShape() async throws {
        let harness = try await EmulatorHarness()
        try Self.picture(width: 400, height: 300, hue: 3).write(to: harness.folder.file("four-three.png"))
        let url = try await harness.client().upload([harness.folder.file("four-three.png")])[0]
        let (clip, _) = try await generate(harness, EmulatorHarness.request {
            $0.aspectRatio = "adaptive"
            $0.firstFrameURL = url
        })
        let info = try MediaInfo.probe(clip)
        #expect(info.video?.width == 640 && info.video?.height == 480)
        await harness.stop()
    }

    @Test func audioFollowsGenerateAudio() async throws {
        let harness = try await EmulatorHarness()
        let (withAudio, _) = try await generate(harness, EmulatorHarness.request(), name: "a.mp4")
        let levels = try AudioLevels.analyze(withAudio)
        #expect(levels.hasAudio && !levels.isSilent)
        #expect(abs(levels.duration - 4) < 0.05)
        let (without, _) = try await generate(harness, EmulatorHarness.request { $0.generateAudio = false }, name: "b.mp4")
        #expect(try MediaInfo.probe(without).audio == nil)
        await harness.stop()
    }

    @Test func sameSeedSameBytesRandomSeedDiffers() async throws {
        let harness = try await EmulatorHarness()
        let (a, _) = try await generate(harness, EmulatorHarness.request(), name: "a.mp4")
        let (b, _) = try await generate(harness, EmulatorHarness.request(), name: "b.mp4")
        #expect(try Data(contentsOf: a) == Data(contentsOf: b))
        let (c, _) = try await generate(harness, EmulatorHarness.request { $0.seed = -1 }, name: "c.mp4")
        let (d, _) = try await generate(harness, EmulatorHarness.request { $0.seed = -1 }, name: "d.mp4")
        #expect(try Data(contentsOf: c) != Data(contentsOf: d))
        let (e, _) = try await generate(harness, EmulatorHarness.request("A different prompt"), name: "e.mp4")
        #expect(try Data(contentsOf: a) != Data(contentsOf: e))
        await harness.stop()
    }

    @Test func syncRunAnswersWithTheClipItself() async throws {
        let harness = try await EmulatorHarness()
        let file = harness.folder.file("sync.mp4")
        let bytes = try await harness.client().runSync(EmulatorHarness.request(), to: file)
        #expect(bytes > 10_000)
        #expect(try MediaInfo.probe(file).video?.codec == "h264")
        let stats = await harness.emulator.stats()
        #expect(stats.syncRuns == 1 && stats.submitted == 1)
        await harness.stop()
    }

    @Test func historyListsNewestFirstAndStatsCount() async throws {
        let harness = try await EmulatorHarness()
        let client = harness.client()
        for prompt in ["first", "second"] {
            _ = try await client.wait(for: try await client.submit(EmulatorHarness.request(prompt)), interval: .milliseconds(20))
        }
        _ = try? await client.wait(for: try await client.submit(EmulatorHarness.request("moderation-test")),
                                   interval: .milliseconds(20))
        let page = try await client.history(perPage: 2)
        #expect(page.total == 3)
        #expect(page.data.map { $0.requestBody?["prompt"]?.string } == ["moderation-test", "second"])
        #expect(page.data.first?.modelStatus == "FAILED")
        let failedOnly = try await client.history(status: "FAILED")
        #expect(failedOnly.data.count == 1)
        let stats = await harness.emulator.stats()
        #expect(stats.submitted == 3 && stats.completed == 2 && stats.failed == 1 && stats.rejected == 0)
        await harness.stop()
    }
}
