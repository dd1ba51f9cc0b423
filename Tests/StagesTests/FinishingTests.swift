import Foundation
import Media
import MediaTestSupport
import Pipeline
@testable import Stages
import Testing

/// Finishing a film: steady colour across a chain, one soundtrack, `sound:` on shots.
@Suite(.timeLimit(.minutes(10))) struct FinishingTests {
    static func chain(colorMatch: String, film: String = "{ uses: concat, with: { clips: \"${shots.clips}\" } }") -> String {
        """
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          shots:
            uses: seedance.chain
            with: { prompts: ["Shot 1: dawn", "Shot 2: noon", "Shot 3: dusk"], first_frame: first.png\(colorMatch) }
          film: \(film)
        outputs: { film: "${film.video}" }
        """
    }

    @Test func aDriftingChainIsCorrectedShotByShotAndSteadyShotsPassThrough() async throws {
        let harness = try await StagesHarness(drift: 0.12)
        _ = try harness.picture("first.png", hue: 40)
        let report = try await harness.run(Self.chain(colorMatch: ", color_match: anchor, color_tolerance: 3"))
        let drift = try #require(try report.stages["shots-color"]?.outputs["drift"]?.object?["clips"]?.list?.compactMap(\.object))
        #expect(drift.count == 3)
        let before = drift.map { $0["before"]?.number ?? 0 }
        // Each chained shot starts where the last one ended, so it drifts further.
        #expect(before[0] < before[1] && before[1] < before[2], "\(before)")
        let corrected = report.stages["shots-color"]?.outputs["clips"]?.list ?? []
        for (index, shot) in drift.enumerated() {
            let raw = report.stages["shots-\(index + 1)"]?.outputs["video"]
            if shot["corrected"]?.bool == true {
                #expect((shot["after"]?.number ?? 99) < (shot["before"]?.number ?? 0) / 2, "\(shot)")
                #expect(corrected[index] != raw, "a corrected shot is a new clip")
            } else {
                #expect((shot["before"]?.number ?? 99) <= 3)
                #expect(corrected[index] == raw, "a steady shot passes through untouched")
            }
        }
        #expect(drift.last?["corrected"]?.bool == true)
        // Measured on the film itself: its last shot is nearer the first frame than the raw shot.
        let anchor = try ColorMatch.statistics(ofImage: harness.bed.file("first.png"))
        let rawLast = try await harness.file(report.stages["shots-3"]?.outputs["video"])
        let filmFile = try await harness.file(report.outputs["film"])
        let raw = try ColorMatch.statistics(ofClip: rawLast).deltaE(to: anchor)
        let png = harness.bed.file("film-end.png")
        try Referee.frame(filmFile, last: true, width: 854, height: 480).write(to: png)
        let rawPNG = harness.bed.file("raw-end.png")
        try Referee.frame(rawLast, last: true, width: 854, height: 480).write(to: rawPNG)
        #expect(try ColorMatch.statistics(ofImage: png).deltaE(to: anchor) < ColorMatch.statistics(ofImage: rawPNG).deltaE(to: anchor) / 2,
                "film end vs raw end (raw clip ΔE \(raw))")
        // A rerun pays for nothing and corrects nothing again.
        let submitted = await harness.emulator.stats().submitted
        let again = try await harness.run(Self.chain(colorMatch: ", color_match: anchor, color_tolerance: 3"))
        #expect(await harness.emulator.stats().submitted == submitted)
        #expect(again.stages["shots-color"]?.cached == true)
        await harness.stop()
    }

    @Test func aSteadyChainKeepsItsClipsSoTheJoinIsAStreamCopy() async throws {
        let harness = try await StagesHarness()
        // One even colour: the emulator's push-in crops nothing that changes it.
        try FrameImage(width: 320, height: 180, red: 90, green: 120, blue: 160).write(to: harness.bed.file("first.png"))
        let report = try await harness.run(Self.chain(colorMatch: ", color_match: anchor"))
        let drift = try #require(try report.stages["shots-color"]?.outputs["drift"]?.object?["clips"]?.list?.compactMap(\.object))
        #expect(drift.allSatisfy { $0["corrected"]?.bool == false }, "\(drift)")
        let clips = report.stages["shots-color"]?.outputs["clips"]?.list ?? []
        #expect(clips == (1...3).map { report.stages["shots-\($0)"]?.outputs["video"] ?? .null })
        await harness.stop()
    }

    @Test func concatMatchesColourAsItJoins() async throws {
        let harness = try await StagesHarness(drift: 0.12)
        _ = try harness.picture("first.png", hue: 40)
        let report = try await harness.run(Self.chain(
            colorMatch: "", film: "{ uses: concat, with: { clips: \"${shots.clips}\", color_match: anchor, color_anchor: first.png } }"))
        let drift = try #require(try report.stages["film"]?.outputs["drift"]?.object?["clips"]?.list?.compactMap(\.object))
        #expect(drift.count == 3)
        #expect(drift.last?["corrected"]?.bool == true)
        #expect(report.stages["film"]?.outputs["drift"]?.object?["anchor"] == .string("color_anchor"))
        await harness.stop()
    }

    @Test func aBadColorMatchIsAnErrorAtItsLine() async throws {
        let harness = try await StagesHarness()
        _ = try harness.picture("first.png", hue: 40)
        #expect {
            _ = try harness.load(Self.chain(colorMatch: ", color_match: sideways"))
        } throws: { "\($0)".contains("color_match") && "\($0)".contains("pipeline.yaml:5:") }
        await harness.stop()
    }

    @Test func soundChoicesReachTheRequest() {
        let stage = GenerateStage()
        let noMusic = stage.request(["prompt": .string("A waterfall."), "sound": .string("no-music")], urls: [:])
        #expect(noMusic.prompt == "A waterfall. " + GenerateStage.noMusicInstruction)
        #expect(noMusic.generateAudio == nil)
        let none = stage.request(["prompt": .string("A waterfall."), "sound": .string("none")], urls: [:])
        #expect(none.prompt == "A waterfall.")
        #expect(none.generateAudio == false)
        let full = stage.request(["prompt": .string("A waterfall.")], urls: [:])
        #expect(full.prompt == "A waterfall." && full.generateAudio == nil)
        // `none` wins over generate_audio.
        #expect(stage.request(["prompt": .string("x"), "sound": .string("none"), "generate_audio": .bool(true)], urls: [:])
            .generateAudio == false)
    }

    @Test func aSoundtrackOverNoMusicShots() async throws {
        let harness = try await StagesHarness()
        _ = try harness.picture("first.png", hue: 40)
        let folder = TemporaryFolder("finishing-music")
        let music = try Fixtures.clip("music.mp4", in: folder, SyntheticClip(
            width: 64, height: 36, duration: 3, tone: SyntheticClip.Tone(frequency: 440, level: -18)))
        try FileManager.default.copyItem(at: music, to: harness.bed.file("theme.mp4"))
        let yaml = """
        defaults:
          seedance: { resolution: 480p, duration: 4, sound: no-music }
        stages:
          shots:
            uses: seedance.chain
            with: { prompts: ["Shot 1: dawn", "Shot 2: noon"], first_frame: first.png }
          joined: { uses: concat, with: { clips: "${shots.clips}" } }
          scored: { uses: soundtrack, with: { video: "${joined.video}", music: theme.mp4, duck_db: 9, target: -16 } }
          silent: { uses: seedance.generate, with: { prompt: "A quiet shot", sound: none } }
        outputs: { film: "${scored.video}", silent: "${silent.video}" }
        """
        let report = try await harness.run(yaml)
        let film = try await harness.file(report.outputs["film"])
        let measured = try #require(try Referee.loudnessAndTruePeak(film))
        #expect(abs(measured.loudness - -16) <= 0.5)
        #expect(measured.truePeak < -1)
        let soundtrack = try #require(report.stages["scored"]?.outputs["report"]?.object)
        #expect(soundtrack["clipSound"] == .bool(true))
        #expect(abs((soundtrack["duration"]?.number ?? 0) - 8) < 0.1)
        #expect(try MediaInfo.probe(await harness.file(report.outputs["silent"])).audio == nil)
        await harness.stop()
    }
}
