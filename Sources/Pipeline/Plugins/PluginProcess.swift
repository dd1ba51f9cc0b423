import Foundation

/// One run of a plugin's program: the request written to stdin, stdout and stderr read
/// line by line on threads of their own (never on the cooperative pool), and a stop that
/// is always SIGTERM, then SIGKILL after a grace period: for a timeout, a protocol
/// violation or the run being cancelled (Ctrl-C, another stage failing).
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
    /// Time between SIGTERM and SIGKILL.
    static let grace: Duration = .seconds(5)

    private let process = Process()
    private let lock = NSLock()
    private var exited = false
    private var exitWaiter: CheckedContinuation<Void, Never>?
    private var stopReason: StopReason?

    init(program: URL, arguments: [String], directory: URL, environment: [String: String]) {
        process.executableURL = program
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment
    }

    /// Runs to the end. `stdoutLine`/`stderrLine` are called from reader threads, in order.
    func run(input: Data, timeout: Duration, stdoutLine: @escaping @Sendable (String) -> Void,
             stderrLine: @escaping @Sendable (String) -> Void) async throws -> Termination {
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        process.terminationHandler = { [weak self] _ in self?.markExited() }
        Self.ignoreBrokenPipes
        try process.run()

        let writer = stdin.fileHandleForWriting
        DispatchQueue.global().async {
            // A plugin that exits without reading makes this fail (EPIPE): that is its business.
            try? writer.write(contentsOf: input)
            try? writer.close()
        }
        let output = stdout.fileHandleForReading, errors = stderr.fileHandleForReading
        let readers = Task {
            async let stdoutDone: Void = Self.readLines(output, stdoutLine)
            async let stderrDone: Void = Self.readLines(errors, stderrLine)
            _ = await (stdoutDone, stderrDone)
        }

        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.stop(.timeout)
        }
        await withTaskCancellationHandler {
            await waitForExit()
        } onCancel: {
            stop(.cancelled)
        }
        timer.cancel()
        // The pipes close when the program exits, unless a child of it still holds them:
        // then stop waiting for them after a moment rather than hang the run.
        await Self.withDeadline(.seconds(2)) { await readers.value }
        let reason = lock.withLock { stopReason }
        return Termination(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                           stopped: reason)
    }

    /// SIGTERM now, SIGKILL after the grace period if it is still running. The first reason sticks.
    func stop(_ reason: StopReason) {
        let first: Bool = lock.withLock {
            guard !exited else { return false }
            if stopReason == nil { stopReason = reason; return true }
            return false
        }
        guard first else { return }
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(Self.grace.components.seconds) * 1_000_000_000)) {
            [weak self] in
            guard let self, !self.lock.withLock({ self.exited }) else { return }
            kill(pid, SIGKILL)
        }
    }

    private func markExited() {
        let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
            exited = true
            defer { exitWaiter = nil }
            return exitWaiter
        }
        waiter?.resume()
    }

    private func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done: Bool = lock.withLock {
                if exited { return true }
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
        let worker = Task {
            await work()
            finished.continuation.finish()
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            finished.continuation.finish()
        }
        for await _ in finished.stream {}
        timer.cancel()
        _ = worker
    }

    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()
}
