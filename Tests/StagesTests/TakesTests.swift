import Foundation
import Media
import Pipeline
import PipelineTesting
import SeedanceEmulator
import Stages
import Testing

@Suite(.timeLimit(.minutes(10))) struct TakesTests {
    static func chain(takes: Int = 2) -> String {
        """
        pipeline: film
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          prompts:
            uses: template
            with:
              template: "Shot {{index}}: {{beat}}"
              each: [{ beat: dawn }, { beat: noon }, { beat: dusk }]
          shots: { uses: seedance.chain, with: { prompts: "${prompts.texts}", first_frame: first.png, takes: \(takes) } }
          film: { uses: concat, with: { clips: "${shots.clips}" } }
        outputs: { film: "${film.video}" }
        """
    }

    func writePicks(_ text: String, in harness: StagesHarness) throws {
        try text.write(to: harness.bed.file("pipeline.picks.yaml"), atomically: true, encoding: .utf8)
    }

    @Test func everyTakeIsItsOwnCachedGenerationAndAPickRegeneratesExactlyWhatFollows() async throws {
        let harness = try await StagesHarness()
        _ = try harness.picture("first.png", hue: 40)
        let pipeline = try harness.load(Self.chain())
        #expect(pipeline.graph.stages.map(\.name) == ["prompts", "shots-1#1", "shots-1#2", "shots-1", "shots-2#1", "shots-2#2", "shots-2",
                                                     "shots-3#1", "shots-3#2", "shots-3", "shots-seams", "film"])
        #expect(pipeline.graph.stage("shots-1#2")?.with["seed"] == .literal(.number(43)), "take k is seed + k − 1")
        #expect(pipeline.graph.stage("shots-2#1")?.with["first_frame"] == .reference(Reference(stage: "shots-1", output: "last_frame")),
                "the next shot starts on the picked take")
        let first = try await harness.run(Self.chain())
        #expect(await harness.emulator.stats().submitted == 6)
        #expect(first.stages["shots-2"]?.outputs["take"] == .number(1), "take 1 without a pick")
        #expect(first.stages["shots-2"]?.outputs["video"] == first.stages["shots-2#1"]?.outputs["video"])
        #expect(first.stages["shots-2#1"]?.outputs["video"] != first.stages["shots-2#2"]?.outputs["video"], "takes differ")

        // Pick take 2 of shot 2: the plan names exactly shot 3's two takes, and the run pays for them only.
        let take2 = try #require(first.stages["shots-2#2"]?.outputs["video"]?.artifact)
        try writePicks("shots-2:\n  take: 2\n  digest: \(take2.digest)\n", in: harness)
        let plan = try await harness.bed.plan(Self.chain())
        #expect(plan.steps.filter { $0.status == .generate }.map(\.stage) == ["shots-3#1", "shots-3#2"])
        #expect(plan.steps.first { $0.stage == "shots-2#2" }?.take?.summary == "take 2 of 2 (picked)")
        let picked = try await harness.run(Self.chain())
        #expect(await harness.emulator.stats().submitted == 8)
        #expect(picked.stages["shots-2"]?.outputs["video"]?.artifact == take2)
        #expect(picked.stages["shots-1#1"]?.cached == true && picked.stages["shots-2#2"]?.cached == true)
        #expect(picked.stages["shots-3#1"]?.cached == false)

        // Raising `takes` adds one take per shot and keeps the rest (take 3 of shot 3 starts on
        // shot 2's pick; shots 1 and 2 gain a take each): 3 generations.
        _ = try await harness.run(Self.chain(takes: 3))
        #expect(await harness.emulator.stats().submitted == 11)
        // Running any of it again pays for nothing.
        _ = try await harness.run(Self.chain(takes: 3))
        _ = try await harness.run(Self.chain())
        #expect(await harness.emulator.stats().submitted == 11)
        await harness.stop()
    }

    @Test func aPickFollowsItsDigestWhenTheTakesAreRenumbered() async throws {
        let harness = try await StagesHarness()
        let yaml = """
            stages:
              shot: { uses: seedance.generate, with: { prompt: "a lake", duration: 4, resolution: 480p, seed: 10, takes: 3 } }
            outputs: { clip: "${shot.video}" }
            """
        let first = try await harness.run(yaml)
        let seed11 = try #require(first.stages["shot#2"]?.outputs["video"]?.artifact)
        // Picked as take 2 (seed 11); then the takes start one seed earlier, so seed 11 is take 3.
        try writePicks("shot: { take: 2, digest: \(seed11.digest) }\n", in: harness)
        let moved = try await harness.run(yaml.replacingOccurrences(of: "seed: 10, takes: 3", with: "seed: 9, takes: 3"))
        #expect(moved.stages["shot"]?.outputs["take"] == .number(3))
        #expect(moved.outputs["clip"]?.artifact == seed11)
        #expect(await harness.emulator.stats().submitted == 4, "only seed 9 was new")
        await harness.stop()
    }

    @Test func storyboardShotsHaveTakesAndAPickCascadesNowhere() async throws {
        let harness = try await StagesHarness()
        for index in 1...3 { _ = try harness.picture("key\(index).png", hue: UInt8(index * 60)) }
        let yaml = """
            defaults:
              seedance: { resolution: 480p, duration: 4 }
            stages:
              board:
                uses: seedance.storyboard
                with: { keyframes: [key1.png, key2.png, key3.png], prompts: ["one", "two"], takes: 2 }
              film: { uses: concat, with: { clips: "${board.clips}" } }
            outputs: { film: "${film.video}" }
            """
        _ = try await harness.run(yaml)
        #expect(await harness.emulator.stats().submitted == 4)
        try writePicks("board-1: { take: 2 }\n", in: harness)
        let plan = try await harness.bed.plan(yaml)
        #expect(plan.generations == 0, "storyboard shots start on keyframes, not on each other")
        let report = try await harness.run(yaml)
        #expect(report.stages["board-1"]?.outputs["take"] == .number(2))
        #expect(report.stages["film"]?.cached == false)
        #expect(await harness.emulator.stats().submitted == 4)
        await harness.stop()
    }

    @Test func aPicksFileNamingATakeThatDoesNotExistIsAnErrorWhereItSaysSo() async throws {
        let bed = try PipelineTestbed()
        let yaml = """
            stages:
              shot: { uses: seedance.generate, with: { prompt: "a lake", takes: 2 } }
            """
        try "# picks\nshot:\n  take: 7\n".write(to: bed.file("pipeline.picks.yaml"), atomically: true, encoding: .utf8)
        let error = try #require(throws: PipelineError.self) { try bed.load(yaml) }
        #expect(error.description.contains("pipeline.picks.yaml:3:9"), "\(error)")
        #expect(error.description.contains("take 7 does not exist: the shot has 2 takes (1–2)"), "\(error)")
        try "shto:\n  take: 1\n".write(to: bed.file("pipeline.picks.yaml"), atomically: true, encoding: .utf8)
        let unknown = try #require(throws: PipelineError.self) { try bed.load(yaml) }
        #expect(unknown.description.contains("pipeline.picks.yaml:1:1"), "\(unknown)")
        #expect(unknown.description.contains("did you mean `shot`?"), "\(unknown)")
        try "shot:\n  take: two\n".write(to: bed.file("pipeline.picks.yaml"), atomically: true, encoding: .utf8)
        let notANumber = try #require(throws: PipelineError.self) { try bed.load(yaml) }
        #expect(notANumber.description.contains("pipeline.picks.yaml:2:9"), "\(notANumber)")
        // `takes` is checked where it is written.
        try "".write(to: bed.file("pipeline.picks.yaml"), atomically: true, encoding: .utf8)
        let zero = try #require(throws: PipelineError.self) { try bed.load(yaml.replacingOccurrences(of: "takes: 2", with: "takes: 0")) }
        #expect(zero.description.contains("takes must be a whole number from 1 to 100"), "\(zero)")
    }

    @Test func aRefusedShotIsTriedAgainWithTheNextSeedAndOnlyItFails() async throws {
        let rate = 0.5
        let configuration = EmulatorConfiguration(moderationRate: rate)
        // A prompt moderation refuses at seed 42 but passes at 43, and one refused at 42, 43 and 44.
        let prompts = (1...400).map { "a lighthouse, variant \($0)" }
        let once = try #require(prompts.first { configuration.refuses(prompt: $0, seed: 42) && !configuration.refuses(prompt: $0, seed: 43) })
        let always = try #require(prompts.first { p in (42...44).allSatisfy { configuration.refuses(prompt: p, seed: $0) } })
        let fine = try #require(prompts.first { !configuration.refuses(prompt: $0, seed: 42) })
        let seedance = try await EmulatedSeedance.start(moderationRate: rate)
        var bed = try PipelineTestbed(services: seedance.services)
        bed.options.keepGoing = true
        func yaml(retries: Int) -> String {
            """
            defaults:
              seedance.generate: { duration: 4, resolution: 480p }
            stages:
              retried: { uses: seedance.generate, with: { prompt: "\(once)" } }
              refused: { uses: seedance.generate, with: { prompt: "\(always)", retries_on_blocked: \(retries) } }
              fine: { uses: seedance.generate, with: { prompt: "\(fine)" } }
            """
        }
        let report = try await bed.run(yaml(retries: 2))
        #expect(report.stages["retried"]?.error == nil)
        let entry = try #require(await GenerationEntry.find(report.stages["retried"]!.key!, in: bed.storage.journal))
        #expect(entry.seed == 43 && entry.refusals?.map(\.seed) == [42], "journaled: refused at 42, made at 43")
        let failure = try #require(report.failures["refused"])
        #expect(failure.message.contains("refused by moderation at seeds 42, 43, 44"), "\(failure.message)")
        #expect(failure.message.contains("Content moderation"), "the API's reason: \(failure.message)")
        #expect(report.stages["fine"]?.error == nil, "independent work finished")
        #expect(await seedance.emulator.stats().submitted == 6)

        // A rerun retries only what failed; with retries off it tries the one seed.
        let rerun = try await bed.run(yaml(retries: 0))
        #expect(rerun.stages["retried"]?.cached == true && rerun.stages["fine"]?.cached == true)
        #expect(rerun.failures["refused"]?.message.contains("at seed 42 (no retries)") == true, "\(rerun.failures)")
        #expect(await seedance.emulator.stats().submitted == 7)
        await seedance.stop()
    }
}
