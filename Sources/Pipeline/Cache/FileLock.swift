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
}

/// One lock per action key, as a byte-range lock (fcntl) at an offset drawn from the key in
/// a single file: no file is created per action. fcntl locks belong to the process, so
/// they only ever hold back other processes (within a process, `InFlightActions` does
/// that), and the kernel drops them when the process ends, SIGKILL included.
final class ActionLocks: @unchecked Sendable {
    private let descriptor: Int32
    private let lock = NSLock()

    init(file: URL) throws {
        descriptor = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError("cannot open \(file.path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    /// Waits (without blocking a thread) until no other process holds `key`, then holds it.
    func acquire(_ key: String) async throws -> Held {
        let offset = off_t(UInt64(key.prefix(15), radix: 16) ?? 0)
        while !(try attempt(offset, type: F_WRLCK)) { try await Task.sleep(for: .milliseconds(50)) }
        return Held(locks: self, offset: offset)
    }

    private func attempt(_ offset: off_t, type: Int32) throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        var region = Glibc.flock()
        region.l_type = Int16(type)
        region.l_whence = Int16(SEEK_SET)
        region.l_start = offset
        region.l_len = 1
        if fcntl(descriptor, F_SETLK, &region) == 0 { return true }
        guard errno == EAGAIN || errno == EACCES || errno == EINTR else {
            throw StoreError("cannot lock an action: \(String(cString: strerror(errno)))")
        }
        return false
    }

    fileprivate func release(_ offset: off_t) { _ = try? attempt(offset, type: F_UNLCK) }

    final class Held: Sendable {
        let locks: ActionLocks
        let offset: off_t
        init(locks: ActionLocks, offset: off_t) {
            self.locks = locks
            self.offset = offset
        }
        deinit { locks.release(offset) }
    }
}
