import Foundation
import Media
import Pipeline
import PipelineTesting
import SeedanceAPI
import SeedanceEmulator
import Stages

/// PipelineTesting's emulator and testbed together, plus painted keyframes.
struct StagesHarness {
    let seedance: EmulatedSeedance
    let bed: PipelineTestbed
    var emulator: SeedanceEmulator { seedance.emulator }
    var folder: URL { bed.folder }

    init(latency: Duration = .milliseconds(100), faults: FaultRates = FaultRates(), retry: RetryPolicy = RetryPolicy(),
         drift: Double = 0, historyLag: Duration = .zero, historyGrace: Duration = .seconds(2)) async throws {
        seedance = try await EmulatedSeedance.start(latency: latency, faults: faults, drift: drift, historyLag: historyLag)
        bed = try PipelineTestbed(services: seedance.services(retry: retry, historyGrace: historyGrace))
    }

    func load(_ yaml: String, overrides: [String: String] = [:]) throws -> ValidatedPipeline {
        try bed.load(yaml, overrides: overrides)
    }

    func run(_ yaml: String, overrides: [String: String] = [:]) async throws -> RunReport {
        try await bed.run(yaml, overrides: overrides)
    }

    func file(_ value: Value?) async throws -> URL { try await bed.file(value) }

    /// A small image of one colour with a bright block (distinct per hue).
    func picture(_ name: String, hue: UInt8) throws -> URL {
        var image = FrameImage(width: 320, height: 180, red: hue, green: 255 &- hue, blue: 90)
        for y in 40..<90 { for x in 60..<140 { let o = (y * 320 + x) * 3; image.pixels[o] = 250; image.pixels[o + 1] = 250; image.pixels[o + 2] = 250 } }
        let url = bed.file(name)
        try image.write(to: url)
        return url
    }

    func stop() async { await seedance.stop() }
}
