/// A value in a pipeline before it runs: literals, `${stage.output}` references, strings
/// with references inside, and lists or mappings of those.
public indirect enum ValueExpression: Sendable, Hashable {
    case literal(Value)
    /// A whole value taken from another stage's output (keeps its type: a list stays a list).
    case reference(Reference)
    /// Text with references inside: `"Shot ${prompts.count}: …"`.
    case interpolation([Part])
    case list([ValueExpression])
    case object([String: ValueExpression])

    public enum Part: Sendable, Hashable {
        case text(String)
        case reference(Reference)
    }

    /// Every reference inside, in order.
    public var references: [Reference] {
        switch self {
        case .literal: []
        case .reference(let reference): [reference]
        case .interpolation(let parts): parts.compactMap { if case .reference(let r) = $0 { r } else { nil } }
        case .list(let items): items.flatMap(\.references)
        case .object(let items): items.keys.sorted().flatMap { items[$0]!.references }
        }
    }

    /// Parses `${stage.output}` references out of a string.
    static func parse(_ text: String, at location: SourceLocation?) -> ValueExpression {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            let inner = rest[open.upperBound..<close].trimmingCharacters(in: .whitespaces)
            let pieces = inner.split(separator: ".", maxSplits: 1).map(String.init)
            var output = pieces.count > 1 ? pieces[1] : ""
            var index: Int?
            // `${stage.output[2]}`: one item of a list output (counting from 0).
            if output.hasSuffix("]"), let bracket = output.firstIndex(of: "["),
               let number = Int(output[output.index(after: bracket)..<output.index(before: output.endIndex)]) {
                index = number
                output = String(output[..<bracket])
            }
            parts.append(.reference(Reference(stage: pieces[0], output: output, index: index, location: location)))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        if parts.count == 1, case .reference(let reference) = parts[0] { return .reference(reference) }
        if parts.allSatisfy({ if case .text = $0 { true } else { false } }) { return .literal(.string(text)) }
        return .interpolation(parts)
    }
}

/// `${stage.output}`.
public struct Reference: Sendable, Hashable, CustomStringConvertible {
    public var stage: String
    public var output: String
    /// `${stage.output[index]}`: one item of a list output.
    public var index: Int?
    public var location: SourceLocation?

    public init(stage: String, output: String, index: Int? = nil, location: SourceLocation? = nil) {
        self.stage = stage
        self.output = output
        self.index = index
        self.location = location
    }

    public var description: String { "${\(stage).\(output)\(index.map { "[\($0)]" } ?? "")}" }

    /// Locations do not count: the same reference written in two places is equal.
    public static func == (lhs: Reference, rhs: Reference) -> Bool {
        lhs.stage == rhs.stage && lhs.output == rhs.output && lhs.index == rhs.index
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(stage)
        hasher.combine(output)
        hasher.combine(index)
    }
}

import Foundation
