/// Text forms of a pipeline's graph for `seedpipe graph`.
extension PipelineGraph {
    public enum GraphFormat: String, Sendable, CaseIterable {
        case dot, mermaid
    }

    /// Every stage, and an edge per reference labelled with the output it carries.
    public func rendered(as format: GraphFormat) -> String {
        var edges: [(from: String, to: String, label: String)] = []
        for stage in stages {
            for reference in Set(stage.with.values.flatMap(\.references)).sorted(by: { "\($0)" < "\($1)" }) {
                edges.append((reference.stage, stage.name, reference.output))
            }
        }
        func id(_ name: String) -> String { name.replacingOccurrences(of: "-", with: "_") }
        switch format {
        case .dot:
            var lines = ["digraph \"\(name)\" {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
            for stage in stages {
                lines.append("  \"\(stage.name)\" [label=\"\(stage.name)\\n\(stage.kind)\"];")
            }
            for edge in edges { lines.append("  \"\(edge.from)\" -> \"\(edge.to)\" [label=\"\(edge.label)\"];") }
            lines.append("}")
            return lines.joined(separator: "\n")
        case .mermaid:
            var lines = ["flowchart LR"]
            for stage in stages { lines.append("  \(id(stage.name))[\"\(stage.name)<br/><small>\(stage.kind)</small>\"]") }
            for edge in edges { lines.append("  \(id(edge.from)) -->|\(edge.label)| \(id(edge.to))") }
            return lines.joined(separator: "\n")
        }
    }
}
