/// One row of Segmind's request history: what was asked, what it cost, what came out.
/// It outlives the 1-hour v2 retention, which makes it the way to recover a paid output.
public struct HistoryEntry: Codable, Sendable, Hashable {
    public var requestID: String
    public var modelName: String?
    /// `COMPLETED`, `FAILED` or `PENDING`.
    public var modelStatus: String?
    /// Cost in USD.
    public var creditsDeduction: Double?
    /// The inputs as sent.
    public var requestBody: JSONValue?
    /// The output's URL.
    public var generationURL: String?
    public var latencyMilliseconds: Int?
    public var createdAt: String?
    public var updatedAt: String?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case modelName = "model_name"
        case modelStatus = "model_status"
        case creditsDeduction = "credits_deduction"
        case requestBody = "request_body"
        case generationURL = "generation_url"
        case latencyMilliseconds = "latency_ms"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case error
    }

    public init(requestID: String, modelName: String? = nil, modelStatus: String? = nil,
                creditsDeduction: Double? = nil, requestBody: JSONValue? = nil, generationURL: String? = nil,
                latencyMilliseconds: Int? = nil, createdAt: String? = nil, updatedAt: String? = nil,
                error: String? = nil) {
        self.requestID = requestID
        self.modelName = modelName
        self.modelStatus = modelStatus
        self.creditsDeduction = creditsDeduction
        self.requestBody = requestBody
        self.generationURL = generationURL
        self.latencyMilliseconds = latencyMilliseconds
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.error = error
    }
}

/// One page of the request-history listing, newest first.
public struct HistoryPage: Codable, Sendable, Hashable {
    public var data: [HistoryEntry]
    public var page: Int
    public var perPage: Int
    public var total: Int?

    enum CodingKeys: String, CodingKey {
        case data, page, total
        case perPage = "per_page"
    }

    public init(data: [HistoryEntry], page: Int, perPage: Int, total: Int?) {
        self.data = data
        self.page = page
        self.perPage = perPage
        self.total = total
    }
}

/// The storage API's answer to an upload.
public struct UploadResult: Codable, Sendable, Hashable {
    public var fileURLs: [String]
    public var message: String?

    enum CodingKeys: String, CodingKey {
        case fileURLs = "file_urls"
        case message
    }

    public init(fileURLs: [String], message: String?) {
        self.fileURLs = fileURLs
        self.message = message
    }
}
