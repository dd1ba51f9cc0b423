import Crypto
import Foundation

/// Where artifacts live: files addressed by the SHA-256 of their bytes.
///
/// ``LocalArtifactStore`` keeps them in a folder; a remote cache can stand beside it. A
/// stage never trusts bytes it did not check: ``verifiedLocation(of:)`` hands out a local
/// file only after its bytes were hashed to the artifact's digest (and its stamp is
/// unchanged since: ``FileDigests``).
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
    /// The hex SHA-256 of a file's bytes, read in 1 MiB blocks (`read(2)` straight into one
    /// buffer: Foundation's `FileHandle` reads 4 KiB at a time).
    public static func sha256(of file: URL) throws -> String {
        var hasher = SHA256()
        try readBlocks(of: file) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hex
    }

    /// Reads a file in 1 MiB blocks, handing each to `body`.
    static func readBlocks(of file: URL, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw PipelineError(.storage, "cannot read \(file.relativePath): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw PipelineError(.storage, "cannot read \(file.relativePath): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    public static func sha256(of data: Data) -> String { SHA256.hash(data: data).hex }
}

extension Digest {
    package var hex: String {
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
