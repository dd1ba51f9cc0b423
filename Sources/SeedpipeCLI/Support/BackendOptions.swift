import ArgumentParser
import Foundation
import SeedanceAPI
import SeedanceEmulator

/// Where generations run: `--backend auto|segmind|emulator|URL`.
struct BackendOptions: ParsableArguments {
    @Option(help: """
        auto: Segmind when SEGMIND_API_KEY is set, else the built-in emulator; \
        segmind; emulator (offline, clips rendered locally); or the URL of a Seedance-compatible server \
        (SEGMIND_API_KEY is sent there because you typed the URL here; a note says so unless it is loopback).
        """)
    var backend = "auto"

    @Option(help: "API requests per minute, for every generation of the run together (Segmind's plan limit; not for the built-in emulator).")
    var rpm = 50

    /// Seconds the built-in emulator takes per clip.
    @Option(help: .hidden)
    var emulatorLatency: Double = 1

    func validate() throws {
        guard rpm >= 1 else { throw ValidationError("--rpm must be 1 or more") }
        guard ["auto", "segmind", "emulator"].contains(backend) || URL(string: backend)?.host != nil else {
            throw ValidationError("--backend \(backend): use auto, segmind, emulator, or a URL such as http://127.0.0.1:8080")
        }
    }

    /// What runs the generations, as far as pricing and labelling go.
    enum Kind: Equatable {
        /// Segmind: paid.
        case service
        /// An emulator (the built-in one, or a server that says it is seedpipe's), billing this
        /// much a second: what it makes is emulated, nothing is paid.
        case emulator(pricePerSecond: Double)

        var emulated: Bool { if case .emulator = self { true } else { false } }
    }

    /// Which kind the chosen backend is. No network, except one GET asking a `--backend` URL
    /// whether it is seedpipe's emulator (a server that does not say so is taken as the paid service).
    func kind() async -> Kind {
        switch backend {
        case "segmind": return .service
        case "auto" where APIKey.fromEnvironment() != nil: return .service
        case "auto", "emulator": return .emulator(pricePerSecond: EmulatorConfiguration.commandLinePricePerSecond)
        default:
            guard let url = URL(string: backend) else { return .service }
            let identity = await SeedanceClient(endpoints: .single(url), apiKey: nil).emulatorIdentity(at: url)
            return identity.map { .emulator(pricePerSecond: $0.pricePerSecond) } ?? .service
        }
    }

    /// A client for the chosen backend; an in-process emulator is started when needed (stop it after).
    /// - Parameter emulated: whether a `--backend URL` is an emulator, when already known (a plan
    ///   priced for the backend says so); else it is asked.
    func connect(emulated known: Bool? = nil) async throws -> Connection {
        let key = APIKey.fromEnvironment()
        switch backend {
        case "segmind":
            guard let key else {
                throw ValidationError("--backend segmind needs SEGMIND_API_KEY (or use --backend emulator to work offline)")
            }
            return Connection(client: SeedanceClient(endpoints: .segmind, apiKey: key, rateLimit: .perMinute(rpm)), emulator: nil,
                              emulated: false)
        case "auto" where key != nil:
            return Connection(client: SeedanceClient(endpoints: .segmind, apiKey: key, rateLimit: .perMinute(rpm)), emulator: nil,
                              emulated: false)
        case "auto", "emulator":
            let secret = UUID().uuidString
            // An offline preview bills as `seedpipe serve` does by default: nothing.
            let emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(
                apiKey: secret, latency: .milliseconds(Int64(emulatorLatency * 1000)),
                pricePerSecond: EmulatorConfiguration.commandLinePricePerSecond))
            let url = try await emulator.start()
            Terminal.note("offline preview: clips are rendered locally; set SEGMIND_API_KEY to generate with Seedance")
            return Connection(client: SeedanceClient(endpoints: .single(url), apiKey: APIKey(secret)), emulator: emulator, emulated: true)
        default:
            // The key goes to a server of the user's own only because they typed its URL here,
            // on the command line (never from a pipeline file, a plugin or an environment default).
            let url = URL(string: backend)!
            if key != nil, !Self.isLoopback(url) {
                Terminal.error("note: SEGMIND_API_KEY is sent to \(url.host ?? backend), because --backend names it")
            }
            let client = SeedanceClient(endpoints: .single(url), apiKey: key ?? APIKey("local"), rateLimit: .perMinute(rpm))
            let emulated: Bool
            if let known { emulated = known } else { emulated = await client.emulatorIdentity(at: url) != nil }
            return Connection(client: client, emulator: nil, emulated: emulated)
        }
    }

    /// 127.0.0.0/8, ::1 and localhost.
    static func isLoopback(_ url: URL) -> Bool { SeedanceClient.isLoopback(url) }

    struct Connection {
        let client: SeedanceClient
        let emulator: SeedanceEmulator?
        /// What it makes is emulated, not paid.
        let emulated: Bool

        func close() async { await emulator?.stop() }
    }
}
