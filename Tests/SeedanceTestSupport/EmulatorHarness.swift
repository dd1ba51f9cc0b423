import Foundation
import Media
import MediaTestSupport
import PipelineTesting
import SeedanceAPI
import SeedanceEmulator

/// Shared by the SeedanceAPI and SeedanceEmulator tests: PipelineTesting's emulator on a free port, a client pointed at it, and a folder.
public struct EmulatorHarness {
    public static let key = EmulatedSeedance.key
    public let seedance: EmulatedSeedance
    public var emulator: SeedanceEmulator { seedance.emulator }
    public var url: URL { seedance.url }
    public let folder = TemporaryFolder("seedance")

    public init(latency: Duration = .milliseconds(50), workers: Int = 4, retention: Duration = .seconds(3600),
         faults: FaultRates = FaultRates(), clock: any APIClock = SystemClock()) async throws {
        seedance = try await EmulatedSeedance.start(latency: latency, workers: workers, retention: retention, faults: faults, clock: clock)
    }

    public func client(clock: any APIClock = SystemClock(), retry: RetryPolicy = RetryPolicy(), key: String = key) -> SeedanceClient {
        seedance.client(clock: clock, retry: retry, key: key)
    }

    /// A small, fast request (480p, 4 s).
    public static func request(_ prompt: String = "A quiet lake at dawn", _ change: (inout GenerationRequest) -> Void = { _ in })
        -> GenerationRequest
    {
        var request = GenerationRequest(prompt: prompt, aspectRatio: "16:9", duration: 4, resolution: "480p", seed: 7)
        change(&request)
        return request
    }

    public func stop() async { await seedance.stop() }
}
