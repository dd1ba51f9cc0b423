/// What `POST /v2/seedance-2.0-mini` answers: the handle of a queued generation.
public struct SubmittedJob: Codable, Sendable, Hashable {
    public var requestID: String
    /// Absolute URL of `GET /v2/requests/{id}/status`.
    public var statusURL: String
    /// Absolute URL of `GET /v2/requests/{id}`.
    public var responseURL: String

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case statusURL = "status_url"
        case responseURL = "response_url"
    }

    public init(requestID: String, statusURL: String, responseURL: String) {
        self.requestID = requestID
        self.statusURL = statusURL
        self.responseURL = responseURL
    }
}

/// The states of a v2 request.
public enum JobState: String, Codable, Sendable, Hashable {
    case queued = "QUEUED"
    case processing = "PROCESSING"
    case completed = "COMPLETED"
    case failed = "FAILED"

    public var isTerminal: Bool { self == .completed || self == .failed }
}

/// The body of `GET /v2/requests/{id}/status`.
public struct JobStatus: Sendable, Hashable {
    public var state: JobState
    /// The server's reason, for FAILED.
    public var error: String?
    /// The whole body, as sent.
    public var body: JSONValue

    public init(state: JobState, error: String? = nil, body: JSONValue) {
        self.state = state
        self.error = error
        self.body = body
    }

    /// Reads a status body; an unknown state string counts as still queued.
    init?(body: JSONValue) {
        guard let status = body["status"]?.string else { return nil }
        self.init(state: JobState(rawValue: status) ?? .queued, error: body["error"]?.string, body: body)
    }
}

/// The body of `GET /v2/requests/{id}`: the outcome of a generation.
public struct JobResult: Sendable, Hashable {
    public var state: JobState
    /// The video's URL, for COMPLETED.
    public var output: String?
    /// The final frame's image URL, when `return_last_frame` was asked for.
    public var lastFrameURL: String?
    public var error: String?
    /// The whole body, as sent (model-specific keys such as `metrics` included).
    public var body: JSONValue

    /// What the generation was billed, USD (`metrics.cost`), when the service says.
    public var cost: Double? { body["metrics"]?["cost"]?.number }
    /// The account's balance after it, USD (`metrics.remaining_credits`).
    public var remainingCredits: Double? { body["metrics"]?["remaining_credits"]?.number }

    public init(state: JobState, output: String? = nil, lastFrameURL: String? = nil, error: String? = nil,
                body: JSONValue) {
        self.state = state
        self.output = output
        self.lastFrameURL = lastFrameURL
        self.error = error
        self.body = body
    }

    init?(body: JSONValue) {
        guard let status = body["status"]?.string else { return nil }
        // The output is a URL string, or a list whose first item is one.
        let output = body["output"]?.string ?? body["output"]?.array?.first?.string
        self.init(state: JobState(rawValue: status) ?? .queued, output: output,
                  lastFrameURL: body["last_frame_url"]?.string ?? body["last_frame"]?.string,
                  error: body["error"]?.string, body: body)
    }
}
