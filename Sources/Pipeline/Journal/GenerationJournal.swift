import Foundation

/// One remote generation as the journal knows it.
public struct JournalEntry: Sendable, Codable, Hashable {
    public enum State: String, Sendable, Codable {
        /// About to submit: the body is recorded, no answer yet (the submit may or may not have happened).
        case intent
        /// The submit answered: the request id is known and the generation is paid for.
        case submitted
        /// The generation finished; its output URLs are known.
        case completed
        /// The output is in the artifact store.
        case downloaded
        /// It ended FAILED (nothing to recover).
        case failed
    }

    /// The action key of the stage run (one generation per key).
    public var key: String
    public var pipeline: String
    public var stage: String
    public var state: State
    /// The request body as sent, without secrets.
    public var requestBody: Value
    public var requestID: String?
    public var outputURL: String?
    public var lastFrameURL: String?
    /// Store digests once downloaded.
    public var outputs: [String: Value]?
    public var error: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// Seconds of video this generation pays for.
    public var seconds: Int

    public init(key: String, pipeline: String, stage: String, requestBody: Value, seconds: Int) {
        self.key = key
        self.pipeline = pipeline
        self.stage = stage
        self.state = .intent
        self.requestBody = requestBody
        self.seconds = seconds
        createdAt = Date()
        updatedAt = createdAt
    }
}

/// Durable records of remote generations, one file per action key, written with fsync
/// before each step that costs money, so a crash at any point can be resumed without
/// paying twice: an intent is reconciled, a request id is polled, an output is fetched.
public struct GenerationJournal: Sendable {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    private func file(_ key: String) -> URL { root.appendingPathComponent("\(key).json") }

    public func entry(_ key: String) -> JournalEntry? {
        guard let data = try? Data(contentsOf: file(key)) else { return nil }
        return try? JSONDecoder.iso.decode(JournalEntry.self, from: data)
    }

    /// Writes the entry durably (temporary file, fsync, rename).
    public func write(_ entry: JournalEntry) throws {
        var entry = entry
        entry.updatedAt = Date()
        try atomicWrite(try JSONEncoder.iso.encode(entry), to: file(entry.key))
    }

    /// Every entry, newest first.
    public func all() -> [JournalEntry] {
        let files = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.pathExtension == "json" }
            .compactMap { try? JSONDecoder.iso.decode(JournalEntry.self, from: Data(contentsOf: $0)) }
            .sorted { $0.createdAt > $1.createdAt }
    }
}
