internal import CFFmpeg
import Foundation

/// Joins clips of different formats by decoding and re-encoding them to one format: the
/// first clip's size as shown (each clip turned upright by its display matrix, then
/// letterboxed or pillarboxed, never stretched, with exactly black bars) and nominal frame
/// rate, yuv420p, and
/// the first audio clip's sample rate and channels. Each clip's audio is trimmed or padded
/// with silence to its video's length, so audio and video stay aligned at every join.
struct Reencoder {
    let clips: [ClipFormat]
    let output: URL
    let progress: (@Sendable (Int, Int) -> Void)?
    /// Seconds each join overlaps (a crossfade); 0 for a cut.
    var crossfade: Double = 0
    /// A colour correction per clip (nil: the picture as decoded).
    var corrections: [ColorCorrection?] = []
    /// How the film is encoded.
    var encode: EncodeSettings = .reencode
    /// Frames cut from each clip's head and tail (none where the list ends).
    var trims: [ClipTrim] = []

    func run(reasons: [String]) throws -> Concatenation.Result {
        let first = clips[0].video
        // The first clip's size as shown (a portrait phone clip makes a portrait film).
        let width = Int(first.displayWidth) & ~1
        let height = Int(first.displayHeight) & ~1
        let frameRate = JoinGeometry.frameRate(of: clips)
        // The first clip with sound gives the film's: its rate and channels as decoded (the
        // container can say otherwise), as AAC takes them.
        let audio = try clips.first { $0.audio != nil }.map { clip in
            var settings = try (AudioShape.firstFrame(of: clip.url)
                 ?? AudioShape(sampleRate: Int(clip.audio!.sampleRate), channels: Int(clip.audio!.channels))).aacSettings
            settings.bitRate = encode.audioBitRate
            return settings
        }
        var video = VideoSettings(width: width, height: height, frameRate: frameRate, preset: encode.preset, crf: encode.crf)
        video.codec = encode.videoCodec
        video.maxBitRate = encode.maxBitRate
        let writer = try MovieWriter(url: output, video: video, audio: audio, faststart: encode.faststart)
        let canvas = try Frame.video(width: Int32(width), height: Int32(height), format: AV_PIX_FMT_YUV420P,
                                     path: output.path)
        let trim = { (index: Int) in index < trims.count ? trims[index] : ClipTrim.none }
        let kept = clips.indices.map { JoinGeometry.frames(of: clips[$0], at: frameRate) - trim($0).head - trim($0).tail }
        let fadeFrames = JoinGeometry.fadeFrames(crossfade, clipFrames: kept, at: frameRate)
        let fadeSamples = audio.map { fadeFrames * $0.sampleRate / frameRate } ?? 0
        let mixer = Crossfader(writer: writer, fadeFrames: fadeFrames, fadeSamples: fadeSamples, channels: audio?.channels ?? 0)
        var position = Position()
        for (index, clip) in clips.enumerated() {
            try ClipReencoder(clip: clip, writer: writer, mixer: mixer, canvas: canvas, frameRate: frameRate, audio: audio,
                              isLast: index == clips.count - 1, path: clip.url.relativePath,
                              correction: index < corrections.count ? corrections[index] : nil, trim: trim(index)).run(position: &position)
            progress?(index + 1, clips.count)
        }
        try writer.finish()
        return Concatenation.Result(method: .reencode, reasons: reasons, duration: Double(writer.frameCount) / Double(frameRate),
                                    clipCount: clips.count)
    }

    /// Output written so far.
    struct Position {
        var frames: Int64 = 0
        var samples: Int64 = 0
    }
}

/// Decodes one clip and feeds its frames and samples to the shared writer.
private struct ClipReencoder {
    let clip: ClipFormat
    let writer: MovieWriter
    let mixer: Crossfader
    let canvas: Frame
    let frameRate: Int
    let audio: AudioSettings?
    let isLast: Bool
    let path: String
    let correction: ColorCorrection?
    let trim: ClipTrim

    func run(position: inout Reencoder.Position) throws {
        let input = try InputContainer(url: clip.url)
        guard let videoIndex = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw MediaError(.noVideoStream, "has no video stream", path: path)
        }
        let audioIndex = audio == nil ? nil : input.bestStream(AVMEDIA_TYPE_AUDIO)
        input.discardAll(except: Set([videoIndex] + (audioIndex.map { [$0] } ?? [])))
        let video = try Decoder(input: input, streamIndex: videoIndex)
        let sound = try audioIndex.map { try Decoder(input: input, streamIndex: $0) }

