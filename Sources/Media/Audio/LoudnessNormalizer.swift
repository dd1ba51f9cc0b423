internal import CFFmpeg
import Foundation

/// Integrated loudness and true peak of a file's audio.
public struct LoudnessMeasurement: Sendable, Codable, Equatable {
    /// LUFS (BS.1770-4, gated); nil when every block is gated out (silence).
    public var integratedLoudness: Double?
    /// dBTP (4× oversampled); nil for digital silence.
    public var truePeak: Double?
}

/// What `LoudnessNormalizer.normalize` did.
public struct LoudnessNormalization: Sendable, Codable, Equatable {
    public var before: LoudnessMeasurement
    /// Measured on the written file (after AAC encoding).
    public var after: LoudnessMeasurement
    /// The static gain applied, dB.
    public var gain: Double
    /// True when a limiter had to hold peaks down to meet the true-peak ceiling.
    public var limited: Bool
}

/// Brings a film's audio to a target integrated loudness under a true-peak ceiling,
/// re-encoding the audio only (AAC); the video packets are copied as they are.
///
/// The audio is decoded into memory (8 bytes per second per channel per kHz: a stereo
/// 48 kHz minute is 23 MB), measured, given one static gain and, when the peaks would then
/// pass the ceiling, a look-ahead limiter. The written file is measured again; if AAC's
/// own overshoot puts it past the ceiling or off the target, it is redone with a corrected
/// gain and ceiling (at most four attempts).
public enum LoudnessNormalizer {
    public static func measure(_ url: URL) throws -> LoudnessMeasurement {
        let audio = try DecodedAudio(url)
        return audio.measurement
    }

    /// - Parameters:
    ///   - target: integrated loudness to reach, LUFS.
    ///   - ceiling: the true peak must stay under this, dBTP.
    ///   - tolerance: how close to `target` the result must be, LU.
    public static func normalize(_ input: URL, to output: URL, target: Double = -14, ceiling: Double = -1,
                                 tolerance: Double = 0.5, bitRate: Int = 192_000, faststart: Bool = false) throws -> LoudnessNormalization {
        guard (-70.0 ... -5.0).contains(target) else {
            throw MediaError(.invalidArgument, "a target of \(target) LUFS is out of range (-70 to -5)", path: input.relativePath)
        }
        guard (-20.0 ... 0.0).contains(ceiling) else {
            throw MediaError(.invalidArgument, "a true-peak ceiling of \(ceiling) dBTP is out of range (-20 to 0)", path: input.relativePath)
        }
        return try normalize(try DecodedAudio(input), videoFrom: input, to: output, target: target, ceiling: ceiling,
                             tolerance: tolerance, bitRate: bitRate, faststart: faststart)
    }

    /// Normalizes decoded audio and writes it beside the video packets of `input`.
    static func normalize(_ source: DecodedAudio, videoFrom input: URL, to output: URL, target: Double, ceiling: Double,
                          tolerance: Double, bitRate: Int, faststart: Bool = false) throws -> LoudnessNormalization {
        let before = source.measurement
        guard let loudness = before.integratedLoudness else {
            throw MediaError(.invalidArgument, "the audio is silent (no block above -70 LUFS); there is no loudness to normalize",
                             path: input.relativePath)
        }
        var gain = target - loudness
        // Room for AAC's overshoot, widened if the encoded file still passes the ceiling.
        var limit = ceiling - 0.5
        var result = LoudnessNormalization(before: before, after: before, gain: gain, limited: false)
        for _ in 0..<4 {
            // Limiting lowers the loudness, so find the gain that reaches the target after it.
            var channels: [[Float]] = []
            var limited = false
            for _ in 0..<12 {
                channels = source.channels
                let linear = Float(pow(10, gain / 20))
                let gains = PeakLimiter.gains(envelope: source.envelope, scale: linear, ceiling: Float(pow(10, limit / 20)),
                                              sampleRate: source.sampleRate)
                for c in channels.indices {
                    if let gains { for i in channels[c].indices { channels[c][i] *= linear * gains[i] } } else {
                        for i in channels[c].indices { channels[c][i] *= linear }
                    }
                }
                limited = gains != nil
                guard limited, let reached = source.loudness(of: channels), abs(reached - target) > 0.05 else { break }
                gain += target - reached
            }
            try write(channels, source: source, from: input, to: output, bitRate: bitRate, faststart: faststart)
            let after = try DecodedAudio(output).measurement
            result = LoudnessNormalization(before: before, after: after, gain: gain, limited: limited)
            let peak = after.truePeak ?? -.infinity
            let reached = after.integratedLoudness ?? -.infinity
            if peak < ceiling, abs(reached - target) <= tolerance { return result }
            if peak >= ceiling { limit -= peak - ceiling + 0.3 }
            gain += target - reached
        }
        try? FileManager.default.removeItem(at: output)
        throw MediaError(.encodingFailed, "could not reach \(target) LUFS under \(ceiling) dBTP (last: "
                         + "\(format(result.after.integratedLoudness)) LUFS, \(format(result.after.truePeak)) dBTP)", path: input.relativePath)
    }

