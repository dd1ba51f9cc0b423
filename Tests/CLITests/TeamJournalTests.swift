import Foundation
import MediaTestSupport
import Pipeline
import SeedanceAPI
import SeedanceEmulator
import SeedpipeKit
import Stages
import Testing

/// Machines (`seedpipe run` processes with caches of their own) sharing one team's journal in
/// a real PostgreSQL and one emulated service: each clip is submitted once between them,
/// whichever machine is killed or paused, and when.
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: TestPostgres.shouldRun, "needs PostgreSQL 15 (make test installs it)"))
struct TeamJournalTests {
    static let key = "team-test-key"
    /// Shot 1 uploads its first frame before submitting: a moment to catch a machine holding a
    /// claim it has not sent yet.
    static let pipeline = """
        pipeline: team
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          g1: { uses: seedance.generate, with: { prompt: "Shot 1: a lighthouse at dusk", first_frame: start.png } }
          g2: { uses: seedance.generate, with: { prompt: "Shot 2: waves below it" } }
          film: { uses: concat, with: { clips: ["${g1.video}", "${g2.video}"] } }
        outputs: { film: "${film.video}" }
        """

    struct Team {
        let folder = TemporaryFolder("team")
        let server: TestPostgres
        let emulator: SeedanceEmulator
        let backend: URL
        let journal: SharedJournal

        /// One machine: `seedpipe run` with its own cache and out folder.
        func launch(_ machine: String, extra: [String] = [], journal url: String? = nil) throws -> Process {
            let process = Process()
            process.executableURL = SeedpipeBinary.url
            process.arguments = ["run", "team.yaml", "--backend", backend.absoluteString, "--cache", "\(machine)-cache",
                                 "--out", "\(machine)-out", "--history-grace", "1"] + extra
            process.currentDirectoryURL = folder.url
            var environment = ProcessInfo.processInfo.environment
            environment["SEGMIND_API_KEY"] = TeamJournalTests.key
            environment["SEEDPIPE_SHARED_JOURNAL"] = url ?? server.url()
            environment["SEEDPIPE_TEAM_LEASE"] = "2"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            FileManager.default.createFile(atPath: folder.file("\(machine).log").path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: folder.file("\(machine).log"))
            try process.run()
            return process
        }

        /// Runs a machine to its end; its exit status.
        func runToEnd(_ machine: String, extra: [String] = [], journal: String? = nil) async throws -> Int32 {
            let process = try launch(machine, extra: extra, journal: journal)
            await process.exited()
            return process.terminationStatus
        }

        func log(_ machine: String) -> String { (try? String(contentsOf: folder.file("\(machine).log"), encoding: .utf8)) ?? "" }

        func film(_ machine: String) throws -> Data { try Data(contentsOf: folder.file("\(machine)-out/film.mp4")) }

        /// The team's row for a stage, as the database has it.
        func row(_ stage: String) async -> TeamGeneration? {
            (try? await journal.all())?.first { $0.stage == stage }
        }

        func stop() async {
            await emulator.stop()
            await server.shutDown()
        }
    }

    /// The team's servers; the emulator's latency and fault delays on `clock` (free-running
    /// unless the test holds them).
    func team(clock: ManualClock = .free()) async throws -> Team {
        let server = try await TestPostgres.start()
        var configuration = EmulatorConfiguration(apiKey: Self.key, latency: .milliseconds(1500), preset: "ultrafast", identifiesAsEmulator: false)
        configuration.clock = clock
        let emulator = try SeedanceEmulator(configuration: configuration)
        let backend = try await emulator.start()
        let team = Team(server: server, emulator: emulator, backend: backend,
                        journal: try SharedJournal(url: URL(string: server.url())!, lease: .seconds(2), deadline: .seconds(300)))
        try Self.pipeline.write(to: team.folder.file("team.yaml"), atomically: true, encoding: .utf8)
        try Fixtures.picture(team.folder.file("start.png"), red: 40, green: 80, blue: 140)
        return team
    }

