import Foundation
import Stages
import Media
import MediaTestSupport
import Pipeline
import SeedanceAPI
import SeedanceEmulator
import Testing

/// A run killed with SIGKILL at the worst moments, then run again: every generation is
/// submitted exactly once across both runs, and the film is byte-identical to an
/// uninterrupted run's.
@Suite(.timeLimit(.minutes(10))) struct CrashResumeTests {
    static let key = "crash-test-key"
    static let pipeline = """
        pipeline: crash
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          g1: { uses: seedance.generate, with: { prompt: "Shot 1: a lighthouse at dusk" } }
          g2: { uses: seedance.generate, with: { prompt: "Shot 2: waves below it", first_frame: "${g1.last_frame}" } }
          g3: { uses: seedance.generate, with: { prompt: "Shot 3: the lamp turns on" } }
          film: { uses: concat, with: { clips: ["${g1.video}", "${g2.video}", "${g3.video}"] } }
        outputs: { film: "${film.video}" }
        """

    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var faults: [Fault]
        /// Kill once a journal entry reaches this state.
        var killAt: GenerationEntry.State
        var testDescription: String { name }
    }

    static let scenarios = [
        Scenario(name: "before the submit answers", faults: [Fault(delayAfter: 30, path: "/v2/seedance", method: "POST")],
                 killAt: .intent),
        Scenario(name: "while polling", faults: [], killAt: .submitted),
        Scenario(name: "while downloading", faults: [Fault(delay: 30, path: "/files/")], killAt: .completed),
    ]

    /// An emulator whose latency and fault delays are on `clock`: a `ManualClock` holds a
    /// generation (or a delayed answer) until the test moves it; a free-running one does not wait.
    func startEmulator(clock: ManualClock = .free()) async throws -> (SeedanceEmulator, URL) {
        var configuration = EmulatorConfiguration(apiKey: Self.key, latency: .milliseconds(1500), preset: "ultrafast", identifiesAsEmulator: false)
        configuration.clock = clock
        let emulator = try SeedanceEmulator(configuration: configuration)
        return (emulator, try await emulator.start())
    }

    /// Runs the child with its exit observed without blocking a thread: the emulators the
    /// children talk to live in this process and need the threads to answer.
    func launch(_ folder: TemporaryFolder, backend: URL, cache: String, out: String) throws -> Process {
        let process = Process()
        process.executableURL = SeedpipeBinary.url
        process.arguments = ["run", "crash.yaml", "--backend", backend.absoluteString, "--cache", cache, "--out", out]
        process.currentDirectoryURL = folder.url
        var environment = ProcessInfo.processInfo.environment
        environment["SEGMIND_API_KEY"] = Self.key
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }


    func runToEnd(_ folder: TemporaryFolder, backend: URL, cache: String, out: String) async throws {
        let process = try launch(folder, backend: backend, cache: cache, out: out)
        await process.exited()
        #expect(process.terminationStatus == 0)
    }

    @Test(arguments: scenarios)
    func killedRunResumesWithoutPayingTwice(_ scenario: Scenario) async throws {
        let folder = TemporaryFolder("crash")
        try Self.pipeline.write(to: folder.file("crash.yaml"), atomically: true, encoding: .utf8)

        // The reference: one uninterrupted run.
        let (reference, referenceURL) = try await startEmulator()
        try await runToEnd(folder, backend: referenceURL, cache: "reference-cache", out: "reference-out")
        await reference.stop()
        let expected = try Data(contentsOf: folder.file("reference-out/film.mp4"))

        // The emulator's time stands still until the test moves it: the moment to kill at lasts
        // until the kill, however slowly this machine gets there.
        let clock = ManualClock()
        let (emulator, url) = try await startEmulator(clock: clock)
        emulator.injectFaults(script: scenario.faults)
        let child = try launch(folder, backend: url, cache: "cache", out: "out")
        if scenario.killAt == .completed {
            // A generation waits out its latency: move on past it (the download is held, on the same clock).
            try #require(await clock.waitForSleepers(1), "a generation is processing")
            clock.advance(by: .milliseconds(1500))
        }
        let reached = await eventually {
            guard await journaledGenerations(folder.file("cache")).contains(where: { $0.state == scenario.killAt }) else { return false }
            // Before the answer means after the server took it: the ambiguous moment.
            guard scenario.killAt == .intent else { return true }
            return await emulator.stats().submitted > 0
        }
        // Killed only once the journal shows the moment under test (never at a guessed time).
        try #require(reached, "the run reached \(scenario.killAt)")
        kill(child.processIdentifier, SIGKILL)
        await child.exited()
        #expect(child.terminationReason == .uncaughtSignal)
        let paidBeforeCrash = await emulator.stats().submitted
        #expect(paidBeforeCrash >= 1)

        clock.runFreely()
        emulator.injectFaults(script: [])
        try await runToEnd(folder, backend: url, cache: "cache", out: "out")
        let stats = await emulator.stats()
        #expect(stats.submitted == 3, "each generation submitted exactly once across both runs (\(stats.submitted))")
        #expect(try Data(contentsOf: folder.file("out/film.mp4")) == expected, "the same film as an uninterrupted run")
        #expect(await journaledGenerations(folder.file("cache")).allSatisfy { $0.state == .downloaded })
        await emulator.stop()
    }
}

