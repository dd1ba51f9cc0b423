import Foundation
import MediaTestSupport
import Pipeline
import PipelineTesting
import Testing

@Suite(.timeLimit(.minutes(10))) struct ExecutorTests {
    let folder = TemporaryFolder("executor")

    func run(_ yaml: String, recorder: Recorder, options: ExecutionOptions = ExecutionOptions(), waitPool: Pool = .cpu)
        async throws -> RunReport
    {
        let file = folder.file("p.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let registry = testRegistry(recorder)
        let pipeline = try PipelineValidator.validate(try PipelineFile.load(file, registry: registry), registry: registry)
        return try await Executor(pipeline: pipeline, storage: try storage(), options: options).run()
    }

    func storage() throws -> Storage { try Storage.local(at: folder.file(".seedpipe")) }

    static let joinYAML = """
        pipeline: greet
        stages:
          a: { uses: emit, with: { value: hello } }
          b: { uses: emit, with: { value: world } }
          both: { uses: join, with: { texts: ["${a.text}", "${b.text}"] } }
        outputs: { line: "${both.text}" }
        """

    @Test func runsThenHitsTheCacheForEverything() async throws {
        let recorder = Recorder()
        let first = try await run(Self.joinYAML, recorder: recorder)
        #expect(first.outputs["line"] == .string("hello world"))
        #expect(await recorder.total == 3)
        let second = try await run(Self.joinYAML, recorder: recorder)
        #expect(second.outputs["line"] == .string("hello world"))
        #expect(second.stages.values.allSatisfy { $0.cached })
        #expect(await recorder.total == 3, "nothing ran again")
    }

    @Test func changingAParameterRerunsOnlyWhatDependsOnIt() async throws {
        let recorder = Recorder()
        _ = try await run(Self.joinYAML, recorder: recorder)
        let changed = try await run(Self.joinYAML.replacingOccurrences(of: "value: world", with: "value: there"), recorder: recorder)
        #expect(changed.outputs["line"] == .string("hello there"))
        #expect(await recorder.count("a") == 1)
        #expect(await recorder.count("b") == 2)
        #expect(await recorder.count("both") == 2)
        #expect(changed.stages["a"]?.cached == true)
    }

    @Test func localFilesCountByTheirBytesNotTheirNames() async throws {
        let recorder = Recorder()
        try Data("first".utf8).write(to: folder.file("in.png"))
        let yaml = "stages:\n  r: { uses: read, with: { image: in.png } }\noutputs: { text: \"${r.text}\" }\n"
        #expect(try await run(yaml, recorder: recorder).outputs["text"] == .string("first"))
        // Same bytes under another name: a hit.
        try Data("first".utf8).write(to: folder.file("copy.png"))
        _ = try await run(yaml.replacingOccurrences(of: "in.png", with: "copy.png"), recorder: recorder)
        #expect(await recorder.count("r") == 1)
        // New bytes under the old name: a miss.
        try Data("second".utf8).write(to: folder.file("in.png"))
        #expect(try await run(yaml, recorder: recorder).outputs["text"] == .string("second"))
        #expect(await recorder.count("r") == 2)
    }

    @Test func aCorruptedObjectIsDetectedAndRebuilt() async throws {
        let recorder = Recorder()
        let yaml = """
            stages:
              m: { uses: make-image, with: { content: pixels } }
              r: { uses: read, with: { image: "${m.image}" } }
            outputs: { text: "${r.text}" }
            """
        let first = try await run(yaml, recorder: recorder)
        let artifact = try #require(first.stages["m"]?.outputs["image"]?.artifact)
        let store = try LocalArtifactStore(root: folder.file(".seedpipe"))
        try Data("tampered".utf8).write(to: store.location(of: artifact.digest))
        let error = await #expect(throws: PipelineError.self) { try await store.verifiedLocation(of: artifact) }
        #expect(error?.code == .corruptedObject)
        #expect(await !store.contains(artifact.digest), "the bad object is removed")
        let second = try await run(yaml, recorder: recorder)
        #expect(second.outputs["text"] == .string("pixels"))
        #expect(await recorder.count("m") == 2, "rebuilt")
        #expect(try ContentDigest.sha256(of: await store.verifiedLocation(of: artifact)) == artifact.digest)
    }

    @Test func longestRemainingPathStartsFirst() async throws {
        let recorder = Recorder()
        let yaml = """
            stages:
              short: { uses: wait, with: { ms: 20 } }
              long1: { uses: wait, with: { ms: 20 } }
              long2: { uses: wait, with: { ms: 20, after: ["${long1.text}"] } }
              long3: { uses: wait, with: { ms: 20, after: ["${long2.text}"] } }
            """
        _ = try await run(yaml, recorder: recorder, options: ExecutionOptions(poolLimits: [.cpu: 1]))
        let order = await recorder.order
        #expect(order.first == "long1", "\(order)")
        #expect(await recorder.peak["cpu"] == 1)
    }

    @Test func poolsLimitWhatRunsAtOnce() async throws {
        let recorder = Recorder()
        let yaml = "stages:\n" + (1...6).map { "  g\($0): { uses: remote-wait, with: { ms: 150, tag: g\($0) } }" }.joined(separator: "\n")
        _ = try await run(yaml, recorder: recorder, options: ExecutionOptions(poolLimits: [Pool("remote"): 2]))
        #expect(await recorder.peak["remote"] == 2, "six generations, two at a time")
        #expect(await recorder.total == 6)
    }

    @Test func identicalActionsInOneRunHappenOnce() async throws {
        let recorder = Recorder()
        let yaml = """
            stages:
              shot1: { uses: remote-wait, with: { ms: 200, tag: same } }
              shot2: { uses: remote-wait, with: { ms: 200, tag: same } }
            """
        let report = try await run(yaml, recorder: recorder)
        #expect(await recorder.total == 1, "two stages with one action key are one generation, paid once")
        #expect(report.stages["shot1"]?.key == report.stages["shot2"]?.key)
        #expect(report.stages.values.filter { $0.cached }.count == 1)
    }

    @Test func failFastStopsAndNamesTheStage() async throws {
        let recorder = Recorder()
        let yaml = """
            stages:
              broken: { uses: fail }
              after: { uses: join, with: { texts: ["${broken.text}"] } }
              other: { uses: wait, with: { ms: 60000000 } }
            """
        let failure = try await #require(throws: PipelineError.self) { try await run(yaml, recorder: recorder) }
        #expect(failure.code == .stageFailed)
        #expect(failure.stage == "broken")
        #expect(failure.description.contains("it broke on purpose"))
        #expect(failure.rootCause is FailStage.Broken, "the stage's own error is kept, not a string")
        #expect(failure.report?.failures["broken"]?.rootCause is FailStage.Broken)
        // The 1000-minute branch was cancelled, not waited for: the suite's time limit is 10.
        #expect(try await !storage().actions.allRecords().contains { $0.stage == "other" })
        #expect(await recorder.count("after") == 0)
    }

    @Test func keepGoingFinishesIndependentBranches() async throws {
        let recorder = Recorder()
        let yaml = """
            stages:
              broken: { uses: fail }
              after: { uses: join, with: { texts: ["${broken.text}"] } }
              other: { uses: emit, with: { value: fine } }
              more: { uses: join, with: { texts: ["${other.text}"] } }
            """
        let report = try await run(yaml, recorder: recorder, options: ExecutionOptions(keepGoing: true))
        #expect(report.failures.keys.sorted() == ["broken"])
        #expect(report.failures["broken"]?.rootCause is FailStage.Broken)
        #expect(report.stages["after"]?.skipped == true)
        #expect(report.stages["more"]?.outputs["text"] == .string("fine"))
        #expect(!report.succeeded)
    }

    @Test func cancellationStopsRunningStagesAndRecordsNothingPartial() async throws {
        let recorder = Recorder()
        let yaml = "stages:\n  slow: { uses: wait, with: { ms: 60000000 } }\n"
        let task = Task { try await run(yaml, recorder: recorder) }
        await recorder.waitForStarts(1)  // the stage is running: now cancel it
        task.cancel()
        // Cancelled, not waited out: the stage would wait 1000 minutes, the suite's limit is 10.
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(await recorder.count("slow") == 1)
        #expect(try await storage().actions.allRecords().isEmpty)
    }

    @Test func yamlAndDSLGiveTheSameGraphAndKeys() async throws {
        let recorder = Recorder()
        let registry = testRegistry(recorder)
        let file = folder.file("p.yaml")
        try """
            pipeline: greet
            vars: { who: world }
            stages:
              a: { uses: emit, with: { value: hello } }
              b: { uses: emit, with: { value: "dear ${vars.who}" } }
              words: { uses: repeat, with: { texts: [x, y] } }
              both: { uses: join, with: { texts: ["${a.text}", "${b.text}", "${words.text}"], separator: "-" } }
            outputs: { line: "${both.text}" }
            """.write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try PipelineFile.load(file, registry: registry)
        let fromSwift = try PipelineGraph("greet", baseFolder: folder.url, registry: registry) {
            Var("who", "world")
            Use("a", "emit", ["value": "hello"])
            Use("b", "emit", ["value": "dear ${vars.who}"])
            Use("words", "repeat", ["texts": ["x", "y"]])
            Use("both", "join", ["texts": ["${a.text}", "${b.text}", "${words.text}"], "separator": "-"])
            Output("line", "${both.text}")
        }
        #expect(fromFile.shape == fromSwift.shape)
        let storage = try storage()
        let one = try await Executor(pipeline: PipelineValidator.validate(fromFile, registry: registry), storage: storage).run()
        let two = try await Executor(pipeline: PipelineValidator.validate(fromSwift, registry: registry), storage: storage).run()
        #expect(one.outputs["line"] == .string("hello-dear world-x y"))
        #expect(one.stages.mapValues(\.key) == two.stages.mapValues(\.key))
        #expect(two.stages.values.allSatisfy { $0.cached })
    }
}

