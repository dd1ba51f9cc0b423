import Crypto
import Foundation

/// Files addressed by the SHA-256 of their bytes, under `ROOT/objects/ab/abcdef…`.
///
/// Writes are atomic (temporary file, fsync, rename), so a crash never leaves a partial
/// object under a real name. Every read re-hashes the object; one whose bytes no longer
/// match is reported, deleted and never used.
public struct ArtifactStore: Sendable {
    public let root: URL
    var objects: URL { root.appendingPathComponent("objects", isDirectory: true) }
    var temporary: URL { root.appendingPathComponent("tmp", isDirectory: true) }

    public init(root: URL) throws {
        self.root = root
        for folder in [objects, temporary] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    public func location(of digest: String) -> URL {
        objects.appendingPathComponent(String(digest.prefix(2)), isDirectory: true).appendingPathComponent(digest)
    }

    public func contains(_ digest: String) -> Bool { FileManager.default.fileExists(atPath: location(of: digest).path) }

    /// Copies a file in (hashing as it goes) and returns it as an artifact.
    public func put(file: URL, type: ArtifactType) throws -> Artifact {
        let staging = temporary.appendingPathComponent(UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: staging) }
        guard let input = FileHandle(forReadingAtPath: file.path) else {
            throw StoreError("cannot read \(file.relativePath)")
        }
        defer { try? input.close() }
        FileManager.default.createFile(atPath: staging.path, contents: nil)
        guard let output = FileHandle(forWritingAtPath: staging.path) else { throw StoreError("cannot write in \(temporary.path)") }
        var hasher = SHA256()
        var size = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            try output.write(contentsOf: chunk)
            size += chunk.count
        }
        try output.synchronize()
        try output.close()
        let digest = hasher.finalize().hex
        try commit(staging, as: digest)
        return Artifact(digest: digest, type: type, fileExtension: file.pathExtension.lowercased(), size: size)
    }

    /// Stores bytes and returns them as an artifact.
    public func put(data: Data, type: ArtifactType, fileExtension: String) throws -> Artifact {
        let digest = SHA256.hash(data: data).hex
        if !contains(digest) {
            let staging = temporary.appendingPathComponent(UUID().uuidString)
            defer { try? FileManager.default.removeItem(at: staging) }
            FileManager.default.createFile(atPath: staging.path, contents: data)
            let handle = try FileHandle(forWritingTo: staging)
            try handle.synchronize()
            try handle.close()
            try commit(staging, as: digest)
        }
        return Artifact(digest: digest, type: type, fileExtension: fileExtension, size: data.count)
    }

    private func commit(_ staging: URL, as digest: String) throws {
        let destination = location(of: digest)
        if FileManager.default.fileExists(atPath: destination.path) { return }
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        // rename(2) is atomic: another process storing the same bytes at once is harmless.
        guard rename(staging.path, destination.path) == 0 else {
            throw StoreError("cannot move an object into \(destination.path): \(String(cString: strerror(errno)))")
        }
    }

    /// The object's file, after checking its bytes still hash to its digest. A corrupted
    /// object is deleted and reported (`StoreError.corrupted`), never returned.
    public func verifiedLocation(of artifact: Artifact) throws -> URL {
        let url = location(of: artifact.digest)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw StoreError("object \(artifact.digest.prefix(12)) is missing from the store", missing: true)
        }
        guard try Self.digest(of: url) == artifact.digest else {
            try? FileManager.default.removeItem(at: url)
            throw StoreError("object \(artifact.digest.prefix(12)) was corrupted (its bytes changed); it was removed and will be rebuilt",
                             corrupted: true)
        }
        return url
    }

    public static func digest(of file: URL) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: file.path) else { throw StoreError("cannot read \(file.path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hex
    }

    /// Every object's digest and size.
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
}

public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public var corrupted: Bool
    public var missing: Bool

    init(_ description: String, corrupted: Bool = false, missing: Bool = false) {
        self.description = description
        self.corrupted = corrupted
        self.missing = missing
    }
}

extension Digest {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
