internal import CFFmpeg
import Foundation

/// Writes an H.264 (libx264) + AAC MP4 from frames and samples the caller produces.
///
/// Video frames are appended in order at the constant frame rate of `VideoSettings`;
/// audio is appended as interleaved floats in any chunk size. `finish()` flushes the
/// encoders and moves the file into place; a writer dropped without `finish()` leaves nothing.
///
/// ```swift
/// let writer = try MovieWriter(url: out, video: VideoSettings(width: 640, height: 360), audio: AudioSettings())
/// for image in frames { try writer.append(image) }
/// try writer.appendAudio(interleaved: samples)
/// try writer.finish()
/// ```
public final class MovieWriter {
    public let video: VideoSettings
    public let audio: AudioSettings?
    private let output: OutputContainer
    private let videoEncoder: Encoder
    private let audioQueue: AudioEncoderQueue?
    private let frame: Frame
    private var rgbScaler: Scaler?
    private var framesWritten: Int64 = 0
    private var finished = false

    /// - Parameter faststart: write the index (`moov`) before the media, for web playback.
    public init(url: URL, video: VideoSettings, audio: AudioSettings? = nil, faststart: Bool = false) throws {
        guard (16...16_384).contains(video.width), (16...16_384).contains(video.height), video.width % 2 == 0, video.height % 2 == 0
        else {
            throw MediaError(.invalidArgument,
                             "video size \(video.width)x\(video.height) is not usable; use even sizes of 16 to 16384",
                             path: url.relativePath)
        }
        if let interval = video.keyframeInterval, !(1...100_000).contains(interval) {
            throw MediaError(.invalidArgument, "keyframe interval \(interval) is out of range; use 1 to 100000", path: url.relativePath)
        }
        if let audio, !(1_000...768_000).contains(audio.sampleRate) || !(1...8).contains(audio.channels) {
            throw MediaError(.invalidArgument, "audio of \(audio.channels) channels at \(audio.sampleRate) Hz cannot be encoded; "
                             + "use 1 to 8 channels at 1000 to 768000 Hz", path: url.relativePath)
        }
        guard (1...240).contains(video.frameRate) else {
            throw MediaError(.invalidArgument, "frame rate \(video.frameRate) is out of range; use 1 to 240", path: url.relativePath)
        }
        guard video.codec.isAvailable else {
            throw MediaError(.encodingFailed, "this FFmpeg has no \(video.codec.encoder) encoder, so \(video.codec.rawValue) cannot be written; use h264",
                             path: url.relativePath)
        }
        self.video = video
        self.audio = audio
        output = try OutputContainer(url: url)
        videoEncoder = try Encoder(
            codec: video.codec.id, name: video.codec.encoder, output: output,
            // x265 speaks on stderr unless told not to; errors still come through FFmpeg's log.
            options: ["preset": video.preset, "crf": String(video.crf)].merging(video.codec == .hevc ? ["x265-params": "log-level=error"] : [:]) { $1 }
        ) { context in
            context.pointee.width = Int32(video.width)
            context.pointee.height = Int32(video.height)
            context.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            context.pointee.time_base = AVRational(num: 1, den: Int32(video.frameRate))
            context.pointee.framerate = AVRational(num: Int32(video.frameRate), den: 1)
            context.pointee.gop_size = Int32(video.keyframeInterval ?? video.frameRate * 2)
            if let cap = video.maxBitRate {
                // VBV: never more than `cap` over any second.
                context.pointee.rc_max_rate = Int64(cap)
                context.pointee.rc_buffer_size = Int32(clamping: cap)
            }
        }
        if video.codec == .hevc {
            // `hvc1`, not `hev1`: the parameter sets in the sample description, as Apple's players require.
            videoEncoder.stream.pointee.codecpar.pointee.codec_tag = fourCC("hvc1")
        }
        videoEncoder.stream.pointee.avg_frame_rate = AVRational(num: Int32(video.frameRate), den: 1)
        if let audio {
            guard (8000...192_000).contains(audio.sampleRate), (1...8).contains(audio.channels) else {
                throw MediaError(.invalidArgument,
                                 "audio \(audio.sampleRate) Hz × \(audio.channels) channels is not usable",
                                 path: url.relativePath)
            }
            let encoder = try Encoder(codec: AV_CODEC_ID_AAC, output: output) { context in
                context.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
                context.pointee.sample_rate = Int32(audio.sampleRate)
                av_channel_layout_default(&context.pointee.ch_layout, Int32(audio.channels))
                context.pointee.bit_rate = Int64(audio.bitRate)
                context.pointee.time_base = AVRational(num: 1, den: Int32(audio.sampleRate))
            }
            audioQueue = try AudioEncoderQueue(encoder: encoder, path: url.relativePath)
        } else {
            audioQueue = nil
        }
        frame = try Frame.video(width: Int32(video.width), height: Int32(video.height), format: AV_PIX_FMT_YUV420P,
                                path: url.relativePath)
        try output.writeHeader(faststart: faststart)
    }

    /// Frames appended so far.
    public var frameCount: Int { Int(framesWritten) }

