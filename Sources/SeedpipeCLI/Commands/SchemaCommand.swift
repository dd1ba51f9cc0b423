import ArgumentParser
import Foundation
import SeedpipeKit

struct SchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print a JSON Schema for pipeline files, for editors.",
        discussion: """
            Made from the stages a pipeline in PIPELINE_DIR can use (plugins included):
            every top-level key, each stage's `uses:` as an enum and, per kind, its `with:`
            keys with types, allowed values, ranges and descriptions. Point
            yaml-language-server (VS Code's YAML extension) at it with a first line
            `# yaml-language-server: $schema=pipeline.schema.json`. `validate` stays the
            authority. `make schema` writes pipelines/pipeline.schema.json.

            Examples:
              seedpipe schema pipelines -o pipelines/pipeline.schema.json
              seedpipe schema --output my.schema.json
            """
    )

    @Argument(help: "The folder of the pipelines (its plugins/ are included; default: the current folder).")
    var pipelineDir: String?

    @Option(name: .shortAndLong, help: "Write the schema to this file instead of standard output.")
    var output: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let catalog = StageCatalog.load(pipelineFolder: pipelineDir.map { URL(fileURLWithPath: $0) })
        for problem in catalog.problems { Terminal.error("warning: \(problem)") }
        let data = try PipelineSchema.json(catalog)
        guard let output else { return FileHandle.standardOutput.write(data) }
        try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        Terminal.note("wrote \(output): \(catalog.entries.count) stage kinds")
    }
}
