import Foundation
import Logging
import Pipeline

/// What a run tells as it goes: the one event type of `seedpipe run --json` (one JSON object
/// per line on standard output), of the live log the studio follows (`<cache>/live/NAME.jsonl`)
/// and of ``PipelineRun/events``. A run's first event is ``runStarted(_:)`` (with the format's
/// ``version``), its last ``runFinished(_:)``. `docs/EVENTS.md` lists every event and field.
///
/// Each is encoded as a flat object whose `event` field names it (`"started"`, `"cache_hit"`,
/// …), keys sorted, so lines compare byte for byte.
public enum RunEvent: Sendable, Equatable {
    /// The version of the format: raised when a field changes meaning or goes away (new
    /// events and fields may come without it).
    public static let version = 1

    case runStarted(RunStarted)
    case started(stage: String, kind: String)
    /// Work with a size (a generation's state, bytes fetched): `fraction` 0–1 when known.
    case progress(stage: String, fraction: Double?, status: String)
    case cacheHit(stage: String, key: String)
    case finished(stage: String, key: String, seconds: Double)
    case failed(stage: String, message: String)
    /// Not run because `because` failed (with keep-going).
    case skipped(stage: String, because: String)
    /// A line a stage logged (`info`, `warning`, `error`, …).
    case log(stage: String, level: String, message: String)
    /// Something a person should know that belongs to no stage: working offline (`info`),
    /// the key sent to a host that is not loopback (`warning`).
    case note(level: String, message: String)
    case runFinished(RunFinished)

    /// The `event` field of each.
    public var name: String {
        switch self {
        case .runStarted: "run_started"
        case .started: "started"
        case .progress: "progress"
        case .cacheHit: "cache_hit"
        case .finished: "finished"
        case .failed: "failed"
        case .skipped: "skipped"
        case .log: "log"
        case .note: "note"
        case .runFinished: "run_finished"
        }
    }

    /// The event of the executor's.
    public init(_ event: ExecutionEvent) {
        switch event {
        case .started(let stage, let kind): self = .started(stage: stage, kind: kind)
        case .progress(let stage, let fraction, let status): self = .progress(stage: stage, fraction: fraction, status: status)
        case .cacheHit(let stage, let key): self = .cacheHit(stage: stage, key: key)
        case .finished(let stage, let key, let seconds): self = .finished(stage: stage, key: key, seconds: seconds)
        case .failed(let stage, let error): self = .failed(stage: stage, message: error.message)
        case .skipped(let stage, let because): self = .skipped(stage: stage, because: because)
        case .log(let stage, let level, let message): self = .log(stage: stage, level: level.rawValue, message: message)
        }
    }

    /// One line of JSON (no newline).
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"event\":\"\(name)\"}"
    }

    /// The event of one line of JSON.
    public init(jsonLine: some StringProtocol) throws {
        self = try JSONDecoder().decode(RunEvent.self, from: Data(jsonLine.utf8))
    }
}

/// The first event of a run: what it is about to do.
public struct RunStarted: Codable, Sendable, Equatable {
    /// ``RunEvent/version``.
    public var version: Int
    public var pipeline: String
    /// Every stage of the run, in dependency order.
    public var stages: [String]
    /// When it started, seconds since 1970.
    public var at: Double
    /// The plan's generations to make (paid, or emulated on an emulator), their seconds of
    /// video and estimated money (nil: no price known).
    public var generations: Int
    public var seconds: Int
    public var money: Double?
    public var emulated: Bool

    public init(version: Int = RunEvent.version, pipeline: String, stages: [String], at: Double, generations: Int, seconds: Int,
                money: Double?, emulated: Bool) {
        self.version = version
        self.pipeline = pipeline
        self.stages = stages
        self.at = at
        self.generations = generations
        self.seconds = seconds
        self.money = money
        self.emulated = emulated
    }
}

