/// How `MovieWriter` encodes video: H.264 (libx264) unless told HEVC, yuv420p, constant frame rate.
public struct VideoSettings: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var frameRate: Int
    /// libx264 preset: `ultrafast` … `veryslow`. Faster presets make bigger files.
    public var preset: String
    /// libx264 constant rate factor: 0 (lossless) … 51; 18–23 looks good.
    public var crf: Int
    /// Frames between keyframes (default: two seconds' worth).
    public var keyframeInterval: Int?
    /// H.264 (libx264) or HEVC (libx265, tagged `hvc1`).
    public var codec: EncodeSettings.VideoCodec = .h264
    /// A cap in bits per second, with a VBV buffer of one second of it (nil: none).
    public var maxBitRate: Int?

    public init(width: Int, height: Int, frameRate: Int = 25, preset: String = "veryfast", crf: Int = 20,
                keyframeInterval: Int? = nil) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.preset = preset
        self.crf = crf
        self.keyframeInterval = keyframeInterval
    }
}

/// How `MovieWriter` encodes audio: AAC-LC.
public struct AudioSettings: Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int
    public var bitRate: Int

    public init(sampleRate: Int = 48_000, channels: Int = 2, bitRate: Int = 128_000) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitRate = bitRate
    }
}
