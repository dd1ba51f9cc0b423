import Foundation
import Logging

/// A stage offered by an executable plugin: each run starts the plugin's program and
/// speaks protocol 1 with it (plugins/README.md). Its version is the manifest's version and
/// the digest of the program, so upgrading a plugin reruns its stages and nothing else.
public struct PluginStage: Stage {
    /// Facts about an input file for the request (`duration`, `width`, …); nil adds none.
    public typealias Describer = @Sendable (URL, ArtifactType) -> [String: Value]

    public let plugin: ExecutablePlugin
    public let spec: PluginManifest.StageSpec
    public let describe: Describer?

    public init(plugin: ExecutablePlugin, spec: PluginManifest.StageSpec, describe: Describer? = nil) {
        self.plugin = plugin
        self.spec = spec
        self.describe = describe
    }

    public var kind: String { spec.kind }
    /// What the action key holds of the plugin: its manifest's version, its program's digest
    /// and, when the manifest asks for variables (`env:`), a digest of their values here.
    public var version: String {
        let base = "\(plugin.manifest.version)+\(plugin.digest.prefix(16))"
        guard !plugin.manifest.environment.isEmpty else { return base }
        let environment = ProcessInfo.processInfo.environment
        let values = plugin.manifest.environment.map { "\($0)=\(environment[$0] ?? "")" }.joined(separator: "\n")
        return base + "+env-" + ContentDigest.sha256(of: Data(values.utf8)).prefix(12)
    }
    public var signature: StageSignature { spec.signature }
    public var documentation: StageDocumentation {
        StageDocumentation(spec.description ?? plugin.manifest.description ?? "", inputs: spec.inputHelp, outputs: spec.outputHelp,
                           parameters: spec.parameterHelp, example: spec.example)
    }
    var timeout: Duration { spec.timeout ?? plugin.manifest.timeout }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let work = context.scratch.appendingPathComponent("plugin", isDirectory: true)
        let outputFolder = work.appendingPathComponent("output", isDirectory: true)
        try await BlockingIO.run { try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true) }
        let request = try await self.request(invocation, store: context.store, work: work, outputFolder: outputFolder)

        let environment = PluginEnvironment.build(from: ProcessInfo.processInfo.environment, asked: plugin.manifest.environment,
                                                  plugin: plugin.manifest.folder)
        let process = PluginProcess(program: plugin.program, arguments: plugin.arguments, directory: work, environment: environment,
                                    grace: plugin.manifest.stopGrace)
        let transcript = PluginTranscript()
        let logger = context.logger
        let progress = context.progress
        let termination: PluginProcess.Termination
        do {
            termination = try await process.run(input: request, timeout: timeout, stdoutLine: { line in
                switch transcript.take(line) {
                case .progress(let fraction, let message): progress(fraction, message ?? "")
                case .log(let level, let message): logger.log(level: level, "\(message)")
                case .violation: process.stop(.violation)
                case .none: break
                }
            }, stderrLine: { line in
                transcript.stderr(line)
                logger.info("\(line)", metadata: ["plugin": .string(plugin.name), "stream": "stderr"])
            })
        } catch {
            throw failure("cannot be started: \(error)", transcript: nil)
        }

        let outcome = transcript.snapshot
        switch termination.stopped {
        case .cancelled?: throw CancellationError()
        case .timeout?: throw failure("ran longer than its timeout of \(timeout.secondsText) and was stopped", transcript: outcome)
        case .violation?: throw failure(outcome.violation ?? "broke the protocol", transcript: outcome)
        case nil: break
        }
        if let violation = outcome.violation { throw failure(violation, transcript: outcome) }
        if termination.signalled {
            throw failure("crashed (killed by signal \(termination.status)\(Self.signalName(termination.status)))", transcript: outcome)
        }
        guard termination.status == 0 else {
            throw failure("exited with status \(termination.status)" + (outcome.error.map { ": \($0)" } ?? ""), transcript: outcome)
        }
        guard let outputs = outcome.result else {
            throw failure("exited without a result (a line {\"type\": \"result\", \"outputs\": {…}} on stdout)", transcript: outcome)
        }
        return try await collect(outputs, from: outputFolder, store: context.store, transcript: outcome)
    }

    // MARK: The request

    func request(_ invocation: StageInvocation, store: any ArtifactStore, work: URL, outputFolder: URL) async throws -> Data {
        var parameters: [String: Value] = [:]
        for parameter in signature.parameters {
            if let value = invocation[parameter.name] ?? parameter.defaultValue, value != .null { parameters[parameter.name] = value }
        }
        var inputs: [String: Value] = [:]
        let links = work.appendingPathComponent("inputs", isDirectory: true)
        if signature.inputs.contains(where: { $0.type.isFile }) {
            try await BlockingIO.run { try FileManager.default.createDirectory(at: links, withIntermediateDirectories: true) }
        }
        for port in signature.inputs {
            guard let value = invocation[port.name], value != .null else { continue }
            guard port.type.isFile else {
                inputs[port.name] = value
                continue
            }
            let artifacts = value.artifacts
            var described: [Value] = []
            for (index, artifact) in artifacts.enumerated() {
                let stored = try await store.verifiedLocation(of: artifact)
                // A link named with the extension, for programs that go by it.
                let suffix = artifact.fileExtension.isEmpty ? "" : ".\(artifact.fileExtension)"
                let link = links.appendingPathComponent(value.list == nil ? "\(port.name)\(suffix)" : "\(port.name)-\(index + 1)\(suffix)")
                try await BlockingIO.run { try FileManager.default.createSymbolicLink(at: link, withDestinationURL: stored) }
                var fields: [String: Value] = [
                    "path": .string(link.path), "type": .string(artifact.type.description), "digest": .string(artifact.digest),
                    "size": .number(Double(artifact.size)),
                ]
                let facts: [String: Value] = if let describe { try await BlockingIO.run { describe(stored, artifact.type) } } else { [:] }
                for (key, fact) in facts where fields[key] == nil { fields[key] = fact }
                described.append(.object(fields))
            }
            inputs[port.name] = value.list == nil ? (described.first ?? .null) : .list(described)
        }
        let request: Value = .object([
            "protocol": .number(Double(plugin.manifest.protocolVersion)),
            "kind": .string(kind),
            "stage": .string(invocation.name),
            "plugin": .object(["name": .string(plugin.name), "version": .string(plugin.manifest.version),
                               "folder": .string(plugin.manifest.folder.standardizedFileURL.path)]),
            "parameters": .object(parameters),
            "inputs": .object(inputs),
            "output_folder": .string(outputFolder.path),
            "work_folder": .string(work.path),
        ])
        return Data((request.canonicalJSON + "\n").utf8)
    }

    // MARK: The result

    func collect(_ outputs: [String: Value], from folder: URL, store: any ArtifactStore, transcript: PluginTranscript.Snapshot) async throws
        -> [String: Value] {
        let declared = Dictionary(uniqueKeysWithValues: signature.outputs.map { ($0.name, $0) })
        if let stray = outputs.keys.sorted().first(where: { declared[$0] == nil }) {
            throw failure("names an output `\(stray)` its manifest does not declare (declared: \(declared.keys.sorted().joined(separator: ", ")))",
                          transcript: transcript)
        }
        let base = folder.standardizedFileURL.resolvingSymlinksInPath().path + "/"
        func file(_ value: Value, port: Port, type: ArtifactType) async throws -> Value {
            guard let path = value.string, !path.isEmpty else {
                throw failure("output `\(port.name)` must be a path in the output folder (got \(value.canonicalJSON))", transcript: transcript)
            }
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
            let real = url.standardizedFileURL.resolvingSymlinksInPath()
            guard real.path.hasPrefix(base) else {
                throw failure("output `\(port.name)` (\(path)) is outside its output folder; write outputs inside output_folder",
                              transcript: transcript)
            }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: real.path, isDirectory: &isFolder), !isFolder.boolValue else {
                throw failure("output `\(port.name)` names \(path), which it did not write", transcript: transcript)
            }
            return .artifact(try await store.put(file: real, type: type))
        }
        var values: [String: Value] = [:]
        for port in signature.outputs {
            guard let value = outputs[port.name], value != .null else {
                if port.required {
                    throw failure("the result does not name output `\(port.name)`", transcript: transcript)
                }
                continue
            }
            switch port.type {
            case .list(let element) where element.isFile:
                guard let items = value.list else {
                    throw failure("output `\(port.name)` must be a list of paths (got \(value.canonicalJSON))", transcript: transcript)
                }
                var stored: [Value] = []
                for item in items { stored.append(try await file(item, port: port, type: element)) }
                values[port.name] = .list(stored)
            case let type where type.isFile:
                values[port.name] = try await file(value, port: port, type: type)
            case .number:
                guard value.number != nil else {
                    throw failure("output `\(port.name)` must be a number (got \(value.canonicalJSON))", transcript: transcript)
                }
                values[port.name] = value
            case .text:
                guard value.string != nil else {
                    throw failure("output `\(port.name)` must be a string (got \(value.canonicalJSON))", transcript: transcript)
                }
                values[port.name] = value
            default:
                values[port.name] = value
            }
        }
        return values
    }

    /// A plugin failure (``PipelineError/Code/plugin``): the plugin, its version, what went
    /// wrong and the end of what it wrote on stderr.
    func failure(_ message: String, transcript: PluginTranscript.Snapshot?) -> PipelineError {
        var text = "plugin \(plugin.name) \(plugin.manifest.version) \(message)"
        let stderr = transcript?.stderrTail ?? []
        if !stderr.isEmpty {
            text += "\n  its stderr ended with:\n" + stderr.map { "    \($0)" }.joined(separator: "\n")
        }
        return PipelineError(.plugin, text)
    }

    static func signalName(_ number: Int32) -> String {
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM",
                                      SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGINT: "SIGINT"]
        return names[number].map { ", \($0)" } ?? ""
    }
}

