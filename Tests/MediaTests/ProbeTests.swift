import Foundation
import Media
import MediaTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct ProbeTests {
    let folder = TemporaryFolder("probe")

    @Test func describesContainerAndStreams() throws {
        let url = try Fixtures.clip("clip.mp4", in: folder, SyntheticClip(width: 320, height: 180, frameRate: 25, duration: 2))
        let info = try MediaInfo.probe(url)
        #expect(info.container.contains("mp4"))
        let duration = try #require(info.duration)
        #expect(abs(duration - 2.0) < 0.05)
        let video = try #require(info.video)
        #expect(video.codec == "h264")
        #expect(video.width == 320 && video.height == 180)
        #expect(video.frameRate == 25)
        #expect(video.pixelFormat == "yuv420p")
        #expect(video.frameCount == 50)
        let audio = try #require(info.audio)
        #expect(audio.codec == "aac")
        #expect(audio.sampleRate == 48_000)
        #expect(audio.channels == 2)
        #expect(audio.channelLayout == "stereo")
    }

    @Test func clipWithoutAudioHasOnlyVideo() throws {
        let url = try Fixtures.clip("silent.mp4", in: folder, SyntheticClip(duration: 1, tone: nil))
        let info = try MediaInfo.probe(url)
        #expect(info.streams.count == 1)
        #expect(info.audio == nil)
    }

    @Test func durationAgreesWithFFprobe() throws {
        try #require(Referee.isAvailable, "ffmpeg/ffprobe not installed")
        let url = try Fixtures.clip("clip.mp4", in: folder, SyntheticClip(duration: 3))
        let info = try MediaInfo.probe(url)
        let reference = try #require(try Referee.formatDuration(url))
        #expect(abs(try #require(info.duration) - reference) <= 1.0 / 25)
    }
}
