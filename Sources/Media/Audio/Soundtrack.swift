internal import CFFmpeg
import Foundation

/// How music is laid over a film: looped or trimmed to its length, faded, ducked under the
/// clips' own sound, then brought to a loudness target.
public struct SoundtrackSettings: Sendable, Hashable, Codable {
    /// What happens to the clips' own sound.
    public enum ClipSound: String, Sendable, Hashable, Codable, CaseIterable {
        /// Kept under the music (which ducks beneath it).
        case mix
        /// Replaced by the music.
        case drop
    }

    /// Seconds the music fades in from silence at the start (0: none).
    public var fadeIn: Double
    /// Seconds the music fades out to silence at the end (0: none).
    public var fadeOut: Double
    /// How far the music goes down where the clips carry sound, dB.
    public var duckDB: Double
    /// The clips' level (RMS, dBFS) above which their sound counts as speech or effects.
    public var threshold: Double
    /// Seconds the music takes to go down once the clips' sound starts.
    public var attack: Double
    /// Seconds it takes to come back once their sound stops.
    public var release: Double
    /// The clips' own level in the mix, dB (0: as generated).
    public var clipGainDB: Double
    public var clips: ClipSound
    /// Integrated loudness of the result, LUFS; nil leaves the mix as it is.
    public var target: Double?
    /// True-peak ceiling of the result, dBTP (with `target`).
    public var truePeak: Double

    public init(fadeIn: Double = 1, fadeOut: Double = 2, duckDB: Double = 12, threshold: Double = -40, attack: Double = 0.05,
                release: Double = 0.5, clipGainDB: Double = 0, clips: ClipSound = .mix, target: Double? = -14, truePeak: Double = -1) {
        self.fadeIn = fadeIn
        self.fadeOut = fadeOut
        self.duckDB = duckDB
        self.threshold = threshold
        self.attack = attack
        self.release = release
        self.clipGainDB = clipGainDB
        self.clips = clips
        self.target = target
        self.truePeak = truePeak
    }
}

/// What ``Soundtrack/lay(_:over:to:settings:)`` did.
public struct SoundtrackResult: Sendable, Codable, Equatable {
    /// The film's length, seconds.
    public var duration: Double
    /// The music file's own length, seconds.
    public var musicDuration: Double
    /// How many times the music plays over the film (above 1: it loops; below: it is cut).
    public var plays: Double
    /// Seconds of the film where the clips' sound is over the threshold, so the music ducks.
    public var duckedSeconds: Double
    /// Whether the clips' own sound is in the result.
    public var clipSound: Bool
    /// The mix before the loudness target.
    public var mix: LoudnessMeasurement
    /// The loudness normalization applied after the mix (nil without a target).
    public var normalization: LoudnessNormalization?
    /// The filter graph that mixed it (FFmpeg filtergraph syntax, inputs `[clips]` and `[music]`).
    public var filterGraph: String
}

/// Music over a whole film, mixed by FFmpeg's libavfilter; only the audio is re-encoded,
/// the video packets are copied.
///
/// The graph (``filterGraph(settings:filmSamples:musicSamples:sampleRate:channels:clipSound:)``):
/// the music loops (`aloop`) or is cut (`atrim`) to the film, fades in and out (`afade`);
/// a gate keyed by the clips' sound (`sidechaingate`) passes the music only where the clips
/// are over the threshold, and that part, scaled by `1 - 10^(-duck/20)` and inverted, is
/// added back (`amix`): where the clips carry sound the music is down by exactly `duckDB`,
/// elsewhere it is untouched, with the gate's attack and release between. The clips' sound
/// (`volume` for its gain) is added last. Then the mix gets the loudness target and
/// true-peak ceiling exactly as ``LoudnessNormalizer`` gives them.
public enum Soundtrack {
    /// What a soundtrack's mix is written with unless told otherwise: AAC at 192 kb/s.
    public static let encode = EncodeSettings(audioBitRate: 192_000)

