import Foundation

/// The last steps shared by pipeline files and the Swift DSL, so both give the same graph:
/// `--var` overrides, `${vars.x}` substitution, macro expansion, and takes.
enum PipelineAssembler {
    /// The pipeline's `encode:` block and where each key is written.
    struct Encode {
        var values: [String: Value] = [:]
        var locations: [String: SourceLocation] = [:]
    }

    static func assemble(
        name: String, vars: [String: Value], defaults: [String: [String: Value]], stages raw: [StageNode],
        outputs rawOutputs: [String: ValueExpression], baseFolder: URL, file: String?, registry: StageRegistry,
        cast rawCast: [String: CastMember] = [:], picks: Picks = Picks(), takes selection: TakeSelection = .used,
        profiles: ProfileChoice? = nil, encode: Encode = Encode()
    ) throws -> PipelineGraph {
        var diagnostics: [Diagnostic] = []
        let profile = profiles?.current
        func substitute(_ expression: ValueExpression) -> ValueExpression {
            switch expression {
            case .reference(let reference) where reference.stage == "vars":
                guard let value = vars[reference.output] else {
                    diagnostics.append(Diagnostic("unknown var `\(reference.output)` in \(reference)", at: reference.location,
                                                  fix: closest(to: reference.output, in: vars.keys).map { "did you mean `\($0)`?" }
                                                      ?? (vars.isEmpty ? "declare it under `vars:`" : "vars: \(vars.keys.sorted().joined(separator: ", "))")))
                    return .literal(.null)
                }
                return .literal(value)
            case .interpolation(let parts):
                let replaced = parts.map { part -> ValueExpression.Part in
                    if case .reference(let reference) = part, reference.stage == "vars" {
                        if case .literal(let value) = substitute(.reference(reference)) { return .text(value.text) }
                    }
                    return part
                }
                if replaced.allSatisfy({ if case .text = $0 { true } else { false } }) {
                    return .literal(.string(replaced.map { if case .text(let t) = $0 { t } else { "" } }.joined()))
                }
                return .interpolation(replaced)
            case .list(let items): return .list(items.map(substitute))
            case .object(let items): return .object(items.mapValues(substitute))
            default: return expression
            }
        }

        var stages: [StageNode] = []
        var exports: [String: [String: ValueExpression]] = [:]
        let written = profile.map { ProfileApplication.beforeExpansion(raw, profile: $0) } ?? raw
        for node in written {
            var node = node
            node.with = node.with.mapValues(substitute)
            guard let macro = registry.macro(node.kind) else {
                stages.append(node)
                continue
            }
            for key in node.with.keys.sorted() where !macro.acceptedKeys.contains(key) {
                diagnostics.append(Diagnostic("stage `\(node.name)` (\(node.kind)) has no parameter `\(key)`",
                                              at: node.keyLocations[key] ?? node.location,
                                              fix: closest(to: key, in: macro.acceptedKeys).map { "did you mean `\($0)`?" }
                                                  ?? "accepted: \(macro.acceptedKeys.joined(separator: ", "))"))
            }
            do {
                let expansion = try macro.expand(name: node.name, with: node.with, location: node.location,
                                                 context: MacroContext(stages: raw))
                stages += expansion.stages.map { var stage = $0; stage.expandedFrom = stage.expandedFrom ?? node.name; return stage }
                exports[node.name] = expansion.exports
            } catch let error as PipelineError {
                diagnostics += error.diagnostics
            }
        }
        var outputs = rawOutputs.mapValues(substitute)
        if !exports.isEmpty {
            stages = stages.map { node in
                var node = node
                node.with = node.with.mapValues { $0.replacingExports(exports) }
                return node
            }
            outputs = outputs.mapValues { $0.replacingExports(exports) }
        }
        let cast = rawCast.mapValues { var member = $0; member.source = substitute(member.source).replacingExports(exports); return member }
        if diagnostics.isEmpty {
            stages = CastExpansion.expand(stages, cast: cast, registry: registry, diagnostics: &diagnostics)
        }
        if diagnostics.isEmpty, let profile {
            stages = ProfileApplication.afterExpansion(stages, written: raw, profile: profile, registry: registry, diagnostics: &diagnostics)
        }
        // The pipeline's `encode:`, then the profile's over it, under each stage's own `encode:`:
        // each key's value, where it is written, and who gives it ("" for the pipeline itself).
        var inherited: [String: (value: Value, location: SourceLocation?, source: String)] = [:]
        for (key, value) in encode.values { inherited[key] = (value, encode.locations["encode.\(key)"], "") }
        if let profile {
            for (key, value) in profile.encode {
                inherited[key] = (value, profile.valueLocations["encode.\(key)"], "profile `\(profile.name)`")
            }
        }
        if !inherited.isEmpty {
            stages = stages.map { node in
                guard registry.stage(node.kind)?.signature.parameters.contains(where: { $0.name == "encode" }) == true else { return node }
                var node = node
                var own: [String: Value] = [:]
                switch node.with["encode"] {
                case nil: break
                case .literal(.object(let block))?: own = block
                default: return node  // an expression: what it says, at run time
                }
                var merged = own
                for (key, given) in inherited where own[key] == nil {
                    merged[key] = given.value
                    node.keyLocations["encode.\(key)"] = given.location
                    node.inherited["encode.\(key)"] = given.source
                }
                node.with["encode"] = .literal(.object(merged))
                return node
            }
        }
        if diagnostics.isEmpty {
            stages = TakeExpansion.expand(stages, defaults: defaults, registry: registry, picks: picks, selection: selection,
                                          finishing: profiles?.finishing ?? false, diagnostics: &diagnostics)
        }
        guard diagnostics.isEmpty else { throw PipelineError(diagnostics) }
        var graph = PipelineGraph(name: name, vars: vars, defaults: defaults, stages: stages, outputs: outputs,
                                  baseFolder: baseFolder, file: file)
        graph.cast = cast
        graph.profiles = profiles
        return graph
    }
}

extension ValueExpression {
    /// Replaces `${macro.output}` with what the macro exported under that name.
    func replacingExports(_ exports: [String: [String: ValueExpression]]) -> ValueExpression {
        switch self {
        case .literal: return self
        case .reference(let reference):
            guard let exported = exports[reference.stage]?[reference.output] else { return self }
            guard let index = reference.index else { return exported }
            switch exported {
            case .list(let items) where items.indices.contains(index): return items[index]
            case .reference(var target) where target.index == nil:
                target.index = index
                return .reference(target)
            default: return exported
            }
        case .interpolation(let parts):
            return .interpolation(parts.map { part in
                if case .reference(let reference) = part, let exported = exports[reference.stage]?[reference.output],
                   case .reference(let target) = exported {
                    return .reference(target)
                }
                return part
            })
        case .list(let items): return .list(items.map { $0.replacingExports(exports) })
        case .object(let items): return .object(items.mapValues { $0.replacingExports(exports) })
        }
    }
}
