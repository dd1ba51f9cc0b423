import Foundation
import Synchronization

/// The plugin programs running in this process.
public enum PluginPrograms {
    /// SIGKILL to every running plugin's process group, at once: for a host that is about to
    /// exit without waiting (a second Ctrl-C), so no plugin outlives it.
    public static func killAll() { PluginProcess.killAll() }
}

/// One run of a plugin's program: the request written to stdin, stdout and stderr read
/// line by line on threads of their own (never on the cooperative pool), and a stop that
/// is always SIGTERM, then SIGKILL after a grace period: for a timeout, a protocol
/// violation or the run being cancelled (Ctrl-C, another stage failing).
///
/// The program is started with `posix_spawn` in a process group of its own, with every
/// signal unblocked and at its default (threads of the Swift runtime block most signals,
/// and `Process` would pass that mask on, leaving a plugin deaf to SIGTERM); stop signals
/// go to the whole group, so a plugin's own children stop with it.
final class PluginProcess: @unchecked Sendable {
    enum StopReason: Sendable, Equatable { case timeout, cancelled, violation }

    struct Termination: Sendable {
        /// Exit status, or the signal number when `signalled`.
        var status: Int32
        var signalled: Bool
        var stopped: StopReason?
    }

    /// Longest stdout line accepted; a longer one is cut (and will not parse).
    static let maximumLine = 4 << 20

    /// The process groups of the plugins running now, in this process.
    private static let running = Mutex<Set<pid_t>>([])

    static func killAll() {
        for group in running.withLock({ $0 }) { kill(-group, SIGKILL) }
    }

    private let program: URL
    private let arguments: [String]
    private let directory: URL
    private let environment: [String: String]
    /// Time between SIGTERM and SIGKILL.
    private let grace: Duration
    private let lock = NSLock()
    private var pid: pid_t = 0
    private var exitStatus: Int32?
    private var exitWaiter: CheckedContinuation<Void, Never>?
    private var stopReason: StopReason?

    init(program: URL, arguments: [String], directory: URL, environment: [String: String],
         grace: Duration = PluginManifest.defaultStopGrace) {
        self.grace = grace
        self.program = program
        self.arguments = arguments
        self.directory = directory
        self.environment = environment
    }

    /// Runs to the end. `stdoutLine`/`stderrLine` are called from reader threads, in order.
    func run(input: Data, timeout: Duration, stdoutLine: @escaping @Sendable (String) -> Void,
             stderrLine: @escaping @Sendable (String) -> Void) async throws -> Termination {
        Self.ignoreBrokenPipes
        let (stdinRead, stdinWrite) = try Self.pipe()
        let (stdoutRead, stdoutWrite) = try Self.pipe()
        let (stderrRead, stderrWrite) = try Self.pipe()
        defer { for descriptor in [stdinRead, stdoutWrite, stderrWrite] { close(descriptor) } }
        let pid: pid_t
        do {
            pid = try spawn(stdin: stdinRead, stdout: stdoutWrite, stderr: stderrWrite)
        } catch {
            for descriptor in [stdinWrite, stdoutRead, stderrRead] { close(descriptor) }
            throw error
        }
        lock.withLock { self.pid = pid }
        _ = Self.running.withLock { $0.insert(pid) }
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            _ = Self.running.withLock { $0.remove(pid) }
            markExited(status)
        }
        Thread.detachNewThread {
            // A plugin that exits without reading makes this fail (EPIPE): that is its business.
            let writer = FileHandle(fileDescriptor: stdinWrite, closeOnDealloc: true)
            try? writer.write(contentsOf: input)
            try? writer.close()
        }
        let output = FileHandle(fileDescriptor: stdoutRead, closeOnDealloc: true)
        let errors = FileHandle(fileDescriptor: stderrRead, closeOnDealloc: true)
        let readers = Task {
            async let stdoutDone: Void = Self.readLines(output, stdoutLine)
            async let stderrDone: Void = Self.readLines(errors, stderrLine)
            _ = await (stdoutDone, stderrDone)
        }

