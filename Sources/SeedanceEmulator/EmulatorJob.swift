import Foundation
import SeedanceAPI

/// One generation the emulator has accepted.
struct EmulatorJob: Sendable {
    let id: String
    let request: GenerationRequest
    /// The body exactly as it came in, for request history.
    let body: JSONValue
    /// `http://host:port` as the client reached it, for the absolute URLs it is given.
    let baseURL: String
    let submittedAt: Date
    /// The seed used: the request's, or a random one for -1.
    let seed: Int
    var state: JobState = .queued
    var startedAt: Date?
    var finishedAt: Date?
    var video: String?
    var lastFrame: String?
    var error: String?
    /// What it was billed (completed only), and the balance after it.
    var cost: Double?
    var remainingCredits: Double?

    func fileURL(_ name: String) -> String { "\(baseURL)/files/\(name)" }

    var isPending: Bool { !state.isTerminal }

    /// The body of `GET /v2/requests/{id}/status`.
    var statusBody: [String: JSONValue] {
        var body: [String: JSONValue] = ["status": .string(state.rawValue), "request_id": .string(id)]
        if let error { body["error"] = .string(error) }
        return body
    }

    /// The body of `GET /v2/requests/{id}`.
    var resultBody: [String: JSONValue] {
        var body = statusBody
        if let video { body["output"] = .string(fileURL(video)) }
        if let lastFrame { body["last_frame_url"] = .string(fileURL(lastFrame)) }
        if let startedAt, let finishedAt {
            body["metrics"] = .object([
                "queue_time": .number(startedAt.timeIntervalSince(submittedAt)),
                "inference_time": .number(finishedAt.timeIntervalSince(startedAt)),
            ].merging([("cost", cost.map(JSONValue.number)), ("remaining_credits", remainingCredits.map(JSONValue.number))]
                .compactMap { key, value in value.map { (key, $0) } }, uniquingKeysWith: { $1 }))
        }
        return body
    }

    /// Its history row; `price` is what it costs once completed, when no cost was recorded.
    func historyEntry(price: Double) -> HistoryEntry {
        let formatter = ISO8601DateFormatter()
        let status = state == .completed ? "COMPLETED" : state == .failed ? "FAILED" : "PENDING"
        return HistoryEntry(
            requestID: id, modelName: GenerationRequest.model, modelStatus: status,
            creditsDeduction: state == .completed ? cost ?? price : 0,
            requestBody: body, generationURL: video.map(fileURL),
            latencyMilliseconds: finishedAt.map { Int($0.timeIntervalSince(submittedAt) * 1000) },
            createdAt: formatter.string(from: submittedAt), updatedAt: (finishedAt ?? startedAt).map(formatter.string(from:)),
            error: error)
    }
}
