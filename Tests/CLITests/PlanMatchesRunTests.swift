import Foundation
import MediaTestSupport
import Testing

/// What `plan` says a run will make is what the run then makes, exactly, through the edits a
/// user makes to a film: more takes, a changed prompt, a pick, re-rolls with and without
/// `--keep-after`, a new shot. On the emulator, offline.
@Suite struct PlanMatchesRunTests {
    let folder = TemporaryFolder("plan-matches")

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
    func planThenRun(_ step: String, expect generations: Int) async throws -> Int {
        let plan = try await SeedpipeBinary.run(["plan", "harbour.yaml", "--json"], in: folder)
        try #require(plan.status == 0, "\(step): \(plan.stderr)")
        let planned = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let count = planned["generations"] as? Int ?? -1, seconds = planned["seconds"] as? Int ?? -1
        #expect(count == generations, "\(step): the plan says \(count) generations")
        if count > 0 {
            let refused = try await SeedpipeBinary.run(["run", "harbour.yaml", "--max-generations", "\(count - 1)"], in: folder)
            #expect(refused.status != 0 && refused.stderr.contains("\(count)"), "\(step): \(refused.stderr)")
        }
        let run = try await SeedpipeBinary.run(["run", "harbour.yaml", "--emulator-latency", "0.05", "--max-generations", "\(count)"],
                                               in: folder)
        try #require(run.status == 0, "\(step): \(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("out/harbour/run.json"))) as? [String: Any])
        #expect(summary["generationsPaid"] as? Int == count, "\(step): planned \(count), the run made \(summary["generationsPaid"] ?? "?")")
        #expect(summary["secondsPaid"] as? Int == seconds, "\(step): planned \(seconds) s, the run made \(summary["secondsPaid"] ?? "?") s")
        return count
    }

    /// The generations a pick or re-roll says the next run makes because of it.
    func announced(_ text: String) -> Int {
        guard let line = text.split(separator: "\n").first(where: { $0.contains("the next run") }),
              let match = line.firstMatch(of: #/regenerates .* \((\d+) generations?, /#) else { return 0 }
        return Int(match.1) ?? 0
    }

    @Test func everyEditIsPlannedAsItIsMade() async throws {
        try Fixtures.picture(folder.file("first.png"), red: 30, green: 90, blue: 150)
        try write(beats: ["at dawn", "at noon", "at dusk"])
        try await planThenRun("the first run", expect: 3)
        try await planThenRun("nothing changed", expect: 0)

        // A second take of every shot: the first takes are made, so only the new ones.
        try write(beats: ["at dawn", "at noon", "at dusk"], takes: 2)
        try await planThenRun("takes: 2", expect: 3)

        // Shot 2's prompt: both its takes, and shot 3's two (they start on its last frame).
        try write(beats: ["at dawn", "in the rain at noon", "at dusk"], takes: 2)
        try await planThenRun("one prompt changed", expect: 4)

        // Picking take 2 of shot 1: every later shot starts on another frame.
        let pick = try await SeedpipeBinary.run(["pick", "harbour.yaml", "shots-1", "2"], in: folder)
        #expect(pick.status == 0, "\(pick.stderr)")
        let picked = try await planThenRun("pick take 2 of shots-1", expect: 4)
        #expect(announced(pick.stdout + pick.stderr) == picked, "the pick says what the plan says: \(pick.stdout)\(pick.stderr)")

        // A re-roll of shot 2 (made by the command): the next run remakes shot 3's takes.
        let reroll = try await SeedpipeBinary.run(["reroll", "harbour.yaml", "shots-2", "--emulator-latency", "0.05"], in: folder)
        #expect(reroll.status == 0, "\(reroll.stderr)")
        let after = try await planThenRun("reroll shots-2", expect: 2)
        #expect(announced(reroll.stdout + reroll.stderr) == after, "the re-roll says what the plan says: \(reroll.stdout)")

        // Between its neighbours: the shots after keep their first frame, nothing more to make.
        let bridged = try await SeedpipeBinary.run(["reroll", "harbour.yaml", "shots-2", "--keep-after", "--emulator-latency", "0.05"],
                                                   in: folder)
        #expect(bridged.status == 0, "\(bridged.stderr)")
        #expect(!(bridged.stdout + bridged.stderr).contains("the next run regenerates"), "\(bridged.stdout)\(bridged.stderr)")
        try await planThenRun("reroll shots-2 --keep-after", expect: 0)

        // A fourth shot: its two takes.
        try write(beats: ["at dawn", "in the rain at noon", "at dusk", "at night"], takes: 2)
        try await planThenRun("a new shot", expect: 2)
    }
}
