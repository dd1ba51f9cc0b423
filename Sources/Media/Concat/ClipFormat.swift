internal import CFFmpeg
import Foundation

/// The stream parameters of one clip that decide whether clips can be stream-copied together.
struct ClipFormat {
    struct Video: Equatable {
        var codec: AVCodecID
        var width: Int32
        var height: Int32
        var pixelFormat: Int32
        var timeBase: AVRational
        var extradata: [UInt8]
        /// The average frame rate (FFmpeg's `avg_frame_rate`, else its base rate).
        var frameRate: AVRational
        /// The rate the frames were made at (see ``nominalRate(base:average:)``), when known.
        var nominalRate: Double?
        /// Length of the video stream in its time base, when the container records it.
        var duration: Int64?
        /// nil when the stream has no display matrix or the identity.
        var displayMatrix: DisplayMatrix?

        var orientation: Orientation { displayMatrix?.orientation ?? .upright }
        /// The picture's size as shown.
        var displayWidth: Int32 { orientation.swapsAxes ? height : width }
        var displayHeight: Int32 { orientation.swapsAxes ? width : height }

        static func == (lhs: Video, rhs: Video) -> Bool {
            lhs.codec == rhs.codec && lhs.width == rhs.width && lhs.height == rhs.height
                && lhs.pixelFormat == rhs.pixelFormat && lhs.timeBase.num == rhs.timeBase.num
                && lhs.timeBase.den == rhs.timeBase.den && lhs.extradata == rhs.extradata
                && lhs.displayMatrix == rhs.displayMatrix
        }
    }

    struct Audio: Equatable {
        var codec: AVCodecID
        var sampleRate: Int32
        var channels: Int32
        var layoutMask: UInt64
        var timeBase: AVRational
        var extradata: [UInt8]
        /// Samples each packet decodes to (1024 for AAC), 0 when the codec does not say.
        var frameSize: Int32

        static func == (lhs: Audio, rhs: Audio) -> Bool {
            lhs.codec == rhs.codec && lhs.sampleRate == rhs.sampleRate && lhs.channels == rhs.channels
                && lhs.layoutMask == rhs.layoutMask && lhs.timeBase.num == rhs.timeBase.num
                && lhs.timeBase.den == rhs.timeBase.den && lhs.extradata == rhs.extradata
        }
    }

    let url: URL
    let video: Video
    let audio: Audio?
    /// Seconds, from the container.
    let duration: Double?

    /// Reads only the container header (no decoding).
    init(url: URL) throws {
        self.url = url
        let input = try InputContainer(url: url, findStreamInfo: false)
        if input.isStillImage {
            throw MediaError(.notAVideo, "is a still image (\(input.formatName)), not a video clip", path: input.path)
        }
        func firstStream(_ type: AVMediaType) -> UnsafeMutablePointer<AVStream>? {
            (0..<input.streamCount).map(input.stream).first { $0.pointee.codecpar.pointee.codec_type == type }
        }
        var incomplete: Bool {
            guard let video = firstStream(AVMEDIA_TYPE_VIDEO) else { return true }
            let audio = firstStream(AVMEDIA_TYPE_AUDIO)?.pointee.codecpar.pointee
            return video.pointee.codecpar.pointee.width == 0 || audio.map { $0.sample_rate == 0 } == true
        }
        if incomplete {
            try check(avformat_find_stream_info(input.context, nil), "avformat_find_stream_info", path: input.path,
                      code: .notMedia, "cannot read the streams")
        }
        guard let videoStream = firstStream(AVMEDIA_TYPE_VIDEO) else {
            throw MediaError(.noVideoStream, "has no video stream, so it cannot be joined as a clip", path: input.path)
        }
        let v = videoStream.pointee.codecpar.pointee
        let rate = videoStream.pointee.avg_frame_rate.isValid ? videoStream.pointee.avg_frame_rate
            : videoStream.pointee.r_frame_rate
        video = Video(
            codec: v.codec_id, width: v.width, height: v.height, pixelFormat: v.format,
            timeBase: videoStream.pointee.time_base, extradata: Self.bytes(v.extradata, Int(v.extradata_size)),
            frameRate: rate,
            nominalRate: nominalRate(base: videoStream.pointee.r_frame_rate, average: videoStream.pointee.avg_frame_rate),
            duration: videoStream.pointee.duration > 0 && videoStream.pointee.duration != noPTS
                ? videoStream.pointee.duration : nil,
            displayMatrix: DisplayMatrix(stream: videoStream).flatMap { $0.isIdentity ? nil : $0 })
        audio = firstStream(AVMEDIA_TYPE_AUDIO).map { stream in
            let a = stream.pointee.codecpar.pointee
            return Audio(
                codec: a.codec_id, sampleRate: a.sample_rate, channels: a.ch_layout.nb_channels,
                layoutMask: a.ch_layout.order == AV_CHANNEL_ORDER_NATIVE ? a.ch_layout.u.mask : 0,
                timeBase: stream.pointee.time_base, extradata: Self.bytes(a.extradata, Int(a.extradata_size)),
                frameSize: a.frame_size)
        }
        duration = input.duration
        // A length no clip has (a broken header) would overflow the frame arithmetic of a join.
        let seconds = videoSeconds
        guard seconds.isFinite, seconds >= 0, seconds <= 1e7 else {
            throw MediaError(.notMedia, "says it lasts \(seconds) s, which is not plausible", path: input.path)
        }
    }

