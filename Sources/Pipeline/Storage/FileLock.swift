import Foundation
import Synchronization

/// An advisory lock on a whole file, shared or exclusive, held by an open file description
/// (`F_OFD_SETLK`). The kernel releases it when the process ends, even by SIGKILL, so a
/// crashed run never leaves a cache locked. Unlike classic `fcntl` locks, closing some other
/// descriptor of the same file does not drop it, and two holders in one process exclude
/// each other like two processes do.
public final class FileLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }  // closing the description releases its locks

    /// Waits (without blocking a thread) until the lock is ours.
    public static func acquire(_ url: URL, exclusive: Bool = true, poll: Duration = .milliseconds(50)) async throws -> FileLock {
        let descriptor = try openLockFile(url)
        do {
            while try !OFDLock.attempt(descriptor, offset: 0, length: 0, type: exclusive ? F_WRLCK : F_RDLCK) {
                try await Task.sleep(for: poll)
            }
        } catch {
            close(descriptor)
            throw error
        }
        return FileLock(descriptor: descriptor)
    }

    /// The lock if it is free now, else nil.
    public static func attempt(_ url: URL, exclusive: Bool = true) throws -> FileLock? {
        let descriptor = try openLockFile(url)
        guard try OFDLock.attempt(descriptor, offset: 0, length: 0, type: exclusive ? F_WRLCK : F_RDLCK) else {
            close(descriptor)
            return nil
        }
        return FileLock(descriptor: descriptor)
    }

    static func openLockFile(_ url: URL) throws -> Int32 {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        return try openExisting(url)
    }

    /// Opens (creating if need be) a lock file whose folder exists.
    static func openExisting(_ url: URL) throws -> Int32 {
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw PipelineError(.storage, "cannot open the lock \(url.path): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }
}

/// Open-file-description byte-range locks.
enum OFDLock {
    #if os(Linux)
    /// `F_OFD_SETLK` (Linux 3.15+; glibc defines it only under `_GNU_SOURCE`, which Swift's Glibc module does not set).
    static let setLock: Int32 = 37
    #else
    /// Elsewhere classic POSIX record locks: held by the process, so they exclude other
    /// processes but not two caches on one folder in one process (only Linux is tested).
    static let setLock: Int32 = F_SETLK
    #endif

    /// Takes the range; false when another description holds it.
    static func attempt(_ descriptor: Int32, offset: off_t, length: off_t, type: Int32) throws -> Bool {
        var region = flock()
        region.l_type = Int16(type)
        region.l_whence = Int16(SEEK_SET)
        region.l_start = offset
        region.l_len = length
        region.l_pid = 0  // required by F_OFD_*
        while fcntl(descriptor, setLock, &region) != 0 {
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EACCES else {
                throw PipelineError(.storage, "cannot lock: \(String(cString: strerror(errno)))")
            }
            return false
        }
        return true
    }
}

/// One lock per action key: a one-byte OFD lock at an offset drawn from the key, in a single
/// file (no file is created per action). Each key's lock is taken on a description of its
/// own, so exclusion holds between processes and between caches in one process, and never
/// depends on which descriptor closes. Within one executor, `InFlightActions` runs an action
/// once before any lock is asked for.
final class ActionLocks: Sendable {
    private let file: URL
    /// How many keys are waiting for another holder to let go now (for tests to wait on).
    let waiting = Mutex(0)

    init(file: URL) throws {
        self.file = file
        close(try FileLock.openLockFile(file))
    }

    /// Waits (without blocking a thread) until nobody else holds `key`, then runs `body`.
    func exclusively<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let offset = off_t(UInt64(key.prefix(15), radix: 16) ?? 0)
        let descriptor = try FileLock.openExisting(file)  // its folder was made by init
        defer { close(descriptor) }
        if try !OFDLock.attempt(descriptor, offset: offset, length: 1, type: F_WRLCK) {
            waiting.withLock { $0 += 1 }
            defer { waiting.withLock { $0 -= 1 } }
            repeat {
                try await Task.sleep(for: .milliseconds(50))
            } while try !OFDLock.attempt(descriptor, offset: offset, length: 1, type: F_WRLCK)
        }
        return try await body()
    }
}
