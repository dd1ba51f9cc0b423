import Foundation
import Synchronization

/// Action records in a folder, `ROOT/actions/KEY.json`, beside a ``LocalArtifactStore``.
///
/// A record is written to a temporary file and renamed into place, without fsync: a record
/// torn by a crash does not decode and is a miss, and the work it described runs again
/// (paid work is safe in the journal, which does fsync). Records read or written once are
/// kept in memory for the rest of the process, and so is the last-run index.
public final class LocalActionCache: ActionCache {
    public let root: URL
    public let store: LocalArtifactStore
    let locks: ActionLocks
    private let known = Mutex<[String: ActionRecord]>([:])
    /// Keys found missing on disk by this process; `exclusively` forgets a key before its
    /// body runs, so the look inside the lock always reads the disk (another process may
    /// have recorded it since).
    private let missing = Mutex<Set<String>>([])
    /// The keys with a record file when `prefetch` listed the folder (nil before): a key not
    /// among them is a miss without a look, except inside the action's lock.
    private let listed = Mutex<Set<String>?>(nil)
    /// Keys whose lock this process holds: their lookups always read the disk.
    private let locked = Mutex<Set<String>>([])
    private let lastRuns = Mutex<[String: [String: String]]>([:])

    public init(store: LocalArtifactStore) throws {
        self.store = store
        root = store.root.appendingPathComponent("actions", isDirectory: true)
        locks = try ActionLocks(file: store.root.appendingPathComponent("actions.lock"))
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: lastRunFolder, withIntermediateDirectories: true)
    }

    var lastRunFolder: URL { store.root.appendingPathComponent("last-run", isDirectory: true) }

    // `isDirectory: false`: without it Foundation asks the file system (an lstat per lookup).
    private func file(for key: String) -> URL { root.appendingPathComponent("\(key).json", isDirectory: false) }

    /// Records are written compact (no indentation): a cache holds thousands and reads them all.
    /// A remote cache keeps them in the same form.
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public func lookup(_ key: String) async -> ActionRecord? {
        // A record already read whose outputs are all values (no files to check) needs no I/O.
        if let record = known.withLock({ $0[key] }), record.outputs.values.allSatisfy({ $0.artifacts.isEmpty }) {
            return record
        }
        if !locked.withLock({ $0.contains(key) }),
           missing.withLock({ $0.contains(key) }) || listed.withLock({ $0.map { !$0.contains(key) } ?? false }) {
            return nil
        }
        return try? await BlockingIO.run { self.lookupBlocking(key) }
    }

    /// `lookup` on the calling thread.
    public func lookupBlocking(_ key: String) -> ActionRecord? {
        guard let record = readRecord(key) else { return nil }
        for artifact in record.outputs.values.flatMap(\.artifacts) {
            guard (try? store.verifiedLocationBlocking(of: artifact)) != nil else { return nil }
        }
        return record
    }

    private func readRecord(_ key: String) -> ActionRecord? {
        if let record = known.withLock({ $0[key] }) { return record }
        guard let data = Self.contents(of: file(for: key).path),
              let record = try? JSONDecoder.iso.decode(ActionRecord.self, from: data) else {
            missing.withLock { _ = $0.insert(key) }
            return nil
        }
        known.withLock { $0[key] = record }
        return record
    }

    /// A small file's bytes with one `open` (FileManager stats first): most lookups of a
    /// fresh run are misses, and a miss is then one failed `open`.
    static func contents(of path: String) -> Data? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? data : nil }
            data.append(contentsOf: buffer[0..<count])
        }
    }

    public func record(_ record: ActionRecord) async throws {
        let data = try Self.encoder.encode(record)
        try await BlockingIO.run {
            try AtomicFile.write(data, to: self.file(for: record.key), durable: false)
            self.known.withLock { $0[record.key] = record }
            self.missing.withLock { _ = $0.remove(record.key) }
            self.listed.withLock { _ = $0?.insert(record.key) }
        }
    }

    public func exclusively<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try await locks.exclusively(key) {
            missing.withLock { _ = $0.remove(key) }
            locked.withLock { _ = $0.insert(key) }
            defer { locked.withLock { _ = $0.remove(key) } }
            return try await body()
        }
    }

    public func rememberLastRun(pipeline: String, keys: [String: String]) async throws {
        try await BlockingIO.run {
            var index = self.lastRunIndex(pipeline)
            index.merge(keys) { $1 }
            self.lastRuns.withLock { $0[pipeline] = index }
            // It only ever explains a miss: atomic, not synced.
            try AtomicFile.write(try JSONEncoder.iso.encode(index),
                                 to: self.lastRunFolder.appendingPathComponent("\(pipeline).json"), durable: false)
        }
    }

    private func lastRunIndex(_ pipeline: String) -> [String: String] {
        if let index = lastRuns.withLock({ $0[pipeline] }) { return index }
        let data = FileManager.default.contents(atPath: lastRunFolder.appendingPathComponent("\(pipeline).json").path)
        let index = data.flatMap { try? JSONDecoder.iso.decode([String: String].self, from: $0) } ?? [:]
        lastRuns.withLock { $0[pipeline] = index }
        return index
    }

    /// The last run's records, read in one trip to the I/O pool (a 1,000-stage pipeline's
    /// lookups would otherwise each wait for a thread).
    public func prefetch(pipeline: String) async {
        _ = try? await BlockingIO.run {
            // Which records exist (one directory read), then the last run's, read ahead.
            if let names = try? FileManager.default.contentsOfDirectory(atPath: self.root.path) {
                let keys = Set(names.lazy.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) })
                self.listed.withLock { $0 = $0.map { $0.union(keys) } ?? keys }
            }
            for key in Set(self.lastRunIndex(pipeline).values) { _ = self.readRecord(key) }
        }
    }

    public func lastRun(pipeline: String, stage: String) async -> ActionRecord? {
        try? await BlockingIO.run { self.lastRunIndex(pipeline)[stage].flatMap(self.readRecord) }
    }

    public func allRecords() async -> [ActionRecord] {
        (try? await BlockingIO.run {
            let files = (try? FileManager.default.contentsOfDirectory(at: self.root, includingPropertiesForKeys: nil)) ?? []
            return files.filter { $0.pathExtension == "json" }.compactMap { self.readRecord($0.deletingPathExtension().lastPathComponent) }
        }) ?? []
    }

    public func remove(_ key: String) async {
        known.withLock { _ = $0.removeValue(forKey: key) }
        unlink(file(for: key).path)
    }
}
