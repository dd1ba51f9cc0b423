import Foundation
import Logging
import Pipeline
import Stages
import Synchronization

/// A pipeline file as `seedpipe` works on it: its vars, its cache, the plugins found for it
/// (`plugins/` beside it, the current folder, `$SEEDPIPE_PLUGIN_PATH`, the ones shipped with
/// seedpipe), its picks file and its prices. The file is read once, however many times it is
/// loaded (with other picks, or with every take).
public struct PipelineProject: Sendable {
    /// The pipeline file (YAML).
    public let file: URL
    /// `--var NAME=VALUE` overrides.
    public var vars: [String: String]
    /// Where the cache lives: `.seedpipe/` beside the pipeline unless given (or `$SEEDPIPE_CACHE`).
    public var cacheFolder: URL
    /// USD per second of video for estimates; nil: `$SEEDPIPE_PRICE_PER_SECOND`, else what this
    /// cache's generations were billed.
    public var pricePerSecond: Double?
    /// Where plugin problems that do not stop the pipeline are told (once per process each).
    public var warn: @Sendable (String) -> Void
    /// A team's cache the local one reads and writes through (`--remote-cache`).
    public var remoteCache: RemoteCache?
    /// The profile to build the pipeline in (`--profile`); nil: its `default_profile`.
    public var profile: String?

    private var source: Source

    public init(file: URL, vars: [String: String] = [:], cacheFolder: URL? = nil, pricePerSecond: Double? = nil,
                warn: @escaping @Sendable (String) -> Void = PipelineProject.logWarning) {
        self.file = file
        self.vars = vars
        self.cacheFolder = cacheFolder ?? Self.defaultCache(for: file)
        self.pricePerSecond = pricePerSecond
        self.warn = warn
        source = Source(file)
    }

    /// The same project, reading the file again on its next load (for a long-lived host, such
    /// as the studio, that should see edits to the file).
    public func reread() -> PipelineProject {
        var copy = self
        copy.source = Source(file)
        return copy
    }

    /// `$SEEDPIPE_CACHE`, else `.seedpipe` beside the pipeline.
    public static func defaultCache(for file: URL) -> URL {
        if let environment = ProcessInfo.processInfo.environment["SEEDPIPE_CACHE"], !environment.isEmpty {
            return URL(fileURLWithPath: environment)
        }
        return file.deletingLastPathComponent().appendingPathComponent(".seedpipe")
    }

    /// Warnings to swift-log (standard error unless the host bootstraps another handler).
    public static let logWarning: @Sendable (String) -> Void = { Logger(label: "seedpipe").warning("\($0)") }

    /// The file as a person typed it.
    public var name: String { file.relativePath }

    /// The picks file beside the pipeline.
    public var picksFile: URL { Picks.location(for: file) }

    /// The local cache, read and written through to ``remoteCache`` when there is one.
    public func storage() throws -> Storage { try Storage.local(at: cacheFolder, remote: remoteCache) }

