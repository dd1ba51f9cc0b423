import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Pipeline
import Synchronization

/// A team's cache on an off-the-shelf HTTP server, in Bazel's remote-cache layout:
/// `GET`/`PUT`/`HEAD` on `URL/cas/SHA256` (an artifact's bytes) and `URL/ac/KEY` (seedpipe's
/// action record, JSON). Any server that stores bytes under those paths serves: nginx with
/// WebDAV `PUT`, bazel-remote (`--disable_http_ac_validation`), BuildBuddy-style caches.
///
/// Nothing it fetches is trusted: an object is hashed as it downloads and enters the local
/// store only when its digest matches; a record is used only when it decodes and every object
/// it names verifies. Anything else is a miss, reported once. A server that is down, slow or
/// refuses us turns the run local-only with one warning; the run goes on. Uploads happen in
/// the background (objects streamed from the local store, then the record that names them)
/// and ``flush()`` awaits them at the end of a run.
public final class RemoteCache: Sendable {
    /// What a machine does with the remote.
    public enum Mode: String, Sendable, CaseIterable {
        /// Look up and upload (the default).
        case readwrite
        /// Look up only (a CI machine that must not publish).
        case read
        /// Upload only.
        case write

        public var reads: Bool { self != .write }
        public var writes: Bool { self != .read }
    }

    public let url: URL
    public let mode: Mode
    /// `Authorization` header value (never logged, never in an error).
    private let authorization: String?
    private let client: HTTPClient
    private let warn: @Sendable (String) -> Void
    private let state = Mutex(State())

    private struct State {
        var down: String?
        var warned: Set<String> = []
        /// Objects whose remote bytes did not verify: uploaded again (over them) when made here.
        var bad: Set<String> = []
        var uploads: [Task<Void, Never>] = []
        var uploadedBytes = 0
        var uploadSeconds = 0.0
    }

    /// How long a record or a small answer may take; objects get `objectTimeout`.
    static let requestTimeout: TimeAmount = .seconds(10)
    static let objectTimeout: TimeAmount = .seconds(300)

    /// - Parameters:
    ///   - auth: `Bearer TOKEN`, `Basic BASE64`, or `USER:PASSWORD` (sent as Basic), as
    ///     `SEEDPIPE_REMOTE_CACHE_AUTH` gives it.
    ///   - warn: hears each problem once (a server down, an object that did not verify).
    public init(url: URL, mode: Mode = .readwrite, auth: String? = nil, warn: @escaping @Sendable (String) -> Void) {
        self.url = url
        self.mode = mode
        self.warn = warn
        if let auth, !auth.isEmpty {
            if auth.hasPrefix("Bearer ") || auth.hasPrefix("Basic ") {
                authorization = auth
            } else {
                authorization = "Basic " + Data(auth.utf8).base64EncodedString()
            }
        } else {
            authorization = nil
        }
        client = Self.sharedClient
    }

    /// One client for every remote cache of the process, never shut down (like
    /// `HTTPClient.shared`), with a short connect timeout: a cache that is down must not hold
    /// a run up for long (refused connections are retried until this passes).
    private static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// `SEEDPIPE_REMOTE_CACHE`, `SEEDPIPE_REMOTE_CACHE_AUTH` and a mode, when the URL is set.
    public static func fromEnvironment(mode: Mode = .readwrite, warn: @escaping @Sendable (String) -> Void) -> RemoteCache? {
        let environment = ProcessInfo.processInfo.environment
        guard let text = environment["SEEDPIPE_REMOTE_CACHE"], !text.isEmpty, let url = URL(string: text) else { return nil }
        return RemoteCache(url: url, mode: mode, auth: environment["SEEDPIPE_REMOTE_CACHE_AUTH"], warn: warn)
    }

