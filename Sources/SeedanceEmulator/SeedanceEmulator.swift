import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import SeedanceAPI
import Synchronization

/// A local server that answers exactly like Segmind's Seedance 2.0 Mini API (v2 submit and
/// poll, v1 sync, uploads, request history) and renders real MP4 clips with Media.
///
/// ```swift
/// let emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(latency: .seconds(1)))
/// let url = try await emulator.start()        // http://127.0.0.1:PORT
/// let client = SeedanceClient(endpoints: .single(url), apiKey: APIKey("any"))
/// …
/// await emulator.stop()
/// ```
public final class SeedanceEmulator: Sendable {
    public let configuration: EmulatorConfiguration
    let state: EmulatorState
    let faults: FaultInjector
    /// Where rendered clips, frames and uploads live (served at `/files/`).
    public let files: URL
    private let ownsFiles: Bool
    private let logger: Logger
    private let running = Mutex<(task: Task<Void, any Error>?, url: URL?)>((nil, nil))

    public init(
        configuration: EmulatorConfiguration = EmulatorConfiguration(), httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "seedpipe.emulator", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        self.configuration = configuration
        self.logger = logger
        if let storage = configuration.storage {
            files = storage
            ownsFiles = false
        } else {
            files = FileManager.default.temporaryDirectory.appendingPathComponent("seedance-emulator-\(UUID().uuidString.prefix(8))")
            ownsFiles = true
        }
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        faults = FaultInjector(rates: configuration.faults)
        state = EmulatorState(configuration: configuration,
                              renderer: ClipRenderer(configuration: configuration, files: files, http: httpClient))
    }

    deinit {
        running.withLock { $0.task?.cancel() }
        if ownsFiles { try? FileManager.default.removeItem(at: files) }
    }

    /// Starts listening and returns the base URL (`http://host:port`).
    public func start() async throws -> URL {
        if let url = running.withLock({ $0.url }) { return url }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: EmulatorRoutes(state: state, faults: faults, files: files, configuration: configuration).router(),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: "seedance-emulator"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await app.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            let failure = await task.result
            if case .failure(let error) = failure {
                throw EmulatorError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
            }
            throw EmulatorError("cannot listen on \(configuration.host):\(configuration.port)")
        }
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        let url = URL(string: "http://\(host):\(port)")!
        running.withLock { $0 = (task, url) }
        return url
    }

    /// The base URL while running.
    public var url: URL? { running.withLock { $0.url } }

    /// Stops listening; in-flight generations are abandoned.
    public func stop() async {
        let task = running.withLock { state -> Task<Void, any Error>? in
            let task = state.task
            state = (nil, nil)
            return task
        }
        task?.cancel()
        _ = await task?.result
    }

    /// The counters of `GET /_emulator/stats`.
    public func stats() async -> EmulatorStats { await state.currentStats }

    /// The request bodies of every accepted submit, oldest first (what tests check a run sent).
    public func requests() async -> [GenerationRequest] { await state.accepted }

    /// Replaces the fault rates and/or queues scripted faults (also `POST /_emulator/faults`).
    public func injectFaults(rates: FaultRates? = nil, script: [Fault]? = nil) {
        faults.configure(rates: rates, script: script)
    }
}

/// The emulator could not start.
public struct EmulatorError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