    /// Loads, expands and validates with the plugins found for this pipeline; every problem
    /// is reported at once. A broken plugin is part of the error when the pipeline does not
    /// validate (it may be why a kind is unknown), and a warning, told once, when it validates
    /// without it.
    /// `exploring` builds it in the default profile, where takes are explored, whatever
    /// ``profile`` says (what `takes`, `pick` and `reroll` list and make).
    public func load(registry: StageRegistry = BuiltinStages.registry(), picks: Picks? = nil, takes: TakeSelection = .used,
                     exploring: Bool = false) throws -> ValidatedPipeline
    {
        let text = try source.text()
        var registry = registry
        // A local media file that passed its kind check, unchanged since, is not probed again.
        registry.fileCheck = registry.fileCheck.map { FileDigests.forCache(at: cacheFolder).remembering($0) }
        // An unknown kind may be a plugin's: say where plugins are looked for, and how to list them.
        let folders = PluginCatalog.searchPath(pipeline: file, shipped: PluginCatalog.shippedFolders)
        registry.unknownKindHint = "a plugin's kind? plugins are looked for in "
            + folders.map { "\($0.url.relativePath) (\($0.origin.rawValue))" }.joined(separator: ", ")
            + (folders.contains { $0.origin == .environment } ? "" : " and the folders of SEEDPIPE_PLUGIN_PATH (not set)")
            + "; `seedpipe plugins ls --pipeline \(name)` lists them"
        let pluginProblems = plugins.registerUsable(into: &registry, describe: BuiltinStages.describeMedia)
        let validated: ValidatedPipeline
        do {
            let graph = try PipelineFile.parse(text, file: name, baseFolder: file.deletingLastPathComponent(), overrides: vars,
                                               registry: registry, picks: try picks ?? Picks.load(picksFile), takes: takes,
                                               profile: exploring ? nil : profile)
            validated = try PipelineValidator.validate(graph, registry: registry)
        } catch let error as PipelineError where !pluginProblems.isEmpty {
            throw PipelineError(error.diagnostics + pluginProblems.filter { !error.diagnostics.contains($0) })
        }
        var warnings = pluginProblems.map { $0.formatted(as: "warning") }
        if validated.graph.outputs.isEmpty {
            warnings.append("\(name): warning: the pipeline has no `outputs:`, so a run hands over nothing in its out folder "
                            + "(what its stages make stays in the cache); name the film, such as `outputs: { film: \"${film.video}\" }`")
        }
        let unwarned = Self.warned.withLock { warned in warnings.filter { warned.insert($0).inserted } }
        for warning in unwarned { warn(warning) }
        return validated
    }

    /// The pipeline loaded with the built-in stages priced for `backend` (what `plan` and `run` use).
    public func loadPriced(_ storage: Storage, backend: Backend.Kind = .service, picks: Picks? = nil, takes: TakeSelection = .used)
        async throws -> ValidatedPipeline {
        try load(registry: BuiltinStages.registry(prices: try await prices(storage, backend: backend)), picks: picks, takes: takes)
    }

    /// The pipeline with every take of every shot, and the picks it was read with.
    /// Takes are explored in the default profile, so that is the profile it is built in.
    public func loadAllTakes(picks: Picks? = nil, registry: StageRegistry = BuiltinStages.registry()) throws -> (ValidatedPipeline, Picks) {
        let picks = try picks ?? Picks.load(picksFile)
        return (try load(registry: registry, picks: picks, takes: .all, exploring: true), picks)
    }

    /// The price of a second of video: on an emulator, its own bill (emulated, never mixed
    /// with the service's prices); else ``pricePerSecond``, `$SEEDPIPE_PRICE_PER_SECOND`,
    /// else what this cache's generations were billed by the service, by resolution.
    public func prices(_ storage: Storage, backend: Backend.Kind = .service) async throws -> PriceBook {
        try await Self.prices(storage, backend: backend, pricePerSecond: pricePerSecond)
    }

    static func prices(_ storage: Storage, backend: Backend.Kind, pricePerSecond: Double?) async throws -> PriceBook {
        if case .emulator(let pricePerSecond, let byResolution) = backend {
            return PriceBook(perSecond: byResolution, fallback: pricePerSecond, emulated: true)
        }
        if let pricePerSecond { return PriceBook(flat: pricePerSecond) }
        if let text = ProcessInfo.processInfo.environment["SEEDPIPE_PRICE_PER_SECOND"], !text.isEmpty {
            guard let price = Double(text), price >= 0 else {
                throw RunError(.invalidRequest, "SEEDPIPE_PRICE_PER_SECOND=\(text): give USD per second of video, such as 0.03")
            }
            return PriceBook(flat: price)
        }
        return PriceBook.learned(from: (try? await GenerationEntry.all(in: storage.journal)) ?? [])
    }

    /// The plugins on this pipeline's search path (found once per process).
    public var plugins: PluginCatalog {
        Self.catalogs.withLock { catalogs in
            let key = file.standardizedFileURL.path
            if let known = catalogs[key] { return known }
            let catalog = PluginCatalog.discover(in: PluginCatalog.searchPath(pipeline: file, shipped: PluginCatalog.shippedFolders))
            catalogs[key] = catalog
            return catalog
        }
    }

    private static let catalogs = Mutex<[String: PluginCatalog]>([:])
    /// Plugin warnings already told (a command may load its pipeline more than once).
    private static let warned = Mutex<Set<String>>([])

