import Foundation
import Yams

/// The picks file beside a pipeline, `NAME.picks.yaml`: which take of each shot the
/// pipeline uses, and the takes re-rolls added. Written by `seedpipe pick` and
/// `seedpipe reroll`, readable and safe to commit with the pipeline:
///
/// ```yaml
/// shots-2:
///   take: 4
///   digest: 9c1f…          # the take's video, so the pick is checked against it
///   rerolls:               # takes after the declared ones, by seed
///     - seed: 45
///     - seed: 46
///       keep_after: 2      # made between its neighbours: later shots continue from take 2
/// ```
///
/// A shot with no entry uses take 1.
public struct Picks: Sendable, Hashable {
    public struct Pick: Sendable, Hashable {
        /// The chosen take (1-based).
        public var take: Int
        /// The digest of the take's identifying output (its video) when it was picked.
        public var digest: String?
        /// Takes made after the declared ones, in order: take N+1 is `rerolls[0]`.
        public var rerolls: [Reroll]
        /// Where the entry and its `take:` are in the file.
        public var location: SourceLocation?
        public var takeLocation: SourceLocation?

        public init(take: Int, digest: String? = nil, rerolls: [Reroll] = [], location: SourceLocation? = nil,
                    takeLocation: SourceLocation? = nil) {
            self.take = take
            self.digest = digest
            self.rerolls = rerolls
            self.location = location
            self.takeLocation = takeLocation
        }
    }

    /// A take a re-roll added: its seed and, when it was made between its neighbours, the
    /// take whose last frame the following shots keep starting on.
    public struct Reroll: Sendable, Hashable {
        public var seed: Int
        public var keepAfter: Int?
        public var location: SourceLocation?

        public init(seed: Int, keepAfter: Int? = nil, location: SourceLocation? = nil) {
            self.seed = seed
            self.keepAfter = keepAfter
            self.location = location
        }
    }

    /// Shot name → its pick.
    public var shots: [String: Pick]
    /// The file these came from, if any.
    public var file: String?

    public init(shots: [String: Pick] = [:], file: String? = nil) {
        self.shots = shots
        self.file = file
    }

    /// `NAME.picks.yaml` beside `pipeline` (`NAME` is the file's name without `.yaml`).
    public static func location(for pipeline: URL) -> URL {
        let name = pipeline.lastPathComponent.hasSuffix(".yaml") || pipeline.lastPathComponent.hasSuffix(".yml")
            ? pipeline.deletingPathExtension().lastPathComponent : pipeline.lastPathComponent
        return pipeline.deletingLastPathComponent().appendingPathComponent("\(name).picks.yaml")
    }

    /// Reads a picks file; a file that does not exist is no picks. Problems say file:line:column.
    public static func load(_ url: URL) throws -> Picks {
        guard FileManager.default.fileExists(atPath: url.path) else { return Picks(file: url.relativePath) }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PipelineError("\(url.relativePath): cannot read the picks file (\(error.localizedDescription))")
        }
        return try parse(text, file: url.relativePath)
    }

    public static func parse(_ text: String, file: String) throws -> Picks {
        var picks = Picks(file: file)
        let content = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard content.contains(where: { !$0.isEmpty && !$0.hasPrefix("#") }) else { return picks }  // comments only
        let root = try PipelineFile.compose(text, file: file, emptyFix: "")
        func at(_ node: Node) -> SourceLocation? { node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) } }
        func integer(_ node: Node) -> Int? {
            if case .number(let number) = PipelineFile.value(of: node), number == number.rounded(), number >= 0 { Int(number) } else { nil }
        }
        var diagnostics: [Diagnostic] = []
        guard let top = root.mapping else {
            throw PipelineError("a picks file maps shot names to picks, such as `shots-2: {take: 2}`", at: at(root))
        }
        for (nameNode, entry) in top {
            let shot = nameNode.string ?? ""
            guard let fields = entry.mapping else {
                diagnostics.append(Diagnostic("`\(shot)` must be a mapping with `take:`", at: at(entry), fix: "e.g. \(shot): {take: 2}"))
                continue
            }
            var pick = Pick(take: 1, location: at(nameNode))
            var hasTake = false
            for (keyNode, value) in fields {
                switch keyNode.string ?? "" {
                case "take":
                    guard let take = integer(value), take >= 1 else {
                        diagnostics.append(Diagnostic("\(shot): `take` must be a take number, 1 or more", at: at(value)))
                        continue
                    }
                    pick.take = take
                    pick.takeLocation = at(value)
                    hasTake = true
                case "digest":
                    pick.digest = value.string
                case "rerolls":
                    guard let items = value.sequence else {
                        diagnostics.append(Diagnostic("\(shot): `rerolls` must be a list of seeds", at: at(value)))
                        continue
                    }
                    for item in items {
                        if let seed = integer(item) {
                            pick.rerolls.append(Reroll(seed: seed, location: at(item)))
                        } else if let mapping = item.mapping, let seed = mapping["seed"].flatMap(integer) {
                            let keepAfter = mapping["keep_after"].flatMap(integer)
                            if mapping["keep_after"] != nil && keepAfter == nil {
                                diagnostics.append(Diagnostic("\(shot): `keep_after` must be a take number", at: at(mapping["keep_after"]!)))
                            }
                            pick.rerolls.append(Reroll(seed: seed, keepAfter: keepAfter, location: at(item)))
                        } else {
                            diagnostics.append(Diagnostic("\(shot): each reroll is a seed, or `{seed: N, keep_after: TAKE}`", at: at(item)))
                        }
                    }
                default:
                    let key = keyNode.string ?? ""
                    diagnostics.append(Diagnostic("\(shot): unknown key `\(key)`", at: at(keyNode),
                                                  fix: closest(to: key, in: ["take", "digest", "rerolls"]).map { "did you mean `\($0)`?" }
                                                      ?? "a pick has `take:`, `digest:` and `rerolls:`"))
                }
            }
            if !hasTake && diagnostics.isEmpty {
                diagnostics.append(Diagnostic("\(shot): the pick has no `take:`", at: at(nameNode), fix: "add `take: N`"))
            }
            picks.shots[shot] = pick
        }
        guard diagnostics.isEmpty else { throw PipelineError(diagnostics) }
        return picks
    }

    /// The file's text: shots in natural order (`shots-2` before `shots-10`).
    public func yaml(pipelineFile: String) -> String {
        var text = """
            # Picks for \(pipelineFile): the take each shot uses (a shot not listed uses take 1).
            # Written by `seedpipe pick` and `seedpipe reroll`; safe to edit and to commit.

            """
        for shot in shots.keys.sorted(by: { $0.localizedStandardCompare($1) == .orderedAscending }) {
            let pick = shots[shot]!
            text += "\(Self.scalar(shot)):\n  take: \(pick.take)\n"
            if let digest = pick.digest { text += "  digest: \(digest)\n" }
            if !pick.rerolls.isEmpty {
                text += "  rerolls:\n"
                for reroll in pick.rerolls {
                    text += "    - seed: \(reroll.seed)\n"
                    if let keepAfter = reroll.keepAfter { text += "      keep_after: \(keepAfter)\n" }
                }
            }
        }
        return text
    }

    /// Writes the file atomically.
    public func write(to url: URL, pipelineFile: String) throws {
        try AtomicFile.write(Data(yaml(pipelineFile: pipelineFile).utf8), to: url, durable: true)
    }

    private static func scalar(_ text: String) -> String {
        text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) && !text.isEmpty ? text : "\"\(text)\""
    }
}
