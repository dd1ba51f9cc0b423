import Foundation

/// An advisory lock on a file (flock). The kernel releases it when the process ends, even
/// by SIGKILL, so a crashed run never leaves a cache locked.
public final class FileLock: @unchecked Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Waits (without blocking a thread) until the lock is ours.
    public static func acquire(_ url: URL, exclusive: Bool = true, poll: Duration = .milliseconds(50)) async throws -> FileLock {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError("cannot open the lock \(url.path): \(String(cString: strerror(errno)))") }
        while flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(descriptor)
                throw StoreError("cannot lock \(url.path): \(String(cString: strerror(errno)))")
            }
            do {
                try await Task.sleep(for: poll)
            } catch {
                close(descriptor)
                throw error
            }
        }
        return FileLock(descriptor: descriptor)
    }

    /// The lock if it is free now, else nil.
    public static func attempt(_ url: URL, exclusive: Bool = true) throws -> FileLock? {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError("cannot open the lock \(url.path)") }
        guard flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return FileLock(descriptor: descriptor)
    }
}

extension ActionCache {
    /// Held by every run (shared) and by `cache gc` (exclusive), so gc never removes what a run is using.
    public var cacheLockFile: URL { store.root.appendingPathComponent("lock") }

    /// One lock per action key: two processes never run the same action at once.
    func lockFile(for key: String) -> URL { store.root.appendingPathComponent("locks/\(key.prefix(2))/\(key).lock") }
}