    /// `encode`: the mix's AAC bit rate (`audioBitRate`, 192k unless told) and `faststart`; the
    /// picture is copied as it is.
    public static func lay(_ music: URL, over film: URL, to output: URL, settings: SoundtrackSettings = SoundtrackSettings(),
                           encode: EncodeSettings = Soundtrack.encode) throws -> SoundtrackResult
    {
        try validate(settings, path: film.relativePath)
        let reader = try VideoReader(url: film)
        guard let seconds = reader.duration, seconds > 0 else {
            throw MediaError(.decodingFailed, "the film's length is unknown, so the music cannot be fitted to it", path: film.relativePath)
        }
        // The clips' sound, at its own rate and channel count as decoded (what AAC takes);
        // a silent film gets stereo 48 kHz.
        let own = try AudioShape.firstFrame(of: film)?.aacSettings
        let rate = own?.sampleRate ?? 48_000
        let channelCount = own?.channels ?? 2
        guard seconds < 1e6 else {
            throw MediaError(.decodingFailed, "the film says it lasts \(seconds) s, which is not plausible", path: film.relativePath)
        }
        let total = Int((seconds * Double(rate)).rounded())
        var clips = own == nil ? [] : try AudioSamples.read(film, sampleRate: rate, channels: channelCount).planar
        for index in clips.indices {
            if clips[index].count > total { clips[index].removeLast(clips[index].count - total) }
            if clips[index].count < total { clips[index] += [Float](repeating: 0, count: total - clips[index].count) }
        }
        let songs = try AudioSamples.read(music, sampleRate: rate, channels: channelCount)
        guard songs.frameCount > 0 else {
            throw MediaError(.invalidArgument, "the music holds no samples", path: music.relativePath)
        }
        let song = songs.planar
        let keepClips = settings.clips == .mix && !clips.isEmpty
        let description = filterGraph(settings: settings, filmSamples: total, musicSamples: songs.frameCount, sampleRate: rate,
                                      channels: channelCount, clipSound: keepClips)
        let graph = try AudioFilterGraph(description, sources: keepClips ? ["clips", "music"] : ["music"], rate: rate,
                                         channels: channelCount, path: film.relativePath)
        var mixed = Array(repeating: [Float](), count: channelCount)
        for index in mixed.indices { mixed[index].reserveCapacity(total) }
        let collect: ([UnsafePointer<Float>], Int) -> Void = { planes, count in
            for channel in 0..<min(channelCount, planes.count) {
                mixed[channel].append(contentsOf: UnsafeBufferPointer(start: planes[channel], count: count))
            }
        }
        // Fed a second at a time from each side, so the graph never holds more than it must.
        let step = rate
        var done = false
        try feed(graph, keepClips ? [("music", song), ("clips", clips)] : [("music", song)], step: step, pull: collect, done: &done)
        while !done { done = try graph.pull(collect) }
        guard mixed[0].count >= total - rate / 100 else {
            throw MediaError(.encodingFailed, "the audio filter graph gave \(mixed[0].count) samples for a film of \(total)",
                             path: film.relativePath)
        }
        let weights = Array(repeating: 1.0, count: channelCount)
        let mix = DecodedAudio(channels: mixed, sampleRate: rate, weights: weights)
        var normalization: LoudnessNormalization?
        if let target = settings.target {
            normalization = try LoudnessNormalizer.normalize(mix, videoFrom: film, to: output, target: target,
                                                             ceiling: settings.truePeak, tolerance: 0.5, bitRate: encode.audioBitRate,
                                                             faststart: encode.faststart)
        } else {
            try LoudnessNormalizer.write(mixed, source: mix, from: film, to: output, bitRate: encode.audioBitRate, faststart: encode.faststart)
        }
        return SoundtrackResult(duration: seconds, musicDuration: songs.duration, plays: Double(total) / Double(songs.frameCount),
                                duckedSeconds: keepClips ? duckedSeconds(clips, rate: rate, threshold: settings.threshold) : 0,
                                clipSound: keepClips, mix: mix.measurement, normalization: normalization, filterGraph: description)
    }

