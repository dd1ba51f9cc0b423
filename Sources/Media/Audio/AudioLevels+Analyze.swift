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
        // The shape (rate, channels) is the decoded one: the container's can be wrong.
        let audio = try PlanarAudio(path: input.path)
        var analysis = AudioAnalysis(options: options)
        func add(_ planes: [UnsafePointer<Float>], _ count: Int) {
            analysis.add(planes, count: count, sampleRate: Int(audio.sampleRate), weights: audio.weights)
        }
        try decoder.decode(from: input) { frame in
            try audio.add(frame, add)
            return true
        }
        try audio.finish(add)
        let context = decoder.context.pointee
        return analysis.result(codec: string(avcodec_get_name(context.codec_id)),
                               sampleRate: audio.channels > 0 ? Int(audio.sampleRate) : Int(context.sample_rate),
                               channels: audio.channels > 0 ? audio.channels : Int(context.ch_layout.nb_channels))
    }
}

/// The running state of one analysis pass, over planar float of one shape.
private struct AudioAnalysis {
    let options: AudioAnalysisOptions
    let silenceAmplitude: Float
    var sampleRate = 0
    var channels = 0
    var meter: LoudnessMeter?
    var samples: Int64 = 0
    var peak: Float = 0
    var sumOfSquares = 0.0
    var silenceStart: Int64? = 0
    var silences: [SilenceSpan] = []

    init(options: AudioAnalysisOptions) {
        self.options = options
        silenceAmplitude = Float(pow(10, options.silenceThreshold / 20))
    }

    mutating func add(_ planes: [UnsafePointer<Float>], count: Int, sampleRate: Int, weights: [Double]) {
        guard count > 0, !planes.isEmpty else { return }
        if meter == nil {
            self.sampleRate = sampleRate
            channels = planes.count
            meter = LoudnessMeter(sampleRate: sampleRate, weights: weights)
        }
        meter?.add(planes: planes, count: count)
        // Peak, RMS and silence in one walk over the samples.
        for index in 0..<count {
            var loudest: Float = 0
            for plane in planes {
                let value = plane[index]
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
        let rate = Double(max(sampleRate, 1))
        let seconds = Double(end - start) / rate
        if seconds >= options.minimumSilence {
            silences.append(SilenceSpan(start: Double(start) / rate, end: Double(end) / rate))
        }
    }

    mutating func result(codec: String?, sampleRate: Int, channels: Int) -> AudioLevels {
        if let start = silenceStart, samples > 0 { closeSilence(from: start, to: samples) }
        let decibels = { (value: Double) -> Double? in value > 0 ? 20 * log10(value) : nil }
        let total = Double(samples) * Double(channels)
        return AudioLevels(
            hasAudio: true, codec: codec, sampleRate: sampleRate, channels: channels,
            duration: Double(samples) / Double(max(sampleRate, 1)),
            peak: decibels(Double(peak)),
            rms: total > 0 ? decibels((sumOfSquares / total).squareRoot()) : nil,
            integratedLoudness: meter?.integratedLoudness,
            silences: silences, silenceThreshold: options.silenceThreshold)
    }
}
