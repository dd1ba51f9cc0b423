import Foundation
import Media
import MediaTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct SceneClipTests {
    let folder = TemporaryFolder("scene")

    @Test func startsAndEndsOnItsImagesAndIsReproducible() throws {
        let first = FrameImage(width: 200, height: 120, red: 220, green: 40, blue: 40)
        let last = FrameImage(width: 200, height: 120, red: 30, green: 60, blue: 210)
        let clip = SceneClip(width: 160, height: 90, frameRate: 24, duration: 1, seed: 9, firstFrame: first, lastFrame: last)
        try clip.render(to: folder.file("a.mp4"))
        try clip.render(to: folder.file("b.mp4"))
        #expect(try Data(contentsOf: folder.file("a.mp4")) == Data(contentsOf: folder.file("b.mp4")))
        let video = VideoFile(folder.file("a.mp4"))
        let scaledFirst = FrameImage(width: 160, height: 90, red: 220, green: 40, blue: 40)
        let scaledLast = FrameImage(width: 160, height: 90, red: 30, green: 60, blue: 210)
        #expect(try #require(try video.frame(at: 0).psnr(to: scaledFirst)) > 35)
        #expect(try #require(try video.lastFrame().psnr(to: scaledLast)) > 35)
        #expect(try MediaInfo.probe(folder.file("a.mp4")).video?.frameCount == 24)
        #expect(try AudioLevels.analyze(folder.file("a.mp4")).isSilent == false)
    }

    @Test func paintsASceneWithoutImagesAndSeedsDiffer() throws {
        try SceneClip(width: 160, height: 90, duration: 1, seed: 1, audio: false).render(to: folder.file("one.mp4"))
        try SceneClip(width: 160, height: 90, duration: 1, seed: 2, audio: false).render(to: folder.file("two.mp4"))
        let one = try VideoFile(folder.file("one.mp4")).frame(at: 0), two = try VideoFile(folder.file("two.mp4")).frame(at: 0)
        #expect(try #require(one.psnr(to: two)) < 25)
        #expect(try MediaInfo.probe(folder.file("one.mp4")).audio == nil)
    }
}
