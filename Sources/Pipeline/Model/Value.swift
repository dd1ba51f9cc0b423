import Foundation

/// A value flowing through a pipeline: parameters, texts, numbers, JSON, and artifacts
/// (files in the content-addressed store), alone or in lists.
public indirect enum Value: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([Value])
    case object([String: Value])
    /// A file in the artifact store.
    case artifact(Artifact)

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var number: Double? { if case .number(let value) = self { value } else { nil } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var list: [Value]? { if case .list(let value) = self { value } else { nil } }
    public var artifact: Artifact? { if case .artifact(let value) = self { value } else { nil } }
    public var object: [String: Value]? { if case .object(let value) = self { value } else { nil } }

    /// Every artifact inside, in order.
    public var artifacts: [Artifact] {
        switch self {
        case .artifact(let artifact): [artifact]
        case .list(let values): values.flatMap(\.artifacts)
        case .object(let values): values.keys.sorted().flatMap { values[$0]!.artifacts }
        default: []
        }
    }

    /// JSON with sorted keys and no whitespace: the form hashed into action keys.
    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// How the value reads inside text (`${stage.output}` in a longer string).
    public var text: String {
        switch self {
        case .null: ""
        case .bool(let value): String(value)
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .string(let value): value
        case .list(let values): values.map(\.text).joined(separator: ", ")
        case .object: canonicalJSON
        case .artifact(let artifact): artifact.digest
        }
    }

    enum CodingKeys: String, CodingKey { case artifact }

    public init(from decoder: any Decoder) throws {
        // Text first: it is most of what records and reports hold, and each wrong guess costs
        // a thrown error (a cached rerun of a long chain decodes thousands). The order is safe:
        // no JSON value decodes as more than one of string, bool and number.
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let keyed = try? decoder.container(keyedBy: CodingKeys.self),
                let artifact = try? keyed.decode(Artifact.self, forKey: .artifact) { self = .artifact(artifact) }
        else if let value = try? container.decode([Value].self) { self = .list(value) }
        else { self = .object(try container.decode([String: Value].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        if case .artifact(let artifact) = self {
            var keyed = encoder.container(keyedBy: CodingKeys.self)
            try keyed.encode(artifact, forKey: .artifact)
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .list(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .artifact: break
        }
    }
}

/// A file in the content-addressed store: its SHA-256 and what kind of media it is.
public struct Artifact: Sendable, Hashable, Codable {
    /// Lowercase hex SHA-256 of the bytes.
    public var digest: String
    public var type: ArtifactType
    /// File extension to give the file when it leaves the store (`mp4`, `png`).
    public var fileExtension: String
    public var size: Int

    enum CodingKeys: String, CodingKey {
        case digest, type, size
        case fileExtension = "ext"
    }

    public init(digest: String, type: ArtifactType, fileExtension: String, size: Int) {
        self.digest = digest
        self.type = type
        self.fileExtension = fileExtension
        self.size = size
    }
}

extension Value {
    /// Whether a path given for a file is an http(s) URL (kept as text: the service fetches it).
    public static func isRemoteAddress(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://")
    }
}
