import ArgumentParser
import Foundation
import SeedanceAPI
import SeedanceEmulator

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a local server that answers like Segmind's Seedance 2.0 Mini API.",
        discussion: """
            The emulator renders real MP4 clips (H.264 + AAC) of the requested size and
            length, with the first and last frames you give. It speaks the v2 submit/poll
            API, v1 sync, the upload and request-history endpoints, and can misbehave on
            purpose. GET /_emulator/stats counts what it saw. Ctrl-C stops it.

            Examples:
              seedpipe serve --port 8080
              seedpipe serve --latency 150 --workers 2         # as slow as the real thing
              seedpipe serve --fail-rate 0.3 --drop-rate 0.05  # a flaky API for testing

            The official Python SDK talks to it with
            base_url="http://127.0.0.1:8080/v1" and any SEGMIND_API_KEY.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 0

    @Option(help: "The only API key accepted (default: any non-empty key).")
    var apiKey: String?

    @Option(help: "Seconds each generation takes.")
    var latency: Double = 5

    @Option(help: "Generations processed at once; the rest wait QUEUED.")
    var workers = 4

    @Option(help: "Seconds a result stays available before answering 404.")
    var retention: Double = 3600

    @Option(help: "A prompt containing this word ends FAILED, like a moderation block (whatever the seed).")
    var blockedWord = "moderation-test"

    @Option(help: "Fraction of generations moderation refuses, by a hash of prompt and seed (another seed may pass).")
    var moderationRate: Double = 0

    @Option(help: ArgumentHelp("Colour drift of each clip: its picture warms and gains contrast up to this much by its last frame, so chained clips drift further every shot (0.1 is clearly visible; color_match corrects it).",
                               valueName: "F"))
    var drift: Double = 0

    @Option(help: ArgumentHelp("What a completed generation costs per second of video (metrics.cost in results, credits_deduction in history): one price, or prices by resolution such as 480p=0.02,720p=0.05,1080p=0.10 (a resolution not listed costs the plain number given, else 0).",
                               valueName: "USD"))
    var costPerSecond: EmulatorPrices = EmulatorPrices(flat: EmulatorConfiguration.commandLinePricePerSecond)

    @Option(help: ArgumentHelp("The account's balance: once spent, submits answer 406 (default: unlimited).", valueName: "USD"))
    var credits: Double?

    @Option(help: "API requests per minute: more answer 429 with x-rate-limit-reset-at-utc (default: unlimited).")
    var rpm: Int?

    @Option(help: "Fraction of API requests answered with 429, 500, 502 or 504 (evenly split).")
    var failRate: Double = 0

    @Option(name: .customLong("rate-429"), help: "Fraction of requests answered 429 (with Retry-After).")
    var rate429: Double?

    @Option(name: .customLong("rate-500"), help: "Fraction answered 500.")
    var rate500: Double?

    @Option(name: .customLong("rate-502"), help: "Fraction answered 502.")
    var rate502: Double?

    @Option(name: .customLong("rate-504"), help: "Fraction answered 504.")
    var rate504: Double?

    @Option(help: "Fraction of requests whose connection is dropped without an answer.")
    var dropRate: Double = 0

    @Option(help: "Fraction of requests answered slowly.")
    var slowRate: Double = 0

    @Option(help: "Of the 502 and 504 answers to a submit, the fraction that come after the job was accepted (it runs and bills).")
    var gatewayAccepts: Double = 0

    @Option(help: ArgumentHelp("Seconds before a new request appears in request history.", valueName: "SECONDS"))
    var historyLag: Double = 0

    @Option(help: "Fraction of file downloads cut off halfway (the emulator honours Range, so clients can resume).")
    var truncateRate: Double = 0

    @Option(help: "Seconds a slow answer takes.")
    var slowDelay: Double = 2

    @Option(help: "Folder for rendered clips and uploads (default: a temporary folder).")
    var storage: String?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        for (name, value) in [("--fail-rate", failRate), ("--drop-rate", dropRate), ("--slow-rate", slowRate),
                              ("--moderation-rate", moderationRate), ("--drift", drift), ("--gateway-accepts", gatewayAccepts),
                              ("--truncate-rate", truncateRate)]
            where !(0...1).contains(value) {
            throw ValidationError("\(name) must be between 0 and 1")
        }
        guard historyLag >= 0 else { throw ValidationError("--history-lag must be 0 or more") }
        guard latency >= 0, retention > 0, workers >= 1 else {
            throw ValidationError("--latency must be 0 or more, --retention more than 0, --workers 1 or more")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (credits ?? 0) >= 0, (rpm ?? 1) >= 1 else {
            throw ValidationError("--cost-per-second and --credits must be 0 or more, --rpm 1 or more")
        }
    }

    func run() async throws {
        global.apply()
        var faults = FaultRates.errors(failRate)
        faults.rateLimited = rate429 ?? faults.rateLimited
        faults.serverError = rate500 ?? faults.serverError
        faults.badGateway = rate502 ?? faults.badGateway
        faults.gatewayTimeout = rate504 ?? faults.gatewayTimeout
        faults.dropConnection = dropRate
        faults.slow = slowRate
        faults.slowDelay = slowDelay
        faults.gatewayAccepts = gatewayAccepts
        faults.seed = UInt64.random(in: 1...UInt64.max)
        var configuration = EmulatorConfiguration(
            host: host, port: port, apiKey: apiKey, latency: .milliseconds(Int64(latency * 1000)), workers: workers,
            retention: .milliseconds(Int64(retention * 1000)), blockedWord: blockedWord, moderationRate: moderationRate,
            pricePerSecond: costPerSecond.flat, credits: credits, requestsPerWindow: rpm,
            storage: storage.map { URL(fileURLWithPath: $0) }, faults: faults)
        configuration.drift = drift
        configuration.pricesByResolution = costPerSecond.byResolution
        configuration.historyLag = .milliseconds(Int64(historyLag * 1000))
        configuration.truncateRate = truncateRate
        let emulator = try SeedanceEmulator(configuration: configuration)
        let url: URL
        do {
            url = try await emulator.start()
        } catch {
            throw ValidationError("cannot listen on \(host):\(port): \(error)")
        }
        print("Seedance emulator listening on \(url.absoluteString)  (latency \(latency) s, \(workers) workers; Ctrl-C stops)")
        print("  point a client at it: base URL \(url.absoluteString)/v1 (Python SDK) or \(url.absoluteString) (seedpipe --backend)")
        Terminal.flush()
        _ = await SignalWaiter.waitForTermination()
        await emulator.stop()
        print("stopped")
    }
}

/// `--cost-per-second`: `0.03`, or `480p=0.02,720p=0.05,1080p=0.10` (with a plain number
/// among them for the resolutions not listed).
struct EmulatorPrices: ExpressibleByArgument, Sendable {
    var flat: Double
    var byResolution: [String: Double] = [:]

    init(flat: Double) { self.flat = flat }

    init?(argument: String) {
        flat = 0
        let resolutions = GenerationRequest.resolutions
        for item in argument.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard let price = Double(parts.last ?? ""), price >= 0, price.isFinite else { return nil }
            if parts.count == 1 {
                flat = price
            } else if resolutions.contains(parts[0]) {
                byResolution[parts[0]] = price
            } else {
                return nil
            }
        }
        if argument.isEmpty { return nil }
    }

    var defaultValueDescription: String {
        ([String(flat)] + byResolution.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: ",")
    }
}
