import Foundation
import Media
import MediaTestSupport
import Pipeline
import SeedanceEmulator
import Stages
import Testing

/// `takes`, `pick` and `reroll` as a user runs them, against an emulator that counts what is paid for.
@Suite(.timeLimit(.minutes(10))) struct TakesCommandTests {
    static let key = "takes-test-key"
    static let pipeline = """
        pipeline: film
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          prompts:
            uses: template
            with:
              template: "Shot {{index}}: a harbour {{beat}}"
              each: [{ beat: "at dawn" }, { beat: "at noon" }, { beat: "at dusk" }]
          shots: { uses: seedance.chain, with: { prompts: "${prompts.texts}", first_frame: first.png } }
          film: { uses: concat, with: { clips: "${shots.clips}" } }
        outputs: { film: "${film.video}", seams: "${shots.seams}" }
        """

    struct Session {
        let folder = TemporaryFolder("takes")
        let emulator: SeedanceEmulator
        let url: URL

        init() async throws {
            emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(apiKey: TakesCommandTests.key, latency: .milliseconds(100),
                                                                                   preset: "ultrafast", identifiesAsEmulator: false))
            url = try await emulator.start()
            try TakesCommandTests.pipeline.write(to: folder.file("film.yaml"), atomically: true, encoding: .utf8)
            try Fixtures.picture(folder.file("first.png"), red: 40, green: 100, blue: 180)
        }

        /// seedpipe with the cache in `cache/`; paid commands go to the emulator.
        func seedpipe(_ arguments: [String], backend: Bool = false) async throws -> SeedpipeBinary.Outcome {
            var environment = SeedpipeBinary.offline
            environment["SEGMIND_API_KEY"] = TakesCommandTests.key
            let extra = backend ? ["--backend", url.absoluteString] : []
            return try await SeedpipeBinary.run(arguments + ["--cache", "cache"] + extra, in: folder, environment: environment)
        }

        var submitted: Int { get async { await emulator.stats().submitted } }

        func summary() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("out/film/run.json"))) as! [String: Any]
        }

        func picks() throws -> String { try String(contentsOf: folder.file("film.picks.yaml"), encoding: .utf8) }
    }

    /// The digest of each stage's video in the last run.json.
    static func videos(_ summary: [String: Any]) -> [String: String] {
        var videos: [String: String] = [:]
        for stage in summary["stages"] as? [[String: Any]] ?? [] {
            if let video = ((stage["outputs"] as? [String: Any])?["video"] as? [String: Any])?["artifact"] as? [String: Any],
               let digest = video["digest"] as? String {
                videos[stage["stage"] as! String] = digest
            }
        }
        return videos
    }

    @Test func rerollKeepAfterPaysForOneTakeAndLeavesEveryLaterShotAsItWas() async throws {
        let session = try await Session()
        let run = try await session.seedpipe(["run", "film.yaml", "--out", "out/film"], backend: true)
        try #require(run.status == 0, "\(run.stderr)")
        #expect(await session.submitted == 3)
        let before = Self.videos(try session.summary())

        let reroll = try await session.seedpipe(["reroll", "film.yaml", "shots-2", "--keep-after"], backend: true)
        #expect(reroll.status == 0, "\(reroll.stderr)")
        #expect(await session.submitted == 4, "one generation, nothing else")
        #expect(reroll.stderr.contains("take 2 (seed 43), between its neighbours"), "\(reroll.stderr)")
        #expect(reroll.stdout.contains("seam at the start:") && reroll.stdout.contains("seam at the end:"), "\(reroll.stdout)")
        let picks = try session.picks()
        #expect(picks.contains("shots-2:\n  take: 2\n  digest: "), "\(picks)")
        #expect(picks.contains("    - seed: 43\n      keep_after: 1\n"), "\(picks)")

        let rerun = try await session.seedpipe(["run", "film.yaml", "--out", "out/film"], backend: true)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("shots-2: take 2 of 2 (picked)"), "\(rerun.stderr)")
        #expect(await session.submitted == 4, "the later shot is kept, not paid for again")
        let summary = try session.summary()
        let after = Self.videos(summary)
        #expect(after["shots-3"] == before["shots-3"] && after["shots-1"] == before["shots-1"])
        #expect(after["shots-2"] != before["shots-2"], "the film has the new take of shot 2")
        let shots = try #require(summary["shots"] as? [[String: Any]])
        let second = try #require(shots.first { $0["shot"] as? String == "shots-2" })
        let takes = try #require(second["takes"] as? [[String: Any]])
        #expect(takes.map { $0["seed"] as? Int } == [42, 43])
        #expect(takes.map { $0["picked"] as? Bool } == [false, true])
        #expect(takes.allSatisfy { $0["request_id"] is String && $0["digest"] is String })
        // The new take's seams with both neighbours are measured by the chain's seams stage too.
        let seams = try #require(((summary["outputs"] as? [String: Any])?["seams"] as? [String: Any])?["seams"] as? [[String: Any]])
        #expect(seams.count == 2 && seams.allSatisfy { ($0["psnr"] as? Double ?? 0) > 30 }, "\(seams)")
        let html = try String(contentsOf: session.folder.file("out/film/report.html"), encoding: .utf8)
        #expect(html.contains("<tr data-stage=\"shots-2\">") && html.contains("data-take=\"2\" data-picked=\"true\""))
        await session.emulator.stop()
    }

    @Test func takesListsWhatWasPaidForAndPickSaysWhatTheNextRunRegenerates() async throws {
        let session = try await Session()
        try #require(try await session.seedpipe(["run", "film.yaml", "--out", "out/film"], backend: true).status == 0)
        // A plain reroll: the shot after starts on the new take, so the next run regenerates it.
        let reroll = try await session.seedpipe(["reroll", "film.yaml", "shots-2", "--count", "2"], backend: true)
        #expect(reroll.status == 0, "\(reroll.stderr)")
        #expect(reroll.stderr.contains("then the next run regenerates shots-3 because of it (1 generation, 4 s of video, about $0.12)"), "\(reroll.stderr)")
        #expect(await session.submitted == 5)

        let listing = try await session.seedpipe(["takes", "film.yaml", "shots-2", "--json"])
        #expect(listing.status == 0, "\(listing.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as! [String: Any]
        let shot = try #require((json["shots"] as? [[String: Any]])?.first)
        #expect(shot["shot"] as? String == "shots-2" && shot["picked"] as? Int == 3)
        let takes = try #require(shot["takes"] as? [[String: Any]])
        #expect(takes.map { $0["take"] as? Int } == [1, 2, 3] && takes.map { $0["seed"] as? Int } == [42, 43, 44])
        #expect(takes.allSatisfy { $0["state"] as? String == "done" && $0["request_id"] is String && $0["seconds"] as? Double == 4 })
        for take in takes {
            let poster = try #require(take["poster"] as? String)
            #expect(FileManager.default.fileExists(atPath: session.folder.file(poster).path), "\(poster)")
        }

        // Back to take 1: shot 3 was made from it, so nothing more is paid for.
        let pickOne = try await session.seedpipe(["pick", "film.yaml", "shots-2", "1"])
        #expect(pickOne.status == 0, "\(pickOne.stderr)")
        #expect(pickOne.stdout.contains("the next run pays for nothing more because of it"), "\(pickOne.stdout)")
        // Take 3: shot 3 must start on its last frame.
        let pickThree = try await session.seedpipe(["pick", "film.yaml", "shots-2", "3"])
        #expect(pickThree.stdout.contains("the next run regenerates shots-3 because of it (1 generation, 4 s of video, about $0.12)"), "\(pickThree.stdout)")
        #expect(await session.submitted == 5, "pick generates nothing")
        let plan = try await session.seedpipe(["plan", "film.yaml"])
        #expect(plan.stdout.contains("shots-2: take 3 of 3 (picked)") && plan.stdout.contains("1 generation to pay for"), "\(plan.stdout)")
        try #require(try await session.seedpipe(["run", "film.yaml", "--out", "out/film"], backend: true).status == 0)
        #expect(await session.submitted == 6)

        // Paid takes survive gc, and a rerun after all of this pays nothing.
        let gc = try await session.seedpipe(["cache", "gc", "--older-than", "0h"])
        #expect(gc.status == 0, "\(gc.stderr)")
        let kept = try await session.seedpipe(["takes", "film.yaml", "shots-2"])
        #expect(kept.stdout.components(separatedBy: "  done  ").count - 1 == 3, "\(kept.stdout)")
        // The chain's own name and the shot's number, as its hint says.
        let spaced = try await session.seedpipe(["takes", "film.yaml", "shots", "2"])
        #expect(spaced.status == 0 && spaced.stdout == kept.stdout, "\(spaced.stderr)")
        let last = try await session.seedpipe(["run", "film.yaml", "--out", "out/film"], backend: true)
        #expect(last.status == 0 && last.stderr.contains("0 generations to pay for"), "\(last.stderr)")
        #expect(await session.submitted == 6)

        // Bad picks are refused: a take that does not exist, from the command line and by hand.
        let missing = try await session.seedpipe(["pick", "film.yaml", "shots-2", "9"])
        #expect(missing.status == 2 && missing.stderr.contains("shots-2 has no take 9: it has takes 1–3"), "\(missing.stderr)")
        let edited = try session.picks().replacingOccurrences(of: "take: 3", with: "take: 9")
        try edited.write(to: session.folder.file("film.picks.yaml"), atomically: true, encoding: .utf8)
        let line = edited.components(separatedBy: "\n").firstIndex { $0.contains("take: 9") }! + 1
        let broken = try await session.seedpipe(["plan", "film.yaml"])
        #expect(broken.status == 2, "\(broken.stderr)")
        #expect(broken.stderr.contains("film.picks.yaml:\(line):9"), "\(broken.stderr)")
        await session.emulator.stop()
    }

    @Test func aChainsOwnNameAndAShotNumberNameTheShot() async throws {
        let session = try await Session()
        let run = try await session.seedpipe(["run", "film.yaml", "--out", "out/film"], backend: true)
        try #require(run.status == 0, "\(run.stderr)")
        let reroll = try await session.seedpipe(["reroll", "film.yaml", "shots", "2"], backend: true)
        #expect(reroll.status == 0, "\(reroll.stderr)")
        #expect(reroll.stderr.contains("reroll shots-2: take 2"), "\(reroll.stderr)")
        let pick = try await session.seedpipe(["pick", "film.yaml", "shots", "2", "1"])
        #expect(pick.status == 0, "\(pick.stderr)")
        #expect(pick.stdout.contains("shots-2: take 1 picked (was take 2)"), "\(pick.stdout)")
        let alone = try await session.seedpipe(["pick", "film.yaml", "shots", "1"])
        #expect(alone.status == 2)
        #expect(alone.stderr.contains("`shots` has 3 shots (shots-1, shots-2, shots-3): name one"), "\(alone.stderr)")
    }
}