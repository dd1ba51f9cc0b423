import Crypto
import Foundation

/// A loaded plugin whose program was found: what runs, and the digest that goes into
/// every action key of its stages (with the manifest's version).
public struct ExecutablePlugin: Sendable {
    public var manifest: PluginManifest
    public var program: URL
    public var arguments: [String]
    /// The program and every argument naming a file in the plugin folder: what ``digest`` hashes.
    public var pieces: [URL]
    /// SHA-256 over the pieces' digests. Computed when asked (when a stage of the plugin is
    /// planned), through the digests of the cache being planned (``FileDigests/current``), so
    /// a plugin no stage uses is never read and an unchanged program is not read twice.
    public var digest: String {
        let digests = FileDigests.current ?? .unattached
        var hasher = SHA256()
        for piece in pieces {
            // Unreadable since it was found: a key of its own; running the stage says why.
            hasher.update(data: Data(((try? digests.digest(of: piece)) ?? "unreadable").utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
    /// Where it was found.
    public var origin: PluginCatalog.Origin

    public var name: String { manifest.name }

    /// Finds the program and checks that it and the files it names can be read (nothing is
    /// hashed until a stage needs the ``digest``).
    public static func resolve(_ manifest: PluginManifest, origin: PluginCatalog.Origin) throws -> ExecutablePlugin {
        guard let first = manifest.command.first else { throw PipelineError("the manifest has no command", at: manifest.location) }
        let folder = manifest.folder
        var candidates: [URL] = []
        if first.hasPrefix("/") {
            candidates = [URL(fileURLWithPath: first)]
        } else if first.contains("/") {
            candidates = [folder.appendingPathComponent(first)]
        } else {
            candidates = [folder.appendingPathComponent(first)]
            if let own = Self.ownFolder { candidates.append(own.appendingPathComponent(first)) }
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            candidates += path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(first) }
        }
        var isFolder: ObjCBool = false
        guard let program = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path, isDirectory: &isFolder) && !isFolder.boolValue })
        else {
            throw PipelineError("plugin \(manifest.name): cannot find its program `\(first)`", at: manifest.commandLocation,
                                fix: first.contains("/") ? "the path is relative to \(displayPath(folder))"
                                    : "looked in \(displayPath(folder)), beside seedpipe and on PATH; build or install it")
        }
        guard FileManager.default.isExecutableFile(atPath: program.path) else {
            throw PipelineError("plugin \(manifest.name): \(displayPath(program)) is not executable", at: manifest.commandLocation,
                                fix: "chmod +x \(displayPath(program))")
        }
        let arguments = Array(manifest.command.dropFirst())
        let base = folder.standardizedFileURL.resolvingSymlinksInPath().path + "/"
        let pieces = [program] + arguments.compactMap { argument -> URL? in
            let file = folder.appendingPathComponent(argument)
            var folderFlag: ObjCBool = false
            guard !argument.hasPrefix("-"), FileManager.default.fileExists(atPath: file.path, isDirectory: &folderFlag),
                  !folderFlag.boolValue, file.standardizedFileURL.resolvingSymlinksInPath().path.hasPrefix(base) else { return nil }
            return file
        }
        for piece in pieces where access(piece.path, R_OK) != 0 {
            throw PipelineError("plugin \(manifest.name): cannot read \(displayPath(piece)) (\(String(cString: strerror(errno))))",
                                at: manifest.commandLocation)
        }
        return ExecutablePlugin(manifest: manifest, program: program, arguments: arguments, pieces: pieces, origin: origin)
    }

    /// The folder of the running executable: plugins built with seedpipe land beside it.
    static let ownFolder: URL? = {
        let link = URL(fileURLWithPath: "/proc/self/exe")
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path) {
            return URL(fileURLWithPath: target).deletingLastPathComponent()
        }
        return Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
    }()
}

/// The plugins a pipeline can use: found on the search path in order, the first of a name
/// winning (later ones are kept as `shadowed`), each manifest checked and its program found.
public struct PluginCatalog: Sendable {
    /// Where a search folder comes from, in the order they are searched.
    public enum Origin: String, Sendable, Codable {
        case besidePipeline = "beside the pipeline"
        case project = "project"
        case environment = "SEEDPIPE_PLUGIN_PATH"
        case shipped = "shipped with seedpipe"
        case explicit = "given"
    }

    public struct SearchFolder: Sendable {
        public var url: URL
        public var origin: Origin
        public init(_ url: URL, origin: Origin) {
            self.url = url
            self.origin = origin
        }
    }

    /// Plugins in effect, in search order.
    public var plugins: [ExecutablePlugin] = []
    /// Plugins hidden by an earlier one of the same name: (hidden, the one in effect). A
    /// plugin whose program is missing still takes its name and kinds, so a later copy never
    /// stands in for it unnoticed.
    public var shadowed: [(plugin: PluginManifest, origin: Origin, by: PluginManifest)] = []
    /// Stage kinds offered by more than one plugin: (kind, the plugin that lost).
    public var shadowedKinds: [(kind: String, plugin: String)] = []
    /// Manifests that did not load, and programs not found.
    public var problems: [Diagnostic] = []

    public init() {}

