import Foundation
import Pipeline

/// The local store, read through to a ``RemoteCache``: an object missing here is fetched
/// (and verified) from the remote before it counts as missing.
public struct RemoteArtifactStore: ArtifactStore {
    public let local: LocalArtifactStore
    public let remote: RemoteCache

    public init(local: LocalArtifactStore, remote: RemoteCache) {
        self.local = local
        self.remote = remote
    }

    public func put(file: URL, type: ArtifactType) async throws -> Artifact { try await local.put(file: file, type: type) }

    public func put(data: Data, type: ArtifactType, fileExtension: String) async throws -> Artifact {
        try await local.put(data: data, type: type, fileExtension: fileExtension)
    }

    public func verifiedLocation(of artifact: Artifact) async throws -> URL {
        do {
            return try await local.verifiedLocation(of: artifact)
        } catch let error as PipelineError where error.code == .missingObject || error.code == .corruptedObject {
            guard await remote.fetch(artifact.digest, into: local) else { throw error }
            return try await local.verifiedLocation(of: artifact)
        }
    }

    public func contains(_ digest: String) async -> Bool { await local.contains(digest) }
}
