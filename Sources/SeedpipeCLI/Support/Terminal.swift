import Foundation
import Synchronization

/// Where the CLI writes: results to standard output, progress and errors to standard error.
enum Terminal {
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Pushes buffered standard output out now (for a line another program is waiting to read).
    static func flush() { fflush(nil) }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Set by --quiet: notes and progress are left out; results, warnings and errors stay.
    static let quiet = Atomic<Bool>(false)
    static var isQuiet: Bool { quiet.load(ordering: .relaxed) }

    /// A line for a person watching (a plan, a note, "done"), on standard error; left out with --quiet.
    static func note(_ line: String) {
        guard !isQuiet else { return }
        error(line)
    }

    /// A progress line that rewrites itself on a terminal and is left out otherwise (and with --quiet).
    static func progress(_ line: String, done: Bool = false) {
        guard standardErrorIsTerminal, !isQuiet else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line + (done ? "\n" : "")).utf8))
    }

    /// Pretty, key-sorted JSON on standard output, every date in ISO 8601 (as `run.json` and
    /// the run log write them), whichever command prints it.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Short human forms of numbers.
enum Format {
    static func seconds(_ value: Double) -> String { String(format: "%.3f s", value) }

    static func bytes(_ value: Int) -> String {
        let units = ["B", "KB", "MB", "GB"]
        var size = Double(value)
        var unit = 0
        while size >= 1000 && unit < units.count - 1 {
            size /= 1000
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f %@", size, units[unit])
    }

    static func bitRate(_ value: Int) -> String { "\(value / 1000) kb/s" }

    static func decibels(_ value: Double?, unit: String) -> String {
        guard let value else { return "-inf \(unit)" }
        return String(format: "%.1f %@", value, unit)
    }
}
