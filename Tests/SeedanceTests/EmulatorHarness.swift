import Foundation
import Media
import MediaTestSupport
import SeedanceAPI
import SeedanceEmulator

/// A live emulator on a free port and a client pointed at it.
struct EmulatorHarness {
    static let key = "test-key-7f3a9c"
    let emulator: SeedanceEmulator
    let url: URL
    let folder = TemporaryFolder("seedance")

    init(latency: Duration = .milliseconds(50), workers: Int = 4, retention: Duration = .seconds(3600),
         faults: FaultRates = FaultRates()) async throws {
        emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(
            apiKey: Self.key, latency: latency, workers: workers, retention: retention, preset: "ultrafast",
            faults: faults))
        url = try await emulator.start()
    }

    func client(clock: any APIClock = SystemClock(), retry: RetryPolicy = RetryPolicy(), key: String = key) -> SeedanceClient {
        SeedanceClient(endpoints: .single(url), apiKey: APIKey(key), retry: retry, clock: clock)
    }

    /// A small, fast request (480p, 4 s).
    static func request(_ prompt: String = "A quiet lake at dawn", _ change: (inout GenerationRequest) -> Void = { _ in })
        -> GenerationRequest
    {
        var request = GenerationRequest(prompt: prompt, aspectRatio: "16:9", duration: 4, resolution: "480p", seed: 7)
        change(&request)
        return request
    }

    func stop() async { await emulator.stop() }
}
