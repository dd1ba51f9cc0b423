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

    public init(artifacts: any ArtifactStore, actions: any ActionCache, journal: any ActionJournal, scratch: URL) {
        self.artifacts = artifacts
        self.actions = actions
        self.journal = journal
        self.scratch = scratch
    }

    /// The local cache in `root`: `objects/`, `actions/`, `journal/`, `last-run/`, `scratch/`.
    /// Several processes may share it.
    public static func local(at root: URL) throws -> Storage {
        let store = try LocalArtifactStore(root: root)
        return Storage(artifacts: store, actions: try LocalActionCache(store: store),
                       journal: try LocalJournal(root: root.appendingPathComponent("journal", isDirectory: true)),
                       scratch: root.appendingPathComponent("scratch", isDirectory: true))
    }

    /// Held shared by every run and exclusively by `cache gc` on a local cache, so gc never
    /// removes what a run is using.
    public static func lockFile(of root: URL) -> URL { root.appendingPathComponent("lock") }
}
