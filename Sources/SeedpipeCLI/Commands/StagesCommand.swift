import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit

struct StagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages",
        abstract: "List the stage kinds a pipeline here can use, or describe one.",
        discussion: """
            Without KIND: every kind (built-in, and the plugins found as a run finds them),
            with where it comes from and what it does. With KIND: its inputs and outputs,
            its parameters (type, default, allowed values or range, whether part of the
            cache key), its pool and cost, and an example `with:` block.

            Examples:
              seedpipe stages
              seedpipe stages thumbnail
              seedpipe stages seedance.generate --json
              seedpipe stages --pipeline pipelines/storyboard.yaml title-card
            """
    )

    @Argument(help: "A stage kind (as written after `uses:`).")
    var kind: String?

    @Option(help: "Also find the plugins beside this pipeline file (default: from the current folder).")
    var pipeline: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let folder = pipeline.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
        let catalog = StageCatalog.load(pipelineFolder: folder)
        for problem in catalog.problems { Terminal.error("warning: \(problem)") }
        guard let kind else {
            if json { return try Terminal.json(catalog.entries) }
            let width = (catalog.entries.map(\.kind.count).max() ?? 0) + 2
            for entry in catalog.entries {
                print(entry.kind.padding(toLength: width, withPad: " ", startingAt: 0) + "\(entry.summary)  [\(entry.origin)]")
            }
            return
        }
        guard let entry = catalog.entry(kind) else {
            let hint = closest(to: kind, in: catalog.entries.map(\.kind)).map { "did you mean `\($0)`? " } ?? ""
            Terminal.error("error: no stage kind `\(kind)`: \(hint)`seedpipe stages` lists them")
            throw ExitCode(2)
        }
        if json { return try Terminal.json(entry) }
        print(Self.describe(entry))
    }

    /// The text `seedpipe stages KIND` prints.
    static func describe(_ entry: StageCatalog.Entry) -> String {
        var lines = ["\(entry.kind) (\(entry.origin)): \(entry.summary)", "pool: \(entry.pool); cost: \(entry.cost)"]
        if entry.macro { lines.append("a macro: it expands into stages before the run (seedpipe graph shows them)") }
        func table(_ title: String, _ rows: [(String, String, String?)]) {
            guard !rows.isEmpty else { return }
            lines.append("")
            lines.append("\(title):")
            let width = (rows.map(\.0.count).max() ?? 0) + 2, middle = min((rows.map(\.1.count).max() ?? 0) + 2, 44)
            for (name, facts, words) in rows {
                let head = "  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                let fact = facts.count >= middle ? facts + "  " : facts.padding(toLength: middle, withPad: " ", startingAt: 0)
                lines.append(head + fact + (words ?? ""))
            }
        }
        func type(_ port: StageCatalog.PortInfo) -> String {
            (port.list ? "[\(port.type)]" : port.type) + (port.maximum.map { ", at most \($0)" } ?? "")
                + (port.required ? "" : ", optional")
        }
        table("inputs", entry.inputs.map { ($0.name, type($0), $0.description) })
        table("outputs", entry.outputs.map { ($0.name, $0.type.isEmpty ? "" : type($0), $0.description) })
        table("parameters", entry.parameters.map { parameter in
            var facts = [parameter.type]
            if parameter.required { facts.append("required") }
            if let value = parameter.defaultValue { facts.append("default \(value.text)") }
            if let allowed = parameter.allowed { facts.append("one of " + allowed.map(\.text).joined(separator: "|")) }
            switch (parameter.minimum, parameter.maximum) {
            case let (low?, high?): facts.append("\(Value.number(low).text) to \(Value.number(high).text)")
            case let (low?, nil): facts.append("at least \(Value.number(low).text)")
            case let (nil, high?): facts.append("at most \(Value.number(high).text)")
            default: break
            }
            if !parameter.keyed { facts.append("not in the cache key") }
            return (parameter.name, facts.joined(separator: ", "), parameter.description)
        })
        if let example = entry.example {
            lines += ["", "example (seedpipe validate accepts it, with clip.mp4, frame.png or music.m4a beside the pipeline):",
                      "  example:", "    uses: \(entry.kind)", "    with: \(flow(example))"]
        }
        return lines.joined(separator: "\n")
    }

    /// A `with:` mapping on one line, as YAML flow (values as JSON, which YAML reads).
    static func flow(_ values: [String: Value]) -> String {
        "{ " + values.keys.sorted().map { "\($0): \(values[$0]!.canonicalJSON)" }.joined(separator: ", ") + " }"
    }
}
