/// What a media file holds: its container and every stream, as FFmpeg reads them.
public struct MediaInfo: Sendable, Codable, Equatable {
    /// The file this describes.
    public var path: String
    /// FFmpeg's demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    public var container: String
    /// A readable name of the container format.
    public var containerDescription: String?
    /// Length in seconds, when known.
    public var duration: Double?
    /// Time of the first presented sample, in seconds.
    public var startTime: Double?
    /// Overall bit rate in bits per second, when known.
    public var bitRate: Int?
    /// Size of the file in bytes.
    public var size: Int?
    public var streams: [StreamInfo]

    public init(
        path: String, container: String, containerDescription: String? = nil, duration: Double? = nil,
        startTime: Double? = nil, bitRate: Int? = nil, size: Int? = nil, streams: [StreamInfo]
    ) {
        self.path = path
        self.container = container
        self.containerDescription = containerDescription
        self.duration = duration
        self.startTime = startTime
        self.bitRate = bitRate
        self.size = size
        self.streams = streams
    }

    /// The first video stream, if any.
    public var video: StreamInfo? { streams.first { $0.kind == .video } }
    /// The first audio stream, if any.
    public var audio: StreamInfo? { streams.first { $0.kind == .audio } }
}

/// One stream of a media file.
public struct StreamInfo: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case video, audio, subtitle, data, attachment, unknown
    }

    public var index: Int
    public var kind: Kind
    /// Short codec name (`h264`, `aac`).
    public var codec: String
    public var codecDescription: String?
    public var profile: String?
    public var width: Int?
    public var height: Int?
    /// Average frames per second, when known.
    public var frameRate: Double?
    public var pixelFormat: String?
    public var sampleRate: Int?
    public var channels: Int?
    public var channelLayout: String?
    public var bitRate: Int?
    /// Number of frames (video) or packets (audio), when the container records it.
    public var frameCount: Int?
    /// Length of this stream in seconds, when known.
    public var duration: Double?
    public var startTime: Double?
    /// The stream's time base as `num/den`.
    public var timeBase: String
    /// The display matrix's rotation, in degrees counter-clockwise as ffprobe prints it (-90:
    /// a phone's portrait clip, shown turned 90° clockwise); for a still, its EXIF
    /// orientation's. nil when the picture is shown as stored.
    public var rotation: Double?
    /// The picture's size as shown: width and height trade places for a quarter turn.
    public var displayWidth: Int?
    public var displayHeight: Int?
    /// The rate the frames were made at: FFmpeg's base rate (30 for a phone clip that
    /// averages 27.9 because it dropped frames) unless it is missing or over 1.5 times the
    /// average (a timestamp grid, not a frame rate), else the average. A joined film takes it.
    public var nominalFrameRate: Double?

    public init(
        index: Int, kind: Kind, codec: String, codecDescription: String? = nil, profile: String? = nil,
        width: Int? = nil, height: Int? = nil, frameRate: Double? = nil, pixelFormat: String? = nil,
        sampleRate: Int? = nil, channels: Int? = nil, channelLayout: String? = nil, bitRate: Int? = nil,
        frameCount: Int? = nil, duration: Double? = nil, startTime: Double? = nil, timeBase: String,
        rotation: Double? = nil, displayWidth: Int? = nil, displayHeight: Int? = nil, nominalFrameRate: Double? = nil
    ) {
        self.rotation = rotation
        self.displayWidth = displayWidth
        self.displayHeight = displayHeight
        self.nominalFrameRate = nominalFrameRate
        self.index = index
        self.kind = kind
        self.codec = codec
        self.codecDescription = codecDescription
        self.profile = profile
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.pixelFormat = pixelFormat
        self.sampleRate = sampleRate
        self.channels = channels
        self.channelLayout = channelLayout
        self.bitRate = bitRate
        self.frameCount = frameCount
        self.duration = duration
        self.startTime = startTime
        self.timeBase = timeBase
    }
}
