import Foundation
import Stages
import Media
import MediaTestSupport
import Pipeline
import SeedanceAPI
import SeedanceEmulator
import SeedpipeKit
import Testing

@Suite(.timeLimit(.minutes(10))) struct RunCommandTests {
    @Test func ctrlCStopsTheRunAndKeepsGenerationsJournaled() async throws {
        let folder = TemporaryFolder("interrupt")
        try CrashResumeTests.pipeline.write(to: folder.file("crash.yaml"), atomically: true, encoding: .utf8)
        // The emulator's clock never moves: the generation stays PROCESSING, so the run can only
        // end because it was interrupted.
        let clock = ManualClock()
        var configuration = EmulatorConfiguration(apiKey: CrashResumeTests.key, latency: .seconds(60), identifiesAsEmulator: false)
        configuration.clock = clock
        let emulator = try SeedanceEmulator(configuration: configuration)
        let url = try await emulator.start()
        let child = try CrashResumeTests().launch(folder, backend: url, cache: "cache", out: "out")
        let submitted = await eventually { await journaledGenerations(folder.file("cache")).contains { $0.state == .submitted } }
        try #require(submitted, "the run submitted a generation before it is interrupted")
        child.interrupt()
        await child.exited()
        #expect(child.terminationStatus == 130, "stopped while its generation was still processing")
        #expect(await journaledGenerations(folder.file("cache")).contains { $0.state == .submitted && $0.requestID != nil })
        let cache = try Storage.local(at: folder.file("cache")).actions
        #expect(await cache.allRecords().isEmpty, "nothing partial was cached")
        clock.runFreely()
        await emulator.stop()
    }

    /// The first Ctrl-C winds down (here a plugin that ignores SIGTERM holds it for its
    /// `stop_grace` of 120 s); a second one ends the process at once, with the plugin, status
    /// 130. The long grace keeps the test independent of how loaded the machine is.
    @Test func aSecondCtrlCEndsTheRunAtOnce() async throws {
        let folder = TemporaryFolder("second-interrupt")
        let plugin = folder.file("plugins/stubborn")
        try FileManager.default.createDirectory(at: plugin, withIntermediateDirectories: true)
        try "name: stubborn\nversion: 1.0.0\ncommand: run\ntimeout: 300\nstop_grace: 120\nstages:\n  stubborn:\n    outputs: { text: text }\n"
            .write(to: plugin.appendingPathComponent("plugin.yaml"), atomically: true, encoding: .utf8)
        let program = plugin.appendingPathComponent("run")
        try "#!/bin/sh\ntrap '' TERM\necho $$ > '\(folder.file("started").path)'\nsleep 600\n".write(to: program, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program.path)
        try "pipeline: stubborn\nstages:\n  hold: { uses: stubborn }\n".write(to: folder.file("p.yaml"), atomically: true, encoding: .utf8)
        let child = Process()
        child.executableURL = SeedpipeBinary.url
        child.arguments = ["run", "p.yaml"]
        child.currentDirectoryURL = folder.url
        child.environment = SeedpipeBinary.offline
        child.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: folder.file("stderr").path, contents: nil)
        child.standardError = try FileHandle(forWritingTo: folder.file("stderr"))
        func stderr() -> String { (try? String(contentsOf: folder.file("stderr"), encoding: .utf8)) ?? "" }
        try child.run()
        let started = await eventually { FileManager.default.fileExists(atPath: folder.file("started").path) }
        try #require(started, "the plugin is running")
        child.interrupt()
        let heard = await eventually { stderr().contains("seedpipe: stopping (interrupt again to stop at once)") }
        try #require(heard, "the first Ctrl-C is acknowledged: \(stderr())")
        #expect(child.isRunning, "the first Ctrl-C waits for the plugin (it ignores SIGTERM for its stop_grace)")
        child.interrupt()
        await child.exited()
        #expect(child.terminationStatus == 130)
        // Ended by the second Ctrl-C (it says so), not by the 120 s grace running out.
        #expect(stderr().contains("stopped at once (a second interrupt)"), "\(stderr())")
        let pid = pid_t(try String(contentsOf: folder.file("started"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(await eventually { kill(pid, 0) != 0 }, "the plugin did not outlive seedpipe")
    }

    /// A pipeline without `outputs:` runs, with one warning that nothing is handed over; an
    /// output that names no stage's output is refused before anything runs.
    @Test func aPipelineThatHandsNothingOverSaysSo() async throws {
        let folder = TemporaryFolder("no-outputs")
        try "pipeline: quiet\nstages:\n  line: { uses: template, with: { template: a still lake } }\n"
            .write(to: folder.file("quiet.yaml"), atomically: true, encoding: .utf8)
        let run = try await SeedpipeBinary.run(["run", "quiet.yaml"], in: folder, environment: SeedpipeBinary.offline)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.components(separatedBy: "the pipeline has no `outputs:`").count == 2, "one warning: \(run.stderr)")
        try "pipeline: typo\nstages:\n  line: { uses: template, with: { template: a still lake } }\noutputs: { text: \"{line.text}\" }\n"
            .write(to: folder.file("typo.yaml"), atomically: true, encoding: .utf8)
        let refused = try await SeedpipeBinary.run(["validate", "typo.yaml"], in: folder, environment: SeedpipeBinary.offline)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("typo.yaml:4:18") && refused.stderr.contains("write \"${line.text}\""), "\(refused.stderr)")
    }

    /// `--remote-cache` on the command line: a team's cache that cannot be reached is one
    /// warning, the run succeeds locally, and the credentials appear nowhere.
    @Test func anUnreachableRemoteCacheIsOneWarningAndTheRunSucceeds() async throws {
        let folder = TemporaryFolder("remote-cli")
        try "pipeline: words\nstages:\n  line: { uses: template, with: { template: a still lake } }\noutputs: { line: \"${line.text}\" }\n"
            .write(to: folder.file("words.yaml"), atomically: true, encoding: .utf8)
        let port = try TestPorts.free()
        var environment = SeedpipeBinary.offline
        environment["SEEDPIPE_REMOTE_CACHE_AUTH"] = "builder:hunter2-secret"
        let run = try await SeedpipeBinary.run(["run", "words.yaml", "--remote-cache", "http://127.0.0.1:\(port)/cache", "--json"],
                                               in: folder, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.components(separatedBy: "warning: remote cache http://127.0.0.1:\(port)/cache is not usable").count == 2, "\(run.stderr)")
        #expect(!(run.stdout + run.stderr).contains("hunter2"))
        let bad = try await SeedpipeBinary.run(["plan", "words.yaml", "--remote-cache-mode", "sometimes"], in: folder)
        #expect(bad.status == 2 && bad.stderr.contains("--remote-cache-mode sometimes: use read, write or readwrite"), "\(bad.stderr)")
    }

    @Test func gcKeepsPaidGenerationsUnlessAsked() async throws {
        let folder = TemporaryFolder("gc")
        try CrashResumeTests.pipeline.write(to: folder.file("crash.yaml"), atomically: true, encoding: .utf8)
        let emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(apiKey: CrashResumeTests.key, latency: .zero, identifiesAsEmulator: false))
        let url = try await emulator.start()
        let child = try CrashResumeTests().launch(folder, backend: url, cache: "cache", out: "out")
        await child.exited()
        #expect(child.terminationStatus == 0)
        // A cache opened afresh for each look: one instance keeps the records it read in memory.
        func records() async throws -> [ActionRecord] { await (try Storage.local(at: folder.file("cache"))).actions.allRecords() }
        #expect(try await records().count == 4)
        let gc = try await SeedpipeBinary.run(["cache", "gc", "--cache", "cache", "--older-than", "0h"], in: folder)
        #expect(gc.status == 0, "\(gc.stderr)")
        #expect(try await records().map(\.stage).sorted() == ["g1", "g2", "g3"], "only the unpaid concat went")
        let all = try await SeedpipeBinary.run(["cache", "gc", "--cache", "cache", "--older-than", "0h", "--include-paid"], in: folder)
        #expect(all.status == 0)
        #expect(try await records().isEmpty)
        #expect(try LocalArtifactStore(root: folder.file("cache")).allObjects().isEmpty)
        await emulator.stop()
    }

    /// What a stage logs at warning or above is shown under its name, on the console and in
    /// --json; its info lines only with --verbose.
    @Test func stageWarningsReachTheConsoleAndTheJSONEvents() async throws {
        let folder = TemporaryFolder("warnings")
        try Fixtures.clip("tone.mp4", in: folder, SyntheticClip(duration: 2, tone: .init(frequency: 440, level: -20)))
        try """
            pipeline: loud
            stages:
              level: { uses: audio-check, with: { video: tone.mp4, max_loudness: -40, on_problem: warn } }
            outputs: { report: "${level.report}" }
            """.write(to: folder.file("loud.yaml"), atomically: true, encoding: .utf8)
        let run = try await SeedpipeBinary.run(["run", "loud.yaml", "--out", "out"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("  level: warning: audio check: loudness -2"), "\(run.stderr)")
        #expect(run.stderr.contains("LUFS is over -40.0"), "\(run.stderr)")
        let json = try await SeedpipeBinary.run(["run", "loud.yaml", "--out", "out", "--json", "--cache", "fresh"], in: folder)
        #expect(json.status == 0, "\(json.stderr)")
        // Every line decodes as a RunEvent (docs/EVENTS.md): a change to the format fails here.
        let events = try json.stdout.split(separator: "\n").map { try RunEvent(jsonLine: $0) }
        let logs = events.compactMap { event -> (stage: String, level: String, message: String)? in
            if case .log(let stage, let level, let message) = event { (stage, level, message) } else { nil }
        }
        #expect(logs.count == 1, "\(json.stdout)")
        #expect(logs.first?.stage == "level" && logs.first?.level == "warning")
        #expect(logs.first?.message.contains("is over -40.0") == true)
        guard case .runStarted(let started)? = events.first, case .runFinished(let finished)? = events.last else {
            Issue.record("run_started first, run_finished last: \(json.stdout)")
            return
        }
        #expect(started.version == 1 && started.pipeline == "loud" && started.stages == ["level"])
        #expect(events.contains(.started(stage: "level", kind: "audio-check")))
        #expect(finished.ok && finished.exitCode == 0 && finished.folder == "out", "\(finished)")
    }

    @Test func validateAndPlanSpeakForThePipeline() async throws {
        let folder = TemporaryFolder("plan")
        try """
            stages:
              shot: { uses: seedance.generate, with: { prompt: "a lake", duration: 7 } }
              film: { uses: concat, with: { clips: ["${shot.vidoe}"] } }
            """.write(to: folder.file("bad.yaml"), atomically: true, encoding: .utf8)
        let bad = try await SeedpipeBinary.run(["validate", "bad.yaml"], in: folder)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.yaml:2:62: error: stage `shot`: duration: must be one of 4, 5, 6, 8, 10, 12, 15 seconds (got 7)"),
                "\(bad.stderr)")
        #expect(bad.stderr.contains("bad.yaml:3:41: error: stage `shot` (seedance.generate) has no output `vidoe` (did you mean `video`?)"))
        try "stages:\n  shot: { uses: seedance.generate, with: { prompt: \"a lake\", duration: 8 } }\n"
            .write(to: folder.file("good.yaml"), atomically: true, encoding: .utf8)
        let plan = try await SeedpipeBinary.run(["plan", "good.yaml"], in: folder)
        #expect(plan.status == 0)
        #expect(plan.stdout.contains("shot      generate  seedance.generate  (never run)"), "\(plan.stdout)")
        // Offline, the built-in emulator would make it: emulated, nothing paid.
        #expect(plan.stdout.contains("1 generation to emulate (8 s of video, nothing paid)"), "\(plan.stdout)")
        // For the paid service, with no price given and none learned, it says so.
        var online = SeedpipeBinary.offline
        online["SEGMIND_API_KEY"] = "plan-only-key"
        let priced = try await SeedpipeBinary.run(["plan", "good.yaml", "--backend", "segmind"], in: folder, environment: online)
        #expect(priced.stdout.contains("1 generation to pay for (8 s of video, price unknown: give --price-per-second)"), "\(priced.stdout)")
    }
}

