/// The kinds of value a stage takes and makes; lists are written `[video]` in manifests.
/// `file` is any other file a stage makes or takes (subtitles, documents), kept with its extension.
public indirect enum ArtifactType: Sendable, Hashable, Codable, CustomStringConvertible {
    case video, image, audio, file, text, number, json
    case list(ArtifactType)

    /// The names `ArtifactType(_:)` reads (lists: `[name]`).
    public static let names = ["video", "image", "audio", "file", "text", "number", "json"]

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
            guard let element = ArtifactType(String(trimmed.dropFirst().dropLast())) else { return nil }
            self = .list(element)
            return
        }
        switch trimmed {
        case "video": self = .video
        case "image": self = .image
        case "audio": self = .audio
        case "file": self = .file
        case "text": self = .text
        case "number": self = .number
        case "json": self = .json
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .video: "video"
        case .image: "image"
        case .audio: "audio"
        case .file: "file"
        case .text: "text"
        case .number: "number"
        case .json: "json"
        case .list(let element): "[\(element)]"
        }
    }

    /// Files (video, image, audio) live in the store; the rest travel as values.
    public var isFile: Bool {
        switch self {
        case .video, .image, .audio, .file: true
        case .list(let element): element.isFile
        default: false
        }
    }

    /// True when a value of type `other` can feed a port of this type (JSON takes anything).
    public func accepts(_ other: ArtifactType) -> Bool {
        self == other || self == .json || (self == .text && other == .number)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let type = ArtifactType(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown type \(text)"))
        }
        self = type
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

import Foundation
