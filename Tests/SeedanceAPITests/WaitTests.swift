import Foundation
import SeedanceAPI
import SeedanceEmulator
import SeedanceTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct WaitTests {
    @Test func moderationBlockIsInferenceFailedWithTheServersReason() async throws {
        let harness = try await EmulatorHarness()
        let client = harness.client()
        let job = try await client.submit(EmulatorHarness.request("A scene with moderation-test content"))
        let error = try await #require(throws: SeedanceError.self) {
            try await client.wait(for: job, interval: .milliseconds(20))
        }
        #expect(error.code == .inferenceFailed)
        #expect(error.requestID == job.requestID)
        #expect(error.description.contains("moderation"))
        // Served as 422, but the body announces FAILED: a valid answer on both endpoints.
        #expect(try await client.status(of: job).state == .failed)
        let result = try await client.result(of: job)
        #expect(result.state == .failed)
        #expect(result.error?.contains("moderation") == true)
        #expect(await harness.emulator.stats().failed == 1)
        await harness.stop()
    }

    @Test func timeoutKeepsTheRequestIDToPollAgain() async throws {
        let harness = try await EmulatorHarness(latency: .seconds(120))
        let clock = ImmediateClock()
        let client = harness.client(clock: clock)
        let job = try await client.submit(EmulatorHarness.request())
        let error = try await #require(throws: SeedanceError.self) {
            try await client.wait(for: job, timeout: .seconds(10), interval: .seconds(2))
        }
        #expect(error.code == .timedOut)
        #expect(error.requestID == job.requestID)
        #expect(clock.now <= .seconds(10))
        // Later, from the id alone:
        let again = try await client.status(of: client.job(requestID: job.requestID))
        #expect(again.state == .processing)
        #expect(await harness.emulator.stats().submitted == 1)
        await harness.stop()
    }

    /// The emulator's clock is the test's: the result is read inside its retention, then the
    /// clock moves past it (20 s, in no time at all) and the result is gone, history not.
    @Test func resultsExpireButHistoryKeepsThePaidOutput() async throws {
        let clock = ManualClock()
        let harness = try await EmulatorHarness(retention: .seconds(20), clock: clock)
        let client = harness.client()
        let job = try await client.submit(EmulatorHarness.request())
        // The generation renders, then waits out its latency on the clock: move it on.
        #expect(await clock.waitForSleepers(1), "the generation waits for its latency")
        clock.advance(by: .milliseconds(50))
        let result = try await client.wait(for: job, interval: .milliseconds(20))
        clock.advance(by: .seconds(19))
        #expect(try await client.status(of: job).state == .completed, "kept for its retention")
        clock.advance(by: .seconds(2))
        let error = try await #require(throws: SeedanceError.self) { try await client.status(of: job) }
        #expect(error.code == .notFound)
        #expect(error.description.contains("retention"))
        let entry = try await client.historyEntry(requestID: job.requestID)
        #expect(entry.modelStatus == "COMPLETED")
        #expect(entry.generationURL == result.output)
        #expect(entry.requestBody?["prompt"]?.string == EmulatorHarness.request().prompt)
        #expect((entry.creditsDeduction ?? 0) > 0)
        await harness.stop()
    }

    @Test func workersLimitWhatRunsAtOnce() async throws {
        let harness = try await EmulatorHarness(latency: .milliseconds(600), workers: 1)
        let client = harness.client()
        let jobs = [try await client.submit(EmulatorHarness.request("one")),
                    try await client.submit(EmulatorHarness.request("two")),
                    try await client.submit(EmulatorHarness.request("three"))]
        var sawQueued = false
        while true {
            let stats = await harness.emulator.stats()
            #expect(stats.processing <= 1, "one worker runs one generation at a time")
            #expect(stats.queued + stats.processing + stats.completed == 3)
            sawQueued = sawQueued || stats.queued > 0
            if stats.completed == 3 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(sawQueued)
        for job in jobs { #expect(try await client.result(of: job).state == .completed) }
        await harness.stop()
    }
}
