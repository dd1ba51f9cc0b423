import Crypto
import Foundation
import Synchronization

/// Artifacts in a folder, under `ROOT/objects/ab/abcdef…`.
///
/// A write goes to a temporary file that is renamed into place, so an object appears
/// whole under its name or not at all. Objects are not fsynced: every read checks the
/// bytes against the digest, so an object torn by a crash is a miss and is rebuilt, never
/// used. A file's bytes are hashed once per process; after that a `stat` (size, inode,
/// modification time) is enough to trust it, and any change to the file hashes it again.
public struct LocalArtifactStore: ArtifactStore {
    public let root: URL
    var objects: URL { root.appendingPathComponent("objects", isDirectory: true) }
    var temporary: URL { root.appendingPathComponent("tmp", isDirectory: true) }

    public init(root: URL) throws {
        self.root = root
        for folder in [objects, temporary] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    /// Where the object with this digest lives (whether or not it is there).
    public func location(of digest: String) -> URL {
        objects.appendingPathComponent(String(digest.prefix(2)), isDirectory: true).appendingPathComponent(digest, isDirectory: false)
    }

    public func contains(_ digest: String) async -> Bool { containsNow(digest) }

    func containsNow(_ digest: String) -> Bool { FileManager.default.fileExists(atPath: location(of: digest).path) }

    public func put(file: URL, type: ArtifactType) async throws -> Artifact {
        try await BlockingIO.run { try putNow(file: file, type: type) }
    }

    public func put(data: Data, type: ArtifactType, fileExtension: String) async throws -> Artifact {
        try await BlockingIO.run { try putNow(data: data, type: type, fileExtension: fileExtension) }
    }

    public func verifiedLocation(of artifact: Artifact) async throws -> URL {
        try await BlockingIO.run { try verifiedLocationNow(of: artifact) }
    }

    /// `put(file:type:)` on the calling thread (for code already off the cooperative pool).
    public func putNow(file: URL, type: ArtifactType) throws -> Artifact {
        let staging = temporary.appendingPathComponent(UUID().uuidString, isDirectory: false)
        defer { unlink(staging.path) }
        guard let input = FileHandle(forReadingAtPath: file.path) else {
            throw PipelineError(.storage, "cannot read \(file.relativePath)")
        }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: staging.path, contents: nil),
              let output = FileHandle(forWritingAtPath: staging.path) else {
            throw PipelineError(.storage, "cannot write in \(temporary.path)")
        }
        var hasher = SHA256()
        var size = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            try output.write(contentsOf: chunk)
            size += chunk.count
        }
        try output.close()
        let digest = hasher.finalize().hex
        try commit(staging, as: digest)
        return Artifact(digest: digest, type: type, fileExtension: file.pathExtension.lowercased(), size: size)
    }

    /// `put(data:type:fileExtension:)` on the calling thread.
    public func putNow(data: Data, type: ArtifactType, fileExtension: String) throws -> Artifact {
        let digest = ContentDigest.sha256(of: data)
        // Written unless this process already vouched for the object; `commit` keeps an intact
        // copy and replaces a torn one, as for files.
        if !VerifiedObjects.shared.isVerified(location(of: digest).path) {
            let staging = temporary.appendingPathComponent(UUID().uuidString, isDirectory: false)
            defer { unlink(staging.path) }
            guard FileManager.default.createFile(atPath: staging.path, contents: data) else {
                throw PipelineError(.storage, "cannot write in \(temporary.path)")
            }
            try commit(staging, as: digest)
        }
        return Artifact(digest: digest, type: type, fileExtension: fileExtension, size: data.count)
    }

    private func commit(_ staging: URL, as digest: String) throws {
        let destination = location(of: digest)
        if VerifiedObjects.shared.isVerified(destination.path) { return }
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
        VerifiedObjects.shared.markVerified(destination.path)
    }

    /// `verifiedLocation(of:)` on the calling thread.
    public func verifiedLocationNow(of artifact: Artifact) throws -> URL {
        let url = location(of: artifact.digest)
        if VerifiedObjects.shared.isVerified(url.path) { return url }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PipelineError(.missingObject, "object \(artifact.digest.prefix(12)) is missing from the store")
        }
        guard (try? ContentDigest.sha256(of: url)) == artifact.digest else {
            unlink(url.path)
            throw PipelineError(.corruptedObject,
                                "object \(artifact.digest.prefix(12)) was corrupted (its bytes changed); it was removed and will be rebuilt")
        }
        VerifiedObjects.shared.markVerified(url.path)
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
    }
}

/// The objects this process has hashed, by path, with the `stat` they had then: a file
/// whose size, inode or modification time changed since is hashed again.
final class VerifiedObjects: Sendable {
    static let shared = VerifiedObjects()

    struct Stamp: Hashable {
        var size: Int64, inode: UInt64, seconds: Int, nanoseconds: Int
    }

    private let known = Mutex<[String: Stamp]>([:])

    static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Stamp(size: Int64(info.st_size), inode: UInt64(info.st_ino),
                     seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec))
    }

    func isVerified(_ path: String) -> Bool {
        guard let recorded = known.withLock({ $0[path] }) else { return false }
        return Self.stamp(path) == recorded
    }

    func markVerified(_ path: String) {
        guard let stamp = Self.stamp(path) else { return }
        known.withLock { $0[path] = stamp }
    }
}
