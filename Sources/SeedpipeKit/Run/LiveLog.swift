import Foundation
import Pipeline
import Synchronization

/// A run as it goes, one JSON line per event, in `<cache>/live/<pipeline>.jsonl`: every run
/// on a cache writes it (started from the CLI or from the studio), and `seedpipe studio`
/// follows it to push each stage's state to its page. The file is truncated when a run
/// begins; lines are appended whole.
package final class LiveLog: Sendable {
    let file: URL
    private let handle: Mutex<FileHandle?>

    init?(cache: URL, pipeline: String) {
        let folder = cache.appendingPathComponent("live", isDirectory: true)
        file = folder.appendingPathComponent("\(LiveLog.safe(pipeline)).jsonl")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            try handle.truncate(atOffset: 0)
            self.handle = Mutex(handle)
        } catch {
            return nil
        }
    }

    package static func location(cache: URL, pipeline: String) -> URL {
        cache.appendingPathComponent("live", isDirectory: true).appendingPathComponent("\(safe(pipeline)).jsonl")
    }

    private static func safe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// Appends one event as a line.
    func append(_ event: RunEvent) {
        let line = Data((event.jsonLine + "\n").utf8)
        handle.withLock { try? $0?.write(contentsOf: line) }
    }

    func close() {
        handle.withLock { try? $0?.close(); $0 = nil }
    }
}
