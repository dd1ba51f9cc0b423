import Foundation
import Pipeline

/// `seedpipe cache gc`'s policy: which action records and objects of a local cache may go.
/// Nothing a kept record needs is removed: its outputs, and the inputs it was made from
/// (a soundtrack's music, a first frame, a clip given by path), so `export`, `cache verify`
/// and a rerun find every object a kept record names. Unless `includePaid`, the outputs of
/// paid generations stay (with their records), and so does every object a journal entry names
/// (what was paid for, even without its record); the journal itself always stays: it holds
/// the request ids to recover from. An emulator's work is not paid for: it may go.
public struct CacheCollector: Sendable {
    public let store: LocalArtifactStore
    public let actions: any ActionCache
    public let journal: any ActionJournal

    public init(store: LocalArtifactStore, actions: any ActionCache, journal: any ActionJournal) {
        self.store = store
        self.actions = actions
        self.journal = journal
    }

    /// What one collection removed.
    public struct Outcome: Sendable, Equatable {
        public var removedRecords: Int
        public var freedBytes: Int
    }

    /// Removes records older than `olderThan` (seconds before `now`), then every object no kept
    /// record or journal entry names, then the oldest records until the objects fit `maxSize`.
    public func collect(olderThan: Double? = nil, maxSize: Int? = nil, includePaid: Bool = false, now: Date = Date()) async throws -> Outcome {
        var records = await actions.allRecords().sorted { $0.createdAt < $1.createdAt }
        var outcome = Outcome(removedRecords: 0, freedBytes: 0)
        func remove(_ record: ActionRecord) async {
            await actions.remove(record.key)
            records.removeAll { $0.key == record.key }
            outcome.removedRecords += 1
        }
        if let olderThan {
            for record in records where now.timeIntervalSince(record.createdAt) > olderThan && (includePaid || !record.paid) {
                await remove(record)
            }
        }
        var kept = Set(records.flatMap(Self.needed).map(\.digest))
        if !includePaid {
            // Whatever a journal record names is kept: a stage journals what it paid for.
            kept.formUnion(try await journal.all().filter { $0.payload.object?["emulated"]?.bool != true }
                .flatMap { $0.payload.artifacts.map(\.digest) })
        }
        for object in store.allObjects() where !kept.contains(object.digest) {
            store.remove(object.digest)
            outcome.freedBytes += object.size
        }
        if let maxSize {
            let objects = store.allObjects()
            var present = Set(objects.map(\.digest))
            var total = objects.map(\.size).reduce(0, +)
            for record in records where total > maxSize && (includePaid || !record.paid) {
                await remove(record)
                let stillNeeded = Set(records.flatMap(Self.needed).map(\.digest))
                for artifact in record.outputs.values.flatMap(\.artifacts)
                where !stillNeeded.contains(artifact.digest) && present.remove(artifact.digest) != nil {
                    store.remove(artifact.digest)
                    total -= artifact.size
                    outcome.freedBytes += artifact.size
                }
            }
        }
        return outcome
    }

    /// Records that name an object the store no longer has (what they made, or what they were
    /// made from), each with the digests missing: `cache verify` removes them, so the next run
    /// remakes those stages (a paid generation is fetched again through its journal entry,
    /// never paid twice) instead of calling them cached.
    public func incompleteRecords() async -> [(record: ActionRecord, missing: [String])] {
        let present = Set(store.allObjects().map(\.digest))
        return await actions.allRecords().sorted { $0.createdAt < $1.createdAt }.compactMap { record in
            let missing = Array(Set(Self.needed(by: record).map(\.digest)).subtracting(present)).sorted()
            return missing.isEmpty ? nil : (record, missing)
        }
    }

    /// Every object a record needs: what it made and what it was made from.
    static func needed(by record: ActionRecord) -> [Artifact] {
        record.outputs.values.flatMap(\.artifacts) + record.values.values.flatMap(\.artifacts)
    }
}
