import Foundation
import MediaTestSupport
import Pipeline
import Stages

/// The built `seedpipe` executable, run as a user runs it.
enum SeedpipeBinary {
    /// Beside the test bundle in the build folder (`swift build --build-tests` builds every product).
    static let url: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("seedpipe")
    }()

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Ended by a signal (a trap, a crash) rather than an exit status.
        var signaled = false
    }

    /// The environment without SEGMIND_API_KEY, so generation runs offline.
    static var offline: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "SEGMIND_API_KEY")
        return environment
    }

    private static func launch(_ arguments: [String], in folder: TemporaryFolder, environment: [String: String]?,
                               executable url: URL) throws -> Outcome
    {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: url.path])
        }
        let outcome = try ChildProcess.run(url, arguments, in: folder.url, environment: environment)
        return Outcome(status: outcome.status, stdout: outcome.output, stderr: outcome.stderr, signaled: outcome.signaled)
    }

    /// Runs seedpipe and waits for it on a thread of its own, so a long run never holds a
    /// cooperative thread (on two cores there are two, and other tests' timers and tasks need them).
    /// `executable` is another copy of seedpipe (an installed one, say).
    static func run(_ arguments: [String], in folder: TemporaryFolder, environment: [String: String]? = offline,
                    executable: URL = url) async throws -> Outcome
    {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try launch(arguments, in: folder, environment: environment, executable: executable) })
            }
        }
    }
}

/// `seedpipe serve` in a process of its own, as a user runs it beside their pipelines: stop
/// it with ``stop()`` (Ctrl-C), which gives its exit status.
final class ServedEmulator: @unchecked Sendable {
    let process = Process()
    /// `http://127.0.0.1:PORT`, from the line it prints first.
    let address: String

    init(_ arguments: [String]) async throws {
        process.executableURL = SeedpipeBinary.url
        process.arguments = ["serve", "--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line names the URL (read on a thread of its own: it blocks).
        let line = try await Thread.detached {
            var text = ""
            while !text.contains("\n"), let chunk = try output.fileHandleForReading.read(upToCount: 1), !chunk.isEmpty {
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text
        }
        guard let address = line.split(separator: " ").first(where: { $0.hasPrefix("http://127.0.0.1:") }).map(String.init) else {
            process.interrupt()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "seedpipe serve printed no URL: \(line)"])
        }
        self.address = address.hasSuffix("/") ? String(address.dropLast()) : address
    }

    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { process.interrupt() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The generations journaled in a cache folder (the cache a child `seedpipe run` writes).
func journaledGenerations(_ cache: URL) async -> [GenerationEntry] {
    guard let journal = try? LocalJournal(root: cache.appendingPathComponent("journal")) else { return [] }
    return (try? await GenerationEntry.all(in: journal)) ?? []
}

/// Checks `condition` every 10 ms until it holds (true) or `limit` passes (false): a wait
/// on the event itself, never a sleep that stands in for it.
/// The default limit is one only a hang reaches: on a loaded machine a moment may come late.
func eventually(within limit: Duration = .seconds(240), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
