import Foundation
import MediaTestSupport
import Testing

/// What `plan` says a run will make is what the run then makes, exactly, through the edits a
/// user makes to a film: more takes, a changed prompt, a pick, re-rolls with and without
/// `--keep-after`, a new shot. On `seedpipe serve --cost-per-second 0.05`, so the money is
/// checked too: emulated, at the emulator's own price, never a price learned from elsewhere.
@Suite(.timeLimit(.minutes(10))) struct PlanMatchesRunTests {
    let folder = TemporaryFolder("plan-matches")
    static let price = 0.05

    func write(beats: [String], takes: Int? = nil) throws {
        let each = beats.map { "{ beat: \"\($0)\" }" }.joined(separator: ", ")
        try """
            pipeline: harbour
            defaults:
              seedance: { resolution: 480p, duration: 4 }
            stages:
              prompts:
                uses: template
                with: { template: "Shot {{index}}: a harbour {{beat}}", each: [\(each)] }
              shots: { uses: seedance.chain, with: { prompts: "${prompts.texts}", first_frame: first.png\(takes.map { ", takes: \($0)" } ?? "") } }
              film: { uses: concat, with: { clips: "${shots.clips}" } }
            outputs: { film: "${film.video}" }
            """.write(to: folder.file("harbour.yaml"), atomically: true, encoding: .utf8)
    }

    /// Plans, checks `--max-generations` against the plan (one fewer is refused before anything
    /// is made; the plan's own count passes), runs, and compares with what run.json records.
    @discardableResult
    func planThenRun(_ step: String, expect generations: Int, backend: [String]) async throws -> Int {
        let plan = try await SeedpipeBinary.run(["plan", "harbour.yaml", "--json"] + backend, in: folder)
        try #require(plan.status == 0, "\(step): \(plan.stderr)")
        let planned = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let count = planned["generations"] as? Int ?? -1, seconds = planned["seconds"] as? Int ?? -1
        let money = planned["money"] as? Double ?? -1
        #expect(count == generations, "\(step): the plan says \(count) generations")
        #expect(planned["emulated"] as? Bool == (count > 0), "\(step): an emulator's work is planned as emulated")
        #expect(abs(money - Double(seconds) * Self.price) < 1e-9, "\(step): planned $\(money) for \(seconds) s")
        if count > 0 {
            let refused = try await SeedpipeBinary.run(["run", "harbour.yaml", "--max-generations", "\(count - 1)"] + backend, in: folder)
            #expect(refused.status != 0 && refused.stderr.contains("\(count)"), "\(step): \(refused.stderr)")
        }
        let run = try await SeedpipeBinary.run(["run", "harbour.yaml", "--max-generations", "\(count)"] + backend, in: folder)
        try #require(run.status == 0, "\(step): \(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("out/harbour/run.json"))) as? [String: Any])
        #expect(summary["generationsEmulated"] as? Int == count, "\(step): planned \(count), the run made \(summary["generationsEmulated"] ?? "?")")
        #expect(summary["secondsEmulated"] as? Int == seconds, "\(step): planned \(seconds) s, the run made \(summary["secondsEmulated"] ?? "?") s")
        #expect(abs((summary["moneyEmulated"] as? Double ?? -1) - money) < 1e-9, "\(step): planned $\(money), billed \(summary["moneyEmulated"] ?? "?")")
        #expect(summary["generationsPaid"] as? Int == 0 && summary["moneyPaid"] as? Double == 0, "\(step): nothing is paid on an emulator")
        if count > 0 {
            #expect(run.stderr.contains("emulated \(count == 1 ? "1 generation" : "\(count) generations") (\(seconds) s of video"), "\(step): \(run.stderr)")
            #expect(!run.stderr.contains("paid for"), "\(step): \(run.stderr)")
        }
        return count
    }

    /// The generations a pick or re-roll says the next run makes because of it.
    func announced(_ text: String) -> Int {
        guard let line = text.split(separator: "\n").first(where: { $0.contains("the next run") }),
              let match = line.firstMatch(of: #/(?:regenerates|emulates) .* \((\d+) generations?, /#) else { return 0 }
        return Int(match.1) ?? 0
    }

    @Test func everyEditIsPlannedAsItIsMade() async throws {
        // `seedpipe serve`, as a user runs it beside their pipelines (its own process).
        let served = try await ServedEmulator(["--latency", "0.05", "--cost-per-second", String(Self.price)])
        defer { served.stop() }
        let address = served.address
        let backend = ["--backend", address]
        try Fixtures.picture(folder.file("first.png"), red: 30, green: 90, blue: 150)
        try write(beats: ["at dawn", "at noon", "at dusk"])
        try await planThenRun("the first run", expect: 3, backend: backend)
        try await planThenRun("nothing changed", expect: 0, backend: backend)

        // A second take of every shot: the first takes are made, so only the new ones.
        try write(beats: ["at dawn", "at noon", "at dusk"], takes: 2)
        try await planThenRun("takes: 2", expect: 3, backend: backend)

        // Shot 2's prompt: both its takes, and shot 3's two (they start on its last frame).
        try write(beats: ["at dawn", "in the rain at noon", "at dusk"], takes: 2)
        try await planThenRun("one prompt changed", expect: 4, backend: backend)

        // Picking take 2 of shot 1: every later shot starts on another frame.
        let pick = try await SeedpipeBinary.run(["pick", "harbour.yaml", "shots-1", "2"] + backend, in: folder)
        #expect(pick.status == 0, "\(pick.stderr)")
        let picked = try await planThenRun("pick take 2 of shots-1", expect: 4, backend: backend)
        #expect(announced(pick.stdout + pick.stderr) == picked, "the pick says what the plan says: \(pick.stdout)\(pick.stderr)")

        // A re-roll of shot 2 (made by the command): the next run remakes shot 3's takes.
        let reroll = try await SeedpipeBinary.run(["reroll", "harbour.yaml", "shots-2"] + backend, in: folder)
        #expect(reroll.status == 0, "\(reroll.stderr)")
        let after = try await planThenRun("reroll shots-2", expect: 2, backend: backend)
        #expect(announced(reroll.stdout + reroll.stderr) == after, "the re-roll says what the plan says: \(reroll.stdout)")

        // Between its neighbours: the shots after keep their first frame, nothing more to make.
        let bridged = try await SeedpipeBinary.run(["reroll", "harbour.yaml", "shots-2", "--keep-after"] + backend,
                                                   in: folder)
        #expect(bridged.status == 0, "\(bridged.stderr)")
        #expect(!(bridged.stdout + bridged.stderr).contains("the next run regenerates"), "\(bridged.stdout)\(bridged.stderr)")
        try await planThenRun("reroll shots-2 --keep-after", expect: 0, backend: backend)

        // A fourth shot: its two takes.
        try write(beats: ["at dawn", "in the rain at noon", "at dusk", "at night"], takes: 2)
        try await planThenRun("a new shot", expect: 2, backend: backend)

        // No price was learned from the emulator's bills: a plan for the paid service does not know one.
        var paid = SeedpipeBinary.offline
        paid["SEGMIND_API_KEY"] = "plan-only-key"
        try write(beats: ["at dawn", "in the rain at noon", "at dusk", "at night", "at midnight"], takes: 2)
        let service = try await SeedpipeBinary.run(["plan", "harbour.yaml", "--backend", "segmind"], in: folder, environment: paid)
        #expect(service.stdout.contains("2 generations to pay for (8 s of video, price unknown"), "\(service.stdout)")
    }

    /// Offline work is emulated: labelled so, not marked paid in the cache, so `cache gc` may
    /// collect it; the next run makes it again, for nothing. The built-in emulator and
    /// `seedpipe serve` bill alike by default.
    @Test func offlineWorkIsEmulatedAndCollectable() async throws {
        try Fixtures.picture(folder.file("first.png"), red: 30, green: 90, blue: 150)
        try write(beats: ["at dawn", "at noon"])
        let run = try await SeedpipeBinary.run(["run", "harbour.yaml", "--emulator-latency", "0.05"], in: folder)
        #expect(run.status == 0 && run.stderr.contains("emulated 2 generations (8 s of video, nothing paid)"), "\(run.stderr)")
        #expect(!run.stderr.contains("paid for") && !run.stderr.contains("$0.00"), "\(run.stderr)")
        let listed = try await SeedpipeBinary.run(["cache", "ls", "harbour.yaml"], in: folder)
        #expect(listed.stdout.contains("(0 paid generations, 2 emulated)") && listed.stdout.contains("  emulated"), "\(listed.stdout)")
        #expect(!listed.stdout.contains("  paid"), "\(listed.stdout)")
        let collected = try await SeedpipeBinary.run(["cache", "gc", "harbour.yaml", "--max-size", "1KB"], in: folder)
        #expect(collected.status == 0, "\(collected.stderr)")
        let plan = try await SeedpipeBinary.run(["plan", "harbour.yaml"], in: folder)
        #expect(plan.stdout.contains("2 generations to emulate (8 s of video, nothing paid)"), "collected, so made again: \(plan.stdout)")
        let again = try await SeedpipeBinary.run(["run", "harbour.yaml", "--emulator-latency", "0.05"], in: folder)
        #expect(again.status == 0 && again.stderr.contains("emulated 2 generations"), "\(again.stderr)")
        let serve = try await SeedpipeBinary.run(["serve", "--help"], in: folder)
        #expect(serve.stdout.contains("(default: 0.0)"), "seedpipe serve bills as the built-in emulator does: \(serve.stdout)")
    }
}
