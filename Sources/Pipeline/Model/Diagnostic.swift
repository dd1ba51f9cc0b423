/// Where something is in a pipeline file.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem with a pipeline: where, what, and how to fix it.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String
    public var fix: String?

    public init(_ message: String, at location: SourceLocation?, fix: String? = nil) {
        self.location = location
        self.message = message
        self.fix = fix
    }

    /// `file:line:column: error: message (fix)`, the form editors jump to.
    public var description: String { formatted(as: "error") }

    /// The same form with another severity, such as `warning`.
    public func formatted(as severity: String) -> String {
        var text = (location.map { "\($0): " } ?? "") + severity + ": " + message
        if let fix { text += " (\(fix))" }
        return text
    }
}

/// The closest candidate to a misspelt name, for "did you mean" (nil when none is close).
public func closest(to name: String, in candidates: some Sequence<String>) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(name.lowercased(), candidate.lowercased())
        if distance <= max(2, candidate.count / 3), distance < (best?.1 ?? .max) { best = (candidate, distance) }
    }
    return best?.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
