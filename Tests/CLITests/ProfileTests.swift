import AsyncHTTPClient
import Foundation
import Media
import NIOCore
import NIOFoundationCompat
import MediaTestSupport
import Pipeline
import SeedanceEmulator
import Testing

/// Profiles as a user runs them: takes explored cheaply in `draft`, the picks finished in
/// `final`, the same film at 9:16 in `social`, against an emulator that bills by resolution
/// and keeps every request body.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ProfileTests {
    static let key = "profile-test-key"
    static let pipeline = """
        pipeline: film
        profiles:
          draft:  { resolution: 480p }
          final:  { resolution: 1080p }
          social: { resolution: 720p, aspect_ratio: "9:16" }
        default_profile: draft
        stages:
          shots:
            uses: seedance.chain
            with:
              prompts: ["Shot 1: a harbour at dawn", "Shot 2: the boats leave", "Shot 3: open sea"]
              duration: 4
              takes: 2
          film: { uses: concat, with: { clips: "${shots.clips}" } }
        outputs: { film: "${film.video}" }
        """

    struct Session {
        let folder = TemporaryFolder("profiles")
        let emulator: SeedanceEmulator
        let url: URL

        init(pipeline: String = ProfileTests.pipeline) async throws {
            var configuration = EmulatorConfiguration(apiKey: ProfileTests.key, latency: .milliseconds(50), preset: "ultrafast",
                                                      pricePerSecond: 0.05)
            configuration.pricesByResolution = ["480p": 0.02, "720p": 0.05, "1080p": 0.10]
            emulator = try SeedanceEmulator(configuration: configuration)
            url = try await emulator.start()
            try pipeline.write(to: folder.file("film.yaml"), atomically: true, encoding: .utf8)
        }

        func seedpipe(_ arguments: [String]) async throws -> SeedpipeBinary.Outcome {
            var environment = SeedpipeBinary.offline
            environment["SEGMIND_API_KEY"] = ProfileTests.key
            let paid = ["run", "plan"].contains(arguments.first ?? "")
            return try await SeedpipeBinary.run(arguments + ["--cache", "cache"] + (paid ? ["--backend", url.absoluteString] : []),
                                                in: folder, environment: environment)
        }

        func summary(_ profile: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("out/film/\(profile)/run.json"))) as! [String: Any]
        }

        func planned(_ profile: String) async throws -> [String: Any] {
            let plan = try await seedpipe(["plan", "film.yaml", "--profile", profile, "--json"])
            try #require(plan.status == 0, "\(plan.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as! [String: Any]
            return try #require(json["profile"] as? [String: Any], "\(plan.stdout)")
        }

        /// A stage's video in the store, from a run.json.
        func video(_ stage: String, in summary: [String: Any]) throws -> URL {
            let stages = summary["stages"] as? [[String: Any]] ?? []
            let entry = try #require(stages.first { $0["stage"] as? String == stage }, "no stage \(stage)")
            let artifact = try #require(((entry["outputs"] as? [String: Any])?["video"] as? [String: Any])?["artifact"] as? [String: Any])
            let digest = artifact["digest"] as! String
            return folder.file("cache/objects/\(digest.prefix(2))/\(digest)")
        }
    }

    @Test func draftTakesPickedThenFinishedPayOneGenerationPerShotWithThePickedSeeds() async throws {
        let session = try await Session()
        let draft = try await session.seedpipe(["run", "film.yaml"])
        try #require(draft.status == 0, "\(draft.stderr)")
        var requests = await session.emulator.requests()
        #expect(requests.count == 6, "3 shots × 2 takes")
        #expect(requests.allSatisfy { $0.resolution == "480p" })
        #expect(draft.stderr.contains("out/film/draft/"), "\(draft.stderr)")

        let pick = try await session.seedpipe(["pick", "film.yaml", "shots-2", "2"])
        #expect(pick.status == 0, "\(pick.stderr)")
        // The draft again: shot 3's takes now continue from take 2 of shot 2.
        let redraft = try await session.seedpipe(["run", "film.yaml"])
        try #require(redraft.status == 0, "\(redraft.stderr)")
        #expect(await session.emulator.requests().count == 8)

        // What finishing costs, before anything is paid: 3 × 4 s at $0.10, beside the 8 draft takes' 8 × 4 s at $0.02.
        let estimate = try await session.planned("final")
        #expect(estimate["generations"] as? Int == 3)
        #expect(estimate["resolutions"] as? [String] == ["1080p"])
        let estimated = try #require(estimate["money"] as? Double)
        #expect(abs(estimated - 1.20) < 0.001, "\(estimate)")
        #expect(abs((estimate["explored_spent"] as? Double ?? 0) - 0.64) < 0.001, "\(estimate)")
        let text = try await session.seedpipe(["plan", "film.yaml", "--profile", "final"])
        #expect(text.stdout.contains("final: 3 generations at 1080p, 12 s of video, $1.20 of emulator credits; draft spent so far $0.64"),
                "\(text.stdout)")

        let final = try await session.seedpipe(["run", "film.yaml", "--profile", "final"])
        try #require(final.status == 0, "\(final.stderr)")
        requests = await session.emulator.requests()
        let finals = Array(requests.dropFirst(8))
        #expect(finals.count == 3, "one generation per shot")
        #expect(finals.map(\.resolution) == ["1080p", "1080p", "1080p"])
        #expect(finals.map(\.seed) == [42, 43, 42], "take 1, the picked take 2, take 1")
        let recorded = try session.summary("final")
        let spent = try #require(recorded["moneyEmulated"] as? Double)
        #expect(abs(spent - estimated) <= 0.05 * estimated, "plan $\(estimated), run $\(spent)")

        // Each final, brought down to 480p, is its picked draft take: the same shot at another size.
        let drafts = try session.summary("draft")
        for (shot, take) in [("shots-1", "shots-1#1"), ("shots-2", "shots-2#2"), ("shots-3", "shots-3#1")] {
            let finished = try session.video(shot, in: recorded), explored = try session.video(take, in: drafts)
            let psnr = try await MediaThread.run { () throws -> Double? in
                let draftVideo = VideoFile(explored), finalVideo = VideoFile(finished)
                let middle = (try MediaInfo.probe(explored).duration ?? 4) / 2
                let small = try draftVideo.frame(at: middle)
                let big = try finalVideo.frame(at: middle)
                #expect(big.width == 1920 && big.height == 1080)
                return try big.scaled(width: small.width, height: small.height).psnr(to: small)
            }
            #expect((psnr ?? 0) >= 30, "\(shot): \(psnr ?? 0) dB against \(take)")
        }

        // Nothing is paid twice.
        let again = try await session.seedpipe(["run", "film.yaml", "--profile", "final"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(await session.emulator.requests().count == 11)

        // `takes --profile final` shows each shot's takes beside its finished version.
        let takes = try await session.seedpipe(["takes", "film.yaml", "--profile", "final", "--json"])
        let listed = try JSONSerialization.jsonObject(with: Data(takes.stdout.utf8)) as! [String: Any]
        let shots = listed["shots"] as! [[String: Any]]
        #expect(shots.map { $0["finished_profile"] as? String } == ["final", "final", "final"], "\(takes.stdout)")
        #expect(shots.map { ($0["finished"] as? [String: Any])?["seed"] as? Int } == [42, 43, 42])
        #expect(shots.map { ($0["takes"] as? [Any])?.count } == [2, 2, 2])

        // The run log says which profile each run was made in.
        let log = try await session.seedpipe(["log", "film.yaml", "--json"])
        let records = try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(records.map { $0["profile"] as? String } == ["final", "final", "draft", "draft"], "\(log.stdout.prefix(400))")
        let lines = try await session.seedpipe(["log", "film.yaml"])
        #expect(lines.stdout.contains("--profile final") && lines.stdout.contains("--profile draft"), "\(lines.stdout)")
    }

    @Test func aSocialProfileMakesNineBySixteenClipsAndFilmAtThePriceItPlanned() async throws {
        let session = try await Session()
        let estimate = try await session.planned("social")
        let estimated = try #require(estimate["money"] as? Double)
        #expect(abs(estimated - 0.60) < 0.001, "3 × 4 s at $0.05: \(estimate)")
        let run = try await session.seedpipe(["run", "film.yaml", "--profile", "social"])
        try #require(run.status == 0, "\(run.stderr)")
        #expect(await session.emulator.requests().map(\.aspectRatio) == ["9:16", "9:16", "9:16"])
        let recorded = try session.summary("social")
        let spent = try #require(recorded["moneyEmulated"] as? Double)
        #expect(abs(spent - estimated) <= 0.05 * estimated, "plan $\(estimated), run $\(spent)")
        for stage in ["shots-1", "shots-3"] {
            let info = try MediaInfo.probe(try session.video(stage, in: recorded))
            #expect(info.video?.width == 720 && info.video?.height == 1280, "\(stage): \(String(describing: info.video))")
        }
        let film = try MediaInfo.probe(session.folder.file("out/film/social/film.mp4"))
        #expect(film.video?.width == 720 && film.video?.height == 1280)
    }

    @Test func profileMistakesAreFoundAtTheirLineBeforeAnythingIsPaid() async throws {
        let session = try await Session(pipeline: Self.pipeline
            .replacingOccurrences(of: "final:  { resolution: 1080p }", with: "final:  { resolution: 4k, stages: { flim: { crossfade: 0.5 } } }")
            .replacingOccurrences(of: "social: { resolution: 720p, aspect_ratio: \"9:16\" }", with: "social: { resolutoin: 720p }"))
        let validate = try await session.seedpipe(["validate", "film.yaml"])
        #expect(validate.status == 2)
        #expect(validate.stderr.contains("film.yaml:5:13") && validate.stderr.contains("unknown key `resolutoin`")
                    && validate.stderr.contains("did you mean `resolution`?"), "\(validate.stderr)")

        let misnamed = try await Session(pipeline: Self.pipeline
            .replacingOccurrences(of: "final:  { resolution: 1080p }", with: "final:  { resolution: 1080p, stages: { flim: { crossfade: 0.5 } } }"))
        let named = try await misnamed.seedpipe(["validate", "film.yaml"])
        #expect(named.status == 2)
        #expect(named.stderr.contains("film.yaml:4:42") && named.stderr.contains("no stage `flim`") && named.stderr.contains("did you mean `film`?"),
                "\(named.stderr)")
        let fixed = try await Session(pipeline: Self.pipeline
            .replacingOccurrences(of: "final:  { resolution: 1080p }", with: "final:  { resolution: 4k }"))
        let checked = try await fixed.seedpipe(["validate", "film.yaml"])
        #expect(checked.status == 2)
        #expect(checked.stderr.contains("film.yaml:4:25") && checked.stderr.contains("4k"), "the value, where the profile writes it: \(checked.stderr)")
        let run = try await fixed.seedpipe(["run", "film.yaml", "--profile", "final"])
        #expect(run.status == 2, "\(run.stderr)")
        let unknown = try await fixed.seedpipe(["plan", "film.yaml", "--profile", "fnial"])
        #expect(unknown.status == 2 && unknown.stderr.contains("did you mean `final`?"), "\(unknown.stderr)")
        let sent = await fixed.emulator.requests().count + session.emulator.requests().count
        #expect(sent == 0, "nothing was sent")

        // Without profiles nothing changes, and --profile is an error that says so.
        let plain = try await Session(pipeline: """
            pipeline: film
            stages:
              shot: { uses: seedance.generate, with: { prompt: "a harbour", duration: 4, resolution: 480p } }
            outputs: { video: "${shot.video}" }
            """)
        let refused = try await plain.seedpipe(["plan", "film.yaml", "--profile", "final"])
        #expect(refused.status == 2 && refused.stderr.contains("the pipeline has no profiles"), "\(refused.stderr)")
        let ran = try await plain.seedpipe(["run", "film.yaml"])
        #expect(ran.status == 0 && FileManager.default.fileExists(atPath: plain.folder.file("out/film/run.json").path), "\(ran.stderr)")
    }

    @Test func aProfileThatChangesNothingHitsTheCacheARunWithoutProfilesFilled() async throws {
        let plain = """
            pipeline: film
            stages:
              shot: { uses: seedance.generate, with: { prompt: "a harbour", duration: 4, resolution: 480p } }
            outputs: { video: "${shot.video}" }
            """
        let session = try await Session(pipeline: plain)
        #expect(try await session.seedpipe(["run", "film.yaml"]).status == 0)
        try (plain.replacingOccurrences(of: "stages:", with: "profiles:\n  draft: { resolution: 480p }\n  final: { resolution: 1080p }\ndefault_profile: draft\nstages:"))
            .write(to: session.folder.file("film.yaml"), atomically: true, encoding: .utf8)
        let draft = try await session.seedpipe(["run", "film.yaml"])
        #expect(draft.status == 0, "\(draft.stderr)")
        #expect(await session.emulator.requests().count == 1, "the draft profile's parameters are the ones already made")
    }
}

