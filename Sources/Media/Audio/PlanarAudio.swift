internal import CFFmpeg
import Foundation

/// Decoded audio frames as planar float of one shape for a whole stream. The shape is what
/// the decoder gives (the first decoded frame's rate and layout), never the container's
/// header alone: an MP4 sample entry says stereo for mono MP3. Or it is the rate and channel
/// count asked for. A frame of another rate, layout or sample format (a stream that changes
/// mid-way) gets a converter of its own to the same shape, after the old one is drained.
final class PlanarAudio {
    /// The output rate; 0 until the first frame.
    private(set) var sampleRate: Int32 = 0
    private var layout = AVChannelLayout()
    private var converter: SampleConverter?
    private let requestedRate: Int32?
    private let requestedChannels: Int32?
    private let path: String?

    typealias Sink = ([UnsafePointer<Float>], Int) throws -> Void

    init(sampleRate: Int? = nil, channels: Int? = nil, path: String?) throws {
        if let sampleRate, !(1_000...768_000).contains(sampleRate) {
            throw MediaError(.invalidArgument, "a sample rate of \(sampleRate) Hz is out of range (1000 to 768000)", path: path)
        }
        if let channels, !(1...64).contains(channels) {
            throw MediaError(.invalidArgument, "\(channels) channels is out of range (1 to 64)", path: path)
        }
        requestedRate = sampleRate.map { Int32($0) }
        requestedChannels = channels.map { Int32($0) }
        self.path = path
    }

    deinit { av_channel_layout_uninit(&layout) }

    /// The output channel count; 0 until the first frame.
    var channels: Int { Int(layout.nb_channels) }
    /// BS.1770 weights of the output layout (0 for LFE).
    var weights: [Double] { LoudnessMeter.weights(of: layout) }

    /// Converts one decoded frame; `sink` gets `channels` planes of a number of samples
    /// (twice when the stream changed shape and the old converter held samples back).
    func add(_ frame: Frame, _ sink: Sink) throws {
        let decoded = frame.pointer.pointee
        guard decoded.nb_samples > 0 else { return }
        guard decoded.sample_rate > 0, decoded.ch_layout.nb_channels > 0 else {
            throw MediaError(.decodingFailed, "a decoded audio frame has no sample rate or no channels", path: path)
        }
        if sampleRate == 0 {
            sampleRate = requestedRate ?? decoded.sample_rate
            if let requestedChannels {
                av_channel_layout_default(&layout, requestedChannels)
            } else if decoded.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
                av_channel_layout_default(&layout, decoded.ch_layout.nb_channels)
            } else {
                try check(av_channel_layout_copy(&layout, &frame.pointer.pointee.ch_layout), "av_channel_layout_copy",
                          path: path, code: .decodingFailed, "cannot read the channel layout")
            }
        }
        if let current = converter, !current.accepts(frame) {
            try flush(sink)
            converter = nil
        }
        if converter == nil { converter = try SampleConverter(from: frame, rate: sampleRate, layout: layout, path: path) }
        try deliver(try converter!.convert(frame), sink)
    }

    /// What the resampler still holds, at the end of the stream.
    func finish(_ sink: Sink) throws {
        try flush(sink)
        converter = nil
    }

    private func flush(_ sink: Sink) throws {
        guard let converter else { return }
        try deliver(try converter.convert(nil), sink)
    }

    private func deliver(_ converted: (planes: [UnsafeMutablePointer<Float>], count: Int), _ sink: Sink) throws {
        guard converted.count > 0 else { return }
        guard converted.planes.count == channels else {
            throw MediaError(.decodingFailed, "converted audio has \(converted.planes.count) channels, not \(channels)", path: path)
        }
        try sink(converted.planes.map { UnsafePointer($0) }, converted.count)
    }
}

/// The rate and channel count of a file's first audio stream as decoded (its first frame's).
struct AudioShape: Equatable {
    var sampleRate: Int
    var channels: Int

    static func firstFrame(of url: URL) throws -> AudioShape? {
        let input = try InputContainer(url: url, findStreamInfo: false)
        guard let decoder = try input.firstAudioDecoder() else { return nil }
        var shape: AudioShape?
        try decoder.decode(from: input) { frame in
            let decoded = frame.pointer.pointee
            guard decoded.nb_samples > 0, decoded.sample_rate > 0, decoded.ch_layout.nb_channels > 0 else { return true }
            shape = AudioShape(sampleRate: Int(decoded.sample_rate), channels: Int(decoded.ch_layout.nb_channels))
            return false
        }
        return shape
    }

    /// What an AAC encoder takes: the nearest MPEG-4 rate, 1 to 8 channels.
    var aacSettings: AudioSettings {
        let rates = [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000]
        return AudioSettings(sampleRate: rates.min { abs($0 - sampleRate) < abs($1 - sampleRate) } ?? 48_000,
                             channels: min(max(channels, 1), 8))
    }
}
