import Foundation

#if canImport(Glibc)
import Glibc
private let writeBytes = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let writeBytes = Darwin.write
#endif

/// Temporary file, rename: the file appears whole or not at all. `durable` adds an fsync of
/// the file before the rename and of its folder after, so the new name survives a power cut.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL, durable: Bool) throws {
        let folder = url.deletingLastPathComponent()
        let staging = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)", isDirectory: false)
        let descriptor = open(staging.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot write \(staging.path)") }
        var written = 0
        let ok = data.withUnsafeBytes { bytes -> Bool in
            while written < bytes.count {
                let count = writeBytes(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += count
            }
            return true
        }
        let synced = !durable || fsync(descriptor) == 0
        close(descriptor)
        guard ok, synced else {
            let error = failure("cannot write \(url.path)")
            unlink(staging.path)
            throw error
        }
        guard rename(staging.path, url.path) == 0 else {
            let error = failure("cannot write \(url.path)")
            unlink(staging.path)
            throw error
        }
        if durable {
            let directory = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directory >= 0 {
                defer { close(directory) }
                guard fsync(directory) == 0 else { throw failure("cannot sync \(folder.path)") }
            }
        }
    }

    private static func failure(_ message: String) -> PipelineError {
        PipelineError(.storage, "\(message): \(String(cString: strerror(errno)))")
    }
}
