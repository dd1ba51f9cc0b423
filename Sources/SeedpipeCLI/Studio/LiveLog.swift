import Foundation
import Pipeline
import Synchronization

/// A run as it goes, one JSON line per event, in `<cache>/live/<pipeline>.jsonl`: every run
/// on a cache writes it (started from the CLI or from the studio), and `seedpipe studio`
/// follows it to push each stage's state to its page. The file is truncated when a run
/// begins; lines are appended whole.
final class LiveLog: Sendable {
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

    static func location(cache: URL, pipeline: String) -> URL {
        cache.appendingPathComponent("live", isDirectory: true).appendingPathComponent("\(safe(pipeline)).jsonl")
    }

    private static func safe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    func begin(_ stages: [String]) {
        write(["event": .string("run_started"), "stages": .list(stages.map(Value.string)),
               "at": .number(Date().timeIntervalSince1970)])
    }

    func append(_ event: ExecutionEvent) {
        guard let data = EventPrinter.json(event).data(using: .utf8) else { return }
        handle.withLock { try? $0?.write(contentsOf: data + Data("\n".utf8)) }
    }

    func end<T>(_ result: Result<T, any Error>) {
        var fields: [String: Value] = ["event": .string("run_finished")]
        switch result {
        case .success: fields["ok"] = .bool(true)
        case .failure(let error):
            fields["ok"] = .bool(false)
            fields["message"] = .string(error is CancellationError ? "interrupted" : "\(error)")
        }
        write(fields)
        handle.withLock { try? $0?.close(); $0 = nil }
    }

    private func write(_ fields: [String: Value]) {
        let line = Data((Value.object(fields).canonicalJSON + "\n").utf8)
        handle.withLock { try? $0?.write(contentsOf: line) }
    }
}

/// Follows a live log (any process's run on the cache) and hands each new line of the
/// current run to the page's event streams: a late subscriber gets the run so far first.
actor LiveTail {
    let file: URL
    private var offset: UInt64 = 0
    private var pending = Data()
    private var lines: [String] = []
    private var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]
    private var watcher: Task<Void, Never>?

    init(file: URL) { self.file = file }

    func start() {
        guard watcher == nil else { return }
        watcher = Task { [weak self] in
            while !Task.isCancelled {
                await self?.read()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func stop() {
        watcher?.cancel()
        for subscriber in subscribers.values { subscriber.finish() }
        subscribers = [:]
    }

    /// The current run's lines so far, then each new one.
    func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        for line in lines { continuation.yield(line) }
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.unsubscribe(id) } }
        return stream
    }

    private func unsubscribe(_ id: UUID) { subscribers[id] = nil }

    private func read() {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path),
              let size = (attributes[.size] as? NSNumber)?.uint64Value else { return }
        if size < offset {
            // A new run truncated it.
            offset = 0
            pending = Data()
        }
        guard size > offset, let handle = try? FileHandle(forReadingFrom: file) else { return }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        guard let data = try? handle.readToEnd() else { return }
        offset += UInt64(data.count)
        pending += data
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
            pending = Data(pending[pending.index(after: newline)...])
            if line.contains("\"event\":\"run_started\"") { lines = [] }
            lines.append(line)
            for subscriber in subscribers.values { subscriber.yield(line) }
        }
    }
}
