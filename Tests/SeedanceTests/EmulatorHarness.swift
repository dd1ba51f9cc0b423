import Foundation
import Media
import MediaTestSupport
import PipelineTesting
import SeedanceAPI
import SeedanceEmulator

/// PipelineTesting's emulator on a free port, a client pointed at it, and a folder.
struct EmulatorHarness {
    static let key = EmulatedSeedance.key
    let seedance: EmulatedSeedance
    var emulator: SeedanceEmulator { seedance.emulator }
    var url: URL { seedance.url }
    let folder = TemporaryFolder("seedance")

    init(latency: Duration = .milliseconds(50), workers: Int = 4, retention: Duration = .seconds(3600),
         faults: FaultRates = FaultRates()) async throws {
        seedance = try await EmulatedSeedance.start(latency: latency, workers: workers, retention: retention, faults: faults)
    }

    func client(clock: any APIClock = SystemClock(), retry: RetryPolicy = RetryPolicy(), key: String = key) -> SeedanceClient {
        seedance.client(clock: clock, retry: retry, key: key)
    }

    /// A small, fast request (480p, 4 s).
    static func request(_ prompt: String = "A quiet lake at dawn", _ change: (inout GenerationRequest) -> Void = { _ in })
        -> GenerationRequest
    {
        var request = GenerationRequest(prompt: prompt, aspectRatio: "16:9", duration: 4, resolution: "480p", seed: 7)
        change(&request)
        return request
    }

    func stop() async { await seedance.stop() }
}
