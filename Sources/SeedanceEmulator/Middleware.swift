import Foundation
import HTTPTypes
import Hummingbird
import SeedanceAPI
import Synchronization

/// Says on every answer that this is seedpipe's emulator (`x-seedpipe-emulator: 1`), so a
/// client learns it from the first answer it gets, never from a probe that may answer late.
struct IdentityMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    static let header = HTTPField.Name(EmulatorIdentity.header)!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[Self.header] = "1"
        return response
    }
}

/// Misbehaves on purpose, as the fault configuration says. `/_emulator` is never touched.
struct FaultMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let faults: FaultInjector
    let state: EmulatorState
    let clock: any APIClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        guard !path.hasPrefix("/_emulator"),
              let fault = faults.fault(method: request.method.rawValue, path: path)
        else { return try await next(request, context) }
        await state.count { $0.faultsInjected += 1 }
        if let delay = fault.delay { try await clock.sleep(for: .milliseconds(Int(delay * 1000))) }
        if let status = fault.status {
            // Accepted (and billed) first, then the error: the client cannot know which.
            if fault.afterAccepting == true { _ = try await next(request, context) }
            var headers: HTTPFields = [:]
            if let retryAfter = fault.retryAfter { headers[.retryAfter] = String(format: "%g", retryAfter) }
            let message = switch status {
            case 429: "Rate limited: too many requests (emulated)"
            case 502: "Bad gateway: service temporarily unavailable (emulated)"
            case 504: "Gateway timeout (emulated)"
            case 402, 406: "Insufficient credits (emulated)"
            case 410: "Gone: this model has been retired (emulated)"
            default: "Internal server error (emulated)"
            }
            return Responses.error(HTTPResponse.Status(code: status), message, headers: headers)
        }
        // Handle the request for real (a submit is accepted), then lose or hold back the answer.
        let response = try await next(request, context)
        if let delayAfter = fault.delayAfter { try await clock.sleep(for: .milliseconds(Int(delayAfter * 1000))) }
        return fault.drop == true ? Responses.dropped() : response
    }
}

/// Every API request needs `x-api-key`: the configured one, or any when none is configured.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let apiKey: String?
    let state: EmulatorState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        let open = path.hasPrefix("/files/") || path.hasPrefix("/_emulator")
        guard !open else { return try await next(request, context) }
        let given = request.headers[HTTPField.Name("x-api-key")!] ?? ""
        let accepted = apiKey.map { given == $0 } ?? !given.isEmpty
        guard accepted else {
            await state.count { $0.rejected += 1 }
            return Responses.error(.unauthorized, given.isEmpty ? "Unauthorized: missing API key (send x-api-key)"
                                       : "Unauthorized: invalid API key")
        }
        return try await next(request, context)
    }
}

/// The plan's rate limit: at most `limit` API requests in any `window` (sliding); the rest
/// answer 429 with `x-rate-limit-reset-at-utc`, the moment a slot frees, and no Retry-After.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let limit: Int
    let window: Duration
    let state: EmulatorState
    let clock: any APIClock
    private let admitted = Admitted()

    /// The admission times in the current window, on the emulator's clock.
    final class Admitted: Sendable {
        let times = Mutex<[Duration]>([])
    }

    init(limit: Int, window: Duration, state: EmulatorState, clock: any APIClock) {
        self.limit = limit
        self.window = window
        self.state = state
        self.clock = clock
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        guard !path.hasPrefix("/files/"), !path.hasPrefix("/_emulator") else { return try await next(request, context) }
        let now = clock.now
        let verdict = admitted.times.withLock { times -> (admitted: Bool, count: Int, freeAt: Duration?) in
            times.removeAll { now - $0 >= window }
            guard times.count < limit else { return (false, times.count, times.first.map { $0 + window }) }
            times.append(now)
            return (true, times.count, nil)
        }
        guard verdict.admitted else {
            await state.count { $0.rateLimited += 1 }
            let wait = verdict.freeAt.map { $0 - now } ?? window
            let reset = clock.date.addingTimeInterval(wait.timeInterval)
            var headers: HTTPFields = [:]
            headers[HTTPField.Name("x-rate-limit-reset-at-utc")!] = reset.formatted(.iso8601.time(includingFractionalSeconds: true)
                .year().month().day().dateSeparator(.dash).timeSeparator(.colon).timeZone(separator: .omitted))
            return Responses.error(.tooManyRequests, "Rate limit exceeded: \(limit) requests per \(window) (emulated)", headers: headers)
        }
        await state.count { $0.busiestWindow = max($0.busiestWindow, verdict.count); $0.admitted += 1 }
        return try await next(request, context)
    }
}