extension CrashResumeTests {
    /// After a kill while generations were processing, `plan` is the bill: what was sent is
    /// `resume` (nothing new), the limits judge only what is new, and the rerun fetches what
    /// was sent, submits only the rest and says so.
    @Test func afterAKillThePlanCountsOnlyWhatIsNew() async throws {
        let folder = TemporaryFolder("crash-plan")
        try Self.pipeline.write(to: folder.file("crash.yaml"), atomically: true, encoding: .utf8)
        let clock = ManualClock()
        let (emulator, url) = try await startEmulator(clock: clock)
        let child = try launch(folder, backend: url, cache: "cache", out: "out")
        // g1 and g3 are sent at once (g2 starts on g1's last frame): both held processing.
        let sent = await eventually { await journaledGenerations(folder.file("cache")).filter { $0.state == .submitted }.count == 2 }
        try #require(sent, "g1 and g3 were submitted")
        kill(child.processIdentifier, SIGKILL)
        await child.exited()
        clock.runFreely()
        var environment = ProcessInfo.processInfo.environment
        environment["SEGMIND_API_KEY"] = Self.key
        let backend = ["--backend", url.absoluteString, "--cache", "cache"]
        let plan = try await SeedpipeBinary.run(["plan", "crash.yaml", "--json"] + backend, in: folder, environment: environment)
        try #require(plan.status == 0, "\(plan.stderr)")
        let planned = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let steps = planned["steps"] as? [[String: Any]] ?? []
        let status = Dictionary(uniqueKeysWithValues: steps.map { ($0["stage"] as? String ?? "", $0["status"] as? String ?? "") })
        #expect(status["g1"] == "resume" && status["g3"] == "resume" && status["g2"] == "generate", "\(status)")
        #expect(planned["generations"] as? Int == 1, "only g2 is new: \(plan.stdout)")
        let text = try await SeedpipeBinary.run(["plan", "crash.yaml"] + backend, in: folder, environment: environment)
        #expect(text.stdout.contains("2 to resume (sent before, nothing new to pay)") && text.stdout.contains("1 generation to pay for"),
                "\(text.stdout)")
        // The limits judge what is new: none refuses, one allows.
        let refused = try await SeedpipeBinary.run(["run", "crash.yaml", "--out", "out", "--max-generations", "0"] + backend,
                                                   in: folder, environment: environment)
        let submittedAfterRefusal = await emulator.stats().submitted
        #expect(refused.status != 0 && submittedAfterRefusal == 2, "\(refused.stderr)")
        let run = try await SeedpipeBinary.run(["run", "crash.yaml", "--out", "out", "--max-generations", "1"] + backend,
                                               in: folder, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(await emulator.stats().submitted == 3, "each generation submitted once across both runs")
        #expect(run.stderr.contains("fetched 2 generations sent before it was interrupted (nothing new paid)"), "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("out/run.json"))) as? [String: Any])
        #expect(summary["generationsPaid"] as? Int == 1, "this run paid for g2 alone: \(summary)")
        // What was paid before is still kept as paid work.
        let ls = try await SeedpipeBinary.run(["cache", "ls", "--cache", "cache"], in: folder, environment: environment)
        #expect(ls.stdout.contains("3 paid generations"), "\(ls.stdout)")
        await emulator.stop()
    }
}