    /// The address as shown: scheme, host and path, never a user or password in it.
    public var shown: String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.user = nil
        components?.password = nil
        return components?.string ?? url.host ?? "the remote cache"
    }

    /// Whether the remote is in use (not turned off by a failure in this process).
    public var available: Bool { state.withLock { $0.down == nil } }

    /// Bytes uploaded so far and the seconds their uploads took (for figures).
    public var uploaded: (bytes: Int, seconds: Double) { state.withLock { ($0.uploadedBytes, $0.uploadSeconds) } }

    // MARK: Reading

    /// The record under `key`, if the remote has one that decodes.
    func record(_ key: String) async -> ActionRecord? {
        guard mode.reads, available else { return nil }
        guard let data = await get(path("ac", key), limit: 16 << 20) else { return nil }
        guard let record = try? JSONDecoder.iso.decode(ActionRecord.self, from: data), record.key == key else {
            once("the remote cache's record \(key.prefix(12)) is not a valid action record; it is a miss, and is not used")
            return nil
        }
        return record
    }

    /// Downloads the object `digest` into `store` (hashed as it comes; adopted only when its
    /// digest matches). False when the remote does not have it, or has other bytes.
    func fetch(_ digest: String, into store: LocalArtifactStore) async -> Bool {
        guard mode.reads, available else { return false }
        let staging = store.stagingFile()
        defer { unlink(staging.path) }
        do {
            let response = try await client.execute(request(.GET, path("cas", digest)), timeout: Self.objectTimeout)
            guard response.status == .ok else {
                if response.status != .notFound { try await refuse(response) }
                return false
            }
            guard FileManager.default.createFile(atPath: staging.path, contents: nil),
                  let handle = try? FileHandle(forWritingTo: staging) else { return false }
            var hasher = SHA256()
            do {
                defer { try? handle.close() }
                for try await buffer in response.body {
                    let bytes = Data(buffer.readableBytesView)
                    hasher.update(data: bytes)
                    try handle.write(contentsOf: bytes)
                }
            }
            guard hasher.finalize().hex == digest else {
                state.withLock { _ = $0.bad.insert(digest) }
                once("the remote cache's object \(digest.prefix(12)) does not match its digest; it is a miss, and is not used")
                return false
            }
            try await BlockingIO.run { try store.adoptBlocking(staging, as: digest) }
            return true
        } catch {
            down(error)
            return false
        }
    }

    // MARK: Writing

    /// Uploads a record in the background, after the objects it names (each once: a HEAD
    /// first), so no other machine sees a record whose objects are not there yet.
    func upload(_ record: ActionRecord, objects: [Artifact], from store: LocalArtifactStore) {
        guard mode.writes, available else { return }
        let task = Task {
            for artifact in objects {
                guard await self.uploadObject(artifact, from: store) else { return }
            }
            guard let data = try? LocalActionCache.encoder.encode(record) else { return }
            _ = await self.put(self.path("ac", record.key), body: .bytes(ByteBuffer(data: data)), length: data.count)
        }
        state.withLock { $0.uploads.append(task) }
    }

    /// Waits for every upload started so far.
    public func flush() async {
        while let next = state.withLock({ state in state.uploads.isEmpty ? nil : state.uploads.removeFirst() }) {
            await next.value
        }
    }

    private func uploadObject(_ artifact: Artifact, from store: LocalArtifactStore) async -> Bool {
        let address = path("cas", artifact.digest)
        let bad = state.withLock { $0.bad.contains(artifact.digest) }
        if !bad, await head(address) { return true }
        guard let file = try? await store.verifiedLocation(of: artifact) else { return false }
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue ?? 0
        let started = ContinuousClock.now
        let ok = await put(address, body: .stream(FileChunks(file: file), length: .known(Int64(size))), length: size,
                           timeout: Self.objectTimeout)
        if ok {
            let elapsed = ContinuousClock.now - started
            state.withLock { state in
                state.uploadedBytes += size
                state.uploadSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
        }
        return ok
    }

    // MARK: HTTP

    private func path(_ kind: String, _ name: String) -> URL { url.appendingPathComponent(kind).appendingPathComponent(name) }

    private func request(_ method: HTTPMethod, _ address: URL) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: address.absoluteString)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        return request
    }

    private func get(_ address: URL, limit: Int) async -> Data? {
        do {
            let response = try await client.execute(request(.GET, address), timeout: Self.requestTimeout)
            guard response.status == .ok else {
                if response.status != .notFound { try await refuse(response) }
                return nil
            }
            return Data(buffer: try await response.body.collect(upTo: limit))
        } catch {
            down(error)
            return nil
        }
    }

    private func head(_ address: URL) async -> Bool {
        do {
            let response = try await client.execute(request(.HEAD, address), timeout: Self.requestTimeout)
            return response.status == .ok
        } catch {
            down(error)
            return false
        }
    }

    private func put(_ address: URL, body: HTTPClientRequest.Body, length: Int, timeout: TimeAmount = requestTimeout) async -> Bool {
        guard available else { return false }
        var request = request(.PUT, address)
        request.body = body
        do {
            let response = try await client.execute(request, timeout: timeout)
            guard (200..<300).contains(Int(response.status.code)) else {
                try await refuse(response)
                return false
            }
            return true
        } catch {
            down(error)
            return false
        }
    }

    /// A status that is neither success nor not-found: the remote is not usable as it is.
    private func refuse(_ response: HTTPClientResponse) async throws {
        let hint = [401, 403].contains(Int(response.status.code)) ? " (check SEEDPIPE_REMOTE_CACHE_AUTH)" : ""
        down(reason: "it answered HTTP \(response.status.code) \(response.status.reasonPhrase)\(hint)")
    }

    private func down(_ error: any Error) {
        let reason: String
        switch error {
        case let error as HTTPClientError where error == .connectTimeout || error == .deadlineExceeded || error == .readTimeout:
            reason = "it did not answer in time"
        case is HTTPClientError:
            reason = "\(error)"
        default:
            let text = "\(error)"
            reason = text.contains("refused") || text.contains("connectionRefused") ? "nothing listens there (connection refused)" : text
        }
        down(reason: reason)
    }

    /// Turns the remote off for the rest of this process, with one warning.
    private func down(reason: String) {
        let first = state.withLock { state -> Bool in
            guard state.down == nil else { return false }
            state.down = reason
            return true
        }
        if first { warn("remote cache \(shown) is not usable: \(reason); this run goes on with the local cache only") }
    }

    private func once(_ message: String) {
        if state.withLock({ $0.warned.insert(message).inserted }) { warn(message) }
    }
}

/// A file as 1 MiB buffers, read on the I/O pool: an upload streams, it never holds the
/// whole file in memory.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let file: URL

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        mutating func next() async throws -> ByteBuffer? {
            guard let handle else { return nil }
            let data = try await BlockingIO.run { try handle.read(upToCount: 1 << 20) }
            guard let data, !data.isEmpty else {
                try? handle.close()
                return nil
            }
            return ByteBuffer(data: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: try? FileHandle(forReadingFrom: file)) }
}
