import ArgumentParser
import Foundation
import Logging
import Pipeline
import Stages

struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins a pipeline can use, or check a plugin.",
        discussion: """
            Plugins are folders with a plugin.yaml, found in plugins/ beside the pipeline,
            then plugins/ in the current folder, then each folder of SEEDPIPE_PLUGIN_PATH,
            then the plugins installed with seedpipe (share/seedpipe/plugins beside its
            bin/). The protocol and the manifest are described in plugins/README.md.
            """,
        subcommands: [List.self, Check.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List the plugins found, their stages, and where they come from.",
            discussion: """
                Examples:
                  seedpipe plugins ls
                  seedpipe plugins ls --pipeline pipelines/waterfall-journey.yaml
                """
        )

        @Option(help: "Also search plugins/ beside this pipeline file.")
        var pipeline: String?

        @OptionGroup var global: GlobalOptions

        func run() throws {
            global.apply()
            let folders = PluginCatalog.searchPath(pipeline: pipeline.map { URL(fileURLWithPath: $0) }, shipped: PluginCatalog.shippedFolders)
            let catalog = PluginCatalog.discover(in: folders)
            print("search path:")
            for folder in folders {
                let exists = FileManager.default.fileExists(atPath: folder.url.path)
                print("  \(folder.url.relativePath)  (\(folder.origin.rawValue)\(exists ? "" : ", missing"))")
            }
            if catalog.plugins.isEmpty { print("no plugins found") }
            for plugin in catalog.plugins {
                let manifest = plugin.manifest
                print("\(manifest.name) \(manifest.version)  \(manifest.folder.relativePath)  (\(plugin.origin.rawValue))")
                if let description = manifest.description { print("  \(description)") }
                print("  runs \(([plugin.program.path] + plugin.arguments).joined(separator: " "))  sha256 \(plugin.digest.prefix(16))")
                for stage in manifest.stages {
                    let signature = stage.signature
                    let inputs = signature.inputs.map { "\($0.name): \($0.type)\($0.required ? "" : "?")" }.joined(separator: ", ")
                    let outputs = signature.outputs.map { "\($0.name): \($0.type)" }.joined(separator: ", ")
                    let lost = catalog.shadowedKinds.contains { $0.kind == stage.kind && $0.plugin == manifest.name }
                    print("  stage \(stage.kind)(\(inputs)) -> \(outputs)\(lost ? "  [shadowed by an earlier plugin]" : "")")
                    if !signature.parameters.isEmpty {
                        print("    parameters: " + signature.parameters.map { parameter in
                            parameter.name + (parameter.defaultValue.map { " = \($0.text)" } ?? (parameter.required ? " (required)" : ""))
                        }.joined(separator: ", "))
                    }
                }
            }
            for hidden in catalog.shadowed {
                print("shadowed: \(hidden.plugin.name) \(hidden.plugin.version) in \(hidden.plugin.folder.relativePath) (\(hidden.origin.rawValue)), "
                      + "by \(hidden.by.folder.relativePath)")
            }
            if !catalog.problems.isEmpty {
                for problem in catalog.problems { Terminal.error(problem.description) }
                throw ExitCode(2)
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate plugin manifests, find their programs, and run each stage's example.",
            discussion: """
                DIR is a plugin folder (with plugin.yaml) or a folder of plugins; without it,
                every plugin on the search path is checked. Exit status 2 for a bad manifest,
                1 when an example run fails.

                Examples:
                  seedpipe plugins check plugins/captions
                  seedpipe plugins check
                """
        )

        @Argument(help: "A plugin folder, or a folder of plugin folders.")
        var folder: String?

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let folders: [PluginCatalog.SearchFolder] = folder.map { [PluginCatalog.SearchFolder(URL(fileURLWithPath: $0), origin: .explicit)] }
                ?? PluginCatalog.searchPath(pipeline: nil, shipped: PluginCatalog.shippedFolders)
            let found = folders.flatMap { PluginCatalog.pluginFolders(in: $0.url) }
            if let folder, found.isEmpty {
                throw ValidationError("\(folder): no plugin.yaml in it or in its subfolders")
            }
            let catalog = PluginCatalog.discover(in: folders)
            for problem in catalog.problems { Terminal.error(problem.description) }
            var failed = false
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("seedpipe-plugins-check-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let storage = try Storage.local(at: scratch)
            var logger = Logger(label: "seedpipe.plugins")
            logger.logLevel = global.verbose ? .debug : .warning
            for stage in catalog.stages(describe: BuiltinStages.describeMedia) {
                let name = "\(stage.plugin.name)/\(stage.kind)"
                guard stage.spec.example != nil else {
                    print("\(name): manifest ok, program found (no example to run)")
                    continue
                }
                let started = Date()
                do {
                    let outputs = try await stage.runExample(storage: storage, logger: logger) ?? [:]
                    let listed = outputs.keys.sorted().map { key in
                        let value = outputs[key]!
                        return value.artifacts.isEmpty ? "\(key) = \(value.text)"
                            : "\(key) = \(value.artifacts.map { "\($0.type) \($0.size) bytes" }.joined(separator: ", "))"
                    }
                    print("\(name): example ok in \(String(format: "%.2f", Date().timeIntervalSince(started))) s (\(listed.joined(separator: "; ")))")
                } catch let error as PipelineError where error.code == .invalidPipeline {
                    Terminal.error(error.description)
                    throw ExitCode(2)
                } catch {
                    Terminal.error("\(name): example failed: \(error)")
                    failed = true
                }
            }
            if !catalog.problems.isEmpty { throw ExitCode(2) }
            if failed { throw ExitCode(1) }
            print("\(catalog.plugins.count) plugin\(catalog.plugins.count == 1 ? "" : "s") ok")
        }
    }
}