    /// The filtergraph text for a film of `filmSamples` and music of `musicSamples` (both at
    /// `sampleRate`), with sources `[music]` and, when `clipSound`, `[clips]`, ending in `[out]`.
    /// The same text runs in the `ffmpeg` program (`-filter_complex`) after labelling its inputs.
    public static func filterGraph(settings: SoundtrackSettings, filmSamples: Int, musicSamples: Int, sampleRate: Int,
                                   channels: Int, clipSound: Bool) -> String {
        let seconds = Double(filmSamples) / Double(sampleRate)
        let format = "aformat=sample_fmts=fltp:sample_rates=\(sampleRate):channel_layouts=\(channels == 1 ? "mono" : channels == 2 ? "stereo" : "\(channels)c")"
        var music = ["[music]"]
        if musicSamples < filmSamples { music.append("aloop=loop=-1:size=\(musicSamples),") }
        music.append("atrim=end_sample=\(filmSamples)")
        if settings.fadeIn > 0 { music.append(",afade=t=in:st=0:d=\(number(min(settings.fadeIn, seconds)))") }
        if settings.fadeOut > 0 {
            let length = min(settings.fadeOut, seconds)
            music.append(",afade=t=out:st=\(number(seconds - length)):d=\(number(length))")
        }
        guard clipSound else { return music.joined() + ",\(format)[out]" }
        let depth = 1 - pow(10, -settings.duckDB / 20)
        let threshold = pow(10, settings.threshold / 20)
        return music.joined() + ",asplit[music_dry][music_key];"
            + "[clips]asplit[clips_key][clips_mix];"
            + "[music_key][clips_key]sidechaingate=threshold=\(number(threshold, digits: 6)):ratio=9000:range=0:knee=1"
            + ":attack=\(number(settings.attack * 1000)):release=\(number(settings.release * 1000))"
            + ",volume=\(number(-depth, digits: 6))[music_ducking];"
            + "[music_dry][music_ducking]amix=inputs=2:normalize=0:duration=first[music_ducked];"
            + "[clips_mix]volume=\(number(settings.clipGainDB))dB[clips_level];"
            + "[music_ducked][clips_level]amix=inputs=2:normalize=0:duration=first,\(format)[out]"
    }

    private static func number(_ value: Double, digits: Int = 3) -> String {
        var text = String(format: "%.\(digits)f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// Feeds the sources a step at a time side by side (a graph that mixes them needs both
    /// to go on), ending each once it is all in, and pulls what the graph has ready after each step.
    private static func feed(_ graph: AudioFilterGraph, _ sources: [(label: String, planes: [[Float]])], step: Int,
                             pull: ([UnsafePointer<Float>], Int) -> Void, done: inout Bool) throws {
        var start = 0
        var open = Set(sources.map(\.label))
        while !open.isEmpty {
            for (label, planes) in sources where open.contains(label) {
                let count = planes.first?.count ?? 0
                let length = min(step, count - start)
                if length > 0 {
                    try planes.withUnsafeBufferPointers { buffers in
                        try graph.push(label, planes: buffers.map { $0.baseAddress! + start }, count: length)
                    }
                }
                if start + length >= count {
                    try graph.end(label)
                    open.remove(label)
                }
            }
            start += step
            if try graph.pull(pull) { done = true }
        }
    }

    /// Seconds where the clips' RMS over 20 ms windows is above `threshold` dBFS.
    static func duckedSeconds(_ clips: [[Float]], rate: Int, threshold: Double) -> Double {
        let window = max(1, rate / 50)
        let limit = pow(10, threshold / 20)
        let count = clips.first?.count ?? 0
        var loud = 0
        var start = 0
        while start < count {
            let end = min(count, start + window)
            var sum = 0.0
            for channel in clips { for index in start..<end { sum += Double(channel[index] * channel[index]) } }
            if (sum / Double((end - start) * clips.count)).squareRoot() > limit { loud += end - start }
            start = end
        }
        return Double(loud) / Double(rate)
    }

    private static func validate(_ settings: SoundtrackSettings, path: String) throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw MediaError(.invalidArgument, message, path: path) }
        }
        try check(settings.fadeIn >= 0 && settings.fadeIn <= 60, "fade_in must be 0 to 60 seconds, not \(settings.fadeIn)")
        try check(settings.fadeOut >= 0 && settings.fadeOut <= 60, "fade_out must be 0 to 60 seconds, not \(settings.fadeOut)")
        try check(settings.duckDB >= 0 && settings.duckDB <= 60, "duck_db must be 0 to 60 dB, not \(settings.duckDB)")
        try check(settings.threshold >= -90 && settings.threshold <= 0, "threshold must be -90 to 0 dBFS, not \(settings.threshold)")
        try check(settings.attack >= 0.00001 && settings.attack <= 9, "attack must be 0.00001 to 9 seconds, not \(settings.attack)")
        try check(settings.release >= 0.00001 && settings.release <= 9, "release must be 0.00001 to 9 seconds, not \(settings.release)")
        try check(settings.clipGainDB >= -60 && settings.clipGainDB <= 24, "clip_gain_db must be -60 to 24 dB, not \(settings.clipGainDB)")
    }
}
