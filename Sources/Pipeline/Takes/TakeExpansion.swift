import Foundation

/// Which takes of each shot become nodes of the pipeline.
public enum TakeSelection: Sendable, Hashable {
    /// What a run makes: the declared takes, the picked one, and the take a bridged pick
    /// continues from.
    case used
    /// Every take a shot has, re-rolled ones included (to list them, or to make new ones).
    case all
}

/// Turns each shot of a stage with ``TakeSupport`` into its take nodes and a selector, as
/// `takes:` and the picks file say (see ``TakeSupport``).
enum TakeExpansion {
    static func expand(_ stages: [StageNode], defaults: [String: [String: Value]], registry: StageRegistry, picks: Picks,
                       selection: TakeSelection, finishing: Bool = false, diagnostics: inout [Diagnostic]) -> [StageNode] {
        var expanded: [StageNode] = []
        var shots: [String] = []
        for original in stages {
            guard let stage = registry.stage(original.kind), let support = stage.signature.takes else {
                expanded.append(original)
                continue
            }
            shots.append(original.name)
            var node = original
            node.with["takes"] = nil
            let name = node.name
            let groups = [node.kind, String(node.kind.split(separator: ".").first ?? "")]
            var declared = 1
            if let given = original.with["takes"] ?? groups.lazy.compactMap({ defaults[$0]?["takes"] }).first.map({ .literal($0) }) {
                if case .literal(.number(let number)) = given, number == number.rounded(), number >= 1, number <= 100 {
                    declared = Int(number)
                } else {
                    diagnostics.append(Diagnostic("stage `\(name)`: takes must be a whole number from 1 to 100",
                                                  at: original.keyLocations["takes"] ?? original.location, fix: "e.g. takes: 3"))
                }
            }
            let pick = picks.shots[name]
            let rerolls = pick?.rerolls ?? []
            let count = declared + rerolls.count
            let picked = pick?.take ?? 1
            if let pick, !(1...count).contains(pick.take) {
                diagnostics.append(Diagnostic(
                    "\(name): take \(pick.take) does not exist: the shot has \(count == 1 ? "1 take" : "\(count) takes (1–\(count))")",
                    at: pick.takeLocation ?? pick.location,
                    fix: "`seedpipe takes` lists them; `seedpipe pick` writes a pick, `seedpipe reroll` makes more"))
                expanded.append(node)
                continue
            }
            guard count > 1 || picked != 1 else {
                expanded.append(node)
                continue
            }
            let effective = PipelineValidator.effectiveWith(node, signature: stage.signature, defaults: defaults)
            guard case .literal(.number(let base)) = effective[support.seed] ?? .literal(.null) else {
                diagnostics.append(Diagnostic("stage `\(name)`: takes need a literal `\(support.seed)` to count from",
                                              at: original.keyLocations[support.seed] ?? original.location))
                expanded.append(node)
                continue
            }
            func seed(_ take: Int) -> Int { take <= declared ? Int(base) + take - 1 : rerolls[take - declared - 1].seed }
            func anchor(of take: Int) -> Int? { take > declared ? rerolls[take - declared - 1].keepAfter : nil }
            var problems = false
            for (offset, reroll) in rerolls.enumerated() {
                guard let keepAfter = reroll.keepAfter else { continue }
                let take = declared + offset + 1
                if support.bridge == nil || !(1...count).contains(keepAfter) || keepAfter == take || anchor(of: keepAfter) != nil {
                    diagnostics.append(Diagnostic("\(name): take \(take) cannot keep the shots after take \(keepAfter)",
                                                  at: reroll.location, fix: "keep_after names a take of this shot made without keep_after"))
                    problems = true
                } else if let bridge = support.bridge, node.with[bridge.input] != nil {
                    diagnostics.append(Diagnostic("\(name): take \(take) cannot be made between its neighbours: the shot already has `\(bridge.input)`",
                                                  at: reroll.location, fix: "remove keep_after"))
                    problems = true
                }
            }
            if problems {
                expanded.append(node)
                continue
            }
            if finishing {
                // Finishing the picks (a profile other than the one takes are explored in): one
                // take, the picked one's seed, under the shot's own name. It chains from the
                // finished shots before it, never from a draft's frame, so a bridge is moot.
                var finished = node
                finished.with[support.seed] = .literal(.number(Double(seed(picked))))
                expanded.append(finished)
                continue
            }
            let pickedAnchor = anchor(of: picked)
            var included: [Int]
            switch selection {
            case .all: included = Array(1...count)
            case .used: included = Array(Set(Array(1...declared) + [picked] + (pickedAnchor.map { [$0] } ?? []))).sorted()
            }
            for take in included {
                var takeNode = node
                takeNode.name = TakeRole.nodeName(shot: name, number: take)
                takeNode.with[support.seed] = .literal(.number(Double(seed(take))))
                if let bridge = support.bridge, let anchor = anchor(of: take) {
                    takeNode.with[bridge.input] = .reference(Reference(stage: TakeRole.nodeName(shot: name, number: anchor),
                                                                       output: bridge.output))
                }
                takeNode.take = TakeRole(shot: name, number: take, count: count, picked: take == picked,
                                         stride: take <= declared ? declared : count)
                expanded.append(takeNode)
            }
            var with: [String: ValueExpression] = [:]
            for port in stage.signature.outputs {
                with[port.name] = .list(included.map {
                    .reference(Reference(stage: TakeRole.nodeName(shot: name, number: $0), output: port.name))
                })
            }
            with["numbers"] = .literal(.list(included.map { .number(Double($0)) }))
            with["pick"] = .literal(.number(Double(picked)))
            if let digest = pick?.digest { with["digest"] = .literal(.string(digest)) }
            if let pickedAnchor { with["anchor"] = .literal(.number(Double(pickedAnchor))) }
            expanded.append(StageNode(name: name, kind: TakeSelector.prefix + node.kind, with: with, location: node.location,
                                      expandedFrom: node.expandedFrom))
        }
        for (name, pick) in picks.shots.sorted(by: { $0.key < $1.key }) where !shots.contains(name) {
            diagnostics.append(Diagnostic("the picks file names `\(name)`, which is not a shot of this pipeline", at: pick.location,
                                          fix: closest(to: name, in: shots).map { "did you mean `\($0)`?" }
                                              ?? (shots.isEmpty ? "this pipeline has no shots: remove the file" : "shots: \(shots.joined(separator: ", "))")))
        }
        return expanded
    }
}
