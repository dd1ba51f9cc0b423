import Foundation

/// Everything a run keeps: the artifact store, the action cache, the journal of work that
/// cost money, and a local folder for stages' scratch files.
///
/// ```swift
/// let storage = try Storage.local(at: cacheFolder)      // .seedpipe/ beside a pipeline
/// let report = try await Executor(pipeline: pipeline, storage: storage).run()
/// ```
public struct Storage: Sendable {
    public var artifacts: any ArtifactStore
    public var actions: any ActionCache
    public var journal: any ActionJournal
    /// Stages' scratch folders are made under this local folder.
    public var scratch: URL
    /// Digests of files hashed for this cache (plugin programs, local inputs), remembered by
    /// their stamps: saved at the end of each plan and run.
    public var digests: FileDigests
    /// Work the storage still does in the background (a remote cache's uploads): a run awaits
    /// it before it ends.
    public var finishing: (@Sendable () async -> Void)?

    public init(artifacts: any ArtifactStore, actions: any ActionCache, journal: any ActionJournal, scratch: URL,
                digests: FileDigests = .unattached) {
        self.artifacts = artifacts
        self.actions = actions
        self.journal = journal
        self.scratch = scratch
        self.digests = digests
    }

    /// The local cache in `root`: `objects/`, `actions/`, `journal/`, `last-run/`, `scratch/`, `digests`.
    /// Several processes may share it.
    public static func local(at root: URL) throws -> Storage {
        let store = try LocalArtifactStore(root: root)
        return Storage(artifacts: store, actions: try LocalActionCache(store: store),
                       journal: try LocalJournal(root: root.appendingPathComponent("journal", isDirectory: true)),
                       scratch: root.appendingPathComponent("scratch", isDirectory: true), digests: store.digests)
    }

    /// Held shared by every run and exclusively by `cache gc` on a local cache, so gc never
    /// removes what a run is using.
    public static func lockFile(of root: URL) -> URL { root.appendingPathComponent("lock") }
}