/// `seedpipe serve --cost-per-second` with a price per resolution, as a user runs it: its
/// identity tells seedpipe the prices, so each profile is planned at its own.
@Suite(.timeLimit(.minutes(5))) struct EmulatorPricesTests {
    @Test func servePricesEachResolutionAndPlanUsesThem() async throws {
        let folder = TemporaryFolder("emulator-prices")
        let served = try await ServedEmulator(["--latency", "0.05", "--cost-per-second", "0.04,480p=0.02,1080p=0.10"])
        defer { served.stop() }
        let address = served.address
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: address + "/_emulator/identity"), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 16)
        let identity = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        #expect(identity?["price_per_second"] as? Double == 0.04)
        #expect(identity?["prices_per_second"] as? [String: Double] == ["480p": 0.02, "1080p": 0.10], "\(String(describing: identity))")

        try ProfileTests.pipeline.write(to: folder.file("film.yaml"), atomically: true, encoding: .utf8)
        let expectations: [(String, Double)] = [("draft", 6 * 4 * 0.02), ("final", 3 * 4 * 0.10), ("social", 3 * 4 * 0.04)]
        for (profile, expected) in expectations {
            let plan = try await SeedpipeBinary.run(["plan", "film.yaml", "--profile", profile, "--json", "--backend", address], in: folder)
            let json = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
            let money = try #require(json?["money"] as? Double, "\(plan.stdout)\(plan.stderr)")
            #expect(abs(money - expected) < 1e-9, "\(profile): \(money)")
        }
        let refused = try await SeedpipeBinary.run(["serve", "--cost-per-second", "4k=0.5"], in: folder)
        #expect(refused.status != 0 && refused.stderr.contains("--cost-per-second"), "\(refused.stderr)")
    }
}
