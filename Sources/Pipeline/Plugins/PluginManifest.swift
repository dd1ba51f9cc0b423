import Foundation
import Yams

/// A plugin's `plugin.yaml`: who it is, the command to start, and the stages it offers
/// with their typed ports and parameters. Loading checks everything and reports each
/// problem with its file:line:column (see plugins/README.md for the format).
public struct PluginManifest: Sendable {
    /// The plugin protocol versions this seedpipe speaks.
    public static let supportedProtocols = 1...1
    public static let fileName = "plugin.yaml"
    /// How long one run may take when the manifest does not say.
    public static let defaultTimeout: Duration = .seconds(600)
    /// Time between SIGTERM and SIGKILL when the manifest does not say.
    public static let defaultStopGrace: Duration = .seconds(5)

    public var name: String
    public var version: String
    public var description: String?
    public var protocolVersion: Int
    /// Program and arguments, as written.
    public var command: [String]
    public var timeout: Duration
    /// How long a stopped program (a timeout, Ctrl-C, a protocol violation) is given to end
    /// after SIGTERM before SIGKILL: `stop_grace:` in seconds.
    public var stopGrace: Duration = defaultStopGrace
    /// Environment variables of seedpipe's that the program is given beyond the few every
    /// plugin gets (``PluginEnvironment/passedThrough``): `env: [NAME, …]`. Never a credential.
    public var environment: [String] = []
    public var stages: [StageSpec]
    /// The plugin's folder.
    public var folder: URL
    /// Where `name:` is written (for messages about the plugin as a whole).
    public var location: SourceLocation
    /// Where `command:` is written.
    public var commandLocation: SourceLocation?

    /// One stage the plugin offers.
    public struct StageSpec: Sendable {
        public var kind: String
        public var description: String?
        public var signature: StageSignature
        /// Overrides the plugin's timeout.
        public var timeout: Duration?
        /// A literal `with:` that `seedpipe plugins check` runs (file inputs relative to the plugin folder).
        public var example: [String: Value]?
        public var location: SourceLocation?
        /// The `description:` of each input, output and parameter.
        public var inputHelp: [String: String] = [:]
        public var outputHelp: [String: String] = [:]
        public var parameterHelp: [String: String] = [:]
    }

    static let topLevelKeys = ["name", "version", "description", "protocol", "command", "timeout", "stop_grace", "env", "stages"]
    static let stageKeys = ["description", "inputs", "outputs", "parameters", "timeout", "example"]
    static let portKeys = ["type", "required", "description"]
    static let parameterKeys = ["type", "default", "required", "allowed", "min", "max", "description"]
    static let parameterKinds: [String: ParameterSpec.Kind] = [
        "string": .string, "integer": .integer, "number": .number, "boolean": .boolean, "list": .list,
        "mapping": .object, "object": .object, "any": .any,
    ]

