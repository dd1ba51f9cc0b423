import Foundation

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
