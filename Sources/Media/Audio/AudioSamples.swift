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
        let limit = seconds.map { Int(($0 * Double(sampleRate)).rounded(.up)) * channels }
        var samples: [Float] = []
        var converter: SampleConverter?
        func append(_ planes: [UnsafeMutablePointer<Float>], _ count: Int) {
            samples.reserveCapacity(samples.count + count * channels)
            for index in 0..<count { for channel in 0..<channels { samples.append(planes[channel][index]) } }
        }
        try decoder.decode(from: input) { frame in
            if converter == nil {
                converter = try SampleConverter(from: frame, rate: Int32(sampleRate), channels: Int32(channels), path: input.path)
            }
            let (planes, count) = try converter!.convert(frame)
            append(planes, count)
            return limit.map { samples.count < $0 } ?? true
        }
        if let converter, limit.map({ samples.count < $0 }) ?? true {
            let (planes, count) = try converter.convert(nil)
            append(planes, count)
        }
        if let limit, samples.count > limit { samples.removeLast(samples.count - limit) }
        return AudioSamples(sampleRate: sampleRate, channels: channels, interleaved: samples)
    }
}