        let clipFrames = Int64(JoinGeometry.frames(of: clip, at: frameRate) - trim.head - trim.tail)
        let endFrames = position.frames + clipFrames
        let audioTarget = audio.map { endFrames * Int64($0.sampleRate) / Int64(frameRate) - position.samples } ?? 0

        mixer.beginClip(frames: clipFrames, samples: audioTarget, isLast: isLast)
        var pictures = PictureTimeline(mixer: mixer, canvas: canvas, frameRate: frameRate, clipFrames: clipFrames,
                                       timeBase: input.stream(videoIndex).pointee.time_base, path: path)
        pictures.streamOrientation = clip.video.orientation
        pictures.streamAspect = input.stream(videoIndex).pointee.sample_aspect_ratio
        pictures.correction = correction
        pictures.skip = Int64(trim.head)
        var samples = SampleBudget(mixer: mixer, target: audioTarget, settings: audio, path: path)
        // The head's sound goes with its pictures: its samples at the film's rate.
        samples.toSkip = audio.map { Int64(trim.head) * Int64($0.sampleRate) / Int64(frameRate) } ?? 0
        let packet = Packet()
        let frame = Frame()

        func drain(_ decoder: Decoder) throws {
            while try decoder.receive(into: frame) == .ready {
                if decoder === video { try pictures.add(frame) } else { try samples.add(frame) }
                frame.unref()
            }
        }
        while try input.read(into: packet) {
            if packet.streamIndex == videoIndex {
                try video.send(packet)
                try drain(video)
            } else if packet.streamIndex == audioIndex, let sound {
                try sound.send(packet)
                try drain(sound)
            }
            packet.unref()
        }
        try video.send(nil)
        try drain(video)
        if let sound {
            try sound.send(nil)
            try drain(sound)
        }
        try pictures.finish()
        try samples.finish()
        position.frames = endFrames
        position.samples += audioTarget
    }
}

/// Turns decoded frames at their own times into a constant frame rate: output slot j shows
/// the latest frame whose time is at or before j / rate.
private struct PictureTimeline {
    let mixer: Crossfader
    let canvas: Frame
    let frameRate: Int
    let clipFrames: Int64
    let timeBase: AVRational
    let path: String
    var emitted: Int64 = 0
    var zero: Int64?
    var scaler: Scaler?
    /// The scaled picture before it is placed on the canvas.
    var picture: Frame?
    /// How the clip's display matrix turns its pictures; each is turned upright before scaling.
    var streamOrientation = Orientation.upright
    /// Fixed from the first frame, as FFmpeg's autorotation does.
    var orientation: Orientation?
    /// The container's pixel aspect ratio, which wins over the decoder's (as in FFmpeg's
    /// `av_guess_sample_aspect_ratio`: a MOV's `pasp`).
    var streamAspect = AVRational(num: 0, den: 1)
    var hasPicture = false
    var correction: ColorCorrection?
    /// Output slots cut from the head: slot j shows the picture at time (j + skip) / rate.
    var skip: Int64 = 0

    init(mixer: Crossfader, canvas: Frame, frameRate: Int, clipFrames: Int64, timeBase: AVRational, path: String) {
        self.mixer = mixer
        self.canvas = canvas
        self.frameRate = frameRate
        self.clipFrames = clipFrames
        self.timeBase = timeBase
        self.path = path
    }

    mutating func add(_ frame: Frame) throws {
        let timestamp = frame.timestamp ?? (zero ?? 0)
        if zero == nil { zero = timestamp }
        let seconds = (Double(timestamp) - Double(zero ?? 0)) * timeBase.seconds
        if hasPicture {
            while emitted < clipFrames && Double(emitted + skip) / Double(frameRate) < seconds - 1e-6 { try emit() }
        }
        try draw(frame)
    }

    mutating func finish() throws {
        guard hasPicture else {
            throw MediaError(.decodingFailed, "no video frame could be decoded (is the file cut off?)", path: path)
        }
        while emitted < clipFrames { try emit() }
    }

    private mutating func emit() throws {
        try mixer.video(canvas)
        emitted += 1
    }

