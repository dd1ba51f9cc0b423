import ArgumentParser
import Foundation
import Synchronization
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

    @Option(help: ArgumentHelp("USD per second of video, for cost estimates (or $SEEDPIPE_PRICE_PER_SECOND; default: learned from what earlier generations were billed).",
                               valueName: "USD"))
    var pricePerSecond: Double?

    func validate() throws {
        if let pricePerSecond, pricePerSecond < 0 { throw ValidationError("--price-per-second must be 0 or more") }
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

    /// Loads, expands and validates with the plugins found for this pipeline; every problem
    /// is reported at once (exit 2). A broken plugin is part of the error when the pipeline
    /// does not validate (it may be why a kind is unknown), and a warning, printed once, when
    /// the pipeline validates without it.
    func load(registry: StageRegistry = BuiltinStages.registry(), picks: Picks? = nil, takes: TakeSelection = .used) throws
        -> ValidatedPipeline
    {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("\(pipeline): no such pipeline file")
        }
        var registry = registry
        // A local media file that passed its kind check, unchanged since, is not probed again.
        registry.fileCheck = registry.fileCheck.map { FileDigests.forCache(at: cacheFolder).remembering($0) }
        // An unknown kind may be a plugin's: say where plugins are looked for, and how to list them.
        let folders = PluginCatalog.searchPath(pipeline: url, shipped: PluginCatalog.shippedFolders)
        registry.unknownKindHint = "a plugin's kind? plugins are looked for in "
            + folders.map { "\($0.url.relativePath) (\($0.origin.rawValue))" }.joined(separator: ", ")
            + (folders.contains { $0.origin == .environment } ? "" : " and the folders of SEEDPIPE_PLUGIN_PATH (not set)")
            + "; `seedpipe plugins ls --pipeline \(pipeline)` lists them"
        let pluginProblems = plugins.registerUsable(into: &registry, describe: BuiltinStages.describeMedia)
        let validated: ValidatedPipeline
        do {
            validated = try PipelineValidator.validate(try PipelineFile.load(url, overrides: overrides, registry: registry,
                                                                             picks: picks, takes: takes),
                                                       registry: registry)
        } catch let error as PipelineError where !pluginProblems.isEmpty {
            throw PipelineError(error.diagnostics + pluginProblems.filter { !error.diagnostics.contains($0) })
        }
        let unwarned = Self.warned.withLock { warned in pluginProblems.filter { warned.insert($0.formatted(as: "warning")).inserted } }
        for problem in unwarned { Terminal.error(problem.formatted(as: "warning")) }
        return validated
    }

    /// The plugins on this pipeline's search path (found once per process).
    var plugins: PluginCatalog {
        Self.catalogs.withLock { catalogs in
            let key = url.standardizedFileURL.path
            if let known = catalogs[key] { return known }
            let catalog = PluginCatalog.discover(in: PluginCatalog.searchPath(pipeline: url, shipped: PluginCatalog.shippedFolders))
            catalogs[key] = catalog
            return catalog
        }
    }

    private static let catalogs = Mutex<[String: PluginCatalog]>([:])
    /// Plugin warnings already printed (a command may load its pipeline more than once).
    private static let warned = Mutex<Set<String>>([])

    /// The price of a second of video: on an emulator, its own bill (emulated, never mixed
    /// with the service's prices); else `--price-per-second`, `$SEEDPIPE_PRICE_PER_SECOND`,
    /// else what this cache's generations were billed by the service, by resolution.
    func prices(_ storage: Storage, backend: BackendOptions.Kind = .service) async throws -> PriceBook {
        if case .emulator(let pricePerSecond) = backend { return PriceBook(flat: pricePerSecond, emulated: true) }
        if let pricePerSecond { return PriceBook(flat: pricePerSecond) }
        if let text = ProcessInfo.processInfo.environment["SEEDPIPE_PRICE_PER_SECOND"], !text.isEmpty {
            guard let price = Double(text), price >= 0 else {
                throw ValidationError("SEEDPIPE_PRICE_PER_SECOND=\(text): give USD per second of video, such as 0.03")
            }
            return PriceBook(flat: price)
        }
        return PriceBook.learned(from: (try? await GenerationEntry.all(in: storage.journal)) ?? [])
    }

    /// The pipeline loaded with the built-in stages priced as `prices(_:)` says (for `plan` and `run`).
    func loadPriced(_ storage: Storage, backend: BackendOptions.Kind = .service, picks: Picks? = nil, takes: TakeSelection = .used)
        async throws -> ValidatedPipeline {
        try load(registry: BuiltinStages.registry(prices: try await prices(storage, backend: backend)), picks: picks, takes: takes)
    }

    /// The local cache (`.seedpipe/` beside the pipeline, `--cache`, or `$SEEDPIPE_CACHE`).
    func storage() throws -> Storage { try Storage.local(at: cacheFolder) }

    /// One `pipeline:` name is one file in a cache: its last run, live log, journal entries and
    /// `out/NAME/` go by the name. A file whose name the cache keeps for another file (one that
    /// still exists and still has that name) is refused; a moved, deleted or renamed owner frees
    /// it. `record` makes this file the owner, for the commands that write under the name.
    func claimName(_ name: String, record: Bool) throws {
        let entry = cacheFolder.appendingPathComponent("names", isDirectory: true).appendingPathComponent("\(name).path")
        let mine = url.standardizedFileURL.resolvingSymlinksInPath().path
        let owner = (try? String(contentsOf: entry, encoding: .utf8))?.trimmingCharacters(in: .newlines)
        if let owner, owner != mine, FileManager.default.fileExists(atPath: owner),
           PipelineFile.name(of: URL(fileURLWithPath: owner)) == name {
            throw PipelineError("\(pipeline): `pipeline: \(name)` already names \(owner) in the cache \(cacheFolder.relativePath) "
                                  + "(the two would share its takes, history and out/\(name)/); give this file a name of its own "
                                  + "(pipeline: \(name)-2) or a cache of its own (--cache)")
        }
        guard record, owner != mine else { return }
        try FileManager.default.createDirectory(at: entry.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(mine.utf8).write(to: entry, options: .atomic)
    }
}
