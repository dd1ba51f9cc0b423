import Crypto
import Foundation
import Synchronization

/// A file as `stat` sees it: which file (device, inode) and the state of its bytes (size,
/// modification and change times in nanoseconds). Rewriting a file changes its change time
/// even when its size and modification time are put back, so an unchanged stamp means
/// unchanged bytes, short of a write within the filesystem's timestamp granularity (which
/// ``FileDigests`` guards against) or a deliberate forgery.
public struct FileStamp: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: Int64
    public var changed: Int64

    /// The stamp of the file at `path` (symbolic links followed), or nil when it cannot be
    /// stat-ed or is not a regular file.
    public static func of(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        #if canImport(Darwin)
        let (modified, changed) = (info.st_mtimespec, info.st_ctimespec)
        #else
        let (modified, changed) = (info.st_mtim, info.st_ctim)
        #endif
        return FileStamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                         modified: Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec),
                         changed: Int64(changed.tv_sec) * 1_000_000_000 + Int64(changed.tv_nsec))
    }
}

/// SHA-256 digests of files remembered by their ``FileStamp``, as git's index and Bazel's
/// file digest cache do: a file whose stamp matches is not read again. One per cache folder,
/// kept in its `digests` file, so a rerun hashes nothing that did not change: plugin
/// programs, local inputs of stages, and the store's own objects.
///
/// - A digest is remembered only when the file's modification and change times are older
///   than `racyMargin` at the moment it was hashed (50 ms, well over a kernel clock tick; 2 s
///   where a filesystem keeps whole seconds): a write in the same timestamp tick could
///   otherwise leave the stamp as it was ("racy", git calls it). Such a file is hashed
///   again next time, and remembered then. Objects the store itself wrote are remembered at
///   once: nothing else writes them.
/// - The file is written once at the end of a plan or run (``save()``), compactly (binary,
///   with a SHA-256 of its contents at the end), by a rename, merged with what another run
///   saved meanwhile. A truncated or garbled file is ignored and rebuilt; a lost update costs
///   a rehash, never a wrong digest.
/// - `rehash` (`seedpipe run --rehash`) trusts nothing remembered and hashes every file again,
///   for a file changed in a way its stamp cannot show.
public final class FileDigests: Sendable {
    /// Where the digests are kept (nil: in memory only).
    public let file: URL?
    public let racyMargin: Duration

    struct Entry: Sendable {
        var stamp: FileStamp
        /// The SHA-256, or empty when only checks are known.
        var digest: [UInt8]
        /// The kinds (``checkBit(_:)``) the file passed the registry's file check as.
        var passed: UInt8 = 0
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Paths learned or forgotten since the last save: they win over what is on disk.
        var touched: Set<String> = []
        var rehash = false
        /// Paths hashed in this process (for `rehash`: each once, not once per lookup).
        var hashedNow: Set<String> = []
        var hashes = 0
    }

    private let state = Mutex(State())

    /// The margin for a filesystem that keeps whole seconds (both times with 0 ns).
    public static let coarseRacyMargin: Duration = .seconds(2)

    /// The wall clock, in nanoseconds, that a hash's start is read from (tests pass a later one,
    /// so a file they just wrote counts as settled without waiting for it to age).
    private let now: @Sendable () -> Int64

    public init(file: URL?, racyMargin: Duration = .milliseconds(50), now: @escaping @Sendable () -> Int64 = FileDigests.now) {
        self.file = file
        self.racyMargin = racyMargin
        self.now = now
        if let file, let entries = Self.read(file) {
            state.withLock { $0.entries = entries }
        }
    }

    /// The digests of the cache in `root` (`root/digests`), one instance per folder in a process.
    public static func forCache(at root: URL) -> FileDigests {
        let file = root.appendingPathComponent("digests", isDirectory: false)
        return caches.withLock { caches in
            if let known = caches[file.path] { return known }
            let digests = FileDigests(file: file)
            caches[file.path] = digests
            return digests
        }
    }

    private static let caches = Mutex<[String: FileDigests]>([:])

    /// The digests of the cache a plan or run is working on, for code that hashes files
    /// without a storage at hand (a plugin stage's program digest).
    @TaskLocal public static var current: FileDigests?

    /// In memory only, for hashing outside any plan or run.
    public static let unattached = FileDigests(file: nil)

    /// Trust nothing remembered: every file is hashed again (once in this process).
    public var rehash: Bool {
        get { state.withLock { $0.rehash } }
        set { state.withLock { $0.rehash = newValue } }
    }

    /// How many files this instance has read to hash them.
    public var hashCount: Int { state.withLock { $0.hashes } }

