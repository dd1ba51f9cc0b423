import Foundation
import MediaTestSupport
import Pipeline
import SeedanceEmulator
import Stages
import Testing

/// What runs cost, limits on spending, and an account that runs dry, as a user meets them.
@Suite(.timeLimit(.minutes(10))) struct MoneyCommandTests {
    static let key = "money-test-key"
    static let pipeline = """
        pipeline: four
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          a: { uses: seedance.generate, with: { prompt: "a red fox in the snow" } }
          b: { uses: seedance.generate, with: { prompt: "a blue whale at sea" } }
          c: { uses: seedance.generate, with: { prompt: "a green parrot on a branch" } }
          d: { uses: seedance.generate, with: { prompt: "a yellow taxi in the rain" } }
        """

    struct Session {
        let folder = TemporaryFolder("money")
        let emulator: SeedanceEmulator
        let url: URL

        init(_ configure: (inout EmulatorConfiguration) -> Void = { _ in }) async throws {
            var configuration = EmulatorConfiguration(apiKey: MoneyCommandTests.key, latency: .milliseconds(100), preset: "ultrafast",
                                                      pricePerSecond: 0.05, identifiesAsEmulator: false)
            configure(&configuration)
            emulator = try SeedanceEmulator(configuration: configuration)
            url = try await emulator.start()
            try MoneyCommandTests.pipeline.write(to: folder.file("four.yaml"), atomically: true, encoding: .utf8)
        }

        func seedpipe(_ arguments: [String]) async throws -> SeedpipeBinary.Outcome {
            var environment = SeedpipeBinary.offline
            environment["SEGMIND_API_KEY"] = MoneyCommandTests.key
            environment.removeValue(forKey: "SEEDPIPE_PRICE_PER_SECOND")
            return try await SeedpipeBinary.run(arguments + ["--cache", "cache"], in: folder, environment: environment)
        }

        func run(_ extra: [String] = []) async throws -> SeedpipeBinary.Outcome {
            try await seedpipe(["run", "four.yaml", "--out", "out", "--jobs", "1", "--backend", url.absoluteString] + extra)
        }

        func summary() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("out/run.json"))) as! [String: Any]
        }
    }

    @Test func whatEachGenerationCostIsRecordedSummedAndLearnedForTheNextEstimate() async throws {
        let session = try await Session()
        let unknown = try await session.seedpipe(["plan", "four.yaml"])
        #expect(unknown.stdout.contains("4 generations to pay for (16 s of video, price unknown: give --price-per-second)"), "\(unknown.stdout)")
        let given = try await session.seedpipe(["plan", "four.yaml", "--price-per-second", "0.04"])
        #expect(given.stdout.contains("about $0.64"), "\(given.stdout)")
        let run = try await session.run()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("paid for 4 generations, $0.80"), "\(run.stderr)")
        let summary = try session.summary()
        #expect(summary["moneyPaid"] as? Double == 0.8)
        let stages = try #require(summary["stages"] as? [[String: Any]])
        #expect(stages.map { $0["cost"] as? Double } == [0.2, 0.2, 0.2, 0.2], "the service's own figure per generation")
        let journal = await journaledGenerations(session.folder.file("cache"))
        #expect(journal.count == 4 && journal.allSatisfy { $0.cost == 0.2 })
        let html = try String(contentsOf: session.folder.file("out/report.html"), encoding: .utf8)
        #expect(html.contains("<b id=\"money\">$0.80</b>"))
        // The cache learned the price of a 480p second: a new shot is estimated without being told.
        try MoneyCommandTests.pipeline.replacingOccurrences(of: "a yellow taxi", with: "a grey heron")
            .write(to: session.folder.file("four.yaml"), atomically: true, encoding: .utf8)
        let learned = try await session.seedpipe(["plan", "four.yaml"])
        #expect(learned.stdout.contains("1 generation to pay for (4 s of video, about $0.20)"), "\(learned.stdout)")
        await session.emulator.stop()
    }

    @Test func maxCostRefusesToStartOverTheEstimateAndStopsSubmittingAtTheLimit() async throws {
        let session = try await Session()
        let noPrice = try await session.run(["--max-cost", "1"])
        #expect(noPrice.status == 2 && noPrice.stderr.contains("--max-cost needs a price"), "\(noPrice.stderr)")
        let over = try await session.run(["--max-cost", "0.5", "--price-per-second", "0.05"])
        #expect(over.status == 2 && over.stderr.contains("estimated at $0.80"), "\(over.stderr)")
        #expect(await session.emulator.stats().submitted == 0, "nothing was started")
        // Estimated under the limit (a price below the service's), the actual bills reach it:
        // two generations are paid, the third would pass $0.30, so submitting stops.
        let stopped = try await session.run(["--max-cost", "0.3", "--price-per-second", "0.01"])
        #expect(stopped.status == 1, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("stopped submitting: c would take the spend to $0.44, over --max-cost $0.30"), "\(stopped.stderr)")
        #expect(await session.emulator.stats().submitted == 2)
        let partial = try session.summary()
        #expect(partial["moneyPaid"] as? Double == 0.4)
        // Nothing paid for is lost: the next run pays for the other two only.
        let rest = try await session.run()
        #expect(rest.status == 0 && rest.stderr.contains("2 cached"), "\(rest.stderr)")
        #expect(await session.emulator.stats().submitted == 4)
        await session.emulator.stop()
    }

    /// `--rpm` against a plan allowing 4 requests a minute: two generations need about six
    /// requests, so the run must wait for the minute to roll over instead of meeting 429s.
    @Test func rpmKeepsEveryGenerationOfTheRunUnderThePlansLimit() async throws {
        let session = try await Session { $0.requestsPerWindow = 4 }
        try MoneyCommandTests.pipeline.components(separatedBy: "\n").prefix(6).joined(separator: "\n")
            .write(to: session.folder.file("four.yaml"), atomically: true, encoding: .utf8)
        let run = try await session.run(["--rpm", "4"])
        #expect(run.status == 0, "\(run.stderr)")
        let stats = await session.emulator.stats()
        #expect(stats.completed == 2)
        #expect(stats.rateLimited == 0, "paced, never refused: \(stats)")
        #expect(stats.busiestWindow <= 4)
        // More than a minute's worth admitted, none refused and never more than four in one
        // minute: the fifth request waited for the minute to roll over.
        #expect(stats.admitted > 4, "\(stats)")
        await session.emulator.stop()
    }

    @Test func anAccountOutOfCreditsOrARetiredModelStopsTheRunWithExit3AndKeepsWhatWasMade() async throws {
        let session = try await Session { $0.credits = 0.5 }
        let dry = try await session.run()
        #expect(dry.status == 3, "\(dry.stderr)")
        let last = dry.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("error: stage `c` failed: stopped submitting: the account is out of credits"), "\(last)")
        #expect(last.contains("HTTP 406"), "\(last)")
        let stats = await session.emulator.stats()
        #expect(stats.submitted == 2 && stats.completed == 2)
        let cache = try Storage.local(at: session.folder.file("cache")).actions
        #expect(await cache.allRecords().count == 2, "both paid generations are kept")

        let retired = try await Session()
        retired.emulator.injectFaults(script: [Fault(status: 410, path: "/v2/", method: "POST")])
        let gone = try await retired.run()
        #expect(gone.status == 3, "\(gone.stderr)")
        #expect(gone.stderr.contains("stopped submitting: the model was retired (HTTP 410)"), "\(gone.stderr)")
        #expect(await retired.emulator.stats().submitted == 0)
        await session.emulator.stop()
        await retired.emulator.stop()
    }
}
