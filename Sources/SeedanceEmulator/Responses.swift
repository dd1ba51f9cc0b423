import Foundation
import Hummingbird
import SeedanceAPI

/// Answers in Segmind's shapes: JSON bodies, errors under `error`.
enum Responses {
    static func json(_ status: HTTPResponse.Status, _ body: [String: JSONValue], headers: HTTPFields = [:]) -> Response {
        json(status, JSONValue.object(body), headers: headers)
    }

    static func json<T: Encodable>(_ status: HTTPResponse.Status, _ value: T, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, extra: [String: JSONValue] = [:],
                      headers: HTTPFields = [:]) -> Response {
        var body = extra
        body["error"] = .string(message)
        return json(status, body, headers: headers)
    }

    /// Headers promising a body that never comes: the client sees the connection close mid-answer.
    static func dropped() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: ResponseBody(contentLength: 4096) { _ in throw DroppedConnection() })
    }

    struct DroppedConnection: Error {}

    static func contentType(ofFile name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "mp4": "video/mp4"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        case "mp3": "audio/mpeg"
        case "wav": "audio/wav"
        default: "application/octet-stream"
        }
    }

    /// Where the client reached us, for absolute URLs.
    static func baseURL(of request: Request, fallback: String) -> String {
        if let authority = request.head.authority, !authority.isEmpty {
            return "http://\(authority)"
        }
        return fallback
    }
}
