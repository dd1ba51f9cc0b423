import Foundation
import Yams

/// Reads pipeline files (YAML) into a `PipelineGraph`, keeping the file:line:column of
/// everything so every problem can say where it is.
public enum PipelineFile {
    static let topLevelKeys = ["pipeline", "vars", "defaults", "cast", "stages", "outputs", "description", "profiles", "default_profile", "encode"]
    static let stageKeys = ["uses", "with", "description"]

    /// Loads and expands (macros, takes) a pipeline file. `overrides` replace `vars`
    /// (`--var k=v`). `picks` are the takes to use; by default the picks file beside the
    /// pipeline (``Picks/location(for:)``), read when it exists. Structural problems throw
    /// `PipelineError` with every diagnostic; stage rules are checked afterwards by
    /// `PipelineValidator`.
    /// The `pipeline:` name of a file (else its file name without extension), read without
    /// checking the rest, so a file with other problems still has its name.
    public static func name(of url: URL) -> String {
        let stem = url.deletingPathExtension().lastPathComponent
        guard let text = try? String(contentsOf: url, encoding: .utf8), let root = try? Yams.compose(yaml: text, Self.resolver),
              let name = root.mapping?["pipeline"]?.string else { return stem }
        return name
    }

    public static func load(_ url: URL, overrides: [String: String] = [:], registry: StageRegistry, picks: Picks? = nil,
                            takes: TakeSelection = .used, profile: String? = nil) throws -> PipelineGraph {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PipelineError("\(url.relativePath): cannot read the pipeline file (\(error.localizedDescription))")
        }
        return try parse(text, file: url.relativePath, baseFolder: url.deletingLastPathComponent(), overrides: overrides,
                         registry: registry, picks: try picks ?? Picks.load(Picks.location(for: url)), takes: takes, profile: profile)
    }

    /// Parses a pipeline file's text. `profile` is the profile to build it in (nil: its
    /// `default_profile`; it is an error to name one a pipeline without profiles).
    public static func parse(_ text: String, file: String, baseFolder: URL, overrides: [String: String] = [:],
                             registry: StageRegistry, picks: Picks = Picks(), takes: TakeSelection = .used,
                             profile: String? = nil) throws -> PipelineGraph {
        var diagnostics: [Diagnostic] = []
        func at(_ node: Node) -> SourceLocation? {
            node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
        }
        let root = try compose(text, file: file, emptyFix: "start with `pipeline: NAME` and a `stages:` mapping")
        guard let top = root.mapping else {
            throw PipelineError("the file must be a mapping with `pipeline:` and `stages:`", at: at(root))
        }
        var name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        var vars: [String: Value] = [:]
        var defaults: [String: [String: Value]] = [:]
        var defaultLocations: [String: [String: SourceLocation]] = [:]
        var stages: [StageNode] = []
        var outputs: [String: ValueExpression] = [:]
        var seenKeys: Set<String> = []
        var encode: [String: Value] = [:]
        var encodeLocations: [String: SourceLocation] = [:]

        for (keyNode, valueNode) in top {
            let key = keyNode.string ?? ""
            if !seenKeys.insert(key).inserted {
                diagnostics.append(Diagnostic("`\(key)` appears twice", at: at(keyNode), fix: "keep one"))
            }
            switch key {
            case "pipeline":
                name = valueNode.string ?? name
            case "description":
                break
            case "vars":
                guard let mapping = valueNode.mapping else {
                    diagnostics.append(Diagnostic("`vars` must be a mapping of names to values", at: at(valueNode)))
                    continue
                }
                for (k, v) in mapping { vars[k.string ?? ""] = value(of: v) }
            case "defaults":
                guard let mapping = valueNode.mapping else {
                    diagnostics.append(Diagnostic("`defaults` must be a mapping of groups to parameters, such as `concat: {reencode: true}`", at: at(valueNode)))
                    continue
                }
                for (group, settings) in mapping {
                    guard let settingsMapping = settings.mapping else {
                        diagnostics.append(Diagnostic("defaults.\(group.string ?? "") must be a mapping", at: at(settings)))
                        continue
                    }
                    var values: [String: Value] = [:]
                    for (k, v) in settingsMapping {
                        values[k.string ?? ""] = value(of: v)
                        defaultLocations[group.string ?? "", default: [:]][k.string ?? ""] = at(v)
                    }
                    defaults[group.string ?? ""] = values
                }
            case "stages", "outputs", "cast", "profiles", "default_profile":
                break
            case "encode":
                guard let mapping = valueNode.mapping else {
                    diagnostics.append(Diagnostic("`encode` must be a mapping such as `{ crf: 18, preset: medium }`", at: at(valueNode)))
                    continue
                }
                for (k, v) in mapping {
                    encode[k.string ?? ""] = value(of: v)
                    encodeLocations["encode.\(k.string ?? "")"] = at(k)
                }
            default:
                diagnostics.append(Diagnostic("unknown key `\(key)`", at: at(keyNode),
                                              fix: closest(to: key, in: topLevelKeys).map { "did you mean `\($0)`?" }
                                                  ?? "allowed: \(topLevelKeys.joined(separator: ", "))"))
            }
        }
        for (key, text) in overrides {
            guard vars[key] != nil else {
                diagnostics.append(Diagnostic("--var \(key): the pipeline has no var `\(key)`", at: nil,
                                              fix: vars.isEmpty ? "it declares no vars" : "vars: \(vars.keys.sorted().joined(separator: ", "))"))
                continue
            }
            vars[key] = .string(text)
        }

        func expression(_ node: Node) -> ValueExpression {
            switch node {
            case .scalar:
                let plain = value(of: node)
                guard case .string(let text) = plain, text.contains("${") else { return .literal(plain) }
                return ValueExpression.parse(text, at: at(node))
            case .sequence(let sequence):
                let items = sequence.map(expression)
                // Without references it is one literal, as the Swift DSL makes it.
                return items.allSatisfy({ $0.references.isEmpty }) ? .literal(value(of: node)) : .list(items)
            case .mapping(let mapping):
                var items: [String: ValueExpression] = [:]
                for (k, v) in mapping { items[k.string ?? ""] = expression(v) }
                return items.values.allSatisfy({ $0.references.isEmpty }) ? .literal(value(of: node)) : .object(items)
            case .alias:
                return .literal(.null)
            }
        }

        if let stagesNode = top["stages"] {
            guard let mapping = stagesNode.mapping else {
                throw PipelineError(diagnostics + [Diagnostic("`stages` must be a mapping of stage names to stages", at: at(stagesNode))])
            }
            var names: Set<String> = []
            for (nameNode, stageNode) in mapping {
                let stageName = nameNode.string ?? ""
                guard names.insert(stageName).inserted else {
                    diagnostics.append(Diagnostic("duplicate stage name `\(stageName)`", at: at(nameNode), fix: "give each stage its own name"))
                    continue
                }
                if stageName == "vars" || !stageName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                    diagnostics.append(Diagnostic("`\(stageName)` cannot name a stage", at: at(nameNode),
                                                  fix: "use letters, digits, - and _ (and not `vars`)"))
                }
                guard let body = stageNode.mapping else {
                    diagnostics.append(Diagnostic("stage `\(stageName)` must be a mapping with `uses:`", at: at(stageNode)))
                    continue
                }
                var kind = ""
                var with: [String: ValueExpression] = [:]
                var keyLocations: [String: SourceLocation] = [:]
                var kindLocation = at(nameNode)
                for (keyNode, valueNode) in body {
                    switch keyNode.string ?? "" {
                    case "uses":
                        kind = valueNode.string ?? ""
                        kindLocation = at(valueNode)
                    case "with":
                        guard let parameters = valueNode.mapping else {
                            diagnostics.append(Diagnostic("`with` of stage `\(stageName)` must be a mapping", at: at(valueNode)))
                            continue
                        }
                        for (k, v) in parameters {
                            let key = k.string ?? ""
                            if with[key] != nil {
                                diagnostics.append(Diagnostic("`\(key)` appears twice in stage `\(stageName)`", at: at(k)))
                            }
                            with[key] = expression(v)
                            keyLocations[key] = at(k)
                            // A block's own keys (`encode: { crf: 60 }`) have their places too.
                            for (subKey, _) in v.mapping ?? [:] { keyLocations["\(key).\(subKey.string ?? "")"] = at(subKey) }
                        }
                    case "description":
                        break
                    default:
                        let key = keyNode.string ?? ""
                        diagnostics.append(Diagnostic("stage `\(stageName)`: unknown key `\(key)`", at: at(keyNode),
                                                      fix: closest(to: key, in: stageKeys).map { "did you mean `\($0)`?" }
                                                          ?? "a stage has `uses:` and `with:`"))
                    }
                }
                guard !kind.isEmpty else {
                    diagnostics.append(Diagnostic("stage `\(stageName)` does not say what it uses", at: at(nameNode),
                                                  fix: "add `uses: KIND`, one of \(registry.kinds.joined(separator: ", "))"))
                    continue
                }
                stages.append(StageNode(name: stageName, kind: kind, with: with, location: kindLocation, keyLocations: keyLocations))
            }
        } else {
            diagnostics.append(Diagnostic("the pipeline has no `stages:`", at: at(root), fix: "add a `stages:` mapping"))
        }

        var cast: [String: CastMember] = [:]
        if let castNode = top["cast"] {
            if let mapping = castNode.mapping {
                for (nameNode, memberNode) in mapping {
                    let name = nameNode.string ?? ""
                    guard let fields = memberNode.mapping else {
                        diagnostics.append(Diagnostic("cast member `\(name)` must be a mapping such as `{ image: assets/hero.png, note: \"…\" }`",
                                                      at: at(memberNode)))
                        continue
                    }
                    var kinds: [(String, Node)] = []
                    var note: String?
                    for (keyNode, valueNode) in fields {
                        let key = keyNode.string ?? ""
                        if CastMember.kinds.contains(key) {
                            kinds.append((key, valueNode))
                        } else if key == "note" {
                            note = valueNode.string
                        } else {
                            diagnostics.append(Diagnostic("cast member `\(name)`: unknown key `\(key)`", at: at(keyNode),
                                                          fix: closest(to: key, in: CastMember.kinds + ["note"]).map { "did you mean `\($0)`?" }
                                                              ?? "a member has one of image, video, audio, and a note"))
                        }
                    }
                    guard kinds.count == 1, let (kind, source) = kinds.first else {
                        diagnostics.append(Diagnostic("cast member `\(name)` needs exactly one of image, video, audio", at: at(nameNode)))
                        continue
                    }
                    cast[name] = CastMember(name: name, kind: kind, source: expression(source), note: note, location: at(source))
                }
            } else {
                diagnostics.append(Diagnostic("`cast` must be a mapping of names to references", at: at(castNode)))
            }
        }

        if let outputsNode = top["outputs"] {
            if let mapping = outputsNode.mapping {
                for (k, v) in mapping {
                    let value = expression(v)
                    outputs[k.string ?? ""] = value
                    // An output that names no stage's output hands over nothing: refused before anything runs.
                    if value.references.isEmpty {
                        let text = v.string ?? ""
                        let braced = text.hasPrefix("{") && text.hasSuffix("}") && !text.hasPrefix("{{")
                        diagnostics.append(Diagnostic(
                            "output `\(k.string ?? "")` names no stage's output (`\(text)`), so the run would hand over nothing",
                            at: at(v), fix: braced ? "write \"$\(text)\"" : "write it as \"${stage.output}\", such as \"${film.video}\""))
                    }
                }
            } else {
                diagnostics.append(Diagnostic("`outputs` must be a mapping of names to `${stage.output}`", at: at(outputsNode)))
            }
        }
        let profiles = parseProfiles(top, selected: profile, at: at, diagnostics: &diagnostics)
        guard diagnostics.isEmpty else { throw PipelineError(diagnostics) }
        var graph = try PipelineAssembler.assemble(name: name, vars: vars, defaults: defaults, stages: stages, outputs: outputs,
                                                   baseFolder: baseFolder, file: file, registry: registry, cast: cast, picks: picks,
                                                   takes: takes, profiles: profiles,
                                                   encode: PipelineAssembler.Encode(values: encode, locations: encodeLocations))
        graph.defaultLocations = defaultLocations
        return graph
    }

    /// `profiles:` and `default_profile:`, and the profile chosen (nil without profiles).
    static func parseProfiles(_ top: Node.Mapping, selected: String?, at: (Node) -> SourceLocation?,
                              diagnostics: inout [Diagnostic]) -> ProfileChoice? {
        var profiles: [Profile] = []
        if let node = top["profiles"] {
            guard let mapping = node.mapping, !mapping.isEmpty else {
                diagnostics.append(Diagnostic("`profiles` must be a mapping of profile names to settings", at: at(node),
                                              fix: "e.g. profiles: { draft: { resolution: 480p }, final: { resolution: 1080p } }"))
                return nil
            }
            for (nameNode, body) in mapping {
                let name = nameNode.string ?? ""
                if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                    diagnostics.append(Diagnostic("`\(name)` cannot name a profile", at: at(nameNode), fix: "use letters, digits, - and _"))
                }
                var profile = Profile(name: name, location: at(nameNode))
                guard let fields = body.mapping else {
                    diagnostics.append(Diagnostic("profile `\(name)` must be a mapping, such as `{ resolution: 1080p }`", at: at(body)))
                    continue
                }
                func typed(_ key: String, _ valueNode: Node, path: String) -> Value? {
                    let value = value(of: valueNode)
                    let fits: Bool
                    // A stage's own parameters (`stages: {cut: {duration: "24f"}}`) are checked by its stage.
                    switch path == key ? key : "" {
                    case "resolution", "aspect_ratio": fits = value.string != nil
                    case "duration": fits = value.number.map { $0 == $0.rounded() } ?? false
                    case "generate_audio": fits = value.bool != nil
                    default: fits = true
                    }
                    guard fits else {
                        let kind = key == "duration" ? "a whole number of seconds" : key == "generate_audio" ? "true or false" : "text"
                        diagnostics.append(Diagnostic("profile `\(name)`: \(path) must be \(kind)", at: at(valueNode)))
                        return nil
                    }
                    profile.valueLocations[path] = at(valueNode)
                    return value
                }
                for (keyNode, valueNode) in fields {
                    let key = keyNode.string ?? ""
                    switch key {
                    case _ where Profile.generationKeys.contains(key):
                        if let value = typed(key, valueNode, path: key) { profile.generation[key] = value }
                    case "encode":
                        guard let block = valueNode.mapping else {
                            diagnostics.append(Diagnostic("profile `\(name)`: `encode` must be a mapping such as `{ crf: 18 }`", at: at(valueNode)))
                            continue
                        }
                        for (k, v) in block {
                            profile.encode[k.string ?? ""] = value(of: v)
                            profile.valueLocations["encode.\(k.string ?? "")"] = at(k)
                        }
                    case "stages":
                        guard let stages = valueNode.mapping else {
                            diagnostics.append(Diagnostic("profile `\(name)`: `stages` maps stage names to parameters, such as `{ film: { crossfade: 0.5 } }`",
                                                          at: at(valueNode)))
                            continue
                        }
                        for (stageNode, parameters) in stages {
                            let stage = stageNode.string ?? ""
                            profile.valueLocations["stages.\(stage)"] = at(stageNode)
                            guard let parameters = parameters.mapping else {
                                diagnostics.append(Diagnostic("profile `\(name)`: stages.\(stage) must be a mapping of parameters", at: at(parameters)))
                                continue
                            }
                            for (parameterNode, valueNode) in parameters {
                                let parameter = parameterNode.string ?? ""
                                let path = "stages.\(stage).\(parameter)"
                                if let value = typed(parameter, valueNode, path: path) { profile.stages[stage, default: [:]][parameter] = value }
                            }
                        }
                    default:
                        diagnostics.append(Diagnostic("profile `\(name)`: unknown key `\(key)`", at: at(keyNode),
                                                      fix: closest(to: key, in: Profile.keys).map { "did you mean `\($0)`?" }
                                                          ?? "a profile sets \(Profile.generationKeys.joined(separator: ", ")) and `stages:`"))
                    }
                }
                profiles.append(profile)
            }
        }
        let names = profiles.map(\.name)
        var defaultName = names.first ?? ""
        if let node = top["default_profile"] {
            let name = node.string ?? ""
            if profiles.isEmpty {
                diagnostics.append(Diagnostic("`default_profile` names a profile, but the pipeline has no `profiles:`", at: at(node),
                                              fix: "add `profiles:`, or remove default_profile"))
            } else if !names.contains(name) {
                diagnostics.append(Diagnostic("default_profile: no profile `\(name)`", at: at(node),
                                              fix: closest(to: name, in: names).map { "did you mean `\($0)`?" } ?? "profiles: \(names.joined(separator: ", "))"))
            }
            defaultName = name
        } else if let node = top["profiles"], !profiles.isEmpty {
            diagnostics.append(Diagnostic("the pipeline has profiles but no `default_profile`", at: at(node),
                                          fix: "add `default_profile: \(defaultName)` (the profile takes are explored in, and what runs without --profile)"))
        }
        guard !profiles.isEmpty else {
            if let selected {
                diagnostics.append(Diagnostic("--profile \(selected): the pipeline has no profiles", at: nil,
                                              fix: "add `profiles:` (such as `draft: { resolution: 480p }`) and `default_profile:`, or run without --profile"))
            }
            return nil
        }
        let chosen = selected ?? defaultName
        if !names.contains(chosen), selected != nil {
            diagnostics.append(Diagnostic("--profile \(chosen): the pipeline has no profile `\(chosen)`", at: nil,
                                          fix: closest(to: chosen, in: names).map { "did you mean `\($0)`? (profiles: \(names.joined(separator: ", ")))" }
                                              ?? "profiles: \(names.joined(separator: ", "))"))
        }
        return ProfileChoice(profiles: profiles, defaultName: defaultName, selected: chosen)
    }

    /// The scalar types pipeline, picks and manifest files use: booleans, integers, floats and
    /// null. Yams' default also compiles and tries timestamp, merge and value patterns on
    /// every plain scalar; here a date stays text, as it was read anyway.
    static let resolver = Resolver.basic.appending(.bool).appending(.int).appending(.float).appending(.null)

    /// A YAML scalar as a value (plain `5` is a number, `true` a boolean, quoted text a string).
    static func value(of node: Node) -> Value {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain || scalar.style == .any {
                if let int = node.int { return .number(Double(int)) }
                if let double = node.float { return .number(double) }
                if let bool = node.bool { return .bool(bool) }
                if node.null != nil { return .null }
            }
            return .string(scalar.string)
        case .sequence(let sequence):
            return .list(sequence.map(value(of:)))
        case .mapping(let mapping):
            var items: [String: Value] = [:]
            for (k, v) in mapping { items[k.string ?? ""] = value(of: v) }
            return .object(items)
        case .alias:
            return .null
        }
    }

    /// The YAML document of `text` (its nodes keep their marks); a syntax error or an empty
    /// file throws with its location.
    static func compose(_ text: String, file: String, emptyFix: String) throws -> Node {
        do {
            guard let composed = try Yams.compose(yaml: text, Self.resolver) else {
                throw PipelineError("the file is empty", at: SourceLocation(file: file, line: 1, column: 1), fix: emptyFix)
            }
            return composed
        } catch let error as YamlError {
            throw PipelineError([yamlDiagnostic(error, file: file, text: text)])
        }
    }

    static func yamlDiagnostic(_ error: YamlError, file: String, text: String) -> Diagnostic {
        switch error {
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Point at the second occurrence: the same key at the same column further down.
            let key = duplicates.first ?? ""
            let lines = text.components(separatedBy: "\n")
            var location = SourceLocation(file: file, line: context.mark.line, column: context.mark.column)
            for (index, line) in lines.enumerated() where index + 1 > context.mark.line {
                let indent = line.prefix { $0 == " " }.count
                if indent + 1 == context.mark.column, line.dropFirst(indent).hasPrefix("\(key):") {
                    location = SourceLocation(file: file, line: index + 1, column: indent + 1)
                    break
                }
            }
            let what = key.isEmpty ? "a key" : "`\(key)`"
            return Diagnostic("duplicate \(what): a name can appear once in a mapping", at: location,
                              fix: "give each stage its own name, and each parameter once")
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            return Diagnostic("YAML: \(problem)" + (context.map { " \($0.text)" } ?? ""),
                              at: SourceLocation(file: file, line: mark.line, column: mark.column),
                              fix: "check the indentation and the quotes")
        default:
            return Diagnostic("YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }
}

