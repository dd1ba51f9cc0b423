import Foundation
import MediaTestSupport
import Pipeline
import PipelineTesting
import SeedanceAPI
import SeedpipeKit
import Stages
import Testing

/// `PipelineRun`: a pipeline file run as `seedpipe run` runs it, in the embedder's process.
@Suite(.timeLimit(.minutes(10))) struct PipelineRunTests {
    let folder = TemporaryFolder("pipeline-run")

    static let lake = """
        pipeline: lake
        stages:
          shot: { uses: seedance.generate, with: { prompt: "A still lake at dawn", duration: 4 } }
          poster: { uses: thumbnail, with: { video: "${shot.video}", at: 1 } }
        outputs: { poster: "${poster.image}" }
        """

    func project(_ text: String = lake) throws -> PipelineProject {
        let file = folder.file("lake.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return PipelineProject(file: file, cacheFolder: folder.file("cache"))
    }

    /// Every event of a run, read as it runs.
    func events(of run: PipelineRun) -> Task<[RunEvent], Never> {
        Task { var seen: [RunEvent] = []; for await event in run.events { seen.append(event) }; return seen }
    }

    @Test func aRunTellsItsPlanFirstAndItsOutcomeLastAndWritesWhatTheCLIWrites() async throws {
        let seedance = try await EmulatedSeedance.start()
        let options = PipelineRun.Options(out: folder.file("out"), backend: .url(seedance.url), apiKey: APIKey(EmulatedSeedance.key))
        let run = try await PipelineRun(project: try project(), options: options)
        #expect(run.plan.generations == 1 && run.plan.cost.emulated, "the plan is known before anything runs, priced as an emulator")
        let seen = events(of: run)
        let result = try await run.run()
        let events = await seen.value
        guard case .runStarted(let started)? = events.first, case .runFinished(let finished)? = events.last else {
            Issue.record("first run_started, last run_finished: \(events.map(\.name))")
            return
        }
        #expect(started.version == RunEvent.version && started.pipeline == "lake" && started.generations == 1 && started.seconds == 4)
        #expect(started.stages == ["shot", "poster"])
        #expect(finished.status == .succeeded && finished.ok && finished.exitCode == 0)
        #expect(finished.generationsEmulated == 1 && finished.generationsPaid == 0)
        #expect(finished.outputs == ["poster": ["poster.jpg"]])
        #expect(events.contains { event in
            if case .finished("shot", let key, _) = event { key == result.report.stages["shot"]?.key } else { false }
        }, "the shot's finished event carries its action key")
        for name in ["poster.jpg", "run.json", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: folder.file("out/\(name)").path), "\(name)")
        }
        // The live log the studio follows holds the same events, line for line.
        let live = try String(contentsOf: LiveLog.location(cache: folder.file("cache"), pipeline: "lake"), encoding: .utf8)
        #expect(try live.split(separator: "\n").map { try RunEvent(jsonLine: $0) } == events)
        // And every event reads back as itself from its line.
        for event in events { #expect(try RunEvent(jsonLine: event.jsonLine) == event) }

        let again = try await PipelineRun(project: try project(), options: options)
        #expect(again.plan.generations == 0)
        let rerun = try await again.run()
        #expect(rerun.report.stages.values.allSatisfy { $0.cached })
        #expect(await seedance.emulator.stats().submitted == 1, "made once")
        await seedance.stop()
    }

    @Test func cancellingTheTaskIsCtrlC() async throws {
        // The emulator's clock stands still: the generation stays PROCESSING until the cancel.
        let clock = ManualClock()
        let seedance = try await EmulatedSeedance.start(latency: .seconds(120), clock: clock)
        let options = PipelineRun.Options(out: folder.file("out"), backend: .url(seedance.url), apiKey: APIKey(EmulatedSeedance.key))
        let run = try await PipelineRun(project: try project(), options: options)
        let seen = events(of: run)
        let task = Task { try await run.run() }
        let journal = try Storage.local(at: folder.file("cache")).journal
        var submitted = false
        for _ in 0..<24000 where !submitted {
            submitted = (try? await GenerationEntry.all(in: journal))?.contains { $0.state == .submitted } == true
            if !submitted { try await Task.sleep(for: .milliseconds(10)) }
        }
        try #require(submitted, "the generation was submitted before the cancel")
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        guard case .runFinished(let finished)? = await seen.value.last else { Issue.record("no run_finished"); return }
        #expect(finished.status == .interrupted && finished.exitCode == 130)
        #expect(try await GenerationEntry.all(in: journal).contains { $0.state == .submitted && $0.requestID != nil },
                "what was paid for stays journaled, for the next run to fetch")
        #expect(await (try Storage.local(at: folder.file("cache"))).actions.allRecords().isEmpty, "nothing partial was cached")
        clock.runFreely()
        await seedance.stop()
    }

    @Test func aRunOverItsLimitIsRefusedBeforeAnythingStarts() async throws {
        let seedance = try await EmulatedSeedance.start()
        var options = PipelineRun.Options(out: folder.file("out"), backend: .url(seedance.url), apiKey: APIKey(EmulatedSeedance.key))
        options.maxGenerations = 0
        let run = try await PipelineRun(project: try project(), options: options)
        #expect(throws: RunError.self) { try run.checkLimits() }
        let seen = events(of: run)
        let error = await #expect(throws: RunError.self) { try await run.run() }
        #expect(error?.code == .refused)
        #expect(error?.message.contains("more than --max-generations 0; nothing was started") == true, "\(String(describing: error))")
        guard case .runFinished(let finished)? = await seen.value.last else { Issue.record("no run_finished"); return }
        #expect(finished.status == .failed && finished.exitCode == 2)
        #expect(await seedance.emulator.stats().submitted == 0)
        await seedance.stop()
    }

    @Test func aGraphBuiltInSwiftRunsToo() async throws {
        let registry = BuiltinStages.registry()
        let graph = try PipelineGraph("words", registry: registry) {
            Use("line", "template", ["template": "a {{word}} lake", "vars": ["word": "still"]])
            Output("line", "${line.text}")
        }
        let run = try await PipelineRun(graph: graph, cacheFolder: folder.file("cache"), options: .init(out: folder.file("out")))
        let result = try await run.run()
        #expect(result.report.outputs["line"] == .string("a still lake"))
        #expect(run.plan.generations == 0)
    }
}