/// What a plugin said, line by line (thread-safe: the reader threads feed it).
final class PluginTranscript: @unchecked Sendable {
    enum Event {
        case progress(Double?, String?)
        case log(Logger.Level, String)
        case violation
    }

    struct Snapshot: Sendable {
        var result: [String: Value]?
        var error: String?
        var violation: String?
        var stderrTail: [String]
    }

    /// Lines of stderr kept for the failure message.
    static let tailLines = 12
    private let lock = NSLock()
    private var state = Snapshot(stderrTail: [])
    private var lineNumber = 0

    private struct Message: Decodable {
        var type: String
        var fraction: Double?
        var message: String?
        var level: String?
        var outputs: [String: Value]?
    }

    var snapshot: Snapshot { lock.withLock { state } }

    func stderr(_ line: String) {
        lock.withLock {
            state.stderrTail.append(String(line.prefix(400)))
            if state.stderrTail.count > Self.tailLines { state.stderrTail.removeFirst() }
        }
    }

    /// Reads one stdout line; the first line that breaks the protocol is remembered.
    func take(_ line: String) -> Event? {
        lock.withLock {
            lineNumber += 1
            guard state.violation == nil else { return nil }
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { return nil }
            func violate(_ why: String) -> Event {
                state.violation = why
                return .violation
            }
            let quoted = trimmed.count > 120 ? String(trimmed.prefix(120)) + "…" : trimmed
            guard let message = try? JSONDecoder().decode(Message.self, from: Data(trimmed.utf8)) else {
                return violate("wrote line \(lineNumber) of stdout that is not a protocol message: «\(quoted)» (stdout is for JSON lines; write other text to stderr)")
            }
            switch message.type {
            case "progress":
                if let fraction = message.fraction, !(0...1).contains(fraction) {
                    return violate("sent progress \(fraction) on line \(lineNumber); a fraction is from 0 to 1")
                }
                return .progress(message.fraction, message.message)
            case "log":
                let levels: [String: Logger.Level] = ["debug": .debug, "info": .info, "warning": .warning, "error": .error]
                return .log(levels[message.level ?? "info"] ?? .info, message.message ?? "")
            case "error":
                state.error = message.message ?? "(no message)"
                // The stage's failure quotes it; logged at debug so the console does not show it twice.
                return .log(.debug, state.error!)
            case "result":
                guard let outputs = message.outputs else {
                    return violate("sent a result without `outputs` on line \(lineNumber): «\(quoted)»")
                }
                guard state.result == nil else { return violate("sent a second result on line \(lineNumber)") }
                state.result = outputs
                return nil
            default:
                return violate("sent a message of unknown type `\(message.type)` on line \(lineNumber) (types: progress, log, error, result)")
            }
        }
    }
}