    /// Appends one RGB frame (scaled to the video size if it differs).
    public func append(_ image: FrameImage) throws {
        if rgbScaler == nil || rgbScaler!.sourceWidth != Int32(image.width) || rgbScaler!.sourceHeight != Int32(image.height) {
            rgbScaler = try Scaler(sourceWidth: Int32(image.width), sourceHeight: Int32(image.height),
                                   sourceFormat: AV_PIX_FMT_RGB24, width: Int32(video.width),
                                   height: Int32(video.height), format: AV_PIX_FMT_YUV420P, path: output.path)
        }
        try makeWritable()
        image.pixels.withUnsafeBufferPointer { buffer in
            var planes: [UnsafePointer<UInt8>?] = [buffer.baseAddress, nil, nil, nil]
            var strides: [Int32] = [Int32(image.width * 3), 0, 0, 0]
            rgbScaler!.scale(source: &planes, sourceStrides: &strides,
                             destination: cff_frame_data_array(frame.pointer),
                             destinationStrides: cff_frame_linesize_array(frame.pointer))
        }
        try encodeCurrentFrame()
    }

    /// Appends one frame drawn straight into the encoder's YUV 4:2:0 planes (the fast path
    /// for generated pictures).
    func appendPlanes(_ draw: (YUVPlanes) -> Void) throws {
        try makeWritable()
        draw(YUVPlanes(frame: frame.pointer, width: video.width, height: video.height))
        try encodeCurrentFrame()
    }

    /// Appends a prepared frame of the writer's size in yuv420p (the frame's pts is set here).
    func append(frame prepared: Frame) throws {
        prepared.pointer.pointee.pts = framesWritten
        prepared.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
        framesWritten += 1
        try videoEncoder.encode(prepared)
    }

    /// Appends planar float samples (`planes[c]` holds `count` samples of channel c).
    func appendAudio(planes: UnsafeMutablePointer<UnsafeMutableRawPointer?>, count: Int) throws {
        try audioQueue?.write(planes: planes, count: Int32(count))
    }

    /// Appends `count` samples of silence.
    func appendSilence(count: Int64) throws {
        try audioQueue?.writeSilence(count: count)
    }

    /// Appends interleaved float samples (`channels` values per sample instant, -1…1).
    public func appendAudio(interleaved samples: [Float]) throws {
        guard let audioQueue, let audio else {
            throw MediaError(.invalidArgument, "this writer has no audio track", path: output.path)
        }
        let channels = audio.channels
        guard samples.count % channels == 0 else {
            throw MediaError(.invalidArgument, "\(samples.count) samples do not divide into \(channels) channels",
                             path: output.path)
        }
        let count = samples.count / channels
        var planar = [Float](repeating: 0, count: samples.count)
        for index in 0..<count {
            for channel in 0..<channels { planar[channel * count + index] = samples[index * channels + channel] }
        }
        try planar.withUnsafeMutableBufferPointer { (buffer) throws in
            var planes = (0..<channels).map { UnsafeMutableRawPointer(buffer.baseAddress! + $0 * count) as UnsafeMutableRawPointer? }
            try audioQueue.write(planes: &planes, count: Int32(count))
        }
    }

    /// Flushes the encoders, writes the index and moves the file into place.
    public func finish() throws {
        guard !finished else { return }
        try videoEncoder.encode(nil)
        try audioQueue?.drain(final: true)
        try output.finish()
        finished = true
    }

    private func makeWritable() throws {
        try check(av_frame_make_writable(frame.pointer), "av_frame_make_writable", path: output.path,
                  code: .encodingFailed, "cannot reuse the frame buffer")
    }

    private func encodeCurrentFrame() throws {
        frame.pointer.pointee.pts = framesWritten
        framesWritten += 1
        try videoEncoder.encode(frame)
    }
}

/// Write access to one YUV 4:2:0 frame's planes.
struct YUVPlanes {
    let frame: UnsafeMutablePointer<AVFrame>
    let width: Int
    let height: Int

    /// Plane 0 is luma (full size), planes 1 and 2 are chroma (half size each way).
    func plane(_ index: Int) -> (base: UnsafeMutablePointer<UInt8>, stride: Int) {
        (cff_frame_data(frame, Int32(index))!, Int(cff_frame_linesize(frame, Int32(index))))
    }

    /// Copies a yuv420p picture into this frame with its top-left corner at (x, y), both even:
    /// exactly its width on each row, so nothing lands beside it (in a letterbox's bars).
    func paste(_ picture: Frame, x: Int, y: Int) {
        for index in 0..<3 {
            let shift = index == 0 ? 0 : 1
            let (base, stride) = plane(index)
            guard let source = cff_frame_data(picture.pointer, Int32(index)) else { continue }
            let sourceStride = Int(cff_frame_linesize(picture.pointer, Int32(index)))
            let columns = min(Int(picture.width) >> shift, (width >> shift) - (x >> shift))
            let rows = min(Int(picture.height) >> shift, (height >> shift) - (y >> shift))
            guard columns > 0, rows > 0 else { continue }
            for row in 0..<rows {
                memcpy(base + ((y >> shift) + row) * stride + (x >> shift), source + row * sourceStride, columns)
            }
        }
    }

    /// Fills a rectangle of one plane (coordinates in that plane's own pixels).
    func fill(plane index: Int, x: Int, y: Int, width: Int, height: Int, value: UInt8) {
        let (base, stride) = plane(index)
        for row in y..<(y + height) {
            memset(base + row * stride + x, Int32(value), width)
        }
    }
}
