import Foundation
import Hummingbird
import NIOPosix
import SeedanceAPI

/// The HTTP surface: Segmind's paths, plus `/files/` and `/_emulator/`.
struct EmulatorRoutes: Sendable {
    let state: EmulatorState
    let faults: FaultInjector
    let files: URL
    let configuration: EmulatorConfiguration

    private var fallbackBase: String { "http://\(configuration.host):\(configuration.port)" }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        if configuration.identifiesAsEmulator { router.add(middleware: IdentityMiddleware()) }
        router.add(middleware: FaultMiddleware(faults: faults, state: state, clock: configuration.clock))
        router.add(middleware: AuthMiddleware(apiKey: configuration.apiKey, state: state))
        if let limit = configuration.requestsPerWindow {
            router.add(middleware: RateLimitMiddleware(limit: limit, window: configuration.rateWindow, state: state, clock: configuration.clock))
        }

        router.post("/v2/:model") { request, context in try await submit(request, context: context) }
        router.get("/v2/requests/:id/status") { _, context in await status(context.parameters.get("id") ?? "", result: false) }
        router.get("/v2/requests/:id") { _, context in await status(context.parameters.get("id") ?? "", result: true) }
        router.post("/v1/:model") { request, context in try await runSync(request, context: context) }
        router.post("/upload-asset") { request, _ in try await upload(request) }
        router.get("/inference-request/request-history/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let entry = await state.historyEntry(id) else {
                return Responses.error(.notFound, "Request not found: \(id)")
            }
            return Responses.json(.ok, entry)
        }
        router.get("/inference-request/request-history") { request, _ in await history(request) }
        router.get("/files/:name") { request, context in
            try await file(context.parameters.get("name") ?? "", range: request.headers[.range], context: context)
        }
        router.get("/_emulator/stats") { _, _ in Responses.json(.ok, await state.currentStats) }
        if configuration.identifiesAsEmulator {
            router.get("/_emulator/identity") { _, _ in
                Responses.json(.ok, EmulatorIdentity(emulator: "seedpipe", pricePerSecond: configuration.pricePerSecond,
                                                                 pricesByResolution: configuration.pricesByResolution.isEmpty ? nil : configuration.pricesByResolution))
            }
        }
        router.post("/_emulator/faults") { request, _ in
            struct Body: Decodable {
                var rates: FaultRates?
                var script: [Fault]?
            }
            let buffer = try await request.body.collect(upTo: 1 << 20)
            guard let body = try? JSONDecoder().decode(Body.self, from: Data(buffer: buffer)) else {
                return Responses.error(.badRequest, "expected {\"rates\": {…}, \"script\": [{…}]}")
            }
            faults.configure(rates: body.rates, script: body.script)
            return Responses.json(.ok, ["ok": .bool(true)])
        }
        return router
    }

    // MARK: Generation

    /// Reads and checks a generation body; the response is the 400/404 to send when it is not acceptable.
    private func generation(_ request: Request, context: BasicRequestContext) async throws
        -> Result<(GenerationRequest, JSONValue), Rejection>
    {
        let model = context.parameters.get("model") ?? ""
        guard model == GenerationRequest.model else {
            return .failure(Rejection(Responses.error(.notFound, "Model not found: \(model)")))
        }
        let buffer = try await request.body.collect(upTo: 16 << 20)
        let data = Data(buffer: buffer)
        guard let raw = try? JSONDecoder().decode(JSONValue.self, from: data), case .object = raw else {
            return .failure(Rejection(Responses.error(.badRequest, "Bad request: the body must be a JSON object of parameters")))
        }
        let parsed: GenerationRequest
        do {
            parsed = try JSONDecoder().decode(GenerationRequest.self, from: data)
        } catch let error as DecodingError {
            return .failure(Rejection(Responses.error(.badRequest, "Bad request: \(Self.describe(error))")))
        }
        let problems = parsed.problems()
        guard problems.isEmpty else {
            let list = JSONValue.array(problems.map {
                .object(["parameter": .string($0.parameter), "message": .string($0.message)])
            })
            return .failure(Rejection(Responses.error(
                .badRequest, "Bad request: " + problems.map(\.description).joined(separator: "; "), extra: ["problems": list])))
        }
        return .success((parsed, raw))
    }

    struct Rejection: Error { let response: Response; init(_ response: Response) { self.response = response } }

    private func submit(_ request: Request, context: BasicRequestContext) async throws -> Response {
        switch try await generation(request, context: context) {
        case .failure(let rejection):
            await state.count { $0.rejected += 1 }
            return rejection.response
        case .success(let (parsed, raw)):
            if let shortfall = await state.shortfall(for: parsed) {
                await state.count { $0.rejected += 1 }
                return Responses.error(.notAcceptable, shortfall)
            }
            let base = Responses.baseURL(of: request, fallback: fallbackBase)
            let job = await state.submit(parsed, body: raw, baseURL: base)
            let requests = "\(base)/v2/requests/\(job.id)"
            return Responses.json(.ok, [
                "request_id": .string(job.id), "status_url": .string("\(requests)/status"),
                "response_url": .string(requests), "status": .string(JobState.queued.rawValue),
            ])
        }
    }

    private func status(_ id: String, result: Bool) async -> Response {
        guard let job = await state.job(id) else {
            return Responses.error(.notFound, "Request not found or expired: \(id) (results are kept for \(configuration.retention))")
        }
        // A FAILED request is served as 422, its body still announcing the state and the error.
        return Responses.json(job.state == .failed ? .unprocessableContent : .ok, result ? job.resultBody : job.statusBody)
    }

    private func runSync(_ request: Request, context: BasicRequestContext) async throws -> Response {
        switch try await generation(request, context: context) {
        case .failure(let rejection):
            await state.count { $0.rejected += 1 }
            return rejection.response
        case .success(let (parsed, raw)):
            if let shortfall = await state.shortfall(for: parsed) {
                await state.count { $0.rejected += 1 }
                return Responses.error(.notAcceptable, shortfall)
            }
            let job = await state.runNow(parsed, body: raw, baseURL: Responses.baseURL(of: request, fallback: fallbackBase))
            guard job.state == .completed, let video = job.video,
                  FileManager.default.fileExists(atPath: files.appendingPathComponent(video).path)
            else {
                return Responses.error(.unprocessableContent, job.error ?? "Generation failed", extra: ["status": .string("FAILED")])
            }
            return try await file(video, range: nil, truncatable: false, context: context)
        }
    }

    // MARK: Storage and history

    private func upload(_ request: Request) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 100 << 20)
        struct Body: Decodable { var data_urls: [String] }
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(buffer: buffer)), !body.data_urls.isEmpty else {
            await state.count { $0.rejected += 1 }
            return Responses.error(.badRequest, "Bad request: expected {\"data_urls\": [\"data:<type>;base64,…\"]}")
        }
        let base = Responses.baseURL(of: request, fallback: fallbackBase)
        var urls: [JSONValue] = []
        for (index, dataURL) in body.data_urls.enumerated() {
            guard dataURL.hasPrefix("data:"), let comma = dataURL.firstIndex(of: ","),
                  dataURL[..<comma].hasSuffix(";base64"),
                  let bytes = Data(base64Encoded: String(dataURL[dataURL.index(after: comma)...]))
            else {
                await state.count { $0.rejected += 1 }
                return Responses.error(.badRequest, "Bad request: data_urls[\(index)] is not a base64 data URL")
            }
            let mime = String(dataURL.dropFirst(5).prefix { $0 != ";" })
            let ext = switch mime {
            case "image/png": "png"
            case "image/jpeg": "jpg"
            case "image/webp": "webp"
            case "video/mp4": "mp4"
            case "audio/mpeg": "mp3"
            case "audio/wav": "wav"
            case "audio/mp4": "m4a"
            case "audio/ogg": "ogg"
            case "video/quicktime": "mov"
            case "video/webm": "webm"
            default: "bin"
            }
            let name = "asset-\(ClipRenderer.digest(dataURL)).\(ext)"
            let target = files.appendingPathComponent(name)
            try await NIOThreadPool.singleton.runIfActive { try bytes.write(to: target, options: .atomic) }
            urls.append(.string("\(base)/files/\(name)"))
        }
        await state.count { $0.uploads += urls.count }
        return Responses.json(.ok, ["file_urls": .array(urls), "message": .string("Files uploaded successfully")])
    }

    private func history(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        let page = query.get("page").flatMap { Int($0) } ?? 1
        let perPage = query.get("per_page").flatMap { Int($0) } ?? 20
        guard page >= 1 else { return Responses.error(.badRequest, "Bad request: page must be 1 or more") }
        guard (1...100).contains(perPage) else { return Responses.error(.badRequest, "Bad request: per_page must be 1 to 100") }
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "UTC")
        day.dateFormat = "yyyy-MM-dd"
        let today = day.date(from: day.string(from: configuration.clock.date))!
        func date(_ name: String) -> Result<Date?, Rejection> {
            guard let text = query.get(name) else { return .success(nil) }
            guard let value = day.date(from: String(text)) else {
                return .failure(Rejection(Responses.error(.badRequest, "Bad request: \(name) must be YYYY-MM-DD")))
            }
            return .success(value)
        }
        let from: Date, to: Date
        switch (date("from_date"), date("to_date")) {
        case (.failure(let rejection), _), (_, .failure(let rejection)):
            return rejection.response
        case (.success(let start), .success(let end)):
            to = end ?? today
            from = start ?? to.addingTimeInterval(-7 * 86_400)
        }
        guard from <= to, to.timeIntervalSince(from) <= 31 * 86_400 else {
            return Responses.error(.badRequest, "Bad request: the window from from_date to to_date must be 0 to 31 days")
        }
        let model = query.get("model_name").map { String($0) }
        let status = query.get("status").map { String($0) }
        let formatter = ISO8601DateFormatter()
        let end = to.addingTimeInterval(86_400)
        let rows = await state.history().filter { entry in
            guard let created = entry.createdAt.flatMap(formatter.date(from:)), created >= from, created < end else { return false }
            if let model, !(entry.modelName ?? "").contains(model) { return false }
            if let status, entry.modelStatus != status { return false }
            return true
        }
        let pageRows = Array(rows.dropFirst((page - 1) * perPage).prefix(perPage))
        return Responses.json(.ok, HistoryPage(data: pageRows, page: page, perPage: perPage, total: rows.count))
    }

    /// A rendered clip, frame or upload, streamed from disk by Hummingbird's FileIO (on NIO's
    /// thread pool, never a whole-file read on the cooperative pool).
    /// A rendered file: whole, or from `bytes=START-` (206) for a client resuming a cut-off
    /// download; with `truncateRate`, a file's first download may stop halfway, the
    /// connection closed (once per file, so a client that resumes or starts over gets it).
    private func file(_ name: String, range: String?, truncatable: Bool = true, context: BasicRequestContext) async throws -> Response {
        let path = files.appendingPathComponent(name).path
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), FileManager.default.fileExists(atPath: path) else {
            return Responses.error(.notFound, "File not found: \(name)")
        }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        var start = 0
        if configuration.honoursRange, let range, range.hasPrefix("bytes="), range.hasSuffix("-"), let from = Int(range.dropFirst(6).dropLast()), from < size {
            start = from
        }
        var headers: HTTPFields = [.contentType: Responses.contentType(ofFile: name), .acceptRanges: "bytes",
                                   .contentLength: String(size - start)]
        if start > 0 { headers[.contentRange] = "bytes \(start)-\(size - 1)/\(size)" }
        let status: HTTPResponse.Status = start > 0 ? .partialContent : .ok
        if truncatable, configuration.truncateRate > 0, size - start > 1, await state.cutOnce(name, rate: configuration.truncateRate) {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let half = data[start..<(start + (size - start) / 2)]
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: half))
                throw TruncatedOnPurpose()
            })
        }
        let body = start > 0 ? try await FileIO().loadFile(path: path, range: start...(size - 1), context: context)
            : try await FileIO().loadFile(path: path, context: context)
        return Response(status: status, headers: headers, body: body)
    }

    /// Ends a body early: the server closes the connection mid-answer.
    struct TruncatedOnPurpose: Error {}

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context, key)): is required"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let expected = type == Int.self ? "an integer" : type == Bool.self ? "true or false"
                : type == String.self ? "a string" : type == [String].self ? "a list of URLs" : "\(type)"
            return "\(path(context)): must be \(expected)"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
