/// What an audio analysis found. Levels are nil where the audio is digital silence
/// (a level of minus infinity), so the values always encode as JSON.
public struct AudioLevels: Sendable, Codable, Equatable {
    /// False when the file has no audio stream (every other field is then empty).
    public var hasAudio: Bool
    public var codec: String?
    public var sampleRate: Int?
    public var channels: Int?
    /// Seconds of decoded audio.
    public var duration: Double
    /// Highest sample magnitude, dBFS.
    public var peak: Double?
    /// Root mean square over all samples and channels, dBFS.
    public var rms: Double?
    /// Integrated loudness (ITU-R BS.1770-4, gated), LUFS; nil when every block is gated out.
    public var integratedLoudness: Double?
    /// Spans quieter than the threshold for at least the minimum length.
    public var silences: [SilenceSpan]
    /// The threshold the silences were measured against, dBFS.
    public var silenceThreshold: Double

    public init(hasAudio: Bool, codec: String? = nil, sampleRate: Int? = nil, channels: Int? = nil,
                duration: Double = 0, peak: Double? = nil, rms: Double? = nil, integratedLoudness: Double? = nil,
                silences: [SilenceSpan] = [], silenceThreshold: Double = AudioAnalysisOptions().silenceThreshold) {
        self.hasAudio = hasAudio
        self.codec = codec
        self.sampleRate = sampleRate
        self.channels = channels
        self.duration = duration
        self.peak = peak
        self.rms = rms
        self.integratedLoudness = integratedLoudness
        self.silences = silences
        self.silenceThreshold = silenceThreshold
    }

    /// True when no sample rises above the silence threshold.
    public var isSilent: Bool { (peak ?? -.infinity) < silenceThreshold }
}

/// A stretch of silence, in seconds from the start of the audio.
public struct SilenceSpan: Sendable, Codable, Equatable {
    public var start: Double
    public var end: Double
    public var duration: Double { end - start }

    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }
}

/// How `AudioLevels.analyze` measures silence.
public struct AudioAnalysisOptions: Sendable, Equatable {
    /// A sample is silent when every channel is below this level, dBFS.
    public var silenceThreshold: Double
    /// Shortest silence reported, seconds.
    public var minimumSilence: Double

    public init(silenceThreshold: Double = -60, minimumSilence: Double = 0.5) {
        self.silenceThreshold = silenceThreshold
        self.minimumSilence = minimumSilence
    }
}
