import Foundation

/// A pipeline that passed validation: every stage resolved, defaults merged, in an order
/// that respects every edge, each with its longest remaining path for scheduling.
public struct ValidatedPipeline: Sendable {
    public struct Step: Sendable {
        public var node: StageNode
        public var stage: any Stage
        /// `with:` plus defaults, for every input and parameter given.
        public var with: [String: ValueExpression]
        /// Stages on the longest path from here to the end, this one included.
        public var priority: Int
    }

    public var graph: PipelineGraph
    /// Topological order (dependencies first; declaration order among independent stages).
    public var steps: [Step]

    public func step(_ name: String) -> Step? { steps.first { $0.node.name == name } }
}

/// Checks a pipeline against the stages it uses and reports every problem at once.
public enum PipelineValidator {
    public static func validate(_ graph: PipelineGraph, registry: StageRegistry) throws -> ValidatedPipeline {
        var diagnostics: [Diagnostic] = []
        var resolved: [String: (StageNode, any Stage, [String: ValueExpression])] = [:]
        let names = Set(graph.stages.map(\.name))

        /// A problem with a parameter's value, said where the value is written: the stage's own
        /// `with:` key, else the `defaults:` entry it inherits (the same place for every stage
        /// that inherits it, so it is said once).
        func valueProblem(_ message: String, key: String?, node: StageNode) -> Diagnostic {
            // `encode.crf: …`: the sub-key's own place, and once for a value a profile or the pipeline's `encode:` gives.
            let named = String(message.prefix { $0 != ":" })
            if let source = node.inherited[named] ?? key.flatMap({ node.inherited[$0] }) {
                return Diagnostic(source.isEmpty ? message : "\(source): \(message)", at: node.keyLocations[named] ?? key.flatMap { node.keyLocations[$0] } ?? node.location)
            }
            if let location = node.keyLocations[named], named != key {
                return Diagnostic("stage `\(node.name)`: \(message)", at: location)
            }
            let groups = [node.kind, String(node.kind.split(separator: ".").first ?? "")]
            if let key, node.with[key] == nil, let group = groups.first(where: { graph.defaults[$0]?[key] != nil }),
               let location = graph.defaultLocations[group]?[key] {
                return Diagnostic("defaults.\(group): \(message)", at: location)
            }
            return Diagnostic("stage `\(node.name)`: \(message)", at: key.flatMap { node.keyLocations[$0] } ?? node.location)
        }
        func report(_ diagnostic: Diagnostic) {
            if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
        }
        for node in graph.stages {
            guard let stage = registry.stage(node.kind) else {
                diagnostics.append(Diagnostic("stage `\(node.name)` uses unknown kind `\(node.kind)`", at: node.location,
                                              fix: (closest(to: node.kind, in: registry.kinds).map { "did you mean `\($0)`?" }
                                                  ?? "known kinds: \(registry.kinds.joined(separator: ", "))")
                                                  + (registry.unknownKindHint.map { "; \($0)" } ?? "")))
                continue
            }
            let signature = stage.signature
            for key in node.with.keys.sorted() where !signature.acceptedKeys.contains(key) {
                diagnostics.append(Diagnostic("stage `\(node.name)` (\(node.kind)) has no parameter `\(key)`",
                                              at: node.keyLocations[key] ?? node.location,
                                              fix: closest(to: key, in: signature.acceptedKeys).map { "did you mean `\($0)`?" }
                                                  ?? "accepted: \(signature.acceptedKeys.joined(separator: ", "))"))
            }
            let with = effectiveWith(node, signature: signature, defaults: graph.defaults, vars: graph.vars)
            for port in signature.inputs where port.required && with[port.name] == nil {
                diagnostics.append(Diagnostic("stage `\(node.name)` (\(node.kind)) needs input `\(port.name)` (\(port.type))",
                                              at: node.location, fix: "add `\(port.name):` under `with:`"))
            }
            for spec in signature.parameters where spec.required && with[spec.name] == nil {
                diagnostics.append(Diagnostic("stage `\(node.name)` (\(node.kind)) needs parameter `\(spec.name)` (\(spec.kind))",
                                              at: node.location, fix: "add `\(spec.name):` under `with:`"))
            }
            var literals: [String: Value] = [:]
            var specProblems: [(key: String, message: String)] = []
            for spec in signature.parameters {
                guard let expression = with[spec.name], case .literal(let value) = expression else { continue }
                literals[spec.name] = value
                if let problem = spec.problem(with: value) { specProblems.append((spec.name, problem)) }
            }
            let stageProblems = stage.check(checkValues(literals, with: with, signature: signature)).map { message in
                (key: literals.keys.sorted().first { message.hasPrefix($0) }, message: message)
            }
            // A value the stage explains in its own words is not reported twice.
            let explained = Set(stageProblems.compactMap(\.key))
            for problem in specProblems where !explained.contains(problem.key) {
                report(valueProblem(problem.message, key: problem.key, node: node))
            }
            for (name, check) in registry.parameterChecks.sorted(by: { $0.key < $1.key }) {
                guard let value = literals[name] else { continue }
                for message in check(value) { report(valueProblem(message, key: name, node: node)) }
            }
            for problem in stageProblems { report(valueProblem(problem.message, key: problem.key, node: node)) }
            resolved[node.name] = (node, stage, with)
        }

        // References, types and local files.
        func outputType(_ reference: Reference) -> ArtifactType? {
            resolved[reference.stage]?.1.signature.outputs.first { $0.name == reference.output }?.type
        }
        func elementType(_ reference: Reference, _ type: ArtifactType) -> ArtifactType? {
            guard reference.index != nil else { return type }
            guard case .list(let element) = type else {
                diagnostics.append(Diagnostic("\(reference) takes an item of `\(reference.output)`, which is one \(type), not a list",
                                              at: reference.location, fix: "drop the [index]"))
                return nil
            }
            return element
        }
        func checkReference(_ reference: Reference, from owner: String) -> ArtifactType? {
            guard names.contains(reference.stage) else {
                diagnostics.append(Diagnostic("\(reference) refers to unknown stage `\(reference.stage)`", at: reference.location,
                                              fix: closest(to: reference.stage, in: names).map { "did you mean `\($0)`?" }
                                                  ?? "stages: \(names.sorted().joined(separator: ", "))"))
                return nil
            }
            if reference.stage == owner {
                diagnostics.append(Diagnostic("stage `\(owner)` reads its own output \(reference)", at: reference.location))
                return nil
            }
            guard let stage = resolved[reference.stage]?.1 else { return nil }
            guard let type = outputType(reference) else {
                let outputs = stage.signature.outputs.map(\.name)
                diagnostics.append(Diagnostic("stage `\(reference.stage)` (\(stage.kind)) has no output `\(reference.output)`",
                                              at: reference.location,
                                              fix: closest(to: reference.output, in: outputs).map { "did you mean `\($0)`?" }
                                                  ?? "its outputs: \(outputs.joined(separator: ", "))"))
                return nil
            }
            return elementType(reference, type)
        }
        func checkInput(_ expression: ValueExpression, port: Port, node: StageNode, location: SourceLocation?) {
            let count: Int? = switch expression {
            case .list(let items): items.count
            case .literal(.list(let items)): items.count
            default: nil
            }
            if let maximum = port.maximum, let count, count > maximum {
                diagnostics.append(Diagnostic("stage `\(node.name)`: `\(port.name)` takes at most \(maximum) (got \(count))", at: location,
                                              fix: "drop \(count - maximum)"))
            }
            switch expression {
            case .reference(let reference):
                guard let type = checkReference(reference, from: node.name) else { return }
                let fits = port.type.accepts(type) || port.type == .list(type)
                if !fits {
                    diagnostics.append(Diagnostic("stage `\(node.name)`: `\(port.name)` takes \(port.type) but \(reference) is \(type)",
                                                  at: reference.location ?? location))
                }
            case .interpolation(let parts):
                for case .reference(let reference) in parts { _ = checkReference(reference, from: node.name) }
                if port.type.isFile {
                    diagnostics.append(Diagnostic("stage `\(node.name)`: `\(port.name)` takes \(port.type), not text", at: location))
                }
            case .list(let items):
                let element: ArtifactType
                if case .list(let inner) = port.type { element = inner } else {
                    diagnostics.append(Diagnostic("stage `\(node.name)`: `\(port.name)` takes one \(port.type), not a list", at: location))
                    return
                }
                for item in items { checkInput(item, port: Port(port.name, element), node: node, location: location) }
            case .literal(let value):
                if port.type.isFile {
                    for path in (value.list ?? [value]) {
                        guard let text = path.string else {
                            diagnostics.append(Diagnostic("stage `\(node.name)`: `\(port.name)` takes \(port.type): give a file path or a ${stage.output}", at: location))
                            continue
                        }
                        if Value.isRemoteAddress(text) { continue }  // a URL the service fetches itself
                        let file = URL(fileURLWithPath: text, relativeTo: graph.baseFolder)
                        if !FileManager.default.fileExists(atPath: file.path) {
                            diagnostics.append(Diagnostic("stage `\(node.name)`: \(port.name) `\(text)`: no such file", at: location,
                                                          fix: "paths are relative to the pipeline file's folder"))
                        } else if let check = registry.fileCheck {
                            let element: ArtifactType = if case .list(let inner) = port.type { inner } else { port.type }
                            if let problem = check(file, element) {
                                diagnostics.append(Diagnostic("stage `\(node.name)`: \(port.name) `\(text)` \(problem)", at: location))
                            }
                        }
                    }
                }
            case .object(let items):
                for item in items.values { for reference in item.references { _ = checkReference(reference, from: node.name) } }
            }
        }
        for (name, entry) in resolved.sorted(by: { $0.key < $1.key }) {
            let (node, stage, with) = entry
            for port in stage.signature.inputs {
                guard let expression = with[port.name] else { continue }
                checkInput(expression, port: port, node: node, location: node.keyLocations[port.name] ?? node.location)
            }
            for spec in stage.signature.parameters {
                guard let expression = with[spec.name] else { continue }
                guard case .reference(let reference) = expression else {
                    for reference in expression.references { _ = checkReference(reference, from: name) }
                    continue
                }
                // A whole list given to a parameter that takes one value fails only once it runs
                // (a generation would be journaled as about to be paid for first): said here.
                guard let type = checkReference(reference, from: name), case .list = type,
                      [.string, .integer, .number, .boolean].contains(spec.kind) else { continue }
                var one = reference
                one.index = 0
                // The macros that take the plural (`prompts:` for `prompt`) make one stage per item.
                let plural = spec.name + "s"
                let macros = registry.kinds.filter { registry.macro($0)?.acceptedKeys.contains(plural) == true }
                let shot = node.take?.shot ?? name
                let problem = Diagnostic(
                    "stage `\(shot)`: `\(spec.name)` takes \(spec.kind), but \(reference) is a list (\(type))",
                    at: reference.location ?? node.keyLocations[spec.name] ?? node.location,
                    fix: "take one item, \(one)" + (macros.isEmpty ? "; or give each item a stage of its own with `each`"
                        : "; or make one \(node.kind) per item: `uses: \(macros.joined(separator: "` or `"))` with `\(plural): \"\(reference)\"`"))
                // Every take of a shot reads the same expression: one diagnostic for the shot.
                if !diagnostics.contains(where: { $0.message == problem.message }) { diagnostics.append(problem) }
            }
        }
        for (name, expression) in graph.outputs.sorted(by: { $0.key < $1.key }) {
            for reference in expression.references { _ = checkReference(reference, from: "outputs.\(name)") }
        }

        // Order, and cycles.
        let order = topologicalOrder(graph.stages)
        if order.count < graph.stages.count, let cycle = findCycle(graph.stages) {
            let location = graph.stage(cycle[0])?.location
            diagnostics.append(Diagnostic("the stages form a cycle: \(cycle.joined(separator: " → "))", at: location,
                                          fix: "a stage cannot depend, directly or not, on itself"))
        }
        guard diagnostics.isEmpty else { throw PipelineError(diagnostics) }

        let priorities = longestPaths(graph.stages, order: order)
        let steps = order.map { name -> ValidatedPipeline.Step in
            let (node, stage, with) = resolved[name]!
            return .init(node: node, stage: stage, with: with, priority: priorities[name] ?? 1)
        }
        diagnostics += knownValueProblems(steps)
        guard diagnostics.isEmpty else { throw PipelineError(diagnostics) }
        return ValidatedPipeline(graph: graph, steps: steps)
    }

