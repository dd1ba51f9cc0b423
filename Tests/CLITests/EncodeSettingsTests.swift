import Foundation
import Media
import MediaTestSupport
import Testing

/// `encode:` as a pipeline writes it (on a stage, for the whole pipeline, per profile) and
/// `seedpipe concat`'s encoding flags, checked with ffprobe.
@Suite(.timeLimit(.minutes(10))) struct EncodeSettingsTests {
    let folder = TemporaryFolder("encode-settings")

    func clips() throws {
        for index in 0..<2 {
            _ = try Fixtures.clip("clip\(index).mp4", in: folder, SyntheticClip(duration: 2, tone: .init(), seed: index))
        }
    }

    func write(_ text: String) throws { try text.write(to: folder.file("film.yaml"), atomically: true, encoding: .utf8) }

    func seedpipe(_ arguments: [String]) async throws -> SeedpipeBinary.Outcome {
        try await SeedpipeBinary.run(arguments + ["--cache", "cache"], in: folder)
    }

    @Test func pipelineAndProfileSettingsReachEveryEncodingStageAndMistakesSayWhere() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        try clips()
        try write("""
            pipeline: film
            encode: { crf: 60, preset: fastest }
            stages:
              film: { uses: concat, with: { clips: [clip0.mp4, clip1.mp4], encode: { crff: 3 } } }
            outputs: { film: "${film.video}" }
            """)
        let bad = try await seedpipe(["validate", "film.yaml"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("film.yaml:2:11: error: encode.crf: 60 is out of range"), "\(bad.stderr)")
        #expect(bad.stderr.contains("film.yaml:2:20: error: encode.preset: fastest is not a preset"), "\(bad.stderr)")
        #expect(bad.stderr.contains("film.yaml:4:74: error: stage `film`: encode.crff: not an encode setting; did you mean `crf`?"),
                "\(bad.stderr)")

        try write("""
            pipeline: film
            encode: { crf: 30, audio_bitrate: 96k, faststart: true }
            profiles:
              draft: {}
              web: { encode: { crf: 12 } }
            default_profile: draft
            stages:
              film: { uses: concat, with: { clips: [clip0.mp4, clip1.mp4], encode: { preset: fast } } }
            outputs: { film: "${film.video}" }
            """)
        let run = try await seedpipe(["run", "film.yaml"])
        try #require(run.status == 0, "\(run.stderr)")
        let film = folder.file("out/film/draft/film.mp4")
        let streams = try Referee.streams(film)
        #expect(streams.map { $0["codec_name"] as? String } == ["h264", "aac"])
        let audioRate = Double(streams[1]["bit_rate"] as? String ?? "") ?? 0
        #expect(abs(audioRate - 96_000) <= 9_600, "\(audioRate)")
        let boxes = try Referee.topLevelBoxes(film)
        #expect(boxes.firstIndex(of: "moov")! < boxes.firstIndex(of: "mdat")!, "faststart from the pipeline's encode: \(boxes)")

        // The settings are part of the key: the same again is cached, the web profile's CRF (over the pipeline's) is not.
        let again = try await seedpipe(["plan", "film.yaml"])
        #expect(again.stdout.contains("plan: 1 cached, 0 to run"), "\(again.stdout)")
        let web = try await seedpipe(["plan", "film.yaml", "--profile", "web"])
        #expect(web.stdout.contains("changed: encode"), "\(web.stdout)")
        #expect(try await seedpipe(["run", "film.yaml", "--profile", "web"]).status == 0)
        let finer = Double(try Referee.streams(folder.file("out/film/web/film.mp4"))[0]["bit_rate"] as? String ?? "") ?? 0
        let coarser = Double(streams[0]["bit_rate"] as? String ?? "") ?? 0
        #expect(finer > coarser * 1.5, "crf 12: \(finer) b/s, crf 30: \(coarser) b/s")
    }

    @Test func concatTakesTheEncodingFlags() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        try clips()
        let joined = try await SeedpipeBinary.run(["concat", "clip0.mp4", "clip1.mp4", "-o", "web.mp4", "--crf", "23", "--preset", "medium",
                                                   "--audio-bitrate", "96k", "--video-codec", "h264", "--faststart"], in: folder)
        #expect(joined.status == 0 && joined.stdout.contains("by re-encoding"), "\(joined.stdout)\(joined.stderr)")
        let boxes = try Referee.topLevelBoxes(folder.file("web.mp4"))
        #expect(boxes.firstIndex(of: "moov")! < boxes.firstIndex(of: "mdat")!, "\(boxes)")
        let refused = try await SeedpipeBinary.run(["concat", "clip0.mp4", "clip1.mp4", "-o", "x.mp4", "--crf", "52"], in: folder)
        #expect(refused.status != 0 && refused.stderr.contains("--crf: 52 is out of range"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("x.mp4").path))
    }
}

/// `trim` and concat's `trim_head`/`trim_tail` as a pipeline writes them.
@Suite(.timeLimit(.minutes(10))) struct TrimPipelineTests {
    let folder = TemporaryFolder("trim-pipeline")

    @Test func aTrimStageAndConcatTrimsGiveTheFramesAsked() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        for index in 0..<2 {
            _ = try Fixtures.clip("clip\(index).mp4", in: folder, SyntheticClip(duration: 2, tone: .init(), seed: index))
        }
        try """
            pipeline: cuts
            profiles:
              full: {}
              short: { stages: { part: { duration: "12f" } } }
            default_profile: full
            stages:
              part: { uses: trim, with: { video: clip0.mp4, start: 0.5, duration: "24f" } }
              film: { uses: concat, with: { clips: [clip0.mp4, clip1.mp4], trim_head: "5f", trim_tail: [0.2, "3f"] } }
            outputs: { part: "${part.video}", film: "${film.video}" }
            """.write(to: folder.file("cuts.yaml"), atomically: true, encoding: .utf8)
        let run = try await SeedpipeBinary.run(["run", "cuts.yaml", "--cache", "cache"], in: folder)
        try #require(run.status == 0, "\(run.stderr)")
        #expect(try Referee.frameCount(folder.file("out/cuts/full/part.mp4")) == 24)
        #expect(try Referee.frameCount(folder.file("out/cuts/full/film.mp4")) == (50 - 5 - 5) + (50 - 5 - 3))
        // A profile sets a stage's own parameter by name, as that stage takes it.
        let short = try await SeedpipeBinary.run(["run", "cuts.yaml", "--cache", "cache", "--profile", "short"], in: folder)
        try #require(short.status == 0, "\(short.stderr)")
        #expect(try Referee.frameCount(folder.file("out/cuts/short/part.mp4")) == 12)

        try """
            pipeline: cuts
            stages:
              part: { uses: trim, with: { video: clip0.mp4, start: soon, end: 1, duration: 1 } }
              film: { uses: concat, with: { clips: [clip0.mp4, clip1.mp4], trim_head: ["5f"] } }
            outputs: { part: "${part.video}" }
            """.write(to: folder.file("cuts.yaml"), atomically: true, encoding: .utf8)
        let bad = try await SeedpipeBinary.run(["validate", "cuts.yaml", "--cache", "cache"], in: folder)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("cuts.yaml:3:49: error: stage `part`: start: soon is not a time"), "\(bad.stderr)")
        #expect(bad.stderr.contains("duration: give end or duration, not both"), "\(bad.stderr)")
        #expect(bad.stderr.contains("trim_head: 1 values for 2 clips"), "\(bad.stderr)")
    }
}
