/// The JSON body of a Seedance 2.0 Mini generation, every parameter of the API.
///
/// Values are kept as the wire carries them (strings, integers), so a request read from
/// anywhere can be checked with `problems()` and every violation reported at once, each
/// naming the parameter and what is allowed. Absent (nil) parameters take the API's defaults.
public struct GenerationRequest: Codable, Sendable, Hashable {
    /// What the video shows; cite assets as `image 1`, `video 1`, `audio 1`; number shots as `Shot 1`.
    public var prompt: String
    /// `16:9` (default), `9:16`, `1:1`, `4:3`, `3:4`, `21:9` or `adaptive`.
    public var aspectRatio: String?
    /// Seconds: 4, 5 (default), 6, 8, 10, 12 or 15.
    public var duration: Int?
    /// Image the clip starts on; not with `referenceImages`.
    public var firstFrameURL: String?
    /// Image the clip ends on; needs `firstFrameURL`.
    public var lastFrameURL: String?
    /// Synchronized audio in the same pass (default true).
    public var generateAudio: Bool?
    /// Up to 9, cited as `image 1` …
    public var referenceImages: [String]?
    /// Up to 3, cited as `video 1` …
    public var referenceVideos: [String]?
    /// Up to 3, cited as `audio 1` …
    public var referenceAudios: [String]?
    /// `480p`, `720p` (default) or `1080p`.
    public var resolution: String?
    /// Also return the final frame as an image URL (default false).
    public var returnLastFrame: Bool?
    /// -1 (random) … 2147483647; the API's default is 42.
    public var seed: Int?
    /// Bypass the moderation pre-filter (default false).
    public var skipModeration: Bool?

    enum CodingKeys: String, CodingKey {
        case prompt
        case aspectRatio = "aspect_ratio"
        case duration
        case firstFrameURL = "first_frame_url"
        case lastFrameURL = "last_frame_url"
        case generateAudio = "generate_audio"
        case referenceImages = "reference_images"
        case referenceVideos = "reference_videos"
        case referenceAudios = "reference_audios"
        case resolution
        case returnLastFrame = "return_last_frame"
        case seed
        case skipModeration = "skip_moderation"
    }

    public init(
        prompt: String, aspectRatio: String? = nil, duration: Int? = nil, firstFrameURL: String? = nil,
        lastFrameURL: String? = nil, generateAudio: Bool? = nil, referenceImages: [String]? = nil,
        referenceVideos: [String]? = nil, referenceAudios: [String]? = nil, resolution: String? = nil,
        returnLastFrame: Bool? = nil, seed: Int? = nil, skipModeration: Bool? = nil
    ) {
        self.prompt = prompt
        self.aspectRatio = aspectRatio
        self.duration = duration
        self.firstFrameURL = firstFrameURL
        self.lastFrameURL = lastFrameURL
        self.generateAudio = generateAudio
        self.referenceImages = referenceImages
        self.referenceVideos = referenceVideos
        self.referenceAudios = referenceAudios
        self.resolution = resolution
        self.returnLastFrame = returnLastFrame
        self.seed = seed
        self.skipModeration = skipModeration
    }

    /// The model this body is for.
    public static let model = "seedance-2.0-mini"

    // The allowed values, as the API page lists them.
    public static let durations = [4, 5, 6, 8, 10, 12, 15]
    public static let resolutions = ["480p", "720p", "1080p"]
    public static let aspectRatios = ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"]
    public static let seeds = -1...2_147_483_647
    public static let maximumReferenceImages = 9
    public static let maximumReferenceVideos = 3
    public static let maximumReferenceAudios = 3

    // Effective values, with the API's defaults for what is absent.
    public var effectiveDuration: Int { duration ?? 5 }
    public var effectiveResolution: String { resolution ?? "720p" }
    public var effectiveAspectRatio: String { aspectRatio ?? "16:9" }
    public var effectiveGenerateAudio: Bool { generateAudio ?? true }
    public var effectiveReturnLastFrame: Bool { returnLastFrame ?? false }
    public var effectiveSeed: Int { seed ?? 42 }
    /// The first frame URL, treating an empty string (as the API page's own example sends) as absent.
    public var firstFrame: String? { firstFrameURL.flatMap { $0.isEmpty ? nil : $0 } }
    /// The last frame URL, treating an empty string as absent.
    public var lastFrame: String? { lastFrameURL.flatMap { $0.isEmpty ? nil : $0 } }
}
