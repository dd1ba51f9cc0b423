import Foundation
import Media
import MediaTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct FrameTests {
    let folder = TemporaryFolder("frames")

    /// 4 s at 25 fps with a keyframe every 2 s, so most times need a decode past a keyframe.
    func clip() throws -> URL {
        try Fixtures.clip("clip.mp4", in: folder, SyntheticClip(width: 320, height: 180, duration: 4))
    }

    @Test(arguments: [0.0, 0.04, 1.0, 1.99, 2.0, 2.5, 3.17, 3.96])
    func frameAtTimeIsTheOneShownThen(seconds: Double) throws {
        let image = try VideoFile(try clip()).frame(at: seconds)
        #expect(SyntheticClip.frameNumber(in: image) == Int((seconds * 25 + 1e-9).rounded(.down)))
        #expect(image.width == 320 && image.height == 180)
    }

    @Test func lastFrameIsTheVeryLastOne() throws {
        let image = try VideoFile(try clip()).lastFrame()
        #expect(SyntheticClip.frameNumber(in: image) == 99)
    }

    @Test func frameMatchesFFmpegAccurateSeek() throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        let url = try clip()
        for frameIndex in [10, 50, 63, 87] {
            let seconds = Double(frameIndex) / 25
            let mine = try VideoFile(url).frame(at: seconds)
            let theirs = try Referee.frame(url, at: seconds, width: 320, height: 180)
            #expect(SyntheticClip.frameNumber(in: theirs) == frameIndex)
            // Same library, same conversion flags: the pictures are identical, pixel for pixel.
            #expect(mine.pixels == theirs.pixels, "frame \(frameIndex): PSNR \(mine.psnr(to: theirs)!)")
        }
    }

    @Test func lastFrameMatchesFFmpeg() throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        let url = try clip()
        let mine = try VideoFile(url).lastFrame()
        let theirs = try Referee.frame(url, last: true, width: 320, height: 180)
        #expect(SyntheticClip.frameNumber(in: theirs) == 99)
        #expect(mine.pixels == theirs.pixels, "PSNR \(mine.psnr(to: theirs)!)")
    }

    /// Seedance's 480p is 854 pixels wide: not a multiple of 8, which swscale's SIMD RGB
    /// path mangles at the right edge unless told to be exact.
    @Test func oddWidthsSurviveTheColourRoundTrip() throws {
        var pixels = [UInt8](repeating: 0, count: 854 * 480 * 3)
        for y in 0..<480 {
            for x in 0..<854 {
                let offset = (y * 854 + x) * 3
                pixels[offset] = UInt8(x * 200 / 854 + 20)
                pixels[offset + 1] = UInt8(y * 200 / 480 + 20)
                pixels[offset + 2] = 90
            }
        }
        let image = FrameImage(width: 854, height: 480, pixels: pixels)
        let url = folder.file("odd.mp4")
        let writer = try MovieWriter(url: url, video: VideoSettings(width: 854, height: 480, preset: "ultrafast", crf: 0))
        try writer.append(image)
        try writer.finish()
        let decoded = try VideoFile(url).frame(at: 0)
        #expect(try #require(decoded.psnr(to: image)) > 40)
        let edge = decoded[853, 240], expected = image[853, 240]
        #expect(abs(Int(edge.red) - Int(expected.red)) <= 3 && abs(Int(edge.green) - Int(expected.green)) <= 3,
                "right edge \(edge), expected \(expected)")
        if Referee.isAvailable {
            let theirs = try Referee.frame(url, at: 0, width: 854, height: 480)
            #expect(decoded.pixels == theirs.pixels, "PSNR \(decoded.psnr(to: theirs)!)")
        }
    }

    @Test func timePastTheEndIsAnError() throws {
        let url = try clip()
        let error = try #require(throws: MediaError.self) { try VideoFile(url).frame(at: 12) }
        #expect(error.code == .timeOutOfRange)
        #expect(error.description.contains("past the end"))
    }

    /// A still goes from the decoded picture to the encoder's format in one conversion: at full
    /// size as PNG it is the very frame `frame(at:)` gives, and a scaled JPEG is close to it.
    @Test func stillsAreTheFrameInOneConversion() throws {
        let url = try clip()
        let expected = try VideoFile(url).frame(at: 2.5)
        let png = folder.file("still.png"), jpeg = folder.file("still.jpg")
        let shown = try VideoFile(url).writeStill(at: 2.5, to: png)
        #expect(abs(shown.time - (expected.time ?? -1)) < 1e-9)
        #expect(shown.width == expected.width && shown.height == expected.height)
        #expect(try FrameImage(contentsOf: png).pixels == expected.pixels)
        try VideoFile(url).writeStill(at: 2.5, to: jpeg, width: expected.width / 2)
        let small = try FrameImage(contentsOf: jpeg)
        #expect(small.width == expected.width / 2)
        let reference = folder.file("reference.jpg")
        try expected.write(to: reference, width: expected.width / 2)
        #expect(try #require(small.psnr(to: try FrameImage(contentsOf: reference))) > 35)
        let lastPNG = folder.file("last.png")
        try VideoFile(url).writeLastFrame(to: lastPNG)
        #expect(try FrameImage(contentsOf: lastPNG).pixels == VideoFile(url).lastFrame().pixels)
    }

    @Test(arguments: [ImageFormat.png, .jpeg])
    func encodesScaledStills(format: ImageFormat) throws {
        let url = try clip()
        let data = try VideoFile(url).thumbnail(at: 2.5, format: format, width: 160)
        let file = folder.file("still.\(format == .png ? "png" : "jpg")")
        try data.write(to: file)
        let info = try MediaInfo.probe(file)
        #expect(info.video?.width == 160)
        #expect(info.video?.height == 90)
        #expect(info.video?.codec == (format == .png ? "png" : "mjpeg"))
    }
}

@Suite(.timeLimit(.minutes(10))) struct ContactSheetTests {
    @Test func gridOfFramesAtEvenIntervals() throws {
        let folder = TemporaryFolder("sheet")
        let url = try Fixtures.clip("clip.mp4", in: folder, SyntheticClip(width: 320, height: 180, duration: 4))
        let sheet = try VideoFile(url).contactSheet(columns: 4, rows: 2, width: 1300)
        #expect(sheet.width == 1300)
        // Tiles are 320 wide here (1300 - 5 gutters of 4, over 4), so frame numbers read back.
        let tileWidth = (1300 - 4 * 5) / 4, tileHeight = 180
        var numbers: [Int?] = []
        for index in 0..<8 {
            let x = 4 + (index % 4) * (tileWidth + 4), y = 4 + (index / 4) * (tileHeight + 4)
            var pixels: [UInt8] = []
            for row in 0..<tileHeight {
                let start: Int = ((y + row) * 1300 + x) * 3
                let end: Int = start + tileWidth * 3
                pixels += sheet.pixels[start..<end]
            }
            numbers.append(SyntheticClip.frameNumber(in: FrameImage(width: tileWidth, height: tileHeight, pixels: pixels)))
        }
        // 100 frames in 8 slices: the middle of each slice is frame 6, 18, 31, 43, 56, 68, 81, 93.
        #expect(numbers == [6, 18, 31, 43, 56, 68, 81, 93], "\(numbers)")
    }
}
