import Foundation

/// One broken rule of a request: the parameter and what is allowed.
public struct ParameterProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    public var parameter: String
    public var message: String

    public init(_ parameter: String, _ message: String) {
        self.parameter = parameter
        self.message = message
    }

    public var description: String { "\(parameter): \(message)" }
}

extension GenerationRequest {
    /// Every rule this request breaks, in parameter order; empty when it may be sent.
    public func problems() -> [ParameterProblem] {
        var problems: [ParameterProblem] = []
        if prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            problems.append(.init("prompt", "is required: describe the video"))
        }
        if let aspectRatio, !Self.aspectRatios.contains(aspectRatio) {
            problems.append(.init("aspect_ratio", "must be one of \(Self.aspectRatios.joined(separator: ", ")) (got \"\(aspectRatio)\")"))
        }
        if let duration, !Self.durations.contains(duration) {
            problems.append(.init("duration", "must be one of \(Self.durations.map(String.init).joined(separator: ", ")) seconds (got \(duration))"))
        }
        if let resolution, !Self.resolutions.contains(resolution) {
            problems.append(.init("resolution", "must be one of \(Self.resolutions.joined(separator: ", ")) (got \"\(resolution)\")"))
        }
        if let seed, !Self.seeds.contains(seed) {
            problems.append(.init("seed", "must be from -1 (random) to 2147483647 (got \(seed))"))
        }
        for (name, value) in [("first_frame_url", firstFrame), ("last_frame_url", lastFrame)] {
            if let value, !Self.isURI(value) {
                problems.append(.init(name, "must be an http(s) URL (got \"\(value.prefix(80))\"); upload local files first"))
            }
        }
        let lists: [(String, [String]?, Int)] = [
            ("reference_images", referenceImages, Self.maximumReferenceImages),
            ("reference_videos", referenceVideos, Self.maximumReferenceVideos),
            ("reference_audios", referenceAudios, Self.maximumReferenceAudios),
        ]
        for (name, values, maximum) in lists {
            guard let values else { continue }
            if values.count > maximum {
                problems.append(.init(name, "takes at most \(maximum) URLs (got \(values.count))"))
            }
            for (index, value) in values.enumerated() where !Self.isURI(value) {
                problems.append(.init("\(name)[\(index)]", "must be an http(s) URL (got \"\(value.prefix(80))\")"))
            }
        }
        if firstFrame != nil, !(referenceImages ?? []).isEmpty {
            problems.append(.init("first_frame_url", "cannot be combined with reference_images: use one or the other"))
        }
        if lastFrame != nil, firstFrame == nil {
            problems.append(.init("last_frame_url", "requires first_frame_url"))
        }
        for (kind, parameter, count) in [("image", "reference_images", referenceImages?.count ?? 0),
                                         ("video", "reference_videos", referenceVideos?.count ?? 0),
                                         ("audio", "reference_audios", referenceAudios?.count ?? 0)] {
            if let cited = Self.highestCitation(of: kind, in: prompt), cited > count {
                problems.append(.init("prompt", "cites \(kind) \(cited) but \(parameter) has \(count) (cite only the assets you send)"))
            }
        }
        return problems
    }

    /// The request itself when it breaks no rule; otherwise an `.invalidRequest` error listing every problem.
    public func validated() throws -> GenerationRequest {
        let problems = problems()
        guard problems.isEmpty else { throw SeedanceError.invalidRequest(problems) }
        return self
    }

    static func isURI(_ value: String) -> Bool {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased() else { return false }
        return (scheme == "http" || scheme == "https") && url.host != nil
    }

    /// The highest N in `image N` (or `video N`, `audio N`) that the prompt cites.
    static func highestCitation(of kind: String, in prompt: String) -> Int? {
        let words = prompt.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        var highest: Int?
        for (index, word) in words.enumerated().dropLast() where word == kind {
            if let number = Int(words[index + 1]), number > 0 { highest = max(highest ?? 0, number) }
        }
        return highest
    }
}
