import Crypto
import Foundation

/// What one stage run produced, stored under its action key.
public struct ActionRecord: Sendable, Codable {
    public var key: String
    public var kind: String
    public var version: String
    public var stage: String
    /// The resolved inputs and parameters, artifacts by digest (to explain a later miss).
    public var values: [String: Value]
    public var outputs: [String: Value]
    public var createdAt: Date
    public var seconds: Double
    /// True when making it cost money (a remote generation): gc keeps these unless told.
    public var paid: Bool
    public var requestIDs: [String]
}

/// Maps action keys to the outputs of the run that made them (the split of Bazel's action
/// cache and CAS). A record whose objects are gone or corrupted counts as a miss.
public struct ActionCache: Sendable {
    public let root: URL
    public let store: ArtifactStore
    /// The generation journal kept beside the cache.
    public let journal: GenerationJournal
    let locks: ActionLocks

    public init(store: ArtifactStore) throws {
        self.store = store
        root = store.root.appendingPathComponent("actions", isDirectory: true)
        journal = try GenerationJournal(root: store.root.appendingPathComponent("journal", isDirectory: true))
        locks = try ActionLocks(file: store.root.appendingPathComponent("actions.lock"))
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: lastRuns, withIntermediateDirectories: true)
    }

    var lastRuns: URL { store.root.appendingPathComponent("last-run", isDirectory: true) }

    /// SHA-256 of the stage kind, version, resolved values (canonical JSON) and the digests
    /// of every input artifact: local files count by their bytes, not their names or times.
    public static func key(kind: String, version: String, values: [String: Value]) -> String {
        let canonical = Value.object(["kind": .string(kind), "version": .string(version),
                                      "values": .object(values.mapValues(\.keyForm))]).canonicalJSON
        return SHA256.hash(data: Data(canonical.utf8)).hex
    }

    private func file(for key: String) -> URL { root.appendingPathComponent("\(key).json") }

    /// The record for `key` if all its output objects are present and intact.
    public func lookup(_ key: String) -> ActionRecord? {
        guard let data = try? Data(contentsOf: file(for: key)),
              let record = try? JSONDecoder.iso.decode(ActionRecord.self, from: data) else { return nil }
        for artifact in record.outputs.values.flatMap(\.artifacts) {
            guard (try? store.verifiedLocation(of: artifact)) != nil else { return nil }
        }
        return record
    }

    public func record(_ record: ActionRecord) throws {
        try atomicWrite(try JSONEncoder.iso.encode(record), to: file(for: record.key))
    }

    /// Remembers which action each stage of a pipeline last ran, to explain a later miss
    /// (one small file per run; atomic, not synced: it only ever explains).
    public func rememberLastRun(pipeline: String, keys: [String: String]) throws {
        var index = lastRunIndex(pipeline)
        index.merge(keys) { $1 }
        try atomicWrite(try JSONEncoder.iso.encode(index), to: lastRuns.appendingPathComponent("\(pipeline).json"), sync: false)
    }

    private func lastRunIndex(_ pipeline: String) -> [String: String] {
        guard let data = try? Data(contentsOf: lastRuns.appendingPathComponent("\(pipeline).json")) else { return [:] }
        return (try? JSONDecoder.iso.decode([String: String].self, from: data)) ?? [:]
    }

    /// What the stage's previous run used, to say why it misses now.
    public func lastRun(pipeline: String, stage: String) -> ActionRecord? {
        guard let key = lastRunIndex(pipeline)[stage], let data = try? Data(contentsOf: file(for: key)) else { return nil }
        return try? JSONDecoder.iso.decode(ActionRecord.self, from: data)
    }

    public func allRecords() -> [ActionRecord] {
        let files = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)) ?? []
        return files.compactMap { try? JSONDecoder.iso.decode(ActionRecord.self, from: Data(contentsOf: $0)) }
    }

    public func remove(_ key: String) { try? FileManager.default.removeItem(at: file(for: key)) }
}

/// Temporary file, fsync, rename: the file appears whole or not at all.
func atomicWrite(_ data: Data, to url: URL, sync: Bool = true) throws {
    let staging = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
    FileManager.default.createFile(atPath: staging.path, contents: data)
    if sync {
        let handle = try FileHandle(forWritingTo: staging)
        try handle.synchronize()
        try handle.close()
    }
    guard rename(staging.path, url.path) == 0 else {
        try? FileManager.default.removeItem(at: staging)
        throw StoreError("cannot write \(url.path): \(String(cString: strerror(errno)))")
    }
}

extension Value {
    /// The value as hashed: artifacts by their digest alone.
    var keyForm: Value {
        switch self {
        case .artifact(let artifact): .object(["digest": .string(artifact.digest)])
        case .list(let values): .list(values.map(\.keyForm))
        case .object(let values): .object(values.mapValues(\.keyForm))
        default: self
        }
    }
}

extension JSONEncoder {
    static var iso: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}

extension JSONDecoder {
    static var iso: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
