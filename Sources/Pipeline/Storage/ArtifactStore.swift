import Crypto
import Foundation

/// Where artifacts live: files addressed by the SHA-256 of their bytes.
///
/// ``LocalArtifactStore`` keeps them in a folder; a remote cache can stand beside it. A
/// stage never trusts bytes it did not check: ``verifiedLocation(of:)`` hands out a local
/// file only after its bytes were hashed to the artifact's digest (once per process).
public protocol ArtifactStore: Sendable {
    /// Copies a file in (hashing as it goes) and returns it as an artifact.
    func put(file: URL, type: ArtifactType) async throws -> Artifact
    /// Stores bytes and returns them as an artifact.
    func put(data: Data, type: ArtifactType, fileExtension: String) async throws -> Artifact
    /// A local file holding the artifact's bytes, checked against its digest. A missing object
    /// throws ``PipelineError/Code/missingObject``; a corrupted one is removed and throws
    /// ``PipelineError/Code/corruptedObject``, so it is rebuilt, never used.
    func verifiedLocation(of artifact: Artifact) async throws -> URL
    /// Whether the store holds an object (without checking its bytes).
    func contains(_ digest: String) async -> Bool
}

/// SHA-256 of files, as the store names them.
public enum ContentDigest {
    /// The hex SHA-256 of a file's bytes, read in 1 MiB chunks.
    public static func sha256(of file: URL) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw PipelineError(.storage, "cannot read \(file.path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hex
    }

    public static func sha256(of data: Data) -> String { SHA256.hash(data: data).hex }
}

extension Digest {
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension ArtifactStore {
    /// Local files for several artifacts, each checked (in order).
    public func verifiedLocations(of artifacts: [Artifact]) async throws -> [URL] {
        var urls: [URL] = []
        for artifact in artifacts { urls.append(try await verifiedLocation(of: artifact)) }
        return urls
    }
}
