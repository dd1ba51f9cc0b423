import Foundation
import Media
import MediaTestSupport
import Pipeline
import SeedanceAPI
import SeedanceEmulator
import Testing

@Suite(.timeLimit(.minutes(10))) struct FaultTests {
    /// 30 % of answers are 429/500/502/504. Reads retry; a submit refused with 5xx is not
    /// retried (it could have been taken), so such a run stops with one clear error naming
    /// the stage, keeps what it made, and the next run resumes. In the end every generation
    /// was paid for exactly once.
    @Test func aFlakyAPIStopsCleanlyAndResumesWithoutPayingTwice() async throws {
        var rates = FaultRates.errors(0.3, seed: 7)
        rates.retryAfter = 0.01
        let harness = try await StagesHarness(
            faults: rates, retry: RetryPolicy(maximumAttempts: 12, baseDelay: .milliseconds(5), maximumDelay: .milliseconds(50)))
        _ = try harness.picture("first.png", hue: 80)
        // On top of the dice, two submits refused outright, so runs certainly stop and resume.
        harness.emulator.injectFaults(script: [Fault(status: 500, path: "/v2/seedance", method: "POST"),
                                               Fault(status: 504, path: "/v2/seedance", method: "POST")])
        var failures: [PipelineError] = []
        var report: RunReport?
        for _ in 0..<15 where report == nil {
            do {
                report = try await harness.run(ChainTests.yaml(first: "first.png"))
            } catch let failure as PipelineError where failure.code == .stageFailed {
                failures.append(failure)
            }
        }
        let finished = try #require(report, "the run completed after \(failures.count) interrupted attempts")
        #expect(failures.count >= 2, "the two refused submits each stopped a run")
        for failure in failures {
            #expect(failure.stage?.hasPrefix("shots-") == true, "\(failure)")
            #expect(failure.rootCause is SeedanceError, "the service's own error is kept: \(failure.rootCause)")
            #expect(!failure.message.isEmpty)
        }
        let stats = await harness.emulator.stats()
        #expect(stats.faultsInjected > 0)
        #expect(stats.submitted == 3 && stats.completed == 3, "each generation paid for once: \(stats.submitted)")
        #expect(abs((try MediaInfo.probe(try await harness.file(finished.outputs["film"])).duration ?? 0) - 12) < 0.2)
        await harness.stop()
    }
}

@Suite(.timeLimit(.minutes(10))) struct ModerationTests {
    @Test func aBlockedShotStopsTheRunNamingItAndKeepsWhatWasMade() async throws {
        let harness = try await StagesHarness()
        _ = try harness.picture("first.png", hue: 120)
        let blocked = ChainTests.yaml(first: "first.png").replacingOccurrences(of: "beat: noon", with: "beat: moderation-test")
        let failure = try await #require(throws: PipelineError.self) { try await harness.run(blocked) }
        #expect(failure.stage == "shots-2")
        #expect(failure.message.contains("moderation"), "the server's reason: \(failure.message)")
        // A blocked word is refused whatever the seed: the two retries (the default) are refused too, unbilled.
        #expect(failure.message.contains("at seeds 42, 43, 44 (2 retries)"), "\(failure.message)")
        #expect(await harness.emulator.stats().failed == 3)
        // Fixed prompt: shot 1 comes from the cache, shots 2 and 3 are generated.
        let fixed = try await harness.run(ChainTests.yaml(first: "first.png"))
        #expect(fixed.stages["shots-1"]?.cached == true)
        #expect(await harness.emulator.stats().completed == 3)
        await harness.stop()
    }
}