extension Process {
    /// Waits for the process to end without blocking a thread.
    func exited() async {
        while isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

@Suite(.timeLimit(.minutes(10))) struct SharedCacheTests {
    @Test func twoProcessesOnOneCachePayOnceAndAgree() async throws {
        let folder = TemporaryFolder("shared")
        try CrashResumeTests.pipeline.write(to: folder.file("crash.yaml"), atomically: true, encoding: .utf8)
        let emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(
            apiKey: CrashResumeTests.key, latency: .milliseconds(800), preset: "ultrafast", identifiesAsEmulator: false))
        let url = try await emulator.start()
        let test = CrashResumeTests()
        let first = try test.launch(folder, backend: url, cache: "cache", out: "out-a")
        let second = try test.launch(folder, backend: url, cache: "cache", out: "out-b")
        await first.exited()
        await second.exited()
        #expect(first.terminationStatus == 0 && second.terminationStatus == 0)
        #expect(await emulator.stats().submitted == 3, "the second process waited for the first's generations")
        #expect(try Data(contentsOf: folder.file("out-a/film.mp4")) == Data(contentsOf: folder.file("out-b/film.mp4")))
        let verify = try await SeedpipeBinary.run(["cache", "verify", "--cache", "cache"], in: folder)
        #expect(verify.status == 0, "\(verify.stdout)")
        await emulator.stop()
    }
}

@Suite(.timeLimit(.minutes(10))) struct ExpiredResultTests {
    @Test func aRequestPastItsRetentionIsRecoveredThroughHistory() async throws {
        let folder = TemporaryFolder("expired")
        try CrashResumeTests.pipeline.write(to: folder.file("crash.yaml"), atomically: true, encoding: .utf8)
        let clock = ManualClock()
        var configuration = EmulatorConfiguration(
            apiKey: CrashResumeTests.key, latency: .milliseconds(1500), retention: .seconds(1), preset: "ultrafast", identifiesAsEmulator: false)
        configuration.clock = clock
        let emulator = try SeedanceEmulator(configuration: configuration)
        let url = try await emulator.start()
        let test = CrashResumeTests()
        let child = try test.launch(folder, backend: url, cache: "cache", out: "out")
        let submitted = await eventually { await journaledGenerations(folder.file("cache")).contains { $0.state == .submitted } }
        try #require(submitted, "a generation was submitted before the kill")
        kill(child.processIdentifier, SIGKILL)
        await child.exited()
        // The generations finish, then the emulator's clock moves past their retention.
        clock.runFreely()
        let finished = await eventually { let stats = await emulator.stats(); return stats.completed + stats.failed == stats.submitted }
        try #require(finished, "the generations the killed run submitted have finished")
        clock.advance(by: .seconds(2))
        let client = SeedanceClient(endpoints: .single(url), apiKey: APIKey(CrashResumeTests.key), retry: RetryPolicy(maximumAttempts: 1))
        let ids = await journaledGenerations(folder.file("cache")).compactMap(\.requestID)
        #expect(!ids.isEmpty)
        for id in ids {
            let error = await #expect(throws: SeedanceError.self) { try await client.status(of: client.job(requestID: id)) }
            #expect(error?.code == .notFound, "request \(id) expired on the server")
        }
        let paid = await emulator.stats().submitted
        try await test.runToEnd(folder, backend: url, cache: "cache", out: "out")
        let stats = await emulator.stats()
        #expect(stats.submitted == 3, "recovered what was paid for; submitted only what never was (\(paid) before)")
        #expect(try MediaInfo.probe(folder.file("out/film.mp4")).duration.map { abs($0 - 12) < 0.2 } == true)
        await emulator.stop()
    }
}
