import Foundation
import SeedanceEmulator

/// A flaky service needs no rerun: ten runs of a six-shot pipeline, each on a fresh cache with
/// prompts of its own, as whole `seedpipe run` processes against one emulator that answers 30 %
/// of requests with 429/500/502/504 (half the gateway errors to a submit after accepting it),
/// drops 5 % of connections, shows a request in history only after 2 s, and cuts 20 % of
/// downloads halfway. Each run's exit status, time and accepted submits (the emulator's count).
enum FlakyBench {
    static let pipeline = """
        pipeline: flaky-six
        vars: { run: "0" }
        defaults:
          seedance: { resolution: 480p, aspect_ratio: "16:9", duration: 5 }
        stages:
          s1: { uses: seedance.generate, with: { prompt: "Run ${vars.run}, shot 1: a lighthouse at dawn." } }
          s2: { uses: seedance.generate, with: { prompt: "Run ${vars.run}, shot 2: waves on the rocks." } }
          s3: { uses: seedance.generate, with: { prompt: "Run ${vars.run}, shot 3: gulls over the harbour." } }
          s4: { uses: seedance.generate, with: { prompt: "Run ${vars.run}, shot 4: a fishing boat leaves." } }
          s5: { uses: seedance.generate, with: { prompt: "Run ${vars.run}, shot 5: rain over the sea." } }
          s6: { uses: seedance.generate, with: { prompt: "Run ${vars.run}, shot 6: night, the beam turns." } }
          film: { uses: concat, with: { clips: ["${s1.video}", "${s2.video}", "${s3.video}", "${s4.video}", "${s5.video}", "${s6.video}"] } }
        outputs: { film: "${film.video}" }
        """

    static func run(seedpipe: String, runs: Int = 10) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flaky-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        guard FileManager.default.changeCurrentDirectoryPath(folder.path) else { fatalError("cannot enter \(folder.path)") }
        try pipeline.write(to: folder.appendingPathComponent("six.yaml"), atomically: true, encoding: .utf8)
        // As `seedpipe serve --latency 0.5 --fail-rate 0.3 --drop-rate 0.05 --gateway-accepts 0.5 --history-lag 2 --truncate-rate 0.2`.
        var rates = FaultRates.errors(0.3)
        rates.dropConnection = 0.05
        rates.gatewayAccepts = 0.5
        rates.seed = UInt64.random(in: 1...UInt64.max)
        var configuration = EmulatorConfiguration(apiKey: "bench", latency: .milliseconds(500), preset: "ultrafast",
                                                  pricePerSecond: 0, faults: rates)
        configuration.historyLag = .seconds(2)
        configuration.truncateRate = 0.2
        let emulator = try SeedanceEmulator(configuration: configuration)
        let url = try await emulator.start()
        setenv("SEGMIND_API_KEY", "bench", 1)
        var accepted = await emulator.stats().submitted
        for index in 1...runs {
            let run = ProcessRun.measure([seedpipe, "run", "six.yaml", "--backend", url.absoluteString, "--var", "run=\(index)",
                                          "--cache", "cache-\(index)", "--out", "out-\(index)"])
            let stats = await emulator.stats()
            print(String(format: "flaky service, 6-shot run %2d (fresh cache): exit %d in %5.1f s, %d submits accepted (%d duplicates so far)",
                         index, run.status, run.seconds, stats.submitted - accepted, stats.duplicates))
            accepted = stats.submitted
        }
        await emulator.stop()
    }
}