    /// The hex SHA-256 of a file's bytes: remembered when its stamp matches, else read.
    public func digest(of url: URL) throws -> String {
        let path = url.standardizedFileURL.path
        guard let stamp = FileStamp.of(path) else {
            forget(path)
            return try ContentDigest.sha256(of: url)  // its own error: missing, a folder, unreadable
        }
        if let known = remembered(path, stamp: stamp) { return known }
        let started = now()
        let digest = try ContentDigest.sha256(of: url)
        learned(path, stamp: stamp, digest: digest, hashedAt: started)
        return digest
    }

    /// The remembered digest of a file and its stamp, or nil when it must be read.
    public func known(_ url: URL) -> (digest: String, stamp: FileStamp)? {
        let path = url.standardizedFileURL.path
        guard let stamp = FileStamp.of(path), let digest = remembered(path, stamp: stamp) else { return nil }
        return (digest, stamp)
    }

    /// Notes the digest of a file that was just read whole (its stamp taken before reading,
    /// `hashedAt` the time the reading started). Remembered only if the file did not change
    /// while being read and is not racy.
    public func learned(_ path: String, stamp: FileStamp, digest: String, hashedAt: Int64) {
        let after = FileStamp.of(path)
        state.withLock { state in
            state.hashes += 1
            state.hashedNow.insert(path)
            if after == stamp, settled(stamp, at: hashedAt), let bytes = Self.bytes(hex: digest) {
                let passed = state.entries[path].flatMap { $0.stamp == stamp ? $0.passed : nil } ?? 0
                state.entries[path] = Entry(stamp: stamp, digest: bytes, passed: passed)
                state.touched.insert(path)
            } else if state.entries.removeValue(forKey: path) != nil {
                state.touched.insert(path)
            }
        }
    }

    /// Whether a file with this stamp, read starting at `time`, had stopped changing: its
    /// modification and change times are older than the margin. Times on a whole second
    /// (0 ns, both) mean a filesystem that keeps seconds: then the margin is 2 s.
    func settled(_ stamp: FileStamp, at time: Int64) -> Bool {
        let coarse = stamp.modified % 1_000_000_000 == 0 && stamp.changed % 1_000_000_000 == 0
        let margin = coarse ? Self.coarseRacyMargin : racyMargin
        let nanoseconds = Int64(margin.components.seconds) * 1_000_000_000 + margin.components.attoseconds / 1_000_000_000
        return max(stamp.modified, stamp.changed) < time - nanoseconds
    }

    /// The remembered digest of `path` if its stamp is still `stamp`.
    func remembered(_ path: String, stamp: FileStamp) -> String? {
        state.withLock { state in
            guard let entry = state.entries[path], entry.stamp == stamp, entry.digest.count == 32 else { return nil }
            if state.rehash && !state.hashedNow.contains(path) { return nil }
            return Self.hex(entry.digest)
        }
    }

    /// Whether `path` is known to hold the bytes of `digest` (its stamp unchanged since).
    public func vouches(for path: String, digest: String) -> Bool {
        guard let stamp = FileStamp.of(path) else { return false }
        return remembered(path, stamp: stamp) == digest
    }

    /// Remembers a file whose bytes this process wrote and hashed itself (a store's object),
    /// without the racy margin: nothing else writes it.
    public func remember(_ path: String, digest: String) {
        guard let stamp = FileStamp.of(path), let bytes = Self.bytes(hex: digest) else { return }
        state.withLock { state in
            let passed = state.entries[path].flatMap { $0.stamp == stamp ? $0.passed : nil } ?? 0
            state.entries[path] = Entry(stamp: stamp, digest: bytes, passed: passed)
            state.touched.insert(path)
            state.hashedNow.insert(path)
        }
    }

    // MARK: File checks

    /// A check's bit: image 1, video 2, audio 4 (other kinds are not checked).
    static func checkBit(_ type: ArtifactType) -> UInt8 {
        switch type {
        case .image: 1
        case .video: 2
        case .audio: 4
        default: 0
        }
    }

    /// Wraps a registry's file check (Media probing a local file for its kind) so a file that
    /// passed as that kind, its stamp unchanged since, is not opened again. Failures are
    /// never remembered: a broken file is probed (and reported) every time.
    public func remembering(_ check: @escaping @Sendable (URL, ArtifactType) -> String?)
        -> @Sendable (URL, ArtifactType) -> String? {
        { [self] url, type in
            let bit = Self.checkBit(type)
            let path = url.standardizedFileURL.path
            guard bit != 0, let stamp = FileStamp.of(path) else { return check(url, type) }
            let known = state.withLock { state -> Bool in
                guard let entry = state.entries[path], entry.stamp == stamp, !state.rehash else { return false }
                return entry.passed & bit != 0
            }
            if known { return nil }
            let started = now()
            let verdict = check(url, type)
                if verdict == nil, FileStamp.of(path) == stamp, settled(stamp, at: started) {
                state.withLock { state in
                    var entry = state.entries[path].flatMap { $0.stamp == stamp ? $0 : nil } ?? Entry(stamp: stamp, digest: [])
                    entry.passed |= bit
                    state.entries[path] = entry
                    state.touched.insert(path)
                }
            }
            return verdict
        }
    }

