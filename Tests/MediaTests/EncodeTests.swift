import Foundation
import Media
import MediaTestSupport
import Testing

/// Encoding settings, with ffprobe as the referee: what it reports of the codec, profile,
/// pixel format, tag and box order, and the bit rate a cap holds to.
@Suite(.timeLimit(.minutes(10))) struct EncodeTests {
    let folder = TemporaryFolder("encode")

    func clips() throws -> [URL] {
        try (0..<2).map { try Fixtures.clip("clip\($0).mp4", in: folder, SyntheticClip(duration: 2, tone: .init(), seed: $0)) }
    }

    func video(_ url: URL) throws -> [String: Any] {
        try #require(try Referee.streams(url).first { $0["codec_type"] as? String == "video" })
    }

    func audio(_ url: URL) throws -> [String: Any] {
        try #require(try Referee.streams(url).first { $0["codec_type"] as? String == "audio" })
    }

    @Test func ffprobeReportsTheCodecProfilePixelFormatAudioRateAndIndexFirst() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        let clips = try clips()
        var settings = EncodeSettings.reencode
        settings.crf = 30
        settings.preset = "fast"
        settings.audioBitRate = 96_000
        settings.faststart = true
        let fast = folder.file("fast.mp4")
        _ = try Concatenation.join(clips, to: fast, method: .reencode, encode: settings)
        let picture = try video(fast)
        #expect(picture["codec_name"] as? String == "h264")
        #expect(picture["profile"] as? String == "High")
        #expect(picture["pix_fmt"] as? String == "yuv420p")
        let sound = try audio(fast)
        let rate = Double(sound["bit_rate"] as? String ?? "") ?? 0
        #expect(abs(rate - 96_000) <= 9_600, "AAC at \(rate) b/s")
        let boxes = try Referee.topLevelBoxes(fast)
        #expect(boxes.contains("moov") && boxes.firstIndex(of: "moov")! < boxes.firstIndex(of: "mdat")!, "\(boxes)")

        // Without faststart the index comes last; a lower CRF makes a bigger file.
        let plain = folder.file("plain.mp4")
        _ = try Concatenation.join(clips, to: plain, method: .reencode, encode: EncodeSettings(crf: 12))
        let plainBoxes = try Referee.topLevelBoxes(plain)
        #expect(plainBoxes.firstIndex(of: "mdat")! < plainBoxes.firstIndex(of: "moov")!, "\(plainBoxes)")
        let sizes = try [fast, plain].map { try FileManager.default.attributesOfItem(atPath: $0.path)[.size] as! Int }
        #expect(sizes[1] > sizes[0], "crf 12 \(sizes[1]) bytes, crf 30 \(sizes[0])")

        // A stream-copied join takes faststart too.
        let copied = folder.file("copied.mp4")
        let result = try Concatenation.join(clips, to: copied, encode: EncodeSettings(faststart: true))
        #expect(result.method == .streamCopy)
        let copiedBoxes = try Referee.topLevelBoxes(copied)
        #expect(copiedBoxes.firstIndex(of: "moov")! < copiedBoxes.firstIndex(of: "mdat")!, "\(copiedBoxes)")
    }

    @Test func aBitRateCapHoldsOnTenSecondsOfNoise() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        // Noise: every frame new random pixels, what no encoder can squeeze.
        let noise = folder.file("noise.mp4")
        let writer = try MovieWriter(url: noise, video: VideoSettings(width: 320, height: 180, frameRate: 25, preset: "ultrafast", crf: 0))
        var random = SystemRandomNumberGenerator()
        for _ in 0..<250 {
            var pixels = [UInt8](repeating: 0, count: 320 * 180 * 3)
            pixels.withUnsafeMutableBytes { bytes in
                let words = bytes.bindMemory(to: UInt64.self)
                for index in words.indices { words[index] = random.next() }
            }
            try writer.append(FrameImage(width: 320, height: 180, pixels: pixels))
        }
        try writer.finish()
        let capped = folder.file("capped.mp4")
        var settings = EncodeSettings.reencode
        settings.maxBitRate = 1_000_000
        _ = try Concatenation.join([noise], to: capped, method: .reencode, encode: settings)
        let rate = Double(try video(capped)["bit_rate"] as? String ?? "") ?? 0
        #expect(abs(rate - 1_000_000) <= 100_000, "video at \(Int(rate)) b/s against a cap of 1M")
        let uncapped = Double(try video(noise)["bit_rate"] as? String ?? "") ?? 0
        #expect(uncapped > 5_000_000, "the noise itself is far above the cap: \(Int(uncapped)) b/s")
    }

    @Test func hevcIsTaggedForApplePlayersAndDecodesCleanlyOrIsRefusedByName() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        let clips = try clips()
        let output = folder.file("hevc.mp4")
        let (settings, problems) = EncodeSettings.reencode.applying(["video_codec": "hevc", "crf": 28.0])
        if EncodeSettings.VideoCodec.hevc.isAvailable {
            #expect(problems.isEmpty)
            _ = try Concatenation.join(clips, to: output, method: .reencode, encode: settings)
            let picture = try video(output)
            #expect(picture["codec_name"] as? String == "hevc")
            #expect(picture["codec_tag_string"] as? String == "hvc1")
            let decode = try Referee.run("ffmpeg", ["-v", "error", "-i", output.path, "-f", "null", "-"])
            #expect(decode.status == 0 && decode.stderr.isEmpty, "ffmpeg said: \(decode.stderr)")
        } else {
            #expect(problems.first?.contains("libx265") == true, "\(problems)")
            var refused = EncodeSettings.reencode
            refused.videoCodec = .hevc
            #expect(throws: MediaError.self) { try Concatenation.join(clips, to: output, method: .reencode, encode: refused) }
        }
    }

    @Test func eachBadSettingIsNamedWithWhatIsAllowed() {
        let problems = EncodeSettings.reencode.applying(["crf": 60.0, "preset": "fastest", "max_bitrate": "lots",
                                                         "audio_bitrate": "2M", "pixel_format": "yuv444p", "faststart": "yes",
                                                         "video_codec": "vp9"]).problems
        #expect(problems.count == 7, "\(problems)")
        #expect(problems.contains("crf: 60 is out of range; use a whole number from 0 (lossless) to 51"))
        #expect(problems.contains { $0.hasPrefix("preset: fastest is not a preset; use one of ultrafast") })
        #expect(problems.contains { $0.hasPrefix("max_bitrate: lots is not a bit rate") })
        #expect(problems.contains { $0.hasPrefix("audio_bitrate: 2M is out of range") })
        #expect(problems.contains { $0.hasPrefix("video_codec: vp9 is not a codec here; use h264 or hevc") })
        #expect(EncodeSettings.bitRate("12M") == 12_000_000 && EncodeSettings.bitRate("192k") == 192_000
                    && EncodeSettings.bitRate("800000") == 800_000 && EncodeSettings.bitRate("M") == nil)
    }
}