    /// The stages' own rules (`check`) once more, with every value known before running: a
    /// prompt a template makes (its outputs are predicted), and the inputs, with `null` for
    /// one only running can tell (so a rule can see that it is given, and count a list).
    /// Only problems the literals alone did not show are reported.
    static func knownValueProblems(_ steps: [ValidatedPipeline.Step]) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var known: [String: [String: Value]] = [:]
        /// Media not made yet whose length is known (``Stage/estimatedDurations(_:)``).
        var estimates: [String: [String: Double]] = [:]
        func value(_ expression: ValueExpression) -> Value? {
            switch expression {
            case .literal(let value): return value
            case .reference(let reference):
                guard var value = known[reference.stage]?[reference.output] else { return nil }
                if let index = reference.index {
                    guard let items = value.list, items.indices.contains(index) else { return nil }
                    value = items[index]
                }
                return value
            case .interpolation(let parts):
                var text = ""
                for part in parts {
                    switch part {
                    case .text(let piece): text += piece
                    case .reference(let reference): guard let item = value(.reference(reference)) else { return nil }; text += item.text
                    }
                }
                return .string(text)
            case .list(let items):
                let values = items.map(value)
                return values.contains(where: { $0 == nil }) ? nil : .list(values.map { $0! })
            case .object(let items):
                let values = items.mapValues(value)
                return values.values.contains(where: { $0 == nil }) ? nil : .object(values.mapValues { $0! })
            }
        }
        /// Like `value`, with `null` standing for what is unknown (a list keeps its length).
        func placeholder(_ expression: ValueExpression) -> Value {
            if let known = value(expression) { return known }
            if case .list(let items) = expression { return .list(items.map(placeholder)) }
            if case .reference(let reference) = expression, reference.index == nil,
               let seconds = estimates[reference.stage]?[reference.output] {
                return MediaEstimate.value(seconds: seconds)
            }
            return .null
        }
        for step in steps {
            let parameters = Set(step.stage.signature.parameters.map(\.name))
            let literals = step.with.filter { parameters.contains($0.key) }.compactMapValues { if case .literal(let v) = $0 { v } else { nil } }
            let first = checkValues(literals, with: step.with, signature: step.stage.signature)
            let everything = step.with.mapValues(placeholder)
            if everything != first {
                let shown = Set(step.stage.check(first))
                for message in step.stage.check(everything) where !shown.contains(message) {
                    let key = everything.keys.sorted().first { message.hasPrefix($0) }
                    let named = String(message.prefix { $0 != ":" })
                    let problem = Diagnostic((step.node.inherited[named] ?? key.flatMap { step.node.inherited[$0] }).map { $0.isEmpty ? message : "\($0): \(message)" }
                                                 ?? "stage `\(step.node.name)`: \(message)",
                                             at: step.node.keyLocations[named] ?? key.flatMap { step.node.keyLocations[$0] } ?? step.node.location)
                    if !diagnostics.contains(problem) { diagnostics.append(problem) }
                }
            }
            let durations = step.stage.estimatedDurations(everything)
            if !durations.isEmpty { estimates[step.node.name] = durations }
            let resolved = step.with.compactMapValues(value)
            if resolved.count == step.with.count,
               let predicted = step.stage.predict(StageInvocation(name: step.node.name, values: resolved, take: step.node.take)) {
                known[step.node.name] = predicted
            }
        }
        return diagnostics
    }

    /// What `check` is first called with: the literal parameters, and every input given,
    /// as itself when literal and else `null` (a list keeps its length).
    static func checkValues(_ literals: [String: Value], with: [String: ValueExpression], signature: StageSignature) -> [String: Value] {
        var values = literals
        func placeholder(_ expression: ValueExpression) -> Value {
            switch expression {
            case .literal(let value): value
            case .list(let items): .list(items.map(placeholder))
            default: .null
            }
        }
        for port in signature.inputs { if let expression = with[port.name] { values[port.name] = placeholder(expression) } }
        return values
    }

    /// `with:` plus defaults: `defaults.<group>` (the kind's prefix, `render` for
    /// `render.frames`, or the kind itself), then each parameter's own default.
    static func effectiveWith(_ node: StageNode, signature: StageSignature, defaults: [String: [String: Value]],
                              vars: [String: Value] = [:]) -> [String: ValueExpression] {
        var with = node.with
        // A stage with a `vars` parameter (templates) receives the pipeline's vars, so they count in its key.
        if with["vars"] == nil, signature.parameters.contains(where: { $0.name == "vars" }) {
            with["vars"] = .literal(.object(vars))
        }
        let groups = [node.kind, String(node.kind.split(separator: ".").first ?? "")]
        for spec in signature.parameters where with[spec.name] == nil {
            if let value = groups.lazy.compactMap({ defaults[$0]?[spec.name] }).first {
                with[spec.name] = .literal(value)
            } else if let value = spec.defaultValue {
                with[spec.name] = .literal(value)
            }
        }
        return with
    }

    /// Dependencies first, in rounds: a stage's round is one more than its latest dependency's,
    /// and within a round stages keep their declaration order. Stages on a cycle are left out.
    /// Linear in stages and edges (Kahn's algorithm), so a 1,000-stage chain validates at once.
    static func topologicalOrder(_ stages: [StageNode]) -> [String] {
        let declared = Dictionary(stages.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var waiting: [String: Int] = [:]
        var dependents: [String: [String]] = [:]
        for stage in stages {
            let dependencies = stage.dependencies.filter { declared[$0] != nil }
            waiting[stage.name] = dependencies.count
            for dependency in dependencies { dependents[dependency, default: []].append(stage.name) }
        }
        var round: [String: Int] = [:]
        var ready = stages.map(\.name).filter { waiting[$0] == 0 }
        for name in ready { round[name] = 0 }
        while let name = ready.popLast() {
            for dependent in dependents[name] ?? [] {
                round[dependent] = max(round[dependent] ?? 0, round[name]! + 1)
                waiting[dependent]! -= 1
                if waiting[dependent] == 0 { ready.append(dependent) }
            }
        }
        return round.keys.sorted { (round[$0]!, declared[$0]!) < (round[$1]!, declared[$1]!) }
    }

    static func findCycle(_ stages: [StageNode]) -> [String]? {
        let byName = Dictionary(uniqueKeysWithValues: stages.map { ($0.name, $0) })
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            state[name] = 1
            path.append(name)
            for dependency in (byName[name]?.dependencies ?? []).sorted() where byName[dependency] != nil {
                if state[dependency] == 1 {
                    let start = path.firstIndex(of: dependency)!
                    return Array(path[start...]) + [dependency]
                }
                if state[dependency] == nil, let cycle = visit(dependency) { return cycle }
            }
            path.removeLast()
            state[name] = 2
            return nil
        }
        for stage in stages where state[stage.name] == nil {
            if let cycle = visit(stage.name) { return cycle.reversed() }
        }
        return nil
    }

    /// For each stage, the number of stages on the longest path from it to any end.
    static func longestPaths(_ stages: [StageNode], order: [String]) -> [String: Int] {
        var dependents: [String: [String]] = [:]
        for stage in stages {
            for dependency in stage.dependencies { dependents[dependency, default: []].append(stage.name) }
        }
        var length: [String: Int] = [:]
        for name in order.reversed() {
            length[name] = 1 + (dependents[name]?.compactMap { length[$0] }.max() ?? 0)
        }
        return length
    }
}

extension ValidatedPipeline {
    /// Just these stages and what they depend on, with no pipeline outputs: a run of it
    /// makes nothing else (a re-roll of one shot, say).
    public func only(_ names: Set<String>) -> ValidatedPipeline {
        var keep = Set<String>()
        var queue = Array(names)
        let byName = Dictionary(uniqueKeysWithValues: steps.map { ($0.node.name, $0) })
        while let name = queue.popLast() {
            guard keep.insert(name).inserted, let step = byName[name] else { continue }
            queue += step.node.dependencies
        }
        var copy = self
        copy.steps = steps.filter { keep.contains($0.node.name) }
        copy.graph.stages = graph.stages.filter { keep.contains($0.name) }
        copy.graph.outputs = [:]
        return copy
    }
}
