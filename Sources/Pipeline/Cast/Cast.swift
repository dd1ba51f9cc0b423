import Foundation

/// A pipeline's **cast**: references named once (a character's picture, a theme's audio)
/// and used by name in any shot that takes them:
///
/// ```yaml
/// cast:
///   hero:  { image: assets/hero.png, note: "a woman in a red coat" }
///   theme: { audio: assets/theme.m4a }
/// stages:
///   shot: { uses: seedance.generate, with: { prompt: "{{cast.hero}} walks in the rain", cast: [hero, theme] } }
/// ```
///
/// A stage that declares ``CastSupport`` receives each member's file on the input its kind
/// maps to (before any it is given directly) and, as its cast parameter, each member's kind,
/// number among the references of that kind it sends (from 1), and note.
public struct CastMember: Sendable, Hashable {
    public var name: String
    /// `image`, `video` or `audio`.
    public var kind: String
    /// A local path (relative to the pipeline), a URL, or `${stage.output}`.
    public var source: ValueExpression
    public var note: String?
    public var location: SourceLocation?

    public init(name: String, kind: String, source: ValueExpression, note: String? = nil, location: SourceLocation? = nil) {
        self.name = name
        self.kind = kind
        self.source = source
        self.note = note
        self.location = location
    }

    /// The kinds a cast member can be.
    public static let kinds = ["image", "video", "audio"]
}

/// How a stage takes cast members: the input each kind goes to, and the parameter that
/// receives `{name: {kind, number, note}}`.
public struct CastSupport: Sendable, Hashable {
    /// Member kind (`image`) → input port (`reference_images`, a list).
    public var inputs: [String: String]
    public var parameter: String

    public init(inputs: [String: String], parameter: String = "cast") {
        self.inputs = inputs
        self.parameter = parameter
    }
}

/// Replaces `cast: [names]` on stages with ``CastSupport`` by the members' inputs and the
/// cast parameter (after macros, which pass `cast` on to their shots).
enum CastExpansion {
    static func expand(_ stages: [StageNode], cast: [String: CastMember], registry: StageRegistry,
                       diagnostics: inout [Diagnostic]) -> [StageNode] {
        stages.map { original in
            guard let names = original.with["cast"], let stage = registry.stage(original.kind),
                  let support = stage.signature.cast else { return original }
            var node = original
            node.with["cast"] = nil
            let location = original.keyLocations["cast"] ?? original.location
            guard case .literal(let value) = names, let list = value.list ?? value.string.map({ [.string($0)] }),
                  list.allSatisfy({ $0.string != nil }) else {
                diagnostics.append(Diagnostic("stage `\(node.name)`: cast must be a list of cast names", at: location, fix: "e.g. cast: [hero]"))
                return node
            }
            var members: [String: Value] = [:]
            var added: [String: [ValueExpression]] = [:]
            for name in list.compactMap(\.string) {
                guard let member = cast[name] else {
                    diagnostics.append(Diagnostic("stage `\(node.name)`: no cast member `\(name)`", at: location,
                                                  fix: closest(to: name, in: cast.keys).map { "did you mean `\($0)`?" }
                                                      ?? (cast.isEmpty ? "declare it under `cast:` at the top of the file"
                                                          : "the cast: \(cast.keys.sorted().joined(separator: ", "))")))
                    continue
                }
                guard let input = support.inputs[member.kind] else {
                    diagnostics.append(Diagnostic("stage `\(node.name)` (\(node.kind)) takes no \(member.kind) references (cast member `\(name)`)",
                                                  at: location))
                    continue
                }
                added[input, default: []].append(member.source)
                var fields: [String: Value] = ["kind": .string(member.kind), "number": .number(Double(added[input]!.count))]
                if let note = member.note { fields["note"] = .string(note) }
                members[name] = .object(fields)
            }
            for (input, sources) in added {
                // The cast comes first, then what the stage was given directly.
                var items = sources
                switch node.with[input] {
                case nil: break
                case .literal(let value)?: items += (value.list ?? [value]).map { .literal($0) }
                case .list(let given)?: items += given
                case let other?: items.append(other)
                }
                node.with[input] = .list(items)
            }
            node.with[support.parameter] = .literal(.object(members))
            return node
        }
    }
}
