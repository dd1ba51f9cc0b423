import Crypto
import Foundation
import Pipeline

/// Every run of a cache, one JSON line each in `<cache>/runs.jsonl`, appended as a run ends:
/// what `seedpipe log` lists (like `nextflow log`).
public struct RunRecord: Codable, Sendable, Hashable {
    /// Short and sortable: the start time and four random hex digits (`20261207-011900-3fa2`).
    public var id: String
    public var pipeline: String
    /// The pipeline file, and the SHA-256 of its text when the run read it.
    public var file: String?
    public var fileDigest: String?
    /// The profile it ran in (`--profile`, or the default), when the pipeline has profiles.
    public var profile: String?
    public var options: Options
    public var started: Date
    public var ended: Date
    public var seconds: Double
    public var status: RunFinished.Status
    public var exitCode: Int32
    public var message: String?
    public var stages: [Stage]
    public var ran: Int
    public var cached: Int
    public var failed: Int
    public var generationsPaid: Int
    public var moneyPaid: Double?
    public var generationsEmulated: Int
    /// The out folder, when outputs were delivered.
    public var out: String?

    public struct Options: Codable, Sendable, Hashable {
        public var backend: String
        public var jobs: Int
        public var keepGoing: Bool
        public var maxGenerations: Int?
        public var maxCost: Double?
        public var only: [String]?
        public var until: String?
        public var sharedJournal: Bool?
    }

    public struct Stage: Codable, Sendable, Hashable {
        public var stage: String
        public var kind: String
        /// `ran`, `cached`, `failed` or `skipped`.
        public var status: String
        public var seconds: Double
        public var generations: Int?
        public var money: Double?
        public var emulated: Bool?
        public var error: String?
    }

    /// A new run's id.
    public static func newID(started: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: started) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    static func stages(_ report: RunReport?, order: [String]) -> [Stage] {
        guard let report else { return [] }
        return order.compactMap { name in
            guard let stage = report.stages[name] else { return nil }
            let status = stage.error != nil ? "failed" : stage.skipped ? "skipped" : stage.cached ? "cached" : "ran"
            let made = !stage.cached && stage.cost.generations > 0
            return Stage(stage: name, kind: stage.kind, status: status, seconds: stage.seconds,
                         generations: made ? stage.cost.generations : nil, money: made ? stage.cost.money : nil,
                         emulated: made && stage.cost.emulated ? true : nil, error: stage.error?.message)
        }
    }

    static func digest(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }
}

/// `<cache>/runs.jsonl`.
public struct RunHistory: Sendable {
    public let file: URL

    public init(cache: URL) { file = cache.appendingPathComponent("runs.jsonl") }

    /// Appends a record as one line (one write to a file opened for appending, so lines of
    /// runs ending together do not interleave).
    public func append(_ record: RunRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let line = try encoder.encode(record) + Data("\n".utf8)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(file.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path]) }
        defer { close(descriptor) }
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path]) }
    }

    /// Every record, newest first (the last appended first; a line that does not decode, a torn
    /// one, is left out).
    public func records() -> [RunRecord] {
        guard let data = FileManager.default.contents(atPath: file.path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(RunRecord.self, from: Data($0)) }.reversed()
    }
}
