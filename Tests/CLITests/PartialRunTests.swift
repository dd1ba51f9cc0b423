import Foundation
import MediaTestSupport
import Pipeline
import SeedanceEmulator
import SeedpipeKit
import Testing

/// `--only` and `--until` run part of a pipeline and pay for that part alone (the emulator
/// counts the submits); `plan` says the same before; `seedpipe log` lists every run.
@Suite(.timeLimit(.minutes(10))) struct PartialRunTests {
    static let key = "partial-test-key"
    static let pipeline = """
        pipeline: parts
        vars: { extra: "the lamp turns" }
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          g1: { uses: seedance.generate, with: { prompt: "Shot 1: a lighthouse at dusk" } }
          g2: { uses: seedance.generate, with: { prompt: "Shot 2: waves below it" } }
          g3: { uses: seedance.generate, with: { prompt: "Shot 3: gulls over the harbour" } }
          poster: { uses: thumbnail, with: { video: "${g1.video}", at: 1 } }
          g4: { uses: seedance.generate, with: { prompt: "Shot 4: ${vars.extra}", retries_on_blocked: 0 } }
          film: { uses: concat, with: { clips: ["${g1.video}", "${g2.video}", "${g3.video}"] } }
        outputs: { poster: "${poster.image}", film: "${film.video}" }
        """

    struct Planned: Decodable {
        struct Step: Decodable { var stage: String }
        var steps: [Step]
        var generations: Int
    }

    struct Summary: Decodable {
        struct Partial: Decodable { var only: [String]; var until: String?; var produced: [String]; var notProduced: [String] }
        var partial: Partial?
    }

    @Test func onlyAndUntilPayForWhatTheyNameAndTheLogListsEveryRun() async throws {
        let folder = TemporaryFolder("partial")
        try Self.pipeline.write(to: folder.file("parts.yaml"), atomically: true, encoding: .utf8)
        let emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(
            apiKey: Self.key, latency: .milliseconds(200), preset: "ultrafast", identifiesAsEmulator: false))
        let url = try await emulator.start()
        var environment = ProcessInfo.processInfo.environment
        environment["SEGMIND_API_KEY"] = Self.key
        func seedpipe(_ arguments: [String]) async throws -> SeedpipeBinary.Outcome {
            try await SeedpipeBinary.run(arguments + ["--backend", url.absoluteString], in: folder, environment: environment)
        }
        func plan(_ options: [String]) async throws -> Planned {
            let planned = try await seedpipe(["plan", "parts.yaml", "--json"] + options)
            try #require(planned.status == 0, "\(planned.stderr)")
            return try JSONDecoder().decode(Planned.self, from: Data(planned.stdout.utf8))
        }

        // --only poster: the poster and the one shot it needs.
        let onlyPoster = try await plan(["--only", "poster"])
        #expect(onlyPoster.steps.map(\.stage).sorted() == ["g1", "poster"] && onlyPoster.generations == 1)
        let first = try await seedpipe(["run", "parts.yaml", "--only", "poster"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(await emulator.stats().submitted == 1, "paid for g1 alone")
        #expect(FileManager.default.fileExists(atPath: folder.file("out/parts/poster.jpg").path))
        #expect(!FileManager.default.fileExists(atPath: folder.file("out/parts/film.mp4").path))
        let summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: folder.file("out/parts/run.json")))
        #expect(summary.partial?.produced == ["poster"] && summary.partial?.notProduced == ["film"] && summary.partial?.only == ["poster"])

        // --until g2: everything declared up to g2; g1 is cached, so one generation.
        let untilG2 = try await plan(["--until", "g2"])
        #expect(untilG2.steps.map(\.stage) == ["g1", "g2"] && untilG2.generations == 1)
        #expect(try await seedpipe(["run", "parts.yaml", "--until", "g2"]).status == 0)
        #expect(await emulator.stats().submitted == 2)
        #expect(FileManager.default.fileExists(atPath: folder.file("out/parts/poster.jpg").path), "an output not produced is left as it was")

        // The whole pipeline: g3 and g4 are what is left to pay for.
        let whole = try await seedpipe(["run", "parts.yaml"])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(await emulator.stats().submitted == 4, "each shot paid once over three runs")
        #expect(FileManager.default.fileExists(atPath: folder.file("out/parts/film.mp4").path))
        // A shot moderation refuses: a failed run in the log.
        let failed = try await seedpipe(["run", "parts.yaml", "--only", "g4", "--var", "extra=moderation-test"])
        #expect(failed.status == 1, "\(failed.stderr)")

        let unknown = try await seedpipe(["run", "parts.yaml", "--only", "flim"])
        #expect(unknown.status == 2 && unknown.stderr.contains("did you mean `film`?"), "\(unknown.stderr)")

        // The log: newest first, the failed run first.
        let log = try await SeedpipeBinary.run(["log", "parts.yaml"], in: folder)
        let lines = log.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count == 4, "\(log.stdout)")
        #expect(lines.first?.contains("failed") == true && lines.dropFirst().first?.contains("succeeded") == true, "\(log.stdout)")
        #expect(lines.last?.contains("--only poster") == true, "\(log.stdout)")
        let listed = try await SeedpipeBinary.run(["log", "parts.yaml", "--json"], in: folder)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let records = try decoder.decode([RunRecord].self, from: Data(listed.stdout.utf8))
        #expect(records.map(\.exitCode) == [1, 0, 0, 0])
        #expect(records[0].stages.first { $0.stage == "g4" }?.status == "failed" && records[0].failed == 1 && records[0].message != nil)
        #expect(records.map(\.generationsPaid) == [0, 2, 1, 1])
        #expect(records.allSatisfy { $0.fileDigest?.count == 64 && $0.pipeline == "parts" })
        let one = try await SeedpipeBinary.run(["log", "parts.yaml", records[1].id], in: folder)
        #expect(one.status == 0 && one.stdout.contains("g3") && one.stdout.contains("ran") && one.stdout.contains("cached"), "\(one.stdout)")
        let missing = try await SeedpipeBinary.run(["log", "parts.yaml", "nosuchrun"], in: folder)
        #expect(missing.status == 2)
        await emulator.stop()
    }
}