    /// Scales the frame into the canvas, centred, keeping its display aspect ratio.
    private mutating func draw(_ decoded: Frame) throws {
        if orientation == nil { orientation = decoded.orientation(stream: streamOrientation) }
        let frame = try decoded.oriented(orientation ?? .upright, path: path)
        try check(av_frame_make_writable(canvas.pointer), "av_frame_make_writable", path: path, code: .encodingFailed,
                  "cannot reuse the frame buffer")
        if scaler == nil || !scaler!.matches(frame) {
            let turned = orientation?.swapsAxes == true
            let stream = turned ? AVRational(num: streamAspect.den, den: streamAspect.num) : streamAspect
            let sar = stream.isValid ? stream : frame.pointer.pointee.sample_aspect_ratio
            let aspect = Double(frame.width) * (sar.isValid ? sar.seconds : 1) / Double(frame.height)
            let canvasWidth = Double(canvas.width), canvasHeight = Double(canvas.height)
            var width = canvasWidth, height = canvasHeight
            if aspect > canvasWidth / canvasHeight { height = canvasWidth / aspect } else { width = canvasHeight * aspect }
            let scaledWidth = max(2, Int32(width.rounded()) & ~1), scaledHeight = max(2, Int32(height.rounded()) & ~1)
            scaler = try Scaler(sourceWidth: frame.width, sourceHeight: frame.height,
                                sourceFormat: AVPixelFormat(rawValue: frame.pointer.pointee.format),
                                width: scaledWidth, height: scaledHeight, format: AV_PIX_FMT_YUV420P, path: path)
            picture = try Frame.video(width: scaledWidth, height: scaledHeight, format: AV_PIX_FMT_YUV420P, path: path)
            paintBlack()
        }
        guard let scaler, let picture else { return }
        // Scaled on its own, then copied into the canvas: the bars stay exactly black.
        try scaler.scale(frame, into: picture)
        let x = ((canvas.width - scaler.width) / 2) & ~1
        let y = ((canvas.height - scaler.height) / 2) & ~1
        YUVPlanes(frame: canvas.pointer, width: Int(canvas.width), height: Int(canvas.height)).paste(picture, x: Int(x), y: Int(y))
        correction?.apply(to: canvas, x: Int(x), y: Int(y), width: Int(scaler.width), height: Int(scaler.height))
        hasPicture = true
    }

    private func paintBlack() {
        let planes = YUVPlanes(frame: canvas.pointer, width: Int(canvas.width), height: Int(canvas.height))
        planes.fill(plane: 0, x: 0, y: 0, width: planes.width, height: planes.height, value: 16)
        planes.fill(plane: 1, x: 0, y: 0, width: planes.width / 2, height: planes.height / 2, value: 128)
        planes.fill(plane: 2, x: 0, y: 0, width: planes.width / 2, height: planes.height / 2, value: 128)
    }
}

/// Feeds exactly `target` samples of a clip's audio to the writer: the clip's own,
/// resampled, cut at the target or padded with silence up to it.
private struct SampleBudget {
    let mixer: Crossfader
    let target: Int64
    let settings: AudioSettings?
    let path: String
    var written: Int64 = 0
    var converter: SampleConverter?
    /// Samples cut from the head, not yet dropped.
    var toSkip: Int64 = 0

    init(mixer: Crossfader, target: Int64, settings: AudioSettings?, path: String) {
        self.mixer = mixer
        self.target = target
        self.settings = settings
        self.path = path
    }

    mutating func add(_ frame: Frame) throws {
        guard let settings else { return }
        if converter == nil || !converter!.accepts(frame) {
            try flushConverter()
            converter = try SampleConverter(from: frame, rate: Int32(settings.sampleRate),
                                            channels: Int32(settings.channels), path: path)
        }
        try write(converter!.convert(frame))
    }

    mutating func finish() throws {
        try flushConverter()
        if written < target { try mixer.silence(count: target - written) }
        written = target
    }

    private mutating func flushConverter() throws {
        guard let converter else { return }
        try write(converter.convert(nil))
    }

    private mutating func write(_ converted: (planes: [UnsafeMutablePointer<Float>], count: Int)) throws {
        let dropped = Int(min(Int64(converted.count), toSkip))
        toSkip -= Int64(dropped)
        let count = min(Int64(converted.count - dropped), target - written)
        guard count > 0 else { return }
        try mixer.audio(converted.planes.map { UnsafePointer($0 + dropped) }, count: Int(count))
        written += count
    }
}
