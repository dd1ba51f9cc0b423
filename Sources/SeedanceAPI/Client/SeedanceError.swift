/// The one error type of the Seedance client. It never carries the API key.
public struct SeedanceError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidRequest, badRequest, unauthorized, insufficientCredits, modelRetired, forbidden, notFound
            case rateLimited, serverError, badGateway, gatewayTimeout, httpStatus
            case inferenceFailed, timedOut, connectionFailed, submitOutcomeUnknown, invalidResponse
            case downloadTooLarge, fileError
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The request breaks the API's rules; `problems` lists each (nothing was sent).
        public static let invalidRequest = Code(.invalidRequest)
        /// 400: the server rejected the parameters or format.
        public static let badRequest = Code(.badRequest)
        /// 401: missing or invalid API key.
        public static let unauthorized = Code(.unauthorized)
        /// 402: not enough credits.
        public static let insufficientCredits = Code(.insufficientCredits)
        /// 410: the model was retired (nothing is charged); no request to it can succeed.
        public static let modelRetired = Code(.modelRetired)
        /// 403: not allowed.
        public static let forbidden = Code(.forbidden)
        /// 404: unknown model or endpoint, or an unknown or expired request id.
        public static let notFound = Code(.notFound)
        /// 429: too many requests (after the retries).
        public static let rateLimited = Code(.rateLimited)
        /// 500.
        public static let serverError = Code(.serverError)
        /// 502.
        public static let badGateway = Code(.badGateway)
        /// 504.
        public static let gatewayTimeout = Code(.gatewayTimeout)
        /// Any other non-success HTTP status.
        public static let httpStatus = Code(.httpStatus)
        /// The generation ended FAILED (moderation blocks included); `message` has the server's reason.
        public static let inferenceFailed = Code(.inferenceFailed)
        /// `wait` gave up; the request still runs server-side: poll it again by `requestID`.
        public static let timedOut = Code(.timedOut)
        /// The server could not be reached (after the retries).
        public static let connectionFailed = Code(.connectionFailed)
        /// A submit was sent but no answer came back: it may have been accepted and billed.
        /// It is never re-sent blindly; reconcile through request history first.
        public static let submitOutcomeUnknown = Code(.submitOutcomeUnknown)
        /// The server answered with something that is not what the API promises.
        public static let invalidResponse = Code(.invalidResponse)
        /// A download was larger than its cap.
        public static let downloadTooLarge = Code(.downloadTooLarge)
        /// A local file could not be read or written.
        public static let fileError = Code(.fileError)

        public var description: String { base.rawValue }

        /// The code for an HTTP status.
        public static func forHTTPStatus(_ status: Int) -> Code {
            switch status {
            case 400: .badRequest
            case 401: .unauthorized
            case 402, 406: .insufficientCredits
            case 410: .modelRetired
            case 403: .forbidden
            case 404: .notFound
            case 429: .rateLimited
            case 500: .serverError
            case 502: .badGateway
            case 504: .gatewayTimeout
            default: .httpStatus
            }
        }
    }

    public var code: Code
    /// What went wrong, in words a person can act on.
    public var message: String
    /// The HTTP status, when the server answered.
    public var httpStatus: Int?
    /// The request concerned, when known (keep it to poll again or to look it up in history).
    public var requestID: String?
    /// Each broken rule, for `.invalidRequest` (and a 400 that names them).
    public var problems: [ParameterProblem]
    /// What went wrong underneath (a transport error), as text.
    public var underlying: String?

    public init(_ code: Code, _ message: String, httpStatus: Int? = nil, requestID: String? = nil,
                problems: [ParameterProblem] = [], underlying: String? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.requestID = requestID
        self.problems = problems
        self.underlying = underlying
    }

    static func invalidRequest(_ problems: [ParameterProblem]) -> SeedanceError {
        SeedanceError(.invalidRequest, "the request breaks \(problems.count == 1 ? "a rule" : "\(problems.count) rules") of the API: "
                          + problems.map(\.description).joined(separator: "; "), problems: problems)
    }

    public var description: String {
        var text = message
        if let httpStatus, !message.contains("HTTP \(httpStatus)") { text += " (HTTP \(httpStatus))" }
        if let requestID, !message.contains(requestID) { text += " [request \(requestID)]" }
        if let underlying { text += ": \(underlying)" }
        return text
    }
}
