import Foundation

/// Part of a pipeline to run: `--only STAGE,…` (those stages and what they need, no more) or
/// `--until STAGE` (every stage declared up to it, and it). A name is a stage as written: a
/// macro's name stands for the stages it expands into, a shot with takes for its takes.
public struct StageSelection: Sendable, Hashable, Codable {
    public var only: [String]
    public var until: String?

    public init(only: [String] = [], until: String? = nil) {
        self.only = only
        self.until = until
    }

    public var isEmpty: Bool { only.isEmpty && until == nil }

    /// As the command line writes it: `--only a,b`, `--until c`.
    public var description: String {
        ([only.isEmpty ? nil : "--only \(only.joined(separator: ","))", until.map { "--until \($0)" }]).compactMap { $0 }
            .joined(separator: " ")
    }
}

extension ValidatedPipeline {
    /// The stages a name stands for: the stage itself, the stages a macro of that name expanded
    /// into, the takes of a shot of that name.
    public func members(of name: String) -> [String] {
        steps.filter { $0.node.name == name || $0.node.expandedFrom == name || $0.node.take?.shot == name }.map(\.node.name)
    }

    /// Only the selected stages and the stages they need (in the same order), and the outputs
    /// that those make. An unknown name is a ``PipelineError`` naming the stages there are.
    public func selecting(_ selection: StageSelection) throws -> ValidatedPipeline {
        guard !selection.isEmpty else { return self }
        let written = Array(Set(graph.stages.map { $0.expandedFrom ?? $0.take?.shot ?? $0.name })).sorted()
        func resolve(_ name: String, option: String) throws -> [String] {
            let members = self.members(of: name)
            guard !members.isEmpty else {
                throw PipelineError("\(option) \(name): the pipeline has no stage `\(name)`",
                                    fix: closest(to: name, in: written).map { "did you mean `\($0)`?" }
                                        ?? "its stages: \(written.joined(separator: ", "))")
            }
            return members
        }
        var wanted: Set<String> = []
        for name in selection.only { wanted.formUnion(try resolve(name, option: "--only")) }
        if let until = selection.until {
            let members = Set(try resolve(until, option: "--until"))
            let declared = graph.stages.map(\.name)
            let last = declared.lastIndex { members.contains($0) } ?? 0
            wanted.formUnion(declared[...last])
        }
        // What they need, transitively.
        var needed = wanted
        var queue = Array(wanted)
        while let name = queue.popLast() {
            guard let current = step(name) else { continue }
            for reference in current.with.values.flatMap(\.references) where step(reference.stage) != nil {
                if needed.insert(reference.stage).inserted { queue.append(reference.stage) }
            }
        }
        var part = self
        part.steps = steps.filter { needed.contains($0.node.name) }
        part.graph.stages = graph.stages.filter { needed.contains($0.name) }
        part.graph.outputs = graph.outputs.filter { _, expression in
            expression.references.allSatisfy { needed.contains($0.stage) || step($0.stage) == nil }
        }
        return part
    }
}