    /// Forgets a path (a removed object, a file that is gone).
    public func forget(_ path: String) {
        state.withLock { state in
            if state.entries.removeValue(forKey: path) != nil { state.touched.insert(path) }
        }
    }

    /// Writes what changed to the digests file, merged with what another process saved
    /// meanwhile (its entries are kept unless this one learned or forgot the same path).
    /// Best effort: a digests file that cannot be written only costs rehashing next time.
    public func save() {
        guard let file else { return }
        let (entries, touched) = state.withLock { state -> ([String: Entry], Set<String>) in
            let result = (state.entries, state.touched)
            state.touched = []
            return result
        }
        guard !touched.isEmpty else { return }
        var merged = Self.read(file) ?? [:]
        for path in touched { merged[path] = entries[path] }
        try? AtomicFile.write(Self.encode(merged), to: file, durable: false)
    }

    // MARK: The file

    /// "SPDIGEST2\n", a UInt32 count, then per entry a UInt16 path length, the path, the
    /// stamp as five 64-bit integers, a flags byte (bit 0: a digest follows; bits 1–3: the
    /// checks passed) and the 32-byte digest if any; last, the SHA-256 of all before.
    private static let magic = Array("SPDIGEST2\n".utf8)

    static func encode(_ entries: [String: Entry]) -> Data {
        var bytes = magic
        bytes.reserveCapacity(magic.count + 4 + entries.count * 140 + 32)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        let kept = entries.filter { $0.key.utf8.count <= Int(UInt16.max) }
        append(UInt32(kept.count))
        for (path, entry) in kept {
            append(UInt16(path.utf8.count))
            bytes.append(contentsOf: path.utf8)
            append(entry.stamp.device)
            append(entry.stamp.inode)
            append(entry.stamp.size)
            append(entry.stamp.modified)
            append(entry.stamp.changed)
            let hasDigest = entry.digest.count == 32
            bytes.append((hasDigest ? 1 : 0) | (entry.passed & 0x7) << 1)
            if hasDigest { bytes.append(contentsOf: entry.digest) }
        }
        bytes.append(contentsOf: SHA256.hash(data: bytes))
        return Data(bytes)
    }

    /// The entries of a digests file, or nil when it is missing, truncated or garbled.
    static func read(_ file: URL) -> [String: Entry]? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        return decode(data)
    }

    static func decode(_ data: Data) -> [String: Entry]? {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count + 4 + 32, bytes.starts(with: magic) else { return nil }
        let body = bytes[..<(bytes.count - 32)]
        guard Array(SHA256.hash(data: body)) == Array(bytes[(bytes.count - 32)...]) else { return nil }
        var offset = magic.count
        func take<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard offset + size <= body.count else { return nil }
            var value: T = 0
            for index in 0..<size { value |= T(truncatingIfNeeded: body[offset + index]) << (8 * index) }
            offset += size
            return value
        }
        guard let count = take(UInt32.self) else { return nil }
        var entries: [String: Entry] = [:]
        entries.reserveCapacity(Int(min(count, 1 << 20)))
        for _ in 0..<count {
            guard let length = take(UInt16.self), offset + Int(length) <= body.count else { return nil }
            let path = String(decoding: body[offset..<(offset + Int(length))], as: UTF8.self)
            offset += Int(length)
            guard let device = take(UInt64.self), let inode = take(UInt64.self), let size = take(Int64.self),
                  let modified = take(Int64.self), let changed = take(Int64.self), let flags = take(UInt8.self) else { return nil }
            var digest: [UInt8] = []
            if flags & 1 != 0 {
                guard offset + 32 <= body.count else { return nil }
                digest = Array(body[offset..<(offset + 32)])
                offset += 32
            }
            entries[path] = Entry(stamp: FileStamp(device: device, inode: inode, size: size, modified: modified, changed: changed),
                                  digest: digest, passed: (flags >> 1) & 0x7)
        }
        return offset == body.count ? entries : nil
    }

    /// The wall clock in nanoseconds (as file times are kept).
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let text = Array(hex.utf8)
        guard text.count == 64 else { return nil }
        func nibble(_ character: UInt8) -> UInt8? {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
