import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit
import Stages

/// The pipeline file and where its cache lives: the command line's side of ``PipelineProject``.
struct PipelineOptions: ParsableArguments {
    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(name: .customLong("var"), help: "Override a var: --var place=\"a glacier\" (repeatable).")
    var vars: [String] = []

    @Option(help: ArgumentHelp("The pipeline's profile to work in, such as draft or final (default: its default_profile). Takes are explored in the default profile; another finishes the picks: one take per shot, the picked seed.",
                               valueName: "NAME"))
    var profile: String?

    @Option(help: "Cache folder (default: .seedpipe beside the pipeline, or $SEEDPIPE_CACHE).")
    var cache: String?

    @Option(help: ArgumentHelp("USD per second of video, for cost estimates (or $SEEDPIPE_PRICE_PER_SECOND; default: learned from what earlier generations were billed).",
                               valueName: "USD"))
    var pricePerSecond: Double?

    @Option(help: ArgumentHelp("A team's cache to read and write through (or $SEEDPIPE_REMOTE_CACHE): an HTTP server in Bazel's layout (URL/cas/SHA256, URL/ac/KEY), such as nginx with WebDAV PUT. Credentials: $SEEDPIPE_REMOTE_CACHE_AUTH.",
                               valueName: "URL"))
    var remoteCache: String?

    @Option(help: "read (look up only), write (upload only) or readwrite.")
    var remoteCacheMode: String = "readwrite"

    func validate() throws {
        guard RemoteCache.Mode(rawValue: remoteCacheMode) != nil else {
            throw ValidationError("--remote-cache-mode \(remoteCacheMode): use read, write or readwrite")
        }
        if let remoteCache, URL(string: remoteCache)?.host == nil {
            throw ValidationError("--remote-cache \(remoteCache): give an http(s) URL, such as http://cache.example:8080/seedpipe")
        }
        if let pricePerSecond, pricePerSecond < 0 { throw ValidationError("--price-per-second must be 0 or more") }
        for item in vars where !item.contains("=") {
            throw ValidationError("--var \(item): write it as NAME=VALUE")
        }
    }

    var overrides: [String: String] {
        Dictionary(vars.map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { $1 })
    }

    /// The pipeline file as the library works on it. Make it once per command: it reads the
    /// file once, however many times it is loaded.
    var project: PipelineProject {
        var project = PipelineProject(file: URL(fileURLWithPath: pipeline), vars: overrides, cacheFolder: cache.map { URL(fileURLWithPath: $0) },
                                      pricePerSecond: pricePerSecond, warn: { Terminal.error($0) })
        project.profile = profile
        let mode = RemoteCache.Mode(rawValue: remoteCacheMode) ?? .readwrite
        let warn: @Sendable (String) -> Void = { Terminal.error("warning: \($0)") }
        if let remoteCache, let url = URL(string: remoteCache) {
            project.remoteCache = RemoteCache(url: url, mode: mode, auth: ProcessInfo.processInfo.environment["SEEDPIPE_REMOTE_CACHE_AUTH"],
                                              warn: warn)
        } else {
            project.remoteCache = RemoteCache.fromEnvironment(mode: mode, warn: warn)
        }
        return project
    }

    var cacheFolder: URL { cache.map { URL(fileURLWithPath: $0) } ?? PipelineProject.defaultCache(for: URL(fileURLWithPath: pipeline)) }

    /// For commands that load the pipeline once: validated with its plugins (exit 2 on any problem).
    func load(registry: StageRegistry = BuiltinStages.registry()) throws -> ValidatedPipeline { try project.load(registry: registry) }

    /// The local cache (`.seedpipe/` beside the pipeline, `--cache`, or `$SEEDPIPE_CACHE`).
    func storage() throws -> Storage { try Storage.local(at: cacheFolder) }
}
