import Crypto
import Foundation
import Synchronization

/// What one stage run produced, stored under its action key.
public struct ActionRecord: Sendable, Codable {
    public var key: String
    public var kind: String
    public var version: String
    public var stage: String
    /// The resolved inputs and parameters (to explain a later miss): artifacts by digest,
    /// texts over 256 bytes by their SHA-256.
    public var values: [String: Value]
    /// Small values (text, numbers, JSON) inline; files as artifacts in the store.
    public var outputs: [String: Value]
    public var createdAt: Date
    public var seconds: Double
    /// True when making it cost money (the stage declared a cost): gc keeps these unless told.
    public var paid: Bool
    /// What the stage declared it would cost.
    public var cost: Cost?

    public init(key: String, kind: String, version: String, stage: String, values: [String: Value], outputs: [String: Value],
                createdAt: Date, seconds: Double, paid: Bool, cost: Cost? = nil) {
        self.key = key
        self.kind = kind
        self.version = version
        self.stage = stage
        self.values = values
        self.outputs = outputs
        self.createdAt = createdAt
        self.seconds = seconds
        self.paid = paid
        self.cost = cost
    }
}

/// Maps action keys to the outputs of the run that made them (the split of Bazel's action
/// cache and CAS). ``LocalActionCache`` keeps records in a folder beside a
/// ``LocalArtifactStore``; a remote cache can stand beside it.
public protocol ActionCache: Sendable {
    /// The record for `key` if every object it names is present and intact, else nil.
    func lookup(_ key: String) async -> ActionRecord?
    /// Records a finished action.
    func record(_ record: ActionRecord) async throws
    /// Runs `body` while no other process (and no other cache on the same storage) runs the
    /// action `key`; waiting does not block a thread.
    func exclusively<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T
    /// Remembers which action each stage of a pipeline last ran, to explain a later miss.
    func rememberLastRun(pipeline: String, keys: [String: String]) async throws
    /// What the stage's previous run used.
    func lastRun(pipeline: String, stage: String) async -> ActionRecord?
    /// Every record (for `cache ls` and `gc`).
    func allRecords() async -> [ActionRecord]
    func remove(_ key: String) async
    /// Reads ahead what a run of `pipeline` will likely look up (its last run's records, and
    /// which records exist), in one go, so the lookups that follow are quick. After it, a
    /// lookup outside the action's lock may miss a record another process made since (the
    /// look inside `exclusively` never does), so nothing runs or is paid for twice.
    func prefetch(pipeline: String) async
}

extension ActionCache {
    public func prefetch(pipeline: String) async {}
}

public enum ActionKey {
    /// SHA-256 of the stage kind, version, resolved values (canonical JSON) and the digests
    /// of every input artifact: local files count by their bytes, not their names or times.
    public static func make(kind: String, version: String, values: [String: Value]) -> String {
        let input = Value.object(["kind": .string(kind), "version": .string(version), "values": .object(values)])
        // `plan` and the run compute each key once more: hashing the value finds it faster than encoding it again.
        if let known = recent.withLock({ $0[input] }) { return known }
        let canonical = Value.object(["kind": .string(kind), "version": .string(version),
                                      "values": .object(values.mapValues(\.keyForm))]).canonicalJSON
        let key = SHA256.hash(data: Data(canonical.utf8)).hex
        recent.withLock { keys in
            if keys.count >= 4096 { keys.removeAll(keepingCapacity: true) }
            keys[input] = key
        }
        return key
    }

    private static let recent = Mutex<[Value: String]>([:])
}

extension Value {
    /// The value as an action record keeps it, to explain a later miss: texts longer than
    /// 256 bytes by their SHA-256 (a long chain's records would otherwise carry every prompt
    /// in full), the rest as it is. Applying it twice changes nothing.
    var explanationForm: Value {
        switch self {
        case .string(let text) where text.utf8.count > 256:
            .object(["sha256": .string(ContentDigest.sha256(of: Data(text.utf8)))])
        case .list(let values): .list(values.map(\.explanationForm))
        case .object(let values): .object(values.mapValues(\.explanationForm))
        default: self
        }
    }

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
    package static var iso: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
