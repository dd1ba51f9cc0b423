import Foundation
import Media
import MediaTestSupport
import Pipeline
import SeedanceAPI
import SeedanceEmulator
import Stages

/// An emulator, the built-in stages talking to it, and a cache, for end-to-end runs.
struct StagesHarness {
    let folder = TemporaryFolder("stages")
    let emulator: SeedanceEmulator
    let registry: StageRegistry

    init(latency: Duration = .milliseconds(100), faults: FaultRates = FaultRates(), retry: RetryPolicy = RetryPolicy()) async throws {
        emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(
            apiKey: "k", latency: latency, preset: "ultrafast", faults: faults))
        let url = try await emulator.start()
        registry = BuiltinStages.registry(client: SeedanceClient(endpoints: .single(url), apiKey: APIKey("k"), retry: retry),
                                          pollInterval: .milliseconds(50))
    }

    func load(_ yaml: String, overrides: [String: String] = [:]) throws -> ValidatedPipeline {
        let file = folder.file("p.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return try PipelineValidator.validate(try PipelineFile.load(file, overrides: overrides, registry: registry), registry: registry)
    }

    func run(_ yaml: String, overrides: [String: String] = [:]) async throws -> RunReport {
        let cache = try ActionCache(store: try ArtifactStore(root: folder.file(".seedpipe")))
        return try await Executor(pipeline: try load(yaml, overrides: overrides), cache: cache).run()
    }

    func file(_ value: Value?) throws -> URL {
        let store = try ArtifactStore(root: folder.file(".seedpipe"))
        return try store.verifiedLocation(of: value!.artifact!)
    }

    /// A small image of one colour with a bright block (distinct per hue).
    func picture(_ name: String, hue: UInt8) throws -> URL {
        var image = FrameImage(width: 320, height: 180, red: hue, green: 255 &- hue, blue: 90)
        for y in 40..<90 { for x in 60..<140 { let o = (y * 320 + x) * 3; image.pixels[o] = 250; image.pixels[o + 1] = 250; image.pixels[o + 2] = 250 } }
        let url = folder.file(name)
        try image.write(to: url)
        return url
    }

    func stop() async { await emulator.stop() }
}