extension PluginStage {
    /// Runs the stage's `example:` (what `seedpipe plugins check` does): the values are
    /// checked against the signature, file inputs (paths relative to the plugin folder) are
    /// stored in `store`, and the plugin is run once by the protocol. Returns its outputs.
    public func runExample(storage: Storage, logger: Logger) async throws -> [String: Value]? {
        guard let example = spec.example else { return nil }
        var problems: [String] = []
        var values: [String: Value] = [:]
        let accepted = Set(signature.acceptedKeys)
        for key in example.keys.sorted() where !accepted.contains(key) {
            problems.append("`\(key)` is not an input or parameter of `\(kind)`")
        }
        for port in signature.inputs {
            guard let value = example[port.name] else {
                if port.required { problems.append("input `\(port.name)` is required") }
                continue
            }
            guard port.type.isFile else {
                values[port.name] = value
                continue
            }
            let element: ArtifactType = if case .list(let inner) = port.type { inner } else { port.type }
            let paths = value.list ?? [value]
            var artifacts: [Value] = []
            for path in paths {
                let file = plugin.manifest.folder.appendingPathComponent(path.text)
                guard FileManager.default.fileExists(atPath: file.path) else {
                    problems.append("input `\(port.name)`: \(displayPath(file)) does not exist")
                    continue
                }
                artifacts.append(.artifact(try await storage.artifacts.put(file: file, type: element)))
            }
            values[port.name] = value.list == nil ? (artifacts.first ?? .null) : .list(artifacts)
        }
        for parameter in signature.parameters {
            guard let value = example[parameter.name] ?? parameter.defaultValue else {
                if parameter.required { problems.append("parameter `\(parameter.name)` is required") }
                continue
            }
            if let problem = parameter.problem(with: value) { problems.append(problem) }
            values[parameter.name] = value
        }
        problems += check(values)
        guard problems.isEmpty else {
            throw PipelineError(problems.map { Diagnostic("example of `\(kind)`: \($0)", at: spec.location) })
        }
        let context = StageContext(store: storage.artifacts, journal: storage.journal, logger: logger,
                                   scratch: storage.scratch.appendingPathComponent(UUID().uuidString, isDirectory: true),
                                   baseFolder: plugin.manifest.folder, actionKey: "example", kind: kind, stage: "example",
                                   pipeline: "plugins-check")
        do {
            let outputs = try await run(StageInvocation(name: "example", values: values), context: context)
            await context.scratchFolder.remove()
            return outputs
        } catch {
            await context.scratchFolder.remove()
            throw error
        }
    }
}