        // A dispatch timer, not a sleeping task: it fires even when every cooperative thread is busy.
        let timer = DispatchWorkItem { [weak self] in self?.stop(.timeout) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Self.nanoseconds(timeout)), execute: timer)
        await withTaskCancellationHandler {
            await waitForExit()
        } onCancel: {
            stop(.cancelled)
        }
        timer.cancel()
        // The pipes close when the program exits, unless a child of it still holds them:
        // then stop waiting for them after a moment rather than hang the run.
        await Self.withDeadline(.seconds(2)) { await readers.value }
        let (status, reason) = lock.withLock { (exitStatus ?? 0, stopReason) }
        let signal = status & 0x7F
        return Termination(status: signal == 0 ? (status >> 8) & 0xFF : signal, signalled: signal != 0, stopped: reason)
    }

    private struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    private func spawn(stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        guard let addChdir = Self.addChdir else {
            throw SpawnError(description: "this C library cannot set a spawned program's folder")
        }
        _ = addChdir(&actions, directory.path)
        // Nothing but the three pipes: an inherited socket or file would outlive its owner.
        _ = Self.addCloseFrom.map { $0(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv = ([program.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, program.path, &actions, &attributes, argv, envp)
        guard status == 0 else { throw SpawnError(description: "\(program.path): \(String(cString: strerror(status)))") }
        return pid
    }

    // glibc's GNU extensions, which Swift's Glibc module does not import.
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private static let addChdir: AddChdir? = dlsym(nil, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    private static let pipe2: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        // Close-on-exec from the start, so no other program spawned meanwhile inherits an end
        // (it would hold the pipe open and hide its end of file).
        guard let pipe2 = Self.pipe2, pipe2(&descriptors, O_CLOEXEC) == 0 else {
            throw SpawnError(description: "cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        return (descriptors[0], descriptors[1])
    }

    /// SIGTERM now, SIGKILL after the grace period if it is still running, to the plugin's
    /// whole process group. The first reason sticks.
    func stop(_ reason: StopReason) {
        let target: pid_t? = lock.withLock {
            guard exitStatus == nil, pid > 0, stopReason == nil else { return nil }
            stopReason = reason
            return pid
        }
        guard let pid = target else { return }
        kill(-pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Self.nanoseconds(grace))) {
            [weak self] in
            guard let self, self.lock.withLock({ self.exitStatus == nil }) else { return }
            kill(-pid, SIGKILL)
        }
    }

    private func markExited(_ status: Int32) {
        let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
            exitStatus = status
            defer { exitWaiter = nil }
            return exitWaiter
        }
        waiter?.resume()
    }

    private func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done: Bool = lock.withLock {
                if exitStatus != nil { return true }
                exitWaiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Reads until end of file on a thread of its own, calling `line` for each line.
    private static func readLines(_ handle: FileHandle, _ line: @escaping @Sendable (String) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                var pending = Data()
                var overflowing = false
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: 0x0A) {
                        let bytes = pending[pending.startIndex..<newline]
                        if !overflowing { line(String(decoding: bytes, as: UTF8.self)) }
                        overflowing = false
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                    if pending.count > maximumLine {
                        if !overflowing { line(String(decoding: pending.prefix(200), as: UTF8.self) + "… (a line longer than 4 MB)") }
                        overflowing = true
                        pending.removeAll()
                    }
                }
                if !pending.isEmpty, !overflowing { line(String(decoding: pending, as: UTF8.self)) }
                try? handle.close()
                continuation.resume()
            }
        }
    }

    /// Waits for `work`, or `limit`, whichever comes first (the work is left running).
    private static func withDeadline(_ limit: Duration, _ work: @escaping @Sendable () async -> Void) async {
        let finished = AsyncStream<Void>.makeStream()
        Task {
            await work()
            finished.continuation.finish()
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            finished.continuation.finish()
        }
        for await _ in finished.stream {}
        timer.cancel()
    }

    private static func nanoseconds(_ duration: Duration) -> Int {
        Int(min(Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9, Double(Int.max / 2)))
    }

    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()
}
