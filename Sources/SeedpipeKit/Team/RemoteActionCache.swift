import Foundation
import Pipeline

/// The local action cache, read through and written through to a ``RemoteCache``: a local
/// miss asks the remote (its record used only once every object it names is fetched and
/// verified, then kept locally); a record made here is uploaded in the background with its
/// objects. Locks, last runs and listing stay local.
public final class RemoteActionCache: ActionCache {
    public let local: LocalActionCache
    public let remote: RemoteCache

    public init(local: LocalActionCache, remote: RemoteCache) {
        self.local = local
        self.remote = remote
    }

    public func lookup(_ key: String) async -> ActionRecord? {
        if let record = await local.lookup(key) { return record }
        guard let record = await remote.record(key) else { return nil }
        for artifact in record.outputs.values.flatMap(\.artifacts) {
            if (try? await local.store.verifiedLocation(of: artifact)) != nil { continue }
            guard await remote.fetch(artifact.digest, into: local.store) else { return nil }
        }
        // Kept here: the next lookup is local.
        try? await local.record(record)
        return await local.lookup(key)
    }

    public func record(_ record: ActionRecord) async throws {
        try await local.record(record)
        remote.upload(record, objects: record.outputs.values.flatMap(\.artifacts), from: local.store)
    }

    public func exclusively<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try await local.exclusively(key, body)
    }

    public func rememberLastRun(pipeline: String, keys: [String: String]) async throws {
        try await local.rememberLastRun(pipeline: pipeline, keys: keys)
    }

    public func lastRun(pipeline: String, stage: String) async -> ActionRecord? { await local.lastRun(pipeline: pipeline, stage: stage) }
    public func allRecords() async -> [ActionRecord] { await local.allRecords() }
    public func remove(_ key: String) async { await local.remove(key) }
    public func prefetch(pipeline: String) async { await local.prefetch(pipeline: pipeline) }
}

extension Storage {
    /// The local cache in `root`, read and written through to `remote`.
    public static func local(at root: URL, remote: RemoteCache?) throws -> Storage {
        var storage = try Storage.local(at: root)
        guard let remote, let store = storage.artifacts as? LocalArtifactStore, let actions = storage.actions as? LocalActionCache else {
            return storage
        }
        storage.artifacts = RemoteArtifactStore(local: store, remote: remote)
        storage.actions = RemoteActionCache(local: actions, remote: remote)
        storage.finishing = { await remote.flush() }
        return storage
    }
}