@Suite(.timeLimit(.minutes(10))) struct RunExitStatusTests {
    /// The service's failure reaches the exit status through the stage's error: 3, with one
    /// line saying what could not be reached, and the key in no line.
    @Test func aBackendNobodyAnswersOnExitsWithThree() async throws {
        let folder = TemporaryFolder("unreachable")
        try """
            pipeline: unreachable
            stages:
              shot: { uses: seedance.generate, with: { prompt: "A lighthouse at dusk", duration: 4, resolution: 480p } }
            outputs: { clip: "${shot.video}" }
            """.write(to: folder.file("p.yaml"), atomically: true, encoding: .utf8)
        var environment = SeedpipeBinary.offline
        environment["SEGMIND_API_KEY"] = "sk-unreachable-4b7e"
        let port = try TestPorts.free()
        let outcome = try await SeedpipeBinary.run(["run", "p.yaml", "--backend", "http://127.0.0.1:\(port)"], in: folder,
                                                   environment: environment)
        #expect(outcome.status == 3, "\(outcome.stderr)")
        // (How soon it gives up, one short retry, is ClientErrorTests' to check on a clock of its own:
        // wall time in a loaded full run measures the machine.)
        let errors = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1, "\(outcome.stderr)")
        #expect(errors.first?.contains("shot") == true && errors.first?.contains("127.0.0.1") == true, "\(outcome.stderr)")
        #expect(errors.first?.contains("(connection refused)") == true, "\(outcome.stderr)")
        #expect(errors.first.map { $0.filter { $0 == "(" }.count == $0.filter { $0 == ")" }.count } == true, "balanced: \(outcome.stderr)")
        #expect(!outcome.stderr.contains("sk-unreachable-4b7e") && !outcome.stdout.contains("sk-unreachable-4b7e"))
        #expect(!outcome.stderr.contains("note: SEGMIND_API_KEY is sent"), "no note for a loopback backend")
    }
}