    private static func format(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-inf" }

    /// Copies every video stream of `input` and writes `channels` as AAC beside them.
    static func write(_ channels: [[Float]], source: DecodedAudio, from input: URL, to output: URL, bitRate: Int,
                      faststart: Bool = false) throws {
        let reader = try InputContainer(url: input, findStreamInfo: false)
        let writer = try OutputContainer(url: output)
        var copies: [Int: (stream: UnsafeMutablePointer<AVStream>, timeBase: AVRational)] = [:]
        for index in 0..<reader.streamCount {
            let stream = reader.stream(index)
            guard stream.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO else { continue }
            let copy = writer.addStream()
            try check(avcodec_parameters_copy(copy.pointee.codecpar, stream.pointee.codecpar), "avcodec_parameters_copy",
                      path: writer.path, code: .encodingFailed, "cannot set up the video stream")
            // The muxer picks the tag, except the ones that say how the stream is carried: `avc3`
            // (parameter sets in the stream, as a smart cut writes) and `hvc1`.
            let tag = stream.pointee.codecpar.pointee.codec_tag
            copy.pointee.codecpar.pointee.codec_tag = [fourCC("avc3"), fourCC("hvc1")].contains(tag) ? tag : 0
            copy.pointee.time_base = stream.pointee.time_base
            // The picture is copied, so it must be shown as it was (a portrait phone film stays upright).
            try DisplayMatrix(stream: stream)?.attach(to: copy, path: writer.path)
            copies[index] = (copy, stream.pointee.time_base)
        }
        reader.discardAll(except: Set(copies.keys))
        let rate = Int32(source.sampleRate)
        let encoder = try Encoder(codec: AV_CODEC_ID_AAC, output: writer) { context in
            context.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
            context.pointee.sample_rate = rate
            av_channel_layout_default(&context.pointee.ch_layout, Int32(channels.count))
            context.pointee.bit_rate = Int64(bitRate)
            context.pointee.time_base = AVRational(num: 1, den: rate)
        }
        let queue = try AudioEncoderQueue(encoder: encoder, path: writer.path)
        try writer.writeHeader(faststart: faststart)
        let total = channels.first?.count ?? 0
        var written = 0
        // Audio up to `sample`, in step with the video so the muxer interleaves without hoarding.
        func audio(through sample: Int) throws {
            let end = min(total, sample)
            guard end > written else { return }
            try channels.withUnsafeBufferPointers { buffers in
                var planes = buffers.map { UnsafeMutableRawPointer(mutating: $0.baseAddress! + written) as UnsafeMutableRawPointer? }
                try queue.write(planes: &planes, count: Int32(end - written))
            }
            written = end
        }
        let packet = Packet()
        while try reader.read(into: packet) {
            defer { packet.unref() }
            guard let copy = copies[packet.streamIndex] else { continue }
            let p = packet.pointer
            let time = p.pointee.dts != cff_nopts_value() ? p.pointee.dts : p.pointee.pts
            if time != cff_nopts_value() {
                let seconds = min(max(Double(time) * copy.timeBase.seconds + 0.5, 0), 1e7)
                try audio(through: Int(seconds * Double(rate)))
            }
            p.pointee.stream_index = copy.stream.pointee.index
            p.pointee.pos = -1
            av_packet_rescale_ts(p, copy.timeBase, copy.stream.pointee.time_base)
            try writer.write(packet)
        }
        try audio(through: total)
        try queue.drain(final: true)
        try writer.finish()
    }
}

/// A file's first audio stream, decoded to planar float at its own rate and channel count.
struct DecodedAudio {
    var channels: [[Float]]
    /// The largest true-peak magnitude per sample over all channels.
    var envelope: [Float]
    var sampleRate: Int
    var weights: [Double]

    init(_ url: URL) throws {
        let input = try InputContainer(url: url, findStreamInfo: false)
        guard let decoder = try input.firstAudioDecoder() else {
            throw MediaError(.noAudioStream, "there is no audio stream to normalize", path: url.relativePath)
        }
        // The decoded shape: the container's channel count can be wrong (mono MP3 in MP4 says 2).
        let audio = try PlanarAudio(path: url.relativePath)
        var channels: [[Float]] = []
        func append(_ planes: [UnsafePointer<Float>], _ count: Int) {
            if channels.isEmpty { channels = Array(repeating: [], count: planes.count) }
            for (index, plane) in planes.enumerated() where index < channels.count {
                channels[index].append(contentsOf: UnsafeBufferPointer(start: plane, count: count))
            }
        }
        try decoder.decode(from: input) { frame in
            try audio.add(frame, append)
            return true
        }
        try audio.finish(append)
        let context = decoder.context.pointee
        if channels.isEmpty {
            self.init(channels: Array(repeating: [], count: Int(context.ch_layout.nb_channels)), sampleRate: Int(context.sample_rate),
                      weights: LoudnessMeter.weights(of: context.ch_layout))
        } else {
            self.init(channels: channels, sampleRate: Int(audio.sampleRate), weights: audio.weights)
        }
    }

    /// Audio already in memory (planar float), measured as a file's would be.
    init(channels: [[Float]], sampleRate: Int, weights: [Double]) {
        self.sampleRate = sampleRate
        self.weights = weights
        self.channels = channels
        var envelope = [Float](repeating: 0, count: channels.first?.count ?? 0)
        for channel in channels {
            for (index, value) in TruePeak.envelope(channel).enumerated() { envelope[index] = max(envelope[index], value) }
        }
        self.envelope = envelope
    }


    func loudness(of channels: [[Float]]) -> Double? {
        var meter = LoudnessMeter(sampleRate: sampleRate, weights: weights)
        if let count = channels.first?.count, count > 0 {
            channels.withUnsafeBufferPointers { buffers in
                meter.add(planes: buffers.map { $0.baseAddress! }, count: count)
            }
        }
        return meter.integratedLoudness
    }

    var measurement: LoudnessMeasurement {
        let peak = envelope.max() ?? 0
        return LoudnessMeasurement(integratedLoudness: loudness(of: channels), truePeak: peak > 0 ? 20 * log10(Double(peak)) : nil)
    }
}
