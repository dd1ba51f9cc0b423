import ArgumentParser
import Foundation
import Pipeline
import SeedanceAPI
import Stages

/// The pipeline file and where its cache lives.
struct PipelineOptions: ParsableArguments {
    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(name: .customLong("var"), help: "Override a var: --var place=\"a glacier\" (repeatable).")
    var vars: [String] = []

    @Option(help: "Cache folder (default: .seedpipe beside the pipeline, or $SEEDPIPE_CACHE).")
    var cache: String?

    func validate() throws {
        for item in vars where !item.contains("=") {
            throw ValidationError("--var \(item): write it as NAME=VALUE")
        }
    }

    var url: URL { URL(fileURLWithPath: pipeline) }

    var overrides: [String: String] {
        Dictionary(vars.map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { $1 })
    }

    var cacheFolder: URL {
        if let cache { return URL(fileURLWithPath: cache) }
        if let environment = ProcessInfo.processInfo.environment["SEEDPIPE_CACHE"], !environment.isEmpty {
            return URL(fileURLWithPath: environment)
        }
        return url.deletingLastPathComponent().appendingPathComponent(".seedpipe")
    }

    /// Loads, expands and validates; every problem is reported at once (exit 2).
    func load(registry: StageRegistry) throws -> ValidatedPipeline {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("\(pipeline): no such pipeline file")
        }
        return try PipelineValidator.validate(try PipelineFile.load(url, overrides: overrides, registry: registry), registry: registry)
    }

    func actionCache() throws -> ActionCache {
        try ActionCache(store: try ArtifactStore(root: cacheFolder))
    }

    /// The built-in stages, for commands that never reach the network.
    static var offlineRegistry: StageRegistry {
        BuiltinStages.registry(client: SeedanceClient(endpoints: .single(URL(string: "http://127.0.0.1:9")!), apiKey: nil))
    }
}
