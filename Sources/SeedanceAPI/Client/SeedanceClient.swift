import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A client for Segmind's Seedance 2.0 Mini API (and the local emulator, which answers alike).
///
/// ```swift
/// let client = SeedanceClient()                      // SEGMIND_API_KEY, Segmind's hosts
/// let job = try await client.submit(GenerationRequest(prompt: "A waterfall at dawn", duration: 5))
/// let result = try await client.wait(for: job)       // polls until COMPLETED; throws on FAILED
/// try await client.download(result.output!, to: URL(fileURLWithPath: "clip.mp4"))
/// ```
///
/// Reads (status, result, history, downloads) are retried with exponential backoff and
/// jitter on 429, 5xx and connection errors, honouring Retry-After. A submit is billable
/// and the API has no idempotency key, so it is retried only when the server cannot have
/// accepted it (429, or a connection that was never made); after an ambiguous failure it
/// throws `.submitOutcomeUnknown` and is never re-sent blindly.
public struct SeedanceClient: Sendable {
    public let endpoints: Endpoints
    public var retry: RetryPolicy
    /// Deadline of one API request.
    public var requestTimeout: Duration
    /// Deadline of one download.
    public var downloadTimeout: Duration
    let apiKey: APIKey?
    let http: HTTPClient
    /// Backoff and polling wait on it (`ImmediateClock` in tests).
    public let clock: any APIClock
    let logger: Logger
    /// Paces API requests to the plan's rate limit; shared by every copy of the client.
    let pacer: RequestPacer?

