import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One whole-process run: wall time and peak resident memory.
///
/// The peak comes from GNU time (`%M`), a small parent: a child spawned straight from this
/// benchmark would report this process's own high-water mark, which Linux carries across exec.
struct ProcessRun {
    var seconds: Double
    var peakBytes: Int
    var status: Int32

    /// Runs `arguments[0]` with the rest, output discarded, in the current folder.
    static func measure(_ arguments: [String]) -> ProcessRun {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("bench-rss-\(getpid())").path
        let timed = ["/usr/bin/time", "-f", "%M", "-o", report] + arguments
        let cArguments = timed.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let spawned = posix_spawnp(&pid, timed[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else {
            fatalError("cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let end = DispatchTime.now().uptimeNanoseconds
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        // GNU time writes the peak in KB on its last line.
        let kilobytes = (try? String(contentsOfFile: report, encoding: .utf8))?
            .split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        return ProcessRun(seconds: Double(end - start) / 1e9, peakBytes: kilobytes * 1024, status: exitStatus)
    }
}