    var name: String { url.lastPathComponent }

    /// Seconds of video, from the stream when recorded, else the container.
    var videoSeconds: Double {
        if let ticks = video.duration { return Double(ticks) * video.timeBase.seconds }
        return duration ?? 0
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<UInt8>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// Every reason the clips cannot be stream-copied together, one line each.
    static func incompatibilities(_ clips: [ClipFormat]) -> [String] {
        guard let first = clips.first else { return [] }
        var reasons: [String] = []
        let firstAudio = clips.first { $0.audio != nil }
        for (index, clip) in clips.enumerated().dropFirst() {
            let label = "clip \(index + 1) (\(clip.name))"
            let v = clip.video, w = first.video
            if v.codec != w.codec {
                reasons.append("\(label) is \(codecName(v.codec)), clip 1 is \(codecName(w.codec))")
            } else if v.width != w.width || v.height != w.height {
                reasons.append("\(label) is \(v.width)x\(v.height), clip 1 is \(w.width)x\(w.height)")
            } else if v.pixelFormat != w.pixelFormat && v.pixelFormat >= 0 && w.pixelFormat >= 0 {
                reasons.append("\(label) has pixel format \(pixelFormatName(v.pixelFormat)), clip 1 has \(pixelFormatName(w.pixelFormat))")
            } else if v.timeBase.num != w.timeBase.num || v.timeBase.den != w.timeBase.den {
                reasons.append("\(label) has video time base \(v.timeBase.num)/\(v.timeBase.den), clip 1 has \(w.timeBase.num)/\(w.timeBase.den)")
            } else if v.extradata != w.extradata {
                reasons.append("\(label) has different video codec parameters (extradata) than clip 1")
            } else if v.displayMatrix != w.displayMatrix {
                reasons.append("\(label) is shown \(v.orientation.phrase), clip 1 \(w.orientation.phrase) (display matrix)")
            }
            if let a = clip.audio, let b = firstAudio?.audio, a != b {
                if a.codec != b.codec {
                    reasons.append("\(label) has \(codecName(a.codec)) audio, the first clip with audio has \(codecName(b.codec))")
                } else if a.sampleRate != b.sampleRate {
                    reasons.append("\(label) has audio at \(a.sampleRate) Hz, the first clip with audio has \(b.sampleRate) Hz")
                } else if a.channels != b.channels || a.layoutMask != b.layoutMask {
                    reasons.append("\(label) has \(a.channels) audio channels, the first clip with audio has \(b.channels)")
                } else {
                    reasons.append("\(label) has different audio codec parameters than the first clip with audio")
                }
            }
        }
        return reasons
    }
}

func codecName(_ id: AVCodecID) -> String { string(avcodec_get_name(id)) ?? "unknown" }
func pixelFormatName(_ format: Int32) -> String { string(av_get_pix_fmt_name(AVPixelFormat(rawValue: format))) ?? "unknown" }
