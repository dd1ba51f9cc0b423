import Media
import Synchronization

/// One planned misbehaviour: an HTTP error, a dropped connection, or a delay.
public struct Fault: Sendable, Hashable, Codable {
    /// Answer with this status (429, 500, 502, 504, …) instead of handling the request.
    public var status: Int?
    /// Seconds for Retry-After (with a status).
    public var retryAfter: Double?
    /// Handle the request, then close the connection without sending the answer.
    public var drop: Bool?
    /// Wait this many seconds first.
    public var delay: Double?
    /// Handle the request (a submit is accepted), then wait this many seconds before answering.
    public var delayAfter: Double?
    /// With a status: handle the request first (a submit is accepted and bills), then answer
    /// with the status anyway, as a gateway that timed out on an answer that came can.
    public var afterAccepting: Bool?
    /// Only requests whose path starts with this (e.g. `/v2/requests`); nil matches any.
    public var path: String?
    /// Only this method (`GET`, `POST`); nil matches any.
    public var method: String?

    enum CodingKeys: String, CodingKey {
        case status, drop, delay, path, method
        case retryAfter = "retry_after", delayAfter = "delay_after", afterAccepting = "after_accepting"
    }

    public init(status: Int? = nil, retryAfter: Double? = nil, drop: Bool? = nil, delay: Double? = nil,
                delayAfter: Double? = nil, afterAccepting: Bool? = nil, path: String? = nil, method: String? = nil) {
        self.delayAfter = delayAfter
        self.afterAccepting = afterAccepting
        self.status = status
        self.retryAfter = retryAfter
        self.drop = drop
        self.delay = delay
        self.path = path
        self.method = method
    }
}

/// Decides, request by request, whether to misbehave: scripted faults first (in order),
/// then the configured random rates.
final class FaultInjector: Sendable {
    private struct State {
        var rates: FaultRates
        var random: SplitMix64
        var script: [Fault] = []
    }
    private let state: Mutex<State>

    init(rates: FaultRates) {
        state = Mutex(State(rates: rates, random: SplitMix64(seed: rates.seed)))
    }

    func configure(rates: FaultRates?, script: [Fault]?) {
        state.withLock {
            if let rates {
                $0.rates = rates
                $0.random = SplitMix64(seed: rates.seed)
            }
            if let script { $0.script = script }
        }
    }

    /// The fault for this request, if any.
    func fault(method: String, path: String) -> Fault? {
        state.withLock { state in
            if let index = state.script.firstIndex(where: {
                ($0.path.map { path.hasPrefix($0) } ?? true) && ($0.method.map { $0 == method } ?? true)
            }) {
                return state.script.remove(at: index)
            }
            let rates = state.rates
            let roll = Double(state.random.next() >> 11) / Double(1 << 53)
            var edge = 0.0
            for (rate, status) in [(rates.rateLimited, 429), (rates.serverError, 500), (rates.badGateway, 502),
                                   (rates.gatewayTimeout, 504)] {
                edge += rate
                if roll < edge {
                    // A gateway's 502/504 to a submit may come after the service took the job.
                    let submit = method == "POST" && path.hasPrefix("/v2/") && !path.hasPrefix("/v2/requests")
                    let accepted = submit && [502, 504].contains(status) && (rates.gatewayAccepts ?? 0) > 0
                        && Double(state.random.next() >> 11) / Double(1 << 53) < (rates.gatewayAccepts ?? 0)
                    return Fault(status: status, retryAfter: status == 429 ? rates.retryAfter : nil, afterAccepting: accepted ? true : nil)
                }
            }
            edge += rates.dropConnection
            if roll < edge { return Fault(drop: true) }
            edge += rates.slow
            if roll < edge { return Fault(delay: rates.slowDelay) }
            return nil
        }
    }
}