/// The last event of a run: how it ended and what it delivered.
public struct RunFinished: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case succeeded, failed, interrupted
    }

    public var status: Status
    /// `status == .succeeded`.
    public var ok: Bool
    /// What `seedpipe run` exits with: 0 success, 1 a check or generation failed, 2 bad input,
    /// 3 the service or the network failed, 130 interrupted.
    public var exitCode: Int32
    /// Why it did not succeed.
    public var message: String?
    /// The stages that failed.
    public var failed: [String]
    public var generationsPaid: Int
    public var secondsPaid: Int
    public var moneyPaid: Double?
    public var generationsEmulated: Int
    public var secondsEmulated: Int
    /// Output name → files written (beside run.json in ``folder``).
    public var outputs: [String: [String]]
    /// Where the outputs, run.json and report.html are, when written.
    public var folder: String?
    /// How long the run took.
    public var seconds: Double

    public init(status: Status, exitCode: Int32, message: String? = nil, failed: [String] = [], generationsPaid: Int = 0,
                secondsPaid: Int = 0, moneyPaid: Double? = nil, generationsEmulated: Int = 0, secondsEmulated: Int = 0,
                outputs: [String: [String]] = [:], folder: String? = nil, seconds: Double) {
        self.status = status
        ok = status == .succeeded
        self.exitCode = exitCode
        self.message = message
        self.failed = failed
        self.generationsPaid = generationsPaid
        self.secondsPaid = secondsPaid
        self.moneyPaid = moneyPaid
        self.generationsEmulated = generationsEmulated
        self.secondsEmulated = secondsEmulated
        self.outputs = outputs
        self.folder = folder
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case status, ok, message, failed, outputs, folder, seconds
        case exitCode = "exit_code", generationsPaid = "generations_paid", secondsPaid = "seconds_paid", moneyPaid = "money_paid"
        case generationsEmulated = "generations_emulated", secondsEmulated = "seconds_emulated"
    }
}

extension RunEvent: Codable {
    private enum Key: String, CodingKey {
        case event, stage, kind, fraction, status, key, seconds, message, because, level
    }

    public func encode(to encoder: any Encoder) throws {
        // The two run events' fields go in the same object as `event`.
        switch self {
        case .runStarted(let started): try started.encode(to: encoder)
        case .runFinished(let finished): try finished.encode(to: encoder)
        default: break
        }
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(name, forKey: .event)
        switch self {
        case .runStarted, .runFinished: break
        case .started(let stage, let kind):
            try container.encode(stage, forKey: .stage)
            try container.encode(kind, forKey: .kind)
        case .progress(let stage, let fraction, let status):
            try container.encode(stage, forKey: .stage)
            try container.encode(fraction, forKey: .fraction)  // null when unknown
            try container.encode(status, forKey: .status)
        case .cacheHit(let stage, let key):
            try container.encode(stage, forKey: .stage)
            try container.encode(key, forKey: .key)
        case .finished(let stage, let key, let seconds):
            try container.encode(stage, forKey: .stage)
            try container.encode(key, forKey: .key)
            try container.encode(seconds, forKey: .seconds)
        case .failed(let stage, let message):
            try container.encode(stage, forKey: .stage)
            try container.encode(message, forKey: .message)
        case .skipped(let stage, let because):
            try container.encode(stage, forKey: .stage)
            try container.encode(because, forKey: .because)
        case .log(let stage, let level, let message):
            try container.encode(stage, forKey: .stage)
            try container.encode(level, forKey: .level)
            try container.encode(message, forKey: .message)
        case .note(let level, let message):
            try container.encode(level, forKey: .level)
            try container.encode(message, forKey: .message)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let event = try container.decode(String.self, forKey: .event)
        func string(_ key: Key) throws -> String { try container.decode(String.self, forKey: key) }
        switch event {
        case "run_started": self = .runStarted(try RunStarted(from: decoder))
        case "run_finished": self = .runFinished(try RunFinished(from: decoder))
        case "started": self = .started(stage: try string(.stage), kind: try string(.kind))
        case "progress":
            self = .progress(stage: try string(.stage), fraction: try container.decodeIfPresent(Double.self, forKey: .fraction),
                             status: try string(.status))
        case "cache_hit": self = .cacheHit(stage: try string(.stage), key: try string(.key))
        case "finished":
            self = .finished(stage: try string(.stage), key: try string(.key), seconds: try container.decode(Double.self, forKey: .seconds))
        case "failed": self = .failed(stage: try string(.stage), message: try string(.message))
        case "skipped": self = .skipped(stage: try string(.stage), because: try string(.because))
        case "log": self = .log(stage: try string(.stage), level: try string(.level), message: try string(.message))
        case "note": self = .note(level: try string(.level), message: try string(.message))
        default:
            throw DecodingError.dataCorruptedError(forKey: .event, in: container, debugDescription: "unknown event `\(event)`")
        }
    }
}
