import Foundation
import Pipeline
import SeedanceAPI
import SeedanceEmulator
import Stages

/// The Seedance emulator on a free loopback port, and what a run needs to use it: a client
/// with the emulator's key, and the ``Stages/SeedanceService`` for the run's services.
/// Clips are real (rendered by Media, `ultrafast`), so tests check pictures and sound.
public struct EmulatedSeedance: Sendable {
    public static let key = "pipeline-testing-key"
    public let emulator: SeedanceEmulator
    public let url: URL
    /// Between status polls of the generation stage.
    public var pollInterval: Duration

    /// Starts an emulator: `latency` per clip, faults and moderation refusals as given, its
    /// waits and deadlines on `clock` (a `ManualClock` lets a test hold a generation or move
    /// past a retention without waiting).
    public static func start(latency: Duration = .milliseconds(50), workers: Int = 4, retention: Duration = .seconds(3600),
                             faults: FaultRates = FaultRates(), moderationRate: Double = 0, drift: Double = 0,
                             pollInterval: Duration = .milliseconds(50), historyLag: Duration = .zero,
                             truncateRate: Double = 0, honoursRange: Bool = true,
                             clock: any APIClock = SystemClock()) async throws -> EmulatedSeedance {
        var configuration = EmulatorConfiguration(
            apiKey: key, latency: latency, workers: workers, retention: retention, moderationRate: moderationRate,
            preset: "ultrafast", faults: faults)
        configuration.drift = drift
        configuration.historyLag = historyLag
        configuration.truncateRate = truncateRate
        configuration.honoursRange = honoursRange
        configuration.clock = clock
        let emulator = try SeedanceEmulator(configuration: configuration)
        let url = try await emulator.start()
        return EmulatedSeedance(emulator: emulator, url: url, pollInterval: pollInterval)
    }

    /// A client for the emulator (`ImmediateClock` makes backoff instant).
    public func client(clock: any APIClock = SystemClock(), retry: RetryPolicy = RetryPolicy(), key: String = key) -> SeedanceClient {
        SeedanceClient(endpoints: .single(url), apiKey: APIKey(key), retry: retry, clock: clock)
    }

    /// Services with a ``SeedanceService`` on this emulator.
    public func services(retry: RetryPolicy = RetryPolicy(), clock: any APIClock = SystemClock(),
                         historyGrace: Duration = SeedanceService.defaultHistoryGrace) -> Services {
        var services = Services()
        services.set(SeedanceService(client: client(clock: clock, retry: retry), pollInterval: pollInterval, historyGrace: historyGrace))
        return services
    }

    public var services: Services { services() }

    public func stop() async { await emulator.stop() }
}
