internal import CFFmpeg
import Foundation

extension AudioLevels {
    /// Measures the audio of `url` in one streaming pass: presence, duration, sample peak,
    /// RMS, integrated loudness and silent spans. Only the audio stream is read and decoded;
    /// the video is skipped by the demuxer.
    public static func analyze(_ url: URL, options: AudioAnalysisOptions = AudioAnalysisOptions()) throws -> AudioLevels {
        let input = try InputContainer(url: url, findStreamInfo: false)
        guard let decoder = try input.firstAudioDecoder() else {
            return AudioLevels(hasAudio: false, silenceThreshold: options.silenceThreshold)
        }
        var analysis = AudioAnalysis(decoder: decoder, options: options)
        try decoder.decode(from: input) { frame in
            try analysis.add(frame)
            return true
        }
        return analysis.result(codec: string(avcodec_get_name(decoder.context.pointee.codec_id)))
    }
}

/// The running state of one analysis pass.
private struct AudioAnalysis {
    let sampleRate: Int
    let channels: Int
    let options: AudioAnalysisOptions
    let silenceAmplitude: Float
    let path: String?
    var meter: LoudnessMeter
    var converter: SampleConverter?
    var samples: Int64 = 0
    var peak: Float = 0
    var sumOfSquares = 0.0
    var silenceStart: Int64? = 0
    var silences: [SilenceSpan] = []

    init(decoder: Decoder, options: AudioAnalysisOptions) {
        let context = decoder.context.pointee
        sampleRate = Int(context.sample_rate)
        channels = Int(context.ch_layout.nb_channels)
        self.options = options
        silenceAmplitude = Float(pow(10, options.silenceThreshold / 20))
        path = nil
        meter = LoudnessMeter(sampleRate: sampleRate, weights: LoudnessMeter.weights(of: context.ch_layout))
    }

    mutating func add(_ frame: Frame) throws {
        let count = Int(frame.pointer.pointee.nb_samples)
        guard count > 0 else { return }
        let planes: [UnsafePointer<Float>]
        if frame.pointer.pointee.format == AV_SAMPLE_FMT_FLTP.rawValue,
           frame.pointer.pointee.ch_layout.nb_channels == Int32(channels) {
            planes = (0..<channels).map { UnsafeRawPointer(cff_frame_extended_data(frame.pointer)[$0]!)
                .assumingMemoryBound(to: Float.self) }
        } else {
            if converter == nil { converter = try SampleConverter(from: frame, path: path) }
            planes = try converter!.convert(frame).planes.map { UnsafePointer($0) }
        }
        meter.add(planes: planes, count: count)
        // Peak, RMS and silence in one walk over the samples.
        for index in 0..<count {
            var loudest: Float = 0
            for channel in 0..<channels {
                let value = planes[channel][index]
                sumOfSquares += Double(value * value)
                loudest = max(loudest, abs(value))
            }
            peak = max(peak, loudest)
            let position = samples + Int64(index)
            if loudest < silenceAmplitude {
                if silenceStart == nil { silenceStart = position }
            } else if let start = silenceStart {
                closeSilence(from: start, to: position)
                silenceStart = nil
            }
        }
        samples += Int64(count)
    }

    mutating func closeSilence(from start: Int64, to end: Int64) {
        let seconds = Double(end - start) / Double(sampleRate)
        if seconds >= options.minimumSilence {
            silences.append(SilenceSpan(start: Double(start) / Double(sampleRate), end: Double(end) / Double(sampleRate)))
        }
    }

    mutating func result(codec: String?) -> AudioLevels {
        if let start = silenceStart, samples > 0 { closeSilence(from: start, to: samples) }
        let decibels = { (value: Double) -> Double? in value > 0 ? 20 * log10(value) : nil }
        let total = Double(samples) * Double(channels)
        return AudioLevels(
            hasAudio: true, codec: codec, sampleRate: sampleRate, channels: channels,
            duration: Double(samples) / Double(max(sampleRate, 1)),
            peak: decibels(Double(peak)),
            rms: total > 0 ? decibels((sumOfSquares / total).squareRoot()) : nil,
            integratedLoudness: meter.integratedLoudness,
            silences: silences, silenceThreshold: options.silenceThreshold)
    }
}
