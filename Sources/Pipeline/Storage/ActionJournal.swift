import Foundation

/// A durable record of one action's progress: what a stage needs to resume after a crash
/// without redoing work that cost money (a request id, a recorded request body). The
/// payload is the stage's own (a remote generation keeps its request id there, say);
/// the journal only keeps it safe.
public struct JournalRecord: Sendable, Codable {
    /// The action key (one record per action).
    public var key: String
    /// The stage kind that wrote it.
    public var kind: String
    public var pipeline: String
    public var stage: String
    public var updatedAt: Date
    public var payload: Value

    public init(key: String, kind: String, pipeline: String, stage: String, payload: Value, updatedAt: Date = Date()) {
        self.key = key
        self.kind = kind
        self.pipeline = pipeline
        self.stage = stage
        self.payload = payload
        self.updatedAt = updatedAt
    }
}

/// Where journal records are kept. ``LocalJournal`` keeps them in files; a shared database
/// journal can stand beside it. `write` returns only once the record is durable.
public protocol ActionJournal: Sendable {
    func read(_ key: String) async throws -> JournalRecord?
    func write(_ record: JournalRecord) async throws
    /// Every record, most recently updated first.
    func all() async throws -> [JournalRecord]
}

/// One action's place in the journal, as a stage sees it through its context.
public struct JournalEntryHandle: Sendable {
    public let journal: any ActionJournal
    public let key: String
    let kind: String
    let pipeline: String
    let stage: String

    public init(journal: any ActionJournal, key: String, kind: String, pipeline: String, stage: String) {
        self.journal = journal
        self.key = key
        self.kind = kind
        self.pipeline = pipeline
        self.stage = stage
    }

    /// The stage's payload for this action, if it wrote one.
    public func read<T: Decodable>(_ type: T.Type) async throws -> T? {
        guard let record = try await journal.read(key) else { return nil }
        return try record.payload.decode(type)
    }

    /// Writes the payload durably (it is on disk, or in the database, when this returns).
    public func write<T: Encodable>(_ payload: T) async throws {
        try await journal.write(JournalRecord(key: key, kind: kind, pipeline: pipeline, stage: stage,
                                              payload: try Value(encoding: payload)))
    }
}

extension Value {
    /// A Codable value as a `Value` (through JSON, dates as ISO 8601).
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONDecoder.iso.decode(Value.self, from: JSONEncoder.iso.encode(value))
    }

    /// This value decoded as `T` (through JSON, dates as ISO 8601).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder.iso.decode(type, from: JSONEncoder.iso.encode(self))
    }
}

/// Journal records in a folder, `ROOT/journal/KEY.json`, each written with an fsync of the
/// file and of the folder before `write` returns.
public struct LocalJournal: ActionJournal {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    private func file(_ key: String) -> URL { root.appendingPathComponent("\(key).json", isDirectory: false) }

    public func read(_ key: String) async throws -> JournalRecord? {
        try await BlockingIO.run { Self.decode(FileManager.default.contents(atPath: file(key).path), key: key) }
    }

    public func write(_ record: JournalRecord) async throws {
        var record = record
        record.updatedAt = Date()
        let data = try JSONEncoder.iso.encode(record), target = file(record.key)
        try await BlockingIO.run { try AtomicFile.write(data, to: target, durable: true) }
    }

    public func all() async throws -> [JournalRecord] {
        try await BlockingIO.run {
            let files = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)) ?? []
            return files.filter { $0.pathExtension == "json" }
                .compactMap { Self.decode(FileManager.default.contents(atPath: $0.path), key: $0.deletingPathExtension().lastPathComponent) }
                .sorted { $0.updatedAt > $1.updatedAt }
        }
    }

    /// A record; a journal file from before records had a payload (the generation entry
    /// itself, flat) is read as a record whose payload is the whole file.
    static func decode(_ data: Data?, key: String) -> JournalRecord? {
        guard let data else { return nil }
        if let record = try? JSONDecoder.iso.decode(JournalRecord.self, from: data) { return record }
        guard let flat = try? JSONDecoder.iso.decode(Value.self, from: data), let fields = flat.object else { return nil }
        let updated = fields["updatedAt"]?.string.flatMap { ISO8601DateFormatter().date(from: $0) } ?? .distantPast
        return JournalRecord(key: fields["key"]?.string ?? key, kind: fields["kind"]?.string ?? "",
                             pipeline: fields["pipeline"]?.string ?? "", stage: fields["stage"]?.string ?? "",
                             payload: flat, updatedAt: updated)
    }
}
