import Crypto
import Foundation
import Synchronization

/// Artifacts in a folder, under `ROOT/objects/ab/abcdef…`.
///
/// A write goes to a temporary file that is renamed into place, so an object appears
/// whole under its name or not at all. Objects are not fsynced: every read checks the
/// bytes against the digest, so an object torn by a crash is a miss and is rebuilt, never
/// used. Hashes are remembered by ``FileDigests`` (the cache's `digests` file): an object or
/// an input file whose `stat` stamp is unchanged since it was hashed is trusted without being
/// read, and any change to it hashes it again.
public struct LocalArtifactStore: ArtifactStore {
    public let root: URL
    /// The digests of files hashed for this cache (objects and the files put in).
    public let digests: FileDigests
    var objects: URL { root.appendingPathComponent("objects", isDirectory: true) }
    var temporary: URL { root.appendingPathComponent("tmp", isDirectory: true) }

    /// - Parameter digests: by default the cache's own (`root/digests`, one per folder in a process).
    public init(root: URL, digests: FileDigests? = nil) throws {
        self.root = root
        self.digests = digests ?? FileDigests.forCache(at: root)
        for folder in [objects, temporary] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    /// Where the object with this digest lives (whether or not it is there).
    public func location(of digest: String) -> URL {
        objects.appendingPathComponent(String(digest.prefix(2)), isDirectory: true).appendingPathComponent(digest, isDirectory: false)
    }

    public func contains(_ digest: String) async -> Bool { containsBlocking(digest) }

    func containsBlocking(_ digest: String) -> Bool { FileManager.default.fileExists(atPath: location(of: digest).path) }

    public func put(file: URL, type: ArtifactType) async throws -> Artifact {
        try await BlockingIO.run { try putBlocking(file: file, type: type) }
    }

    public func put(data: Data, type: ArtifactType, fileExtension: String) async throws -> Artifact {
        try await BlockingIO.run { try putBlocking(data: data, type: type, fileExtension: fileExtension) }
    }

    public func verifiedLocation(of artifact: Artifact) async throws -> URL {
        try await BlockingIO.run { try verifiedLocationBlocking(of: artifact) }
    }

    /// `put(file:type:)` on the calling thread (for code already off the cooperative pool).
    /// A file whose digest is remembered (its stamp unchanged) and whose object is in place is
    /// neither read nor copied.
    public func putBlocking(file: URL, type: ArtifactType) throws -> Artifact {
        let fileExtension = file.pathExtension.lowercased()
        if let (digest, stamp) = digests.known(file), digests.vouches(for: location(of: digest).path, digest: digest) {
            return Artifact(digest: digest, type: type, fileExtension: fileExtension, size: Int(stamp.size))
        }
        let path = file.standardizedFileURL.path
        let stamp = FileStamp.of(path)
        let started = FileDigests.now()
        let staging = temporary.appendingPathComponent(UUID().uuidString, isDirectory: false)
        defer { unlink(staging.path) }
        let output = Foundation.open(staging.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else {
            throw PipelineError(.storage, "cannot write in \(temporary.path): \(String(cString: strerror(errno)))")
        }
        var hasher = SHA256()
        var size = 0
        do {
            defer { close(output) }
            try ContentDigest.readBlocks(of: file) { block in
                hasher.update(bufferPointer: block)
                var written = 0
                while written < block.count {
                    let count = write(output, block.baseAddress! + written, block.count - written)
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw PipelineError(.storage, "cannot write in \(temporary.path): \(String(cString: strerror(errno)))")
                    }
                    written += count
                }
                size += block.count
            }
        }
        let digest = hasher.finalize().hex
        try commit(staging, as: digest)
        if let stamp { digests.learned(path, stamp: stamp, digest: digest, hashedAt: started) }
        return Artifact(digest: digest, type: type, fileExtension: fileExtension, size: size)
    }

    /// `put(data:type:fileExtension:)` on the calling thread.
    public func putBlocking(data: Data, type: ArtifactType, fileExtension: String) throws -> Artifact {
        let digest = ContentDigest.sha256(of: data)
        // Written unless this process already vouched for the object; `commit` keeps an intact
        // copy and replaces a torn one, as for files.
        if !digests.vouches(for: location(of: digest).path, digest: digest) {
            let staging = temporary.appendingPathComponent(UUID().uuidString, isDirectory: false)
            defer { unlink(staging.path) }
            guard FileManager.default.createFile(atPath: staging.path, contents: data) else {
                throw PipelineError(.storage, "cannot write in \(temporary.path)")
            }
            try commit(staging, as: digest)
        }
        return Artifact(digest: digest, type: type, fileExtension: fileExtension, size: data.count)
    }

    /// A file in the store's temporary folder for bytes on their way in (on the same
    /// filesystem, so ``adoptBlocking(_:as:)`` is a rename).
    package func stagingFile() -> URL { temporary.appendingPathComponent(UUID().uuidString, isDirectory: false) }

    /// Moves `staging` in as the object `digest`, which the caller has checked its bytes hash
    /// to (a download hashed as it came).
    package func adoptBlocking(_ staging: URL, as digest: String) throws { try commit(staging, as: digest) }

    private func commit(_ staging: URL, as digest: String) throws {
        let destination = location(of: digest)
        if digests.vouches(for: destination.path, digest: digest) { return }
        if !FileManager.default.fileExists(atPath: destination.path) {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            // rename(2) is atomic: another process storing the same bytes at once is harmless.
            guard rename(staging.path, destination.path) == 0 else {
                throw PipelineError(.storage, "cannot move an object into \(destination.path): \(String(cString: strerror(errno)))")
            }
        } else if (try? ContentDigest.sha256(of: destination)) != digest {
            // A torn or corrupted object under this name: the fresh bytes replace it.
            guard rename(staging.path, destination.path) == 0 else {
                throw PipelineError(.storage, "cannot replace \(destination.path): \(String(cString: strerror(errno)))")
            }
        }
        digests.remember(destination.path, digest: digest)
    }

    /// `verifiedLocation(of:)` on the calling thread.
    public func verifiedLocationBlocking(of artifact: Artifact) throws -> URL {
        let url = location(of: artifact.digest)
        if digests.vouches(for: url.path, digest: artifact.digest) { return url }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PipelineError(.missingObject, "object \(artifact.digest.prefix(12)) is missing from the store")
        }
        guard (try? digests.digest(of: url)) == artifact.digest else {
            unlink(url.path)
            digests.forget(url.path)
            throw PipelineError(.corruptedObject,
                                "object \(artifact.digest.prefix(12)) was corrupted (its bytes changed); it was removed and will be rebuilt")
        }
        return url
    }

    /// Every object's digest, size and modification time.
    public func allObjects() -> [(digest: String, size: Int, modified: Date)] {
        let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]
        guard let enumerator = FileManager.default.enumerator(at: objects, includingPropertiesForKeys: keys) else { return [] }
        var result: [(String, Int, Date)] = []
        for case let url as URL in enumerator {
            // Objects only: the two-letter prefix folders are not objects.
            guard let values = try? url.resourceValues(forKeys: Set(keys)), values.isRegularFile == true,
                  let size = values.fileSize else { continue }
            result.append((url.lastPathComponent, size, values.contentModificationDate ?? .distantPast))
        }
        return result
    }

    /// Removes an object (gc, verify).
    public func remove(_ digest: String) {
        unlink(location(of: digest).path)
        digests.forget(location(of: digest).path)
    }
}