    /// One `pipeline:` name is one file in a cache: its last run, live log, journal entries and
    /// `out/NAME/` go by the name. A file whose name the cache keeps for another file (one that
    /// still exists and still has that name) is refused; a moved, deleted or renamed owner frees
    /// it. `record` makes this file the owner, for the work that writes under the name.
    public func claimName(_ pipelineName: String, record: Bool) throws {
        let entry = cacheFolder.appendingPathComponent("names", isDirectory: true).appendingPathComponent("\(pipelineName).path")
        let mine = file.standardizedFileURL.resolvingSymlinksInPath().path
        let owner = (try? String(contentsOf: entry, encoding: .utf8))?.trimmingCharacters(in: .newlines)
        if let owner, owner != mine, FileManager.default.fileExists(atPath: owner),
           PipelineFile.name(of: URL(fileURLWithPath: owner)) == pipelineName {
            throw PipelineError("\(name): `pipeline: \(pipelineName)` already names \(owner) in the cache \(cacheFolder.relativePath) "
                                  + "(the two would share its takes, history and out/\(pipelineName)/); give this file a name of its own "
                                  + "(pipeline: \(pipelineName)-2) or a cache of its own (--cache)")
        }
        guard record, owner != mine else { return }
        try FileManager.default.createDirectory(at: entry.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(mine.utf8).write(to: entry, options: .atomic)
    }

    /// A shot named by a person (`shots-2`, or a take node `shots-2#3`), or a clear error.
    public func shot(_ shotName: String, in takes: ShotTakes) throws -> ShotTakes.Shot {
        let base = shotName.split(separator: "#").first.map(String.init) ?? shotName
        if let shot = takes.shot(base) { return shot }
        let names = takes.shots.map(\.shot)
        // A chain's or storyboard's own name: it has several shots, so say how to name one.
        let members = names.filter { $0.hasPrefix(base + "-") && Int($0.dropFirst(base.count + 1)) != nil }
        if !members.isEmpty {
            throw RunError(.invalidRequest, "`\(base)` has \(members.count) shots (\(members.joined(separator: ", "))): name one, as `\(base) 2` or `\(base)-2`")
        }
        throw RunError(.invalidRequest, "\(name) has no shot `\(shotName)`"
                           + (closest(to: base, in: names).map { "; did you mean `\($0)`?" }
                               ?? (names.isEmpty ? " (it has no generation stages)" : "; shots: \(names.joined(separator: ", "))")))
    }

    /// Every profile of the pipeline, loaded and validated in turn (`seedpipe validate`): the
    /// pipeline in each, by name; one error with every profile's problems. A pipeline without
    /// profiles gives itself under "".
    public func loadEveryProfile(registry: StageRegistry = BuiltinStages.registry()) throws -> [(profile: String, pipeline: ValidatedPipeline)] {
        let first = try load(registry: registry)
        guard let choice = first.graph.profiles else { return [("", first)] }
        var loaded: [(profile: String, pipeline: ValidatedPipeline)] = []
        var diagnostics: [Diagnostic] = []
        for name in choice.names {
            if name == choice.selected {
                loaded.append((name, first))
                continue
            }
            var other = self
            other.profile = name
            do {
                loaded.append((name, try other.load(registry: registry)))
            } catch let error as PipelineError {
                diagnostics += error.diagnostics.filter { !diagnostics.contains($0) }
            }
        }
        guard diagnostics.isEmpty else { throw PipelineError(diagnostics) }
        return loaded
    }

    /// The file's text as this project read it (nil when it cannot be read).
    public var text: String? { try? source.text() }

    /// The file's text, read on first use and kept.
    private final class Source: Sendable {
        let file: URL
        private let cached = Mutex<String?>(nil)
        init(_ file: URL) { self.file = file }

        func text() throws -> String {
            try cached.withLock { cached in
                if let cached { return cached }
                guard FileManager.default.fileExists(atPath: file.path) else {
                    throw RunError(.noPipelineFile, "\(file.relativePath): no such pipeline file")
                }
                do {
                    let text = try String(contentsOf: file, encoding: .utf8)
                    cached = text
                    return text
                } catch {
                    throw PipelineError("\(file.relativePath): cannot read the pipeline file (\(error.localizedDescription))")
                }
            }
        }
    }
}
