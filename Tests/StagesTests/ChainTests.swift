import Foundation
import Media
import MediaTestSupport
import Pipeline
import Testing

@Suite(.timeLimit(.minutes(10))) struct ChainTests {
    static func yaml(first: String) -> String {
        """
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          prompts:
            uses: template
            with:
              template: "Shot {{index}}: {{beat}}"
              each: [{ beat: dawn }, { beat: noon }, { beat: dusk }]
          shots: { uses: seedance.chain, with: { prompts: "${prompts.texts}", first_frame: \(first) } }
          film: { uses: concat, with: { clips: "${shots.clips}" } }
        outputs: { film: "${film.video}", seams: "${shots.seams}" }
        """
    }

    @Test func expandsIntoVisibleGenerationsAndEdges() async throws {
        let harness = try await StagesHarness()
        _ = try harness.picture("first.png", hue: 40)
        let pipeline = try harness.load(Self.yaml(first: "first.png"))
        let names = pipeline.graph.stages.map(\.name)
        #expect(names == ["prompts", "shots-1", "shots-2", "shots-3", "shots-seams", "film"])
        #expect(pipeline.graph.stage("shots-2")?.with["first_frame"] == .reference(Reference(stage: "shots-1", output: "last_frame")))
        #expect(pipeline.graph.stage("shots-1")?.with["prompt"] == .reference(Reference(stage: "prompts", output: "texts", index: 0)))
        #expect(pipeline.graph.stage("film")?.dependencies == ["shots-1", "shots-2", "shots-3"])
        await harness.stop()
    }

    @Test func chainedClipsContinueAndAnEditRegeneratesOnlyWhatFollows() async throws {
        let harness = try await StagesHarness()
        let first = try FrameImage(contentsOf: harness.picture("first.png", hue: 40))
        let report = try await harness.run(Self.yaml(first: "first.png"))
        // Each clip starts on the last frame of the one before: seams are near-lossless.
        let seams = try #require(report.outputs["seams"]?.object?["seams"]?.list)
        #expect(seams.count == 2)
        for seam in seams { #expect((seam.object?["psnr"]?.number ?? 0) > 35, "\(seam)") }
        let film = try await harness.file(report.outputs["film"])
        #expect(abs((try MediaInfo.probe(film).duration ?? 0) - 12) < 0.2)
        let opening = try VideoFile(film).frame(at: 0)
        let openingPSNR = opening.psnr(to: try Self.resized(first)) ?? 0
        #expect(openingPSNR > 25, "the film opens on the first frame: \(openingPSNR) dB")
        #expect(await harness.emulator.stats().submitted == 3)
        // Editing shot 2 regenerates shots 2 and 3, nothing else.
        let edited = try await harness.run(Self.yaml(first: "first.png").replacingOccurrences(of: "beat: noon", with: "beat: rain"))
        #expect(await harness.emulator.stats().submitted == 5)
        #expect(edited.stages["shots-1"]?.cached == true)
        #expect(edited.stages["shots-2"]?.cached == false && edited.stages["shots-3"]?.cached == false)
        // And running it again pays for nothing.
        _ = try await harness.run(Self.yaml(first: "first.png").replacingOccurrences(of: "beat: noon", with: "beat: rain"))
        #expect(await harness.emulator.stats().submitted == 5)
        await harness.stop()
    }

    @Test func storyboardShotsGenerateAtOnceBetweenTheirKeyframes() async throws {
        let harness = try await StagesHarness(latency: .seconds(2))
        let keys = try (1...4).map { try harness.picture("key\($0).png", hue: UInt8($0 * 50)) }
        let yaml = """
            defaults:
              seedance: { resolution: 480p, duration: 4 }
            stages:
              board:
                uses: seedance.storyboard
                with:
                  keyframes: [key1.png, key2.png, key3.png, key4.png]
                  prompts: ["one", "two", "three"]
              film: { uses: concat, with: { clips: "${board.clips}" } }
            outputs: { film: "${film.video}" }
            """
        let report = try await harness.run(yaml)
        let shots = (1...3).compactMap { report.stages["board-\($0)"] }
        let starts = shots.compactMap(\.started), ends = zip(shots.compactMap(\.started), shots.map(\.seconds)).map { $0.addingTimeInterval($1) }
        #expect(starts.max()! < ends.min()!, "all three shots were generating at the same time")
        let second = try await harness.file(report.stages["board-2"]?.outputs["video"])
        let keyframe2 = try FrameImage(contentsOf: keys[1]), keyframe3 = try FrameImage(contentsOf: keys[2])
        let opening = try VideoFile(second).frame(at: 0).psnr(to: Self.resized(keyframe2)) ?? 0
        let closing = try VideoFile(second).lastFrame().psnr(to: Self.resized(keyframe3)) ?? 0
        #expect(opening > 25, "shot 2 opens on keyframe 2: \(opening) dB")
        #expect(closing > 25, "shot 2 ends on keyframe 3: \(closing) dB")
        await harness.stop()
    }

    /// The keyframe as the 854x480 clip shows it (scaled to fill, cropped).
    static func resized(_ image: FrameImage) throws -> FrameImage {
        let folder = TemporaryFolder("resize")
        let writer = try MovieWriter(url: folder.file("r.mp4"), video: VideoSettings(width: 854, height: 480, preset: "ultrafast", crf: 0))
        try writer.append(image)
        try writer.finish()
        return try VideoFile(folder.file("r.mp4")).frame(at: 0)
    }
}

@Suite(.timeLimit(.minutes(10))) struct TeaserTests {
    static func yaml(_ second: String) -> String {
        """
        defaults:
          seedance: { resolution: 480p, aspect_ratio: "9:16", duration: 4 }
        stages:
          prompts:
            uses: template
            with:
              template: "Shot {{index}}: {{scene}}"
              each: [{ scene: counter }, { scene: \(second) }, { scene: cups }, { scene: studio }]
          shot1: { uses: seedance.generate, with: { prompt: "${prompts.texts[0]}" } }
          shot2: { uses: seedance.generate, with: { prompt: "${prompts.texts[1]}" } }
          shot3: { uses: seedance.generate, with: { prompt: "${prompts.texts[2]}" } }
          shot4: { uses: seedance.generate, with: { prompt: "${prompts.texts[3]}" } }
          film:
            uses: concat
            with: { clips: ["${shot1.video}", "${shot2.video}", "${shot3.video}", "${shot4.video}"], transition: crossfade, transition_seconds: 0.5 }
          stills: { uses: thumbnail, with: { video: "${film.video}", at: 1, sheet_columns: 4, sheet_rows: 1, sheet_width: 800 } }
        outputs: { film: "${film.video}", sheet: "${stills.sheet}" }
        """
    }

    @Test func independentShotsRunTogetherAndAnEditRegeneratesOne() async throws {
        let harness = try await StagesHarness(latency: .seconds(1))
        let report = try await harness.run(Self.yaml("steam"))
        let shots = (1...4).compactMap { report.stages["shot\($0)"] }
        let starts = shots.compactMap(\.started)
        let ends = zip(starts, shots.map(\.seconds)).map { $0.addingTimeInterval($1) }
        #expect(starts.max()! < ends.min()!, "the four shots generated at the same time")
        let film = try MediaInfo.probe(try await harness.file(report.outputs["film"]))
        #expect(film.video?.width == 480 && film.video?.height == 854)
        #expect(abs((film.video?.duration ?? 0) - 14.5) <= 1.0 / 24, "16 s less three 0.5 s crossfades")
        let sheet = try await harness.file(report.outputs["sheet"])
        #expect(try MediaInfo.probe(sheet).video?.width == 800)
        #expect(await harness.emulator.stats().submitted == 4)
        _ = try await harness.run(Self.yaml("rising steam"))
        #expect(await harness.emulator.stats().submitted == 5, "only shot 2 was generated again")
        await harness.stop()
    }
}