    @Test func twoMachinesRacingSubmitEachClipOnceAndMakeOneFilm() async throws {
        let team = try await team()
        let a = try team.launch("a"), b = try team.launch("b")
        await a.exited()
        await b.exited()
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "\(team.log("a"))\n\(team.log("b"))")
        #expect(await team.emulator.stats().submitted == 2, "each clip submitted once between the two")
        #expect(try team.film("a") == team.film("b"))
        let rows = try await team.journal.all()
        #expect(rows.count == 2 && rows.allSatisfy { $0.state == .done && $0.requestID != nil && $0.outputs?["video"] != nil })
        // jobs lists the team's generations and who owns each.
        let jobs = try await SeedpipeBinary.run(["jobs", "--shared-journal", team.server.url()], in: team.folder)
        #expect(jobs.status == 0 && jobs.stdout.contains("team/g1") && jobs.stdout.contains("owner ") && jobs.stdout.contains("today: $"),
                "\(jobs.stdout)\(jobs.stderr)")
        await team.stop()
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var faults: [Fault]
        /// Kill machine a once this shot's row reaches this state (and the service took the submit, for `submitting`).
        var stage: String
        var killAt: TeamGenerationState
        var testDescription: String { name }
    }

    static let scenarios = [
        Scenario(name: "before its submit", faults: [Fault(delay: 30, path: "/upload-asset")], stage: "g1", killAt: .claimed),
        // Shot 1's upload is held back, so shot 2's submit is the one the service takes and does not answer.
        Scenario(name: "between its submit and the answer",
                 faults: [Fault(delay: 5, path: "/upload-asset"), Fault(delayAfter: 30, path: "/v2/seedance", method: "POST")],
                 stage: "g2", killAt: .submitting),
        Scenario(name: "after its request id was recorded", faults: [], stage: "g2", killAt: .submitted),
    ]

    /// Machine a is killed with SIGKILL at the moment under test; machine b then runs the same
    /// pipeline: it takes over a claim never sent, settles one left mid-submit through request
    /// history, or polls a recorded request, and never pays twice. A third machine with an
    /// empty cache then gets every clip through the recorded requests, submitting nothing.
    @Test(arguments: scenarios)
    func aMachineKilledMidwayIsTakenOverWithoutPayingTwice(_ scenario: Scenario) async throws {
        let team = try await team()
        team.emulator.injectFaults(script: scenario.faults)
        let a = try team.launch("a")
        let reached = await eventually {
            guard let row = await team.row(scenario.stage), row.state == scenario.killAt else { return false }
            guard scenario.killAt == .submitting else { return true }
            return await team.emulator.stats().submitted > 0
        }
        try #require(reached, "machine a reached \(scenario.killAt): \(team.log("a"))")
        kill(a.processIdentifier, SIGKILL)
        await a.exited()
        team.emulator.injectFaults(script: [])
        #expect(try await team.runToEnd("b") == 0, "\(team.log("b"))")
        #expect(await team.emulator.stats().submitted == 2, "each clip submitted once across both machines")
        #expect(try await team.journal.all().allSatisfy { $0.state == .done })
        #expect(try await team.runToEnd("c") == 0, "\(team.log("c"))")
        #expect(await team.emulator.stats().submitted == 2, "a machine without the bytes fetches them through the recorded request")
        #expect(try team.film("b") == team.film("c"))
        await team.stop()
    }

    /// Machine a is paused (SIGSTOP) holding a claim it has not sent; its lease runs out and
    /// machine b takes the clip over. a is resumed while b still holds that claim unsent (b's
    /// upload is slow too): a cannot submit, as its claim's epoch is old. It waits for b and
    /// polls b's request, and both finish with one submit per clip.
    @Test func aMachinePausedPastItsLeaseCannotSubmitWhenResumed() async throws {
        // The uploads' delays are held on the emulator's clock until the test moves it.
        let clock = ManualClock()
        let team = try await team(clock: clock)
        team.emulator.injectFaults(script: [Fault(delay: 3, path: "/upload-asset"), Fault(delay: 25, path: "/upload-asset")])
        let a = try team.launch("a")
        // Stopped once its upload has reached the service (and drawn the first, short delay).
        let claimed = await eventually {
            guard await team.row("g1")?.state == .claimed else { return false }
            return await team.emulator.stats().faultsInjected >= 1
        }
        try #require(claimed, "machine a claimed shot 1 and sent its upload: \(team.log("a"))")
        kill(a.processIdentifier, SIGSTOP)
        let b = try team.launch("b")
        let takenOver = await eventually {
            guard let row = await team.row("g1") else { return false }
            return row.epoch == 2 && row.state == .claimed
        }
        try #require(takenOver, "machine b took shot 1 over once a's lease ran out: \(team.log("b"))")
        // The service answers a's upload (3 s on), not b's (25 s): a is resumed and goes on to
        // submit on its old claim while b still holds the new one unsent.
        clock.advance(by: .seconds(3))
        let answered = await eventually { await team.emulator.stats().uploads >= 1 }
        #expect(answered)
        #expect(await team.row("g1")?.state == .claimed, "b is still uploading")
        kill(a.processIdentifier, SIGCONT)
        clock.runFreely()
        await a.exited()
        await b.exited()
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "\(team.log("a"))\n\(team.log("b"))")
        #expect(await team.emulator.stats().submitted == 2, "the paused machine never submitted what b took over")
        let owner = await team.row("g1")?.owner ?? ""
        #expect(owner.contains(":\(b.processIdentifier):"), "b, which took it over, submitted shot 1 (\(owner))")
        let shot1 = await journaledGenerations(team.folder.file("a-cache")).first { $0.stage == "g1" }
        #expect(shot1?.adoptedFrom == owner && shot1?.requestID != nil, "a polled b's request for shot 1: \(String(describing: shot1))")
        #expect(try team.film("a") == team.film("b"))
        await team.stop()
    }

    /// Without the database, a run that would pay refuses (exit 3) and submits nothing;
    /// `--allow-local-journal` runs with this machine's journal alone after one warning; what
    /// is cached still runs without the database.
    @Test func withoutTheDatabasePaidSubmitsAreRefusedUnlessAllowed() async throws {
        let team = try await team()
        let nowhere = "postgres://team:s3cret@127.0.0.1:\(try TestPorts.free())/films?sslmode=disable"
        #expect(try await team.runToEnd("a", journal: nowhere) == 3)
        let refused = team.log("a")
        #expect(refused.contains("team's journal") && refused.contains("cannot be reached") && !refused.contains("s3cret"), "\(refused)")
        #expect(await team.emulator.stats().submitted == 0, "nothing submitted without the team's journal")
        #expect(try await team.runToEnd("a", extra: ["--allow-local-journal"], journal: nowhere) == 0, "\(team.log("a"))")
        let allowed = team.log("a")
        #expect(allowed.components(separatedBy: "--allow-local-journal").count - 1 == 1, "one warning: \(allowed)")
        #expect(await team.emulator.stats().submitted == 2)
        #expect(try await team.runToEnd("a", journal: nowhere) == 0, "cached work runs without the database: \(team.log("a"))")
        #expect(await team.emulator.stats().submitted == 2)
        await team.stop()
    }
}
