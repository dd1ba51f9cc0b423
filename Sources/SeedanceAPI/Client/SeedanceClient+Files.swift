import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension SeedanceClient {
    /// `POST /v1/seedance-2.0-mini`: one blocking generation whose answer is the MP4 itself,
    /// streamed to `destination` (billable, so retried only when nothing can have been sent).
    public func runSync(_ request: GenerationRequest, to destination: URL, maximumBytes: Int = 2 << 30) async throws -> Int {
        let body = try JSONEncoder().encode(try request.validated())
        let url = endpoints.api.appendingPathComponent("v1").appendingPathComponent(modelPath)
        return try await stream(.POST, url, json: body, mode: .billable, to: destination, maximumBytes: maximumBytes,
                                what: "sync generation")
    }

    /// Uploads local files through the storage API (as data URLs) and returns their URLs, in order.
    public func upload(_ files: [URL]) async throws -> [String] {
        var dataURLs: [String] = []
        for file in files {
            let data: Data
            do {
                data = try Data(contentsOf: file)
            } catch {
                throw SeedanceError(.fileError, "cannot read \(file.relativePath) to upload it", underlying: error.localizedDescription)
            }
            dataURLs.append("data:\(Self.mimeType(of: file));base64,\(data.base64EncodedString())")
        }
        let body = try JSONEncoder().encode(["data_urls": dataURLs])
        let url = endpoints.storage.appendingPathComponent("upload-asset")
        let reply = try await send(.POST, url, json: body, mode: .idempotent, what: "upload")
        guard reply.isSuccess else { throw failure(reply, what: "upload") }
        let result = try decode(UploadResult.self, from: reply, what: "upload")
        guard result.fileURLs.count == files.count else {
            throw SeedanceError(.invalidResponse, "upload answered \(result.fileURLs.count) URLs for \(files.count) files")
        }
        return result.fileURLs
    }

    /// One of the caller's own requests, of any age, from request history.
    public func historyEntry(requestID: String) async throws -> HistoryEntry {
        let url = historyURL.appendingPathComponent(requestID)
        let reply = try await send(.GET, url, mode: .idempotent, what: "request history of \(requestID)")
        guard reply.isSuccess else { throw failure(reply, what: "request history of \(requestID)", requestID: requestID) }
        return try decode(HistoryEntry.self, from: reply, what: "request history")
    }

    /// Lists requests, newest first, over a window of at most 31 days (`YYYY-MM-DD` dates).
    public func history(
        page: Int = 1, perPage: Int = 20, from: String? = nil, to: String? = nil,
        modelName: String? = GenerationRequest.model, status: String? = nil
    ) async throws -> HistoryPage {
        guard (1...100).contains(perPage) else {
            throw SeedanceError.invalidRequest([ParameterProblem("per_page", "must be 1 to 100 (got \(perPage))")])
        }
        var components = URLComponents(url: historyURL, resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "page", value: String(page)), URLQueryItem(name: "per_page", value: String(perPage))]
            + [("from_date", from), ("to_date", to), ("model_name", modelName), ("status", status)]
            .compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        let reply = try await send(.GET, components.url!, mode: .idempotent, what: "request history")
        guard reply.isSuccess else { throw failure(reply, what: "request history") }
        return try decode(HistoryPage.self, from: reply, what: "request history")
    }

    /// Downloads an output to `destination`, streamed, at most `maximumBytes`; the file
    /// appears whole (synced, then renamed into place) or not at all.
    @discardableResult
    public func download(_ address: String, to destination: URL, maximumBytes: Int = 2 << 30) async throws -> Int {
        guard let url = URL(string: address), url.host != nil else {
            throw SeedanceError(.invalidResponse, "cannot download \(address): not an absolute URL")
        }
        return try await stream(.GET, url, mode: .idempotent, to: destination, maximumBytes: maximumBytes, what: "download")
    }

    var historyURL: URL {
        endpoints.history.appendingPathComponent("inference-request").appendingPathComponent("request-history")
    }

    /// Sends a request whose successful answer is a file, writing it beside `destination`
    /// and renaming it into place once complete.
    private func stream(
        _ method: HTTPMethod, _ url: URL, json: Data? = nil, mode: RetryMode, to destination: URL, maximumBytes: Int,
        what: String
    ) async throws -> Int {
        let folder = destination.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw SeedanceError(.fileError, "cannot write \(destination.relativePath): the folder does not exist")
        }
        let partial = folder.appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString.prefix(8)).partial")
        defer { try? FileManager.default.removeItem(at: partial) }
        var written = 0
        let reply = try await retrying(mode: mode, what: what, url: url) {
            // A download cut off midway resumes from the bytes already written (a GET only).
            var request = try makeRequest(method, url, json: json)
            let resuming = written > 0 && method == .GET
            if resuming { request.headers.add(name: "range", value: "bytes=\(written)-") }
            let response = try await http.execute(request, timeout: .init(downloadTimeout))
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                return Reply(status: status, headers: response.headers, body: try await response.body.collect(upTo: 1 << 20))
            }
            // 206: the rest follows what is on disk; 200: the server ignored Range, so start over.
            let appending = resuming && status == 206
            if !appending { written = 0 }
            let length = response.headers.first(name: "content-length").flatMap(Int.init)
            let expected = length.map { $0 + written }
            if let expected, expected > maximumBytes {
                throw SeedanceError(.downloadTooLarge, "\(what) of \(url.lastPathComponent) is \(expected) bytes, over the cap of \(maximumBytes)")
            }
            if !appending { FileManager.default.createFile(atPath: partial.path, contents: nil) }
            guard let handle = try? FileHandle(forWritingTo: partial) else {
                throw SeedanceError(.fileError, "cannot write \(partial.relativePath)")
            }
            defer { try? handle.close() }
            try handle.truncate(atOffset: UInt64(written))
            try handle.seekToEnd()
            for try await buffer in response.body {
                written += buffer.readableBytes
                if written > maximumBytes {
                    throw SeedanceError(.downloadTooLarge, "\(what) of \(url.lastPathComponent) passed the cap of \(maximumBytes) bytes")
                }
                try handle.write(contentsOf: buffer.readableBytesView)
            }
            try handle.synchronize()
            // A body that ended short of its announced length is torn: fetched again (resumed), never used.
            if let expected, written != expected { throw TornDownload(got: written, expected: expected) }
            return Reply(status: status, headers: response.headers, body: ByteBuffer())
        }
        guard reply.isSuccess else { throw failure(reply, what: what) }
        do {
            _ = try? FileManager.default.removeItem(at: destination)
            try FileManager.default.moveItem(at: partial, to: destination)
        } catch {
            throw SeedanceError(.fileError, "cannot move the download into \(destination.relativePath)",
                                underlying: error.localizedDescription)
        }
        return written
    }

    static func mimeType(of file: URL) -> String {
        switch file.pathExtension.lowercased() {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        case "gif": "image/gif"
        case "mp4", "m4v": "video/mp4"
        case "mov": "video/quicktime"
        case "webm": "video/webm"
        case "mp3": "audio/mpeg"
        case "wav": "audio/wav"
        case "m4a", "aac": "audio/mp4"
        case "ogg": "audio/ogg"
        default: "application/octet-stream"
        }
    }
}

/// A download whose body ended before its announced length (retried, resuming).
struct TornDownload: Error, CustomStringConvertible {
    var got: Int
    var expected: Int
    var description: String { "the download ended after \(got) of \(expected) bytes" }
}
