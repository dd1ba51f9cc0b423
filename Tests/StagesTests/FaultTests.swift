import Foundation
import Media
import MediaTestSupport
import Pipeline
import SeedanceAPI
import SeedanceEmulator
import Stages
import Testing

@Suite(.timeLimit(.minutes(10))) struct FaultTests {
    /// 30 % of answers are 429/500/502/504. Reads retry; a submit answered 5xx may have been
    /// taken, so it is looked for in request history (over the grace) and sent again only when
    /// it is not there: the run finishes in one go, and every generation was paid for once.
    @Test func aFlakyAPIIsSettledInsideTheRunWithoutPayingTwice() async throws {
        var rates = FaultRates.errors(0.3, seed: 7)
        rates.retryAfter = 0.01
        let harness = try await StagesHarness(
            faults: rates, retry: RetryPolicy(maximumAttempts: 12, baseDelay: .milliseconds(5), maximumDelay: .milliseconds(50)))
        _ = try harness.picture("first.png", hue: 80)
        // On top of the dice, two submits refused outright, so runs certainly stop and resume.
        harness.emulator.injectFaults(script: [Fault(status: 500, path: "/v2/seedance", method: "POST"),
                                               Fault(status: 504, path: "/v2/seedance", method: "POST")])
        let finished = try await harness.run(ChainTests.yaml(first: "first.png"))
        let stats = await harness.emulator.stats()
        #expect(stats.faultsInjected > 0)
        #expect(stats.submitted == 3 && stats.completed == 3 && stats.duplicates == 0, "each generation paid for once: \(stats)")
        let entries = try await GenerationEntry.all(in: harness.bed.storage.journal)
        #expect(entries.compactMap(\.ambiguous).joined().count >= 2, "the two 5xx submits were journaled as ambiguous")
        #expect(abs((try MediaInfo.probe(try await harness.file(finished.outputs["film"])).duration ?? 0) - 12) < 0.2)
        await harness.stop()
    }
}

/// Each kind of ambiguous submit, settled inside the run (issue: a flaky service needs no rerun).
@Suite(.timeLimit(.minutes(10))) struct AmbiguousSubmitTests {
    static let yaml = """
        stages:
          shot: { uses: seedance.generate, with: { prompt: "A quiet harbour at dusk", duration: 4, resolution: 480p } }
        outputs: { clip: "${shot.video}" }
        """
    static func submit(_ fault: Fault) -> Fault {
        var fault = fault
        fault.path = "/v2/seedance"
        fault.method = "POST"
        return fault
    }

    func run(_ faults: [Fault], historyLag: Duration = .zero, grace: Duration = .seconds(2),
             retry: RetryPolicy = RetryPolicy(maximumAttempts: 4, baseDelay: .milliseconds(10))) async throws
        -> (StagesHarness, Result<RunReport, any Error>, EmulatorStats, [GenerationEntry]) {
        let harness = try await StagesHarness(latency: .milliseconds(50), retry: retry, historyLag: historyLag, historyGrace: grace)
        harness.emulator.injectFaults(script: faults.map(Self.submit))
        let result: Result<RunReport, any Error>
        do { result = .success(try await harness.run(Self.yaml)) } catch { result = .failure(error) }
        let entries = try await GenerationEntry.all(in: harness.bed.storage.journal)
        return (harness, result, await harness.emulator.stats(), entries)
    }

    @Test func aGatewayErrorAfterAcceptanceIsFoundInHistoryAndAdopted() async throws {
        for status in [502, 504] {
            let (harness, result, stats, entries) = try await run([Fault(status: status, afterAccepting: true)])
            #expect((try? result.get()) != nil, "\(result)")
            #expect(stats.submitted == 1 && stats.duplicates == 0, "accepted once: \(stats)")
            #expect(entries.first?.ambiguous == ["submit answered HTTP \(status)"])
            await harness.stop()
        }
    }

    @Test func aServerErrorBeforeAcceptanceIsSentAgainOnceTheGraceHasPassed() async throws {
        let (harness, result, stats, entries) = try await run([Fault(status: 500)], grace: .milliseconds(500))
        #expect((try? result.get()) != nil, "\(result)")
        #expect(stats.submitted == 1 && stats.duplicates == 0, "the 500 took nothing, the second send did: \(stats)")
        #expect(entries.first?.ambiguous == ["submit answered HTTP 500"])
        await harness.stop()
    }

    @Test func aConnectionLostAfterAcceptanceIsFoundInHistory() async throws {
        let (harness, result, stats, entries) = try await run([Fault(drop: true)])
        #expect((try? result.get()) != nil, "\(result)")
        #expect(stats.submitted == 1 && stats.duplicates == 0, "\(stats)")
        #expect(entries.first?.ambiguous == ["submit sent, connection lost before the answer"])
        await harness.stop()
    }

    @Test func historyThatLagsLessThanTheGraceIsWaitedFor() async throws {
        let (harness, result, stats, _) = try await run([Fault(status: 504, afterAccepting: true)], historyLag: .seconds(1),
                                                        grace: .seconds(4))
        #expect((try? result.get()) != nil, "\(result)")
        #expect(stats.submitted == 1 && stats.duplicates == 0, "\(stats)")
        await harness.stop()
    }

    /// The trade `--history-grace` makes: history that lags longer than the grace is taken
    /// for "not received", and the clip is paid twice.
    @Test func historyThatLagsLongerThanTheGraceCostsASecondSubmit() async throws {
        let (harness, result, stats, _) = try await run([Fault(status: 504, afterAccepting: true)], historyLag: .seconds(600),
                                                        grace: .milliseconds(300))
        #expect((try? result.get()) != nil, "\(result)")
        #expect(stats.submitted == 2 && stats.duplicates == 1, "\(stats)")
        await harness.stop()
    }

    /// An outage longer than the retry policy: the shot fails saying what happened and how to
    /// resume, and the next run finishes it without paying twice.
    @Test func anOutageUsesThePolicyUpThenTheNextRunResumes() async throws {
        let (harness, result, stats, _) = try await run([Fault(status: 500), Fault(status: 502)], grace: .milliseconds(300),
                                                        retry: RetryPolicy(maximumAttempts: 2, baseDelay: .milliseconds(10)))
        guard case .failure(let failure) = result, let error = failure as? PipelineError else {
            Issue.record("the shot fails once the policy is used up: \(result)")
            return
        }
        #expect(error.message.contains("2 submits' outcomes are unknown (submit answered HTTP 500; submit answered HTTP 502)"), "\(error)")
        #expect(error.message.contains("run the same command again to resume"), "\(error)")
        #expect(stats.submitted == 0)
        let report = try await harness.run(Self.yaml)
        #expect(report.stages["shot"]?.outputs["video"] != nil)
        let after = await harness.emulator.stats()
        #expect(after.submitted == 1 && after.duplicates == 0, "\(after)")
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