    public init(
        endpoints: Endpoints = .segmind, apiKey: APIKey? = .fromEnvironment(),
        httpClient: HTTPClient = SeedanceClient.sharedHTTPClient,
        retry: RetryPolicy = RetryPolicy(), clock: any APIClock = SystemClock(),
        requestTimeout: Duration = .seconds(60), downloadTimeout: Duration = .seconds(600),
        rateLimit: RateLimit? = nil,
        logger: Logger = Logger(label: "seedpipe.seedance", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        pacer = rateLimit.map { RequestPacer($0, clock: clock) }
        self.endpoints = endpoints
        self.apiKey = apiKey
        self.http = httpClient
        self.retry = retry
        self.clock = clock
        self.requestTimeout = requestTimeout
        self.downloadTimeout = downloadTimeout
        self.logger = logger
    }

    /// The HTTP client used unless one is passed in: it lives for the whole process, and
    /// it does not retry failed connections by itself (AsyncHTTPClient's default would
    /// keep reconnecting until the request's deadline), so `retry` decides alone.
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Whether a key is configured (the key itself is never exposed).
    public var hasAPIKey: Bool { apiKey != nil }

    var modelPath: String { GenerationRequest.model }

    // MARK: Transport

    /// How a request may be retried.
    enum RetryMode {
        /// Safe to repeat: retried on 429, 5xx and any connection error.
        case idempotent
        /// Billable: retried only on 429 and connections never made.
        case billable
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer

        var isSuccess: Bool { (200..<300).contains(status) }
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: body) }
    }

    /// Sends one request with the retry policy, returning the last reply (success or not).
    func send(
        _ method: HTTPMethod, _ url: URL, json: Data? = nil, mode: RetryMode, what: String
    ) async throws -> Reply {
        try await retrying(mode: mode, what: what, url: url) {
            let ticket = try await pacer?.admit()
            do {
                let response = try await http.execute(try makeRequest(method, url, json: json), timeout: .init(requestTimeout))
                let body = try await response.body.collect(upTo: 32 << 20)
                if let ticket { await pacer?.done(ticket) }
                return Reply(status: Int(response.status.code), headers: response.headers, body: body)
            } catch {
                if let ticket { await pacer?.done(ticket) }
                throw error
            }
        }
    }

    /// A request with the client's headers (the key only for the API's own hosts) and an optional JSON body.
    func makeRequest(_ method: HTTPMethod, _ url: URL, json: Data?) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        try addHeaders(to: &request, for: url)
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        return request
    }

    func addHeaders(to request: inout HTTPClientRequest, for url: URL) throws {
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "seedpipe/0.1")
        // The key goes only to the API's own hosts, never to wherever an output URL points.
        guard endpoints.owns(url) else { return }
        guard let apiKey else {
            throw SeedanceError(.unauthorized, "no API key: set SEGMIND_API_KEY (or pass one to SeedanceClient)")
        }
        request.headers.add(name: "x-api-key", value: apiKey.secret)
    }

    /// 127.0.0.0/8, ::1 and localhost: a server on this machine. The host is parsed as an
    /// address (`inet_pton`), so a name such as `127.evil.example` is not loopback.
    public static func isLoopback(_ url: URL) -> Bool {
        guard var host = url.host?.lowercased() else { return false }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }

    /// The host (and port) of a URL, for messages: never its path or query (signed URLs carry tokens).
    static func server(of url: URL) -> String {
        guard let host = url.host else { return "the server" }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// Runs `attempt` until it gives a reply that is not worth retrying, or the policy runs out.
    func retrying(mode: RetryMode, what: String, url: URL, _ attempt: () async throws -> Reply) async throws -> Reply {
        var tries = 0
        while true {
            tries += 1
            let reply: Reply
            do {
                reply = try await attempt()
            } catch let error as SeedanceError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let failure = TransportFailure(error)
                if mode == .billable && !failure.neverSent {
                    throw SeedanceError(
                        .submitOutcomeUnknown,
                        "\(what) was sent but no answer came back; it may have been accepted and billed, so it is not re-sent (look it up in request history)",
                        underlying: scrub(failure.text))
                }
                // Nothing listens on this machine's port: a local server that is not running does
                // not start in the next half minute, so one short retry, then a clear line.
                let nobodyHere = failure.refused && Self.isLoopback(url)
                let delay = nobodyHere && tries >= retry.refusedLoopbackAttempts ? nil : retry.delay(afterAttempt: tries)
                guard let delay else {
                    if nobodyHere {
                        throw SeedanceError(.connectionFailed, "\(what) failed: nothing listens on \(Self.server(of: url)) (connection refused)")
                    }
                    throw SeedanceError(.connectionFailed, "\(what) failed: cannot reach \(Self.server(of: url)) after \(tries) tries",
                                        underlying: scrub(TransportFailure.balanced(failure.text)))
                }
                logger.notice("\(what): \(failure.text); retrying in \(delay)")
                try await clock.sleep(for: nobodyHere ? min(delay, .milliseconds(500)) : delay)
                continue
            }
            let retryable = reply.status == 429 || (mode == .idempotent && [500, 502, 503, 504].contains(reply.status))
            if retryable, let delay = retry.delay(afterAttempt: tries, retryAfter: Self.retryAfter(reply.headers, now: clock.date)) {
                logger.notice("\(what): HTTP \(reply.status); retrying in \(delay)")
                try await clock.sleep(for: delay)
                continue
            }
            return reply
        }
    }

    /// The error for a reply that is not a success, with the server's own message.
    func failure(_ reply: Reply, what: String, requestID: String? = nil) -> SeedanceError {
        let message = serverMessage(reply)
        let reason = HTTPResponseStatus(statusCode: reply.status).reasonPhrase
        var text = "\(what) failed: HTTP \(reply.status) \(reason)"
        if !message.isEmpty { text += ": \(message)" }
        if reply.status == 404, let requestID {
            text += " (request \(requestID) is unknown, or older than the 1-hour retention: recover it through request history)"
        }
        return SeedanceError(.forHTTPStatus(reply.status), text, httpStatus: reply.status, requestID: requestID)
    }

    /// The server's message: the body's `error` (or `message`, `detail`), else its text.
    func serverMessage(_ reply: Reply) -> String {
        let json = reply.json
        let message = json?["error"]?.string ?? json?["message"]?.string ?? json?["detail"]?.string
            ?? String(buffer: reply.body).trimmingCharacters(in: .whitespacesAndNewlines)
        return scrub(String(message.prefix(500)))
    }

    /// Removes the API key from any text that could reach a log or an error.
    func scrub(_ text: String) -> String {
        guard let secret = apiKey?.secret, !secret.isEmpty else { return text }
        return text.replacingOccurrences(of: secret, with: "***")
    }

    /// How long a 429 or 503 asks to wait: `Retry-After` (seconds or an HTTP date), else
    /// Segmind's `x-rate-limit-reset-at-utc` (an ISO 8601 instant, or seconds since 1970).
    static func retryAfter(_ headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        guard let value = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces) else {
            return headers.first(name: "x-rate-limit-reset-at-utc").flatMap { resetAt($0, now: now) }
        }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
    }

    static func resetAt(_ text: String, now: Date = Date()) -> Duration? {
        let value = text.trimmingCharacters(in: .whitespaces)
        var date: Date?
        if let seconds = Double(value) {
            date = Date(timeIntervalSince1970: seconds > 1e11 ? seconds / 1000 : seconds)
        } else {
            for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = options
                if let parsed = formatter.date(from: value) { date = parsed; break }
            }
            if date == nil, !value.hasSuffix("Z"), !value.contains("+") {
                // A UTC time written without its zone.
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime]
                date = formatter.date(from: value + "Z")
            }
        }
        guard let date else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000) + 50)
    }

    func decode<T: Decodable>(_ type: T.Type, from reply: Reply, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: reply.body)
        } catch {
            throw SeedanceError(.invalidResponse, "\(what): the server's answer is not the JSON the API promises",
                                httpStatus: reply.status, underlying: "\(error)")
        }
    }
}

/// A transport error sorted by whether the request can have reached the server.
struct TransportFailure {
    let text: String
    /// True when the connection was never made (refused, unreachable, connect timeout, DNS):
    /// the server cannot have seen the request.
    let neverSent: Bool
    /// The server's machine answered that nothing listens on the port.
    let refused: Bool

    init(_ error: any Error) {
        text = String(describing: error)
        let lowered = text.lowercased()
        refused = lowered.contains("connection refused") || lowered.contains("econnrefused") || lowered.contains("connectionrefused")
        if let client = error as? HTTPClientError {
            neverSent = client == .connectTimeout || client == .socksHandshakeTimeout
                || client == .invalidURL || client == .emptyHost || client == .unsupportedScheme(text)
            return
        }
        neverSent = refused || lowered.contains("no route to host") || lowered.contains("connecttimeout")
            || lowered.contains("could not resolve") || lowered.contains("nioconnectionerror")
    }
}

extension TransportFailure {
    /// The text with unmatched parentheses dropped (NIO says "…(error set): Connection refused) (errno: 111)").
    static func balanced(_ text: String) -> String {
        var depth = 0, kept = ""
        for character in text {
            if character == "(" {
                depth += 1
            } else if character == ")" {
                guard depth > 0 else { continue }
                depth -= 1
            }
            kept.append(character)
        }
        return kept + String(repeating: ")", count: depth)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
