import Foundation
import Logging
import PipelineTesting
import SeedanceAPI
import SeedanceEmulator
import SeedanceTestSupport
import Testing

/// The client's log lines, and the waits it announced after a 429.
final class RetryLog: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    var lines: [String] { lock.withLock { stored } }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lock.withLock { stored.append("\(message)") }
    }
    /// Seconds announced by "HTTP 429; retrying in 1.049 seconds".
    var waitsAfter429: [Double] {
        lines.compactMap { line in
            guard let range = line.range(of: "HTTP 429; retrying in ") else { return nil }
            return Double(line[range.upperBound...].prefix { $0 != " " })
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct MoneyAndRateTests {
    static func emulator(_ configure: (inout EmulatorConfiguration) -> Void) async throws -> (SeedanceEmulator, URL) {
        var configuration = EmulatorConfiguration(apiKey: EmulatedSeedance.key, latency: .milliseconds(50), preset: "ultrafast")
        configure(&configuration)
        let emulator = try SeedanceEmulator(configuration: configuration)
        return (emulator, try await emulator.start())
    }

    @Test func resultsAndHistoryCarryWhatAGenerationCostAndTheBalance() async throws {
        let (emulator, url) = try await Self.emulator { $0.pricePerSecond = 0.05; $0.credits = 1 }
        let client = SeedanceClient(endpoints: .single(url), apiKey: APIKey(EmulatedSeedance.key))
        let job = try await client.submit(EmulatorHarness.request())
        let result = try await client.wait(for: job, interval: .milliseconds(20))
        #expect(result.cost == 0.2 && result.remainingCredits.map { abs($0 - 0.8) < 1e-9 } == true, "\(result.body)")
        #expect(try await client.historyEntry(requestID: job.requestID).creditsDeduction == 0.2)
        // Once the balance does not cover a generation, a submit answers 406: out of credits.
        let (poor, poorURL) = try await Self.emulator { $0.pricePerSecond = 0.05; $0.credits = 0.1 }
        let refused = await #expect(throws: SeedanceError.self) {
            try await SeedanceClient(endpoints: .single(poorURL), apiKey: APIKey(EmulatedSeedance.key)).submit(EmulatorHarness.request())
        }
        #expect(refused?.code == .insufficientCredits && refused?.httpStatus == 406, "\(String(describing: refused))")
        #expect(await poor.stats().submitted == 0)
        await emulator.stop()
        await poor.stop()
    }

    /// The emulator and the clients share one virtual clock: the window, the reset time and
    /// every wait are on it, so the test says what was waited for, never how long it took.
    @Test func theClientKeepsToTheRateLimitAndHonoursTheResetHeader() async throws {
        let window = Duration.seconds(1)
        let clock = ImmediateClock()
        let (emulator, url) = try await Self.emulator { $0.requestsPerWindow = 4; $0.rateWindow = window; $0.clock = clock }
        // Paced to the plan's limit: twelve requests from three tasks, never one too many.
        let paced = SeedanceClient(endpoints: .single(url), apiKey: APIKey(EmulatedSeedance.key),
                                   clock: clock, rateLimit: RateLimit(requests: 4, per: window))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { for _ in 0..<4 { _ = try await paced.history(perPage: 5) } } }
            try await group.waitForAll()
        }
        var stats = await emulator.stats()
        #expect(stats.rateLimited == 0, "the pacer kept every request inside the limit")
        #expect(stats.busiestWindow <= 4)
        // Unpaced, the same requests meet 429s; each names its reset time (no Retry-After),
        // and the client waits for it instead of failing.
        // What the client decided on each 429, from its own log (a lost connection on a loaded
        // machine is retried with the back-off, rightly: only the 429s are judged here).
        let said = RetryLog()
        let eager = SeedanceClient(endpoints: .single(url), apiKey: APIKey(EmulatedSeedance.key),
                                   retry: RetryPolicy(maximumAttempts: 8, baseDelay: .seconds(30)), clock: clock,
                                   logger: Logger(label: "test") { _ in said })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 { group.addTask { _ = try await eager.history(perPage: 5) } }
            try await group.waitForAll()
        }
        stats = await emulator.stats()
        #expect(stats.rateLimited > 0)
        let waits = said.waitsAfter429
        #expect(!waits.isEmpty, "each 429 was waited out: \(said.lines)")
        // The reset time (at most a window away) plus 50 ms, and a millisecond of the header's rounding.
        #expect(waits.allSatisfy { $0 <= 1.052 }, "waited until the reset time, not the 30 s backoff: \(said.lines)")
        await emulator.stop()
    }
}
