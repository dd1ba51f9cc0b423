import Foundation
import Media
import MediaTestSupport
import Testing

/// What a new user might try, and what they must get: one clear line on standard error,
/// a non-zero exit, no crash, and no half-written output left behind.
@Suite(.timeLimit(.minutes(10))) struct BadInputTests {
    let folder = TemporaryFolder("bad")

    init() throws {
        try SyntheticClip(duration: 2).render(to: folder.file("good.mp4"))
        try SyntheticClip(duration: 2, tone: nil).render(to: folder.file("mute.mp4"))
        try Data().write(to: folder.file("empty.mp4"))
        let whole = try Data(contentsOf: folder.file("good.mp4"))
        try whole.prefix(whole.count / 2).write(to: folder.file("cut.mp4"))
        // Seeded: some random bytes happen to look like an MP3 frame to FFmpeg's prober, and
        // then the file opens (as audio without video) instead of being refused.
        var generator = SplitMix64(seed: 1)
        try Data((0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: folder.file("noise.mp4"))
        try VideoFile(folder.file("good.mp4")).frame(at: 1).write(to: folder.file("still.png"))
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var status: Int32
        var says: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(arguments: ["probe", "missing.mp4"], status: 2, says: "missing.mp4: no such file"),
        Case(arguments: ["probe", "empty.mp4"], status: 2, says: "empty.mp4: the file is empty"),
        Case(arguments: ["probe", "cut.mp4"], status: 2, says: "cut.mp4: cannot open as media: avformat_open_input:"),
        Case(arguments: ["thumbnail", "cut.mp4", "--at", "1", "-o", "x.jpg"], status: 2, says: "cut.mp4: cannot open as media"),
        Case(arguments: ["probe", "noise.mp4"], status: 2, says: "Invalid data found when processing input"),
        Case(arguments: ["last-frame", "noise.mp4", "-o", "x.png"], status: 2, says: "noise.mp4: cannot open as media"),
        Case(arguments: ["thumbnail", "still.png", "--at", "0", "-o", "x.jpg"], status: 2, says: "still.png: is a still image"),
        Case(arguments: ["concat", "good.mp4", "still.png", "-o", "x.mp4"], status: 2, says: "still.png: is a still image"),
        Case(arguments: ["thumbnail", "good.mp4", "--at", "9", "-o", "x.jpg"], status: 2, says: "past the end (the video lasts 2 s)"),
        Case(arguments: ["thumbnail", "good.mp4", "--at", "1", "-o", "x.gif"], status: 2, says: "use a .jpg, .jpeg or .png"),
        Case(arguments: ["audio-check", "mute.mp4"], status: 1, says: "no audio track"),
        Case(arguments: ["audio-check", "empty.mp4"], status: 2, says: "empty.mp4: the file is empty"),
        Case(arguments: ["concat", "good.mp4", "-o", "x.mp4"], status: 2, says: "concat needs at least two clips"),
        Case(arguments: ["concat", "good.mp4", "good.mp4", "-o", "nowhere/x.mp4"], status: 2,
             says: "the folder nowhere does not exist"),
        Case(arguments: ["concat", "good.mp4", "missing.mp4", "-o", "x.mp4"], status: 2, says: "missing.mp4: no such file"),
        Case(arguments: ["thumbnail", "good.mp4", "-o", "x.jpg"], status: 2, says: "Missing expected argument '--at"),
        Case(arguments: ["frobnicate"], status: 2, says: "Unexpected argument 'frobnicate'"),
    ]

    @Test(arguments: cases)
    func saysWhatIsWrongInOneLine(_ example: Case) async throws {
        let outcome = try await SeedpipeBinary.run(example.arguments, in: folder)
        #expect(outcome.status == example.status, "stderr: \(outcome.stderr)")
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line, got: \(outcome.stderr)")
        #expect(outcome.stderr.contains(example.says), "stderr: \(outcome.stderr)")
        // Nothing half-made is left where the output was asked for.
        for name in ["x.jpg", "x.png", "x.mp4"] {
            #expect(!FileManager.default.fileExists(atPath: folder.file(name).path), "\(name) was left behind")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.hasSuffix(".partial") }
        #expect(leftovers.isEmpty)
    }
}
