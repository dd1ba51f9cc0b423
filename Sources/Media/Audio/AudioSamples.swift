internal import CFFmpeg
import Foundation

/// Decoded audio: interleaved float samples at a chosen rate and channel count.
public struct AudioSamples: Sendable, Hashable {
    public var sampleRate: Int
    public var channels: Int
    /// Interleaved (L R L R … for stereo), nominally in -1…1.
    public var interleaved: [Float]

    public init(sampleRate: Int, channels: Int, interleaved: [Float]) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.interleaved = interleaved
    }

    /// Samples per channel.
    public var frameCount: Int { channels > 0 ? interleaved.count / channels : 0 }
    public var duration: Double { Double(frameCount) / Double(sampleRate) }

    /// The samples one array per channel.
    var planar: [[Float]] {
        (0..<channels).map { channel in stride(from: channel, to: interleaved.count, by: channels).map { interleaved[$0] } }
    }

    /// Decodes the first audio stream of `url` (any format FFmpeg reads, the audio of a
    /// video included), resampled to `sampleRate` and `channels`, stopping after `seconds`
    /// when given.
    public static func read(_ url: URL, sampleRate: Int = 48_000, channels: Int = 2, seconds: Double? = nil) throws -> AudioSamples {
        let input = try InputContainer(url: url, findStreamInfo: false)
        guard let decoder = try input.firstAudioDecoder() else {
            throw MediaError(.noAudioStream, "has no audio stream", path: input.path)
        }
        if let seconds, !(seconds.isFinite && seconds >= 0 && seconds < 1e7) {
            throw MediaError(.invalidArgument, "cannot read \(seconds) seconds of audio", path: input.path)
        }
        let audio = try PlanarAudio(sampleRate: sampleRate, channels: channels, path: input.path)
        let limit = seconds.map { Int(($0 * Double(sampleRate)).rounded(.up)) * channels }
        var samples: [Float] = []
        if let limit { samples.reserveCapacity(limit) }
        // Appended as they come (the array grows geometrically: reserving a little more at
        // each frame would copy it all every time, quadratic in the length).
        func append(_ planes: [UnsafePointer<Float>], _ count: Int) {
            for index in 0..<count { for plane in planes { samples.append(plane[index]) } }
        }
        try decoder.decode(from: input) { frame in
            try audio.add(frame, append)
            return limit.map { samples.count < $0 } ?? true
        }
        if limit.map({ samples.count < $0 }) ?? true { try audio.finish(append) }
        if let limit, samples.count > limit { samples.removeLast(samples.count - limit) }
        return AudioSamples(sampleRate: sampleRate, channels: channels, interleaved: samples)
    }
}
