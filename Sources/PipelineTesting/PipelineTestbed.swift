import Foundation
import Pipeline
import Stages

/// A pipeline run in a test: a temporary folder with its own cache, a registry, the run's
/// services. Pipelines are written as YAML into the folder (so relative paths and plugins
/// resolve as they would beside a real file), loaded, planned and run offline.
///
/// ```swift
/// let seedance = try await EmulatedSeedance.start()
/// let bed = try PipelineTestbed(services: seedance.services)
/// let report = try await bed.run("""
///     pipeline: one
///     stages:
///       shot: { uses: seedance.generate, with: { prompt: "A lake", duration: 4, resolution: 480p } }
///     outputs: { clip: "${shot.video}" }
///     """)
/// let clip = try await bed.file(report.outputs["clip"])
/// ```
public struct PipelineTestbed: Sendable {
    /// The folder pipelines are written to; removed when the last copy of the testbed goes away.
    public var folder: URL { temporary.url }
    private let temporary: TestbedFolder
    /// The cache: `.seedpipe/` in the folder.
    public let storage: Storage
    public var registry: StageRegistry
    public var services: Services
    public var options: ExecutionOptions

    /// The built-in stages by default; add your own with `registry.register`.
    public init(registry: StageRegistry = BuiltinStages.registry(), services: Services = Services(),
                options: ExecutionOptions = ExecutionOptions(poolLimits: [.seedance: 4])) throws {
        temporary = TestbedFolder("pipeline-testbed")
        storage = try Storage.local(at: temporary.url.appendingPathComponent(".seedpipe", isDirectory: true))
        self.registry = registry
        self.services = services
        self.options = options
    }

    /// A path in the folder.
    public func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// Writes the YAML as `name` in the folder and returns its URL.
    @discardableResult
    public func write(_ yaml: String, as name: String = "pipeline.yaml") throws -> URL {
        let url = file(name)
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Loads, expands and validates (a ``PipelineError`` lists every problem).
    public func load(_ yaml: String, overrides: [String: String] = [:]) throws -> ValidatedPipeline {
        let url = try write(yaml)
        return try PipelineValidator.validate(try PipelineFile.load(url, overrides: overrides, registry: registry), registry: registry)
    }

    public func plan(_ yaml: String, overrides: [String: String] = [:]) async throws -> Plan {
        await Planner.plan(try load(yaml, overrides: overrides), storage: storage)
    }

    /// Runs the pipeline; events go to `events` as they happen.
    public func run(_ yaml: String, overrides: [String: String] = [:],
                    events: AsyncStream<ExecutionEvent>.Continuation? = nil) async throws -> RunReport {
        try await run(try load(yaml, overrides: overrides), events: events)
    }

    public func run(_ pipeline: ValidatedPipeline, events: AsyncStream<ExecutionEvent>.Continuation? = nil) async throws -> RunReport {
        try await Executor(pipeline: pipeline, storage: storage, services: services, options: options).run(events: events)
    }

    /// The file behind an artifact value (an output of a report), checked against its digest.
    public func file(_ value: Value?) async throws -> URL {
        guard let artifact = value?.artifact else {
            throw PipelineError(.missingObject, "\(value.map(\.text) ?? "nothing") is not a file")
        }
        return try await storage.artifacts.verifiedLocation(of: artifact)
    }
}

/// A fresh folder under the system's temporary directory, removed when the value goes away.
final class TestbedFolder: Sendable {
    let url: URL

    init(_ label: String) {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