    /// `plugins/` beside the pipeline, the project's `plugins/` (in `projectFolder`, by
    /// default the current folder), each folder of `SEEDPIPE_PLUGIN_PATH`, then `shipped`
    /// (the CLI passes `shippedFolders`); duplicates removed.
    public static func searchPath(pipeline: URL?, projectFolder: URL? = nil,
                                  environment: [String: String] = ProcessInfo.processInfo.environment,
                                  shipped: [URL] = []) -> [SearchFolder] {
        var folders: [SearchFolder] = []
        if let pipeline {
            folders.append(SearchFolder(pipeline.deletingLastPathComponent().appendingPathComponent("plugins"), origin: .besidePipeline))
        }
        let project = projectFolder ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        folders.append(SearchFolder(project.appendingPathComponent("plugins"), origin: .project))
        for entry in (environment["SEEDPIPE_PLUGIN_PATH"] ?? "").split(separator: ":") where !entry.isEmpty {
            folders.append(SearchFolder(URL(fileURLWithPath: String(entry)), origin: .environment))
        }
        folders += shipped.map { SearchFolder($0, origin: .shipped) }
        var seen: Set<String> = []
        return folders.filter { seen.insert($0.url.standardizedFileURL.resolvingSymlinksInPath().path).inserted }
    }

    /// The plugins installed with the running seedpipe: `share/seedpipe/plugins` beside its
    /// `bin/` (`make install`), when that folder exists.
    public static var shippedFolders: [URL] {
        guard let own = ExecutablePlugin.ownFolder?.standardizedFileURL else { return [] }
        let shared = own.deletingLastPathComponent().appendingPathComponent("share/seedpipe/plugins")
        return FileManager.default.fileExists(atPath: shared.path) ? [shared] : []
    }

    /// Loads every plugin under the folders: each subfolder with a `plugin.yaml` (or the
    /// folder itself when it holds one).
    public static func discover(in folders: [SearchFolder]) -> PluginCatalog {
        var catalog = PluginCatalog()
        var kinds: [String: String] = [:]
        var claimed: [String: PluginManifest] = [:]
        for folder in folders {
            for pluginFolder in pluginFolders(in: folder.url) {
                let manifest: PluginManifest
                do {
                    manifest = try PluginManifest.load(folder: pluginFolder)
                } catch let error as PipelineError {
                    catalog.problems += error.diagnostics
                    continue
                } catch {
                    catalog.problems.append(Diagnostic("\(displayPath(pluginFolder)): \(error)", at: nil))
                    continue
                }
                if let winner = claimed[manifest.name] {
                    catalog.shadowed.append((manifest, folder.origin, winner))
                    continue
                }
                claimed[manifest.name] = manifest
                for stage in manifest.stages {
                    if kinds[stage.kind] != nil {
                        catalog.shadowedKinds.append((stage.kind, manifest.name))
                    } else {
                        kinds[stage.kind] = manifest.name
                    }
                }
                do {
                    catalog.plugins.append(try ExecutablePlugin.resolve(manifest, origin: folder.origin))
                } catch let error as PipelineError {
                    catalog.problems += error.diagnostics
                } catch {
                    catalog.problems.append(Diagnostic("plugin \(manifest.name): \(error)", at: manifest.location))
                }
            }
        }
        return catalog
    }

    /// The plugin folders inside `folder`, sorted by name (the folder itself if it is one).
    public static func pluginFolders(in folder: URL) -> [URL] {
        let manager = FileManager.default
        if manager.fileExists(atPath: folder.appendingPathComponent(PluginManifest.fileName).path) { return [folder] }
        guard let names = try? manager.contentsOfDirectory(atPath: folder.path) else { return [] }
        return names.sorted().map { folder.appendingPathComponent($0) }
            .filter { manager.fileExists(atPath: $0.appendingPathComponent(PluginManifest.fileName).path) }
    }

    /// The stages of every plugin in effect. `describe` adds facts about input files to the
    /// request (Stages passes a Media probe: duration, size, frame rate).
    public func stages(describe: PluginStage.Describer? = nil) -> [PluginStage] {
        let lost = Set(shadowedKinds.map { "\($0.plugin)/\($0.kind)" })
        return plugins.flatMap { plugin in
            plugin.manifest.stages.filter { !lost.contains("\(plugin.name)/\($0.kind)") }
                .map { PluginStage(plugin: plugin, spec: $0, describe: describe) }
        }
    }

    /// Adds the plugins' stages to `registry`, all or nothing: a plugin cannot replace a stage
    /// already there (a built-in one), and a manifest that did not load or a program not found
    /// is an error. Everything wrong is thrown at once, with locations.
    public func register(into registry: inout StageRegistry, describe: PluginStage.Describer? = nil) throws {
        var candidate = registry
        let diagnostics = registerUsable(into: &candidate, describe: describe)
        guard diagnostics.isEmpty else { throw PipelineError(diagnostics) }
        registry = candidate
    }

    /// Adds the stages of every plugin that works to `registry` and returns what is wrong with
    /// the others (manifests that did not load, programs not found, built-in kinds claimed).
    /// Whether those problems matter depends on the pipeline: `seedpipe` makes them part of
    /// the error when the pipeline does not validate, and warnings when it does, so one broken
    /// plugin does not stop pipelines that never use it.
    public func registerUsable(into registry: inout StageRegistry, describe: PluginStage.Describer? = nil) -> [Diagnostic] {
        var diagnostics = problems
        for stage in stages(describe: describe) {
            if registry.stage(stage.kind) != nil || registry.macro(stage.kind) != nil {
                diagnostics.append(Diagnostic("plugin \(stage.plugin.name) offers stage `\(stage.kind)`, which is built into seedpipe",
                                              at: stage.spec.location, fix: "name it differently, e.g. `\(stage.plugin.name).\(stage.kind)`"))
            } else {
                registry.register(stage)
            }
        }
        return diagnostics
    }
}
