import Foundation
import AsyncHTTPClient
import NIOFoundationCompat
import NIOCore
import NIOHTTP1

extension SeedanceClient {
    /// `POST /v2/seedance-2.0-mini`: queues one generation (billable). The request is
    /// checked first and nothing is sent if it breaks a rule.
    public func submit(_ request: GenerationRequest) async throws -> SubmittedJob {
        let body = try JSONEncoder().encode(try request.validated())
        let url = endpoints.api.appendingPathComponent("v2").appendingPathComponent(modelPath)
        let reply = try await send(.POST, url, json: body, mode: .billable, what: "submit")
        guard reply.isSuccess else { throw failure(reply, what: "submit") }
        let json = reply.json
        guard let id = json?["request_id"]?.string, !id.isEmpty, let status = json?["status_url"]?.string,
              let response = json?["response_url"]?.string, URL(string: status)?.host != nil,
              URL(string: response)?.host != nil
        else {
            // The server took it (2xx) but the handle is broken: say what came back, and the id if any.
            throw SeedanceError(
                .invalidResponse,
                "submit answered HTTP \(reply.status) without request_id, status_url and response_url (absolute URLs); got keys: "
                    + (json.flatMap { if case .object(let o) = $0 { o.keys.sorted().joined(separator: ", ") } else { nil } } ?? "none"),
                httpStatus: reply.status, requestID: json?["request_id"]?.string)
        }
        logger.info("submitted \(id)")
        return SubmittedJob(requestID: id, statusURL: status, responseURL: response)
    }

    /// The handle of an earlier request, from its id alone (to poll again after a restart).
    public func job(requestID: String) -> SubmittedJob {
        let requests = endpoints.api.appendingPathComponent("v2").appendingPathComponent("requests")
            .appendingPathComponent(requestID)
        return SubmittedJob(requestID: requestID, statusURL: requests.appendingPathComponent("status").absoluteString,
                            responseURL: requests.absoluteString)
    }

    /// `GET /v2/requests/{id}/status`. A FAILED body (served as 422) is a valid answer.
    public func status(of job: SubmittedJob) async throws -> JobStatus {
        let reply = try await fetchTerminalTolerant(job.statusURL, what: "status of \(job.requestID)", requestID: job.requestID)
        guard let status = reply.json.flatMap(JobStatus.init(body:)) else {
            throw SeedanceError(.invalidResponse, "status of \(job.requestID): the answer has no status",
                                httpStatus: reply.status, requestID: job.requestID)
        }
        return status
    }

    /// `GET /v2/requests/{id}`: the final body. A FAILED body (served as 422) is a valid answer.
    public func result(of job: SubmittedJob) async throws -> JobResult {
        let reply = try await fetchTerminalTolerant(job.responseURL, what: "result of \(job.requestID)", requestID: job.requestID)
        guard let result = reply.json.flatMap(JobResult.init(body:)) else {
            throw SeedanceError(.invalidResponse, "result of \(job.requestID): the answer has no status",
                                httpStatus: reply.status, requestID: job.requestID)
        }
        return result
    }

    /// Polls until the generation completes and returns its result.
    /// - Throws: `.inferenceFailed` when it ends FAILED (moderation included), with the
    ///   server's reason; `.timedOut` after `timeout`, carrying the request id: the
    ///   generation still runs server-side and can be waited for again.
    public func wait(
        for job: SubmittedJob, timeout: Duration = .seconds(600), interval: Duration = .seconds(2),
        onUpdate: (@Sendable (JobState, Duration) -> Void)? = nil
    ) async throws -> JobResult {
        let start = clock.now
        while true {
            let status = try await status(of: job)
            let elapsed = clock.now - start
            onUpdate?(status.state, elapsed)
            switch status.state {
            case .completed:
                return try await result(of: job)
            case .failed:
                throw SeedanceError(.inferenceFailed,
                                    "generation \(job.requestID) failed: \(scrub(status.error ?? "no reason given"))",
                                    requestID: job.requestID)
            case .queued, .processing:
                guard elapsed + interval <= timeout else {
                    throw SeedanceError(
                        .timedOut,
                        "generation \(job.requestID) did not finish within \(timeout); it keeps running on the server, wait for it again by its request id",
                        requestID: job.requestID)
                }
                try await clock.sleep(for: interval)
            }
        }
    }

    private func fetchTerminalTolerant(_ address: String, what: String, requestID: String) async throws -> Reply {
        guard let url = URL(string: address), url.host != nil else {
            throw SeedanceError(.invalidResponse, "\(what): \(address) is not an absolute URL", requestID: requestID)
        }
        let reply = try await send(.GET, url, mode: .idempotent, what: what)
        if let state = reply.json?["status"]?.string.flatMap(JobState.init(rawValue:)), state.isTerminal {
            return reply
        }
        guard reply.isSuccess else { throw failure(reply, what: what, requestID: requestID) }
        return reply
    }
}

extension SeedanceClient {
    /// Whether the server at `base` is seedpipe's emulator, and what it bills: one GET of
    /// `/_emulator/identity`, no key sent, no retries. Decided by the answer, never by how
    /// soon it comes: the emulator says so in its body and in `x-seedpipe-emulator` on every
    /// response, and a busy machine's own `seedpipe serve` is waited for (up to two minutes,
    /// a deadline only a hung server reaches). nil for any other server (Segmind answers 404
    /// without the header), or one that cannot be reached.
    public func emulatorIdentity(at base: URL) async -> EmulatorIdentity? {
        var request = HTTPClientRequest(url: base.appendingPathComponent("_emulator").appendingPathComponent("identity").absoluteString)
        request.headers.add(name: "accept", value: "application/json")
        let limit: TimeAmount = Self.isLoopback(base) ? .seconds(120) : .seconds(30)
        guard let response = try? await http.execute(request, timeout: limit) else { return nil }
        let body = try? await response.body.collect(upTo: 1 << 16)
        if response.status.code == 200, let body, let identity = try? JSONDecoder().decode(EmulatorIdentity.self, from: body) {
            return identity
        }
        guard response.headers.first(name: EmulatorIdentity.header) == "1" else { return nil }
        return EmulatorIdentity(emulator: "seedpipe", pricePerSecond: 0)
    }
}
