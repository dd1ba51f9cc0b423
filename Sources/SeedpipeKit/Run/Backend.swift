import Foundation
import SeedanceAPI
import SeedanceEmulator

/// Where generations run.
public enum Backend: Sendable, Hashable, CustomStringConvertible {
    /// Segmind when a key is given (or `SEGMIND_API_KEY` is set), else the offline emulator.
    case auto
    /// Segmind's service: needs a key.
    case segmind
    /// seedpipe's emulator in this process: offline, clips rendered locally, nothing paid.
    case emulator
    /// A Seedance-compatible server of the user's own (`seedpipe serve`, a proxy). The key goes
    /// there only because the caller named it.
    case url(URL)

    /// `auto`, `segmind`, `emulator` or a URL with a host (what `--backend` takes).
    public init?(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "segmind": self = .segmind
        case "emulator": self = .emulator
        default:
            guard let url = URL(string: text), url.host != nil else { return nil }
            self = .url(url)
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .segmind: "segmind"
        case .emulator: "emulator"
        case .url(let url): url.absoluteString
        }
    }

    /// What runs the generations, as far as pricing and labelling go.
    public enum Kind: Sendable, Equatable {
        /// Segmind: paid.
        case service
        /// An emulator (the built-in one, or a server that says it is seedpipe's), billing this
        /// much a second: what it makes is emulated, nothing is paid.
        case emulator(pricePerSecond: Double, byResolution: [String: Double] = [:])

        public var emulated: Bool { if case .emulator = self { true } else { false } }
    }

    /// Which kind this backend is. No network, except one GET asking a URL whether it is
    /// seedpipe's emulator (a server that does not say so is taken as the paid service).
    public func kind(apiKey: APIKey?) async -> Kind {
        switch self {
        case .segmind: return .service
        case .auto where apiKey != nil: return .service
        case .auto, .emulator: return .emulator(pricePerSecond: EmulatorConfiguration.commandLinePricePerSecond)
        case .url(let url):
            let identity = await SeedanceClient(endpoints: .single(url), apiKey: nil).emulatorIdentity(at: url)
            return identity.map { .emulator(pricePerSecond: $0.pricePerSecond, byResolution: $0.pricesByResolution ?? [:]) } ?? .service
        }
    }

    /// A client for this backend; an in-process emulator is started when needed (close the
    /// connection after). `note` hears what a person should know: working offline, and (a
    /// warning) the key sent to a host that is not loopback.
    /// - Parameter emulated: whether a URL is an emulator, when already known (a plan priced
    ///   for the backend says so); else it is asked.
    public func connect(apiKey key: APIKey?, rpm: Int = 50, emulatorLatency: Duration = .seconds(1), emulated known: Bool? = nil,
                        note: (_ message: String, _ warning: Bool) -> Void = { _, _ in }) async throws -> Connection {
        switch self {
        case .segmind, .auto where key != nil:
            guard let key else {
                throw RunError(.invalidRequest, "--backend segmind needs SEGMIND_API_KEY (or use --backend emulator to work offline)")
            }
            return Connection(client: SeedanceClient(endpoints: .segmind, apiKey: key, rateLimit: .perMinute(rpm)), emulator: nil,
                              emulated: false)
        case .auto, .emulator:
            let secret = UUID().uuidString
            // An offline preview bills as `seedpipe serve` does by default: nothing.
            let emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(
                apiKey: secret, latency: emulatorLatency, pricePerSecond: EmulatorConfiguration.commandLinePricePerSecond))
            let url = try await emulator.start()
            note("offline preview: clips are rendered locally; set SEGMIND_API_KEY to generate with Seedance", false)
            return Connection(client: SeedanceClient(endpoints: .single(url), apiKey: APIKey(secret)), emulator: emulator, emulated: true)
        case .url(let url):
            // The key goes to a server of the user's own only because they named its URL
            // (never from a pipeline file, a plugin or an environment default).
            if key != nil, !SeedanceClient.isLoopback(url) {
                note("note: SEGMIND_API_KEY is sent to \(url.host ?? url.absoluteString), because --backend names it", true)
            }
            let client = SeedanceClient(endpoints: .single(url), apiKey: key ?? APIKey("local"), rateLimit: .perMinute(rpm))
            let emulated: Bool
            if let known { emulated = known } else { emulated = await client.emulatorIdentity(at: url) != nil }
            return Connection(client: client, emulator: nil, emulated: emulated)
        }
    }

    /// A connected backend.
    public struct Connection: Sendable {
        public let client: SeedanceClient
        /// The in-process emulator, when one was started for this connection.
        public let emulator: SeedanceEmulator?
        /// What it makes is emulated, not paid.
        public let emulated: Bool

        /// Stops the in-process emulator, if any.
        public func close() async { await emulator?.stop() }
    }
}