    /// Reads `plugin.yaml` in `folder`; throws `PipelineError` listing every problem.
    public static func load(folder: URL) throws -> PluginManifest {
        let file = folder.appendingPathComponent(fileName)
        let shown = displayPath(file)
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw PipelineError("\(shown): cannot read the plugin manifest (\(error.localizedDescription))")
        }
        return try parse(text, file: shown, folder: folder)
    }

    public static func parse(_ text: String, file: String, folder: URL) throws -> PluginManifest {
        var diagnostics: [Diagnostic] = []
        func at(_ node: Node) -> SourceLocation? { node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) } }
        func problem(_ message: String, _ node: Node, fix: String? = nil) { diagnostics.append(Diagnostic(message, at: at(node), fix: fix)) }
        func unknown(_ key: String, _ node: Node, allowed: [String], in place: String) {
            problem("\(place): unknown key `\(key)`", node,
                    fix: closest(to: key, in: allowed).map { "did you mean `\($0)`?" } ?? "allowed: \(allowed.joined(separator: ", "))")
        }

        let root = try PipelineFile.compose(text, file: file, emptyFix: "write `name:`, `version:`, `command:` and `stages:`")
        guard let top = root.mapping else {
            throw PipelineError("the manifest must be a mapping with `name:`, `version:`, `command:` and `stages:`", at: at(root))
        }

        var manifest = PluginManifest(name: "", version: "", protocolVersion: 1, command: [], timeout: defaultTimeout, stages: [],
                                      folder: folder, location: at(root) ?? SourceLocation(file: file, line: 1, column: 1))
        for (keyNode, valueNode) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "name":
                manifest.name = valueNode.string ?? ""
                manifest.location = at(valueNode) ?? manifest.location
                if !isName(manifest.name) {
                    problem("`\(manifest.name)` cannot name a plugin", valueNode, fix: "use lowercase letters, digits, -, _ and .")
                }
            case "version":
                manifest.version = valueNode.scalar?.string ?? ""
                if manifest.version.isEmpty { problem("`version` must be a version such as 1.0.0", valueNode) }
            case "description":
                manifest.description = valueNode.string
            case "protocol":
                guard let number = valueNode.int else {
                    problem("`protocol` must be a whole number", valueNode, fix: "this seedpipe speaks protocol \(supportedProtocols.upperBound)")
                    continue
                }
                manifest.protocolVersion = number
                if !supportedProtocols.contains(number) {
                    problem("the plugin speaks protocol \(number); this seedpipe speaks \(supportedProtocols.map(String.init).joined(separator: ", "))",
                            valueNode, fix: number > supportedProtocols.upperBound ? "update seedpipe" : "declare a supported protocol")
                }
            case "command":
                manifest.commandLocation = at(valueNode)
                if let single = valueNode.scalar?.string {
                    manifest.command = [single]
                } else if let items = valueNode.sequence, items.allSatisfy({ $0.scalar != nil }) {
                    manifest.command = items.compactMap { $0.scalar?.string }
                } else {
                    problem("`command` must be a program or a list: program and arguments", valueNode, fix: "e.g. `command: [python3, tool.py]`")
                    continue
                }
                if manifest.command.first?.isEmpty ?? true { problem("`command` names no program", valueNode) }
            case "timeout":
                if let seconds = seconds(valueNode) { manifest.timeout = seconds } else {
                    problem("`timeout` must be a number of seconds above 0", valueNode)
                }
            case "stop_grace":
                if let seconds = seconds(valueNode) { manifest.stopGrace = seconds } else {
                    problem("`stop_grace` must be a number of seconds above 0", valueNode)
                }
            case "env":
                guard let items = valueNode.sequence, items.allSatisfy({ $0.scalar != nil }) else {
                    problem("`env` must be a list of environment variable names", valueNode, fix: "e.g. `env: [FONTCONFIG_PATH]`")
                    continue
                }
                for item in items {
                    let name = item.scalar?.string ?? ""
                    if !PluginEnvironment.isVariableName(name) {
                        problem("`\(name)` is not an environment variable name", item, fix: "use letters, digits and _, not starting with a digit")
                    } else if PluginEnvironment.isCredential(name) {
                        problem("`env` asks for `\(name)`, a credential: seedpipe never hands one to a plugin", item,
                                fix: "remove it; a plugin that needs a service of its own reads its key from its own configuration")
                    } else {
                        manifest.environment.append(name)
                    }
                }
            case "stages":
                break
            default:
                unknown(key, keyNode, allowed: topLevelKeys, in: "the manifest")
            }
        }
        for required in ["name", "version", "command"] where top[required] == nil {
            problem("the manifest has no `\(required):`", root, fix: required == "command" ? "name the program to start, e.g. `command: tool.py`" : nil)
        }

        if let stagesNode = top["stages"] {
            if let mapping = stagesNode.mapping, !mapping.isEmpty {
                for (kindNode, body) in mapping {
                    if let stage = parseStage(kindNode, body, at: at, problem: problem, unknown: unknown) {
                        manifest.stages.append(stage)
                    }
                }
            } else {
                problem("`stages` must map each stage kind to its ports and parameters", stagesNode)
            }
        } else {
            problem("the manifest has no `stages:`", root, fix: "add `stages:` with at least one stage kind")
        }
        guard diagnostics.isEmpty else { throw PipelineError(diagnostics) }
        return manifest
    }

    private static func parseStage(_ kindNode: Node, _ body: Node, at: (Node) -> SourceLocation?,
                                   problem: (String, Node, String?) -> Void,
                                   unknown: (String, Node, [String], String) -> Void) -> StageSpec? {
        let kind = kindNode.string ?? ""
        if !isName(kind) { problem("`\(kind)` cannot name a stage kind", kindNode, "use lowercase letters, digits, -, _ and .") }
        guard let mapping = body.mapping else {
            problem("stage `\(kind)` must be a mapping with `outputs:` (and `inputs:`, `parameters:`)", body, nil)
            return nil
        }
        var spec = StageSpec(kind: kind, signature: StageSignature(), location: at(kindNode))
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "description":
                spec.description = valueNode.string
            case "inputs", "outputs":
                guard let ports = valueNode.mapping else {
                    problem("stage `\(kind)`: `\(key)` must map names to types", valueNode, "e.g. `clips: \"[video]\"`")
                    continue
                }
                for (nameNode, portNode) in ports {
                    let name = nameNode.string ?? ""
                    if !isPortName(name) { problem("stage `\(kind)`: `\(name)` cannot name a port", nameNode, "use letters, digits and _") }
                    var typeNode = portNode
                    var required = true
                    if let fields = portNode.mapping {
                        for (fieldNode, _) in fields where !portKeys.contains(fieldNode.string ?? "") {
                            unknown(fieldNode.string ?? "", fieldNode, portKeys, "port `\(name)`")
                        }
                        guard let type = fields["type"] else {
                            problem("port `\(name)` has no `type:`", portNode, "one of \(ArtifactType.names.joined(separator: ", ")), or [type]")
                            continue
                        }
                        typeNode = type
                        if let flag = fields["required"] {
                            guard let bool = flag.bool else { problem("`required` must be true or false", flag, nil); continue }
                            required = bool
                        }
                    }
                    guard let text = typeNode.scalar?.string, let type = ArtifactType(text) else {
                        let written = typeNode.scalar?.string ?? "this"
                        problem("port `\(name)`: `\(written)` is not a type", typeNode,
                                closest(to: written, in: ArtifactType.names).map { "did you mean `\($0)`?" }
                                    ?? "one of \(ArtifactType.names.joined(separator: ", ")), or [type] for a list (quoted)")
                        continue
                    }
                    let port = Port(name, type, required: required)
                    let help = portNode.mapping?["description"]?.string
                    if key == "inputs" {
                        spec.signature.inputs.append(port)
                        spec.inputHelp[name] = help
                    } else {
                        spec.signature.outputs.append(port)
                        spec.outputHelp[name] = help
                    }
                }
            case "parameters":
                guard let parameters = valueNode.mapping else {
                    problem("stage `\(kind)`: `parameters` must map names to types", valueNode, "e.g. `gain: {type: number, default: 0}`")
                    continue
                }
                for (nameNode, specNode) in parameters {
                    if let parameter = parseParameter(nameNode, specNode, problem: problem, unknown: unknown) {
                        spec.signature.parameters.append(parameter)
                        spec.parameterHelp[parameter.name] = specNode.mapping?["description"]?.string
                    }
                }
            case "timeout":
                if let seconds = seconds(valueNode) { spec.timeout = seconds } else {
                    problem("`timeout` must be a number of seconds above 0", valueNode, nil)
                }
            case "example":
                guard let values = valueNode.mapping else {
                    problem("stage `\(kind)`: `example` must be a `with:` mapping of literal values", valueNode, nil)
                    continue
                }
                var example: [String: Value] = [:]
                for (k, v) in values { example[k.string ?? ""] = PipelineFile.value(of: v) }
                spec.example = example
            default:
                unknown(key, keyNode, stageKeys, "stage `\(kind)`")
            }
        }
        if spec.signature.outputs.isEmpty {
            problem("stage `\(kind)` declares no outputs", kindNode, "add `outputs:`, e.g. `video: video`")
        }
        let inputs = Set(spec.signature.inputs.map(\.name))
        for parameter in spec.signature.parameters where inputs.contains(parameter.name) {
            problem("stage `\(kind)`: `\(parameter.name)` is both an input and a parameter", kindNode, "rename one")
        }
        return spec
    }

    private static func parseParameter(_ nameNode: Node, _ specNode: Node, problem: (String, Node, String?) -> Void,
                                       unknown: (String, Node, [String], String) -> Void) -> ParameterSpec? {
        let name = nameNode.string ?? ""
        if !isPortName(name) { problem("`\(name)` cannot name a parameter", nameNode, "use letters, digits and _") }
        let kinds = parameterKinds.keys.filter { $0 != "object" }.sorted()
        func kind(_ node: Node) -> ParameterSpec.Kind? {
            let written = node.scalar?.string ?? ""
            guard let kind = parameterKinds[written] else {
                problem("parameter `\(name)`: `\(written)` is not a parameter type", node,
                        closest(to: written, in: kinds).map { "did you mean `\($0)`?" } ?? "one of \(kinds.joined(separator: ", "))")
                return nil
            }
            return kind
        }
        guard let fields = specNode.mapping else {
            return kind(specNode).map { ParameterSpec(name, $0) }
        }
        for (fieldNode, _) in fields where !parameterKeys.contains(fieldNode.string ?? "") {
            unknown(fieldNode.string ?? "", fieldNode, parameterKeys, "parameter `\(name)`")
        }
        guard let typeNode = fields["type"] else {
            problem("parameter `\(name)` has no `type:`", specNode, "one of \(kinds.joined(separator: ", "))")
            return nil
        }
        guard let type = kind(typeNode) else { return nil }
        var spec = ParameterSpec(name, type)
        if let required = fields["required"] {
            if let bool = required.bool { spec.required = bool } else { problem("`required` must be true or false", required, nil) }
        }
        if let allowed = fields["allowed"] {
            if let items = allowed.sequence { spec.allowed = items.map(PipelineFile.value(of:)) } else {
                problem("parameter `\(name)`: `allowed` must be a list of values", allowed, nil)
            }
        }
        let minimum = fields["min"].flatMap { node in node.float ?? node.int.map(Double.init) }
        let maximum = fields["max"].flatMap { node in node.float ?? node.int.map(Double.init) }
        for key in ["min", "max"] {
            if let node = fields[key], node.float == nil, node.int == nil { problem("parameter `\(name)`: `\(key)` must be a number", node, nil) }
        }
        if minimum != nil || maximum != nil {
            let low = minimum ?? -Double.greatestFiniteMagnitude, high = maximum ?? Double.greatestFiniteMagnitude
            if low <= high { spec.range = low...high } else {
                problem("parameter `\(name)`: `min` is above `max`", fields["min"]!, nil)
            }
        }
        if let defaultNode = fields["default"] {
            let value = PipelineFile.value(of: defaultNode)
            if let issue = spec.problem(with: value) {
                problem("parameter `\(name)`: the default does not fit: \(issue)", defaultNode, nil)
            } else {
                spec.defaultValue = value
            }
        }
        return spec
    }

    private static func seconds(_ node: Node) -> Duration? {
        guard let value = node.float ?? node.int.map(Double.init), value > 0, value.isFinite else { return nil }
        return .milliseconds(Int64(value * 1000))
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, CharacterSet.lowercaseLetters.union(.decimalDigits).contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    static func isPortName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }
}

/// A path as a person would type it: relative to the current folder when inside it.
func displayPath(_ url: URL) -> String {
    let path = url.standardizedFileURL.path
    let here = FileManager.default.currentDirectoryPath
    return path.hasPrefix(here + "/") ? String(path.dropFirst(here.count + 1)) : path
}
