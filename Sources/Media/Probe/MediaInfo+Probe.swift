internal import CFFmpeg
import Foundation

extension MediaInfo {
    /// Reads the container and stream parameters of `url` (no frames are decoded beyond
    /// what FFmpeg needs to fill the parameters).
    public static func probe(_ url: URL) throws -> MediaInfo {
        let input = try InputContainer(url: url)
        return MediaInfo(input, url: url)
    }

    init(_ input: InputContainer, url: URL) {
        let still = input.isStillImage ? ExifOrientation.read(url) : nil
        let context = input.context.pointee
        let start = context.start_time
        let size = (try? FileManager.default.attributesOfItem(atPath: input.path))?[.size] as? Int
        self.init(
            path: input.path,
            container: input.formatName,
            containerDescription: string(context.iformat.pointee.long_name),
            duration: input.duration,
            startTime: start == noPTS ? nil : Double(start) / Double(AV_TIME_BASE),
            bitRate: context.bit_rate > 0 ? Int(context.bit_rate) : nil,
            size: size,
            streams: (0..<input.streamCount).map { StreamInfo(input.stream($0), still: still) }
        )
    }
}

extension StreamInfo {
    /// - Parameter still: a still's EXIF orientation, which wins over a display matrix.
    init(_ stream: UnsafeMutablePointer<AVStream>, still: Orientation? = nil) {
        let parameters = stream.pointee.codecpar.pointee
        let timeBase = stream.pointee.time_base
        let kind: Kind =
            switch parameters.codec_type {
            case AVMEDIA_TYPE_VIDEO: .video
            case AVMEDIA_TYPE_AUDIO: .audio
            case AVMEDIA_TYPE_SUBTITLE: .subtitle
            case AVMEDIA_TYPE_DATA: .data
            case AVMEDIA_TYPE_ATTACHMENT: .attachment
            default: .unknown
            }
        let duration = stream.pointee.duration
        let start = stream.pointee.start_time
        let rate = stream.pointee.avg_frame_rate.isValid ? stream.pointee.avg_frame_rate : stream.pointee.r_frame_rate
        let matrix = kind == .video ? DisplayMatrix(stream: stream) : nil
        let orientation = still ?? matrix?.orientation ?? .upright
        let turned = kind == .video && orientation.swapsAxes
        let rotation = kind == .video ? (still.map(\.rotation) ?? matrix?.rotation) : nil
        var layout: String?
        if kind == .audio {
            var buffer = [CChar](repeating: 0, count: 128)
            var channelLayout = parameters.ch_layout
            if av_channel_layout_describe(&channelLayout, &buffer, buffer.count) >= 0 {
                layout = string(fromBuffer: buffer)
            }
        }
        self.init(
            index: Int(stream.pointee.index),
            kind: kind,
            codec: string(avcodec_get_name(parameters.codec_id)) ?? "unknown",
            codecDescription: avcodec_descriptor_get(parameters.codec_id).flatMap { string($0.pointee.long_name) },
            profile: string(avcodec_profile_name(parameters.codec_id, parameters.profile)),
            width: kind == .video ? Int(parameters.width) : nil,
            height: kind == .video ? Int(parameters.height) : nil,
            frameRate: kind == .video && rate.isValid ? rate.seconds : nil,
            pixelFormat: kind == .video ? string(av_get_pix_fmt_name(AVPixelFormat(rawValue: parameters.format))) : nil,
            sampleRate: kind == .audio ? Int(parameters.sample_rate) : nil,
            channels: kind == .audio ? Int(parameters.ch_layout.nb_channels) : nil,
            channelLayout: layout,
            bitRate: parameters.bit_rate > 0 ? Int(parameters.bit_rate) : nil,
            frameCount: stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil,
            duration: duration == noPTS || duration <= 0 ? nil : Double(duration) * timeBase.seconds,
            startTime: start == noPTS ? nil : Double(start) * timeBase.seconds,
            timeBase: "\(timeBase.num)/\(timeBase.den)",
            rotation: rotation == 0 ? nil : rotation,
            displayWidth: kind == .video ? Int(turned ? parameters.height : parameters.width) : nil,
            displayHeight: kind == .video ? Int(turned ? parameters.width : parameters.height) : nil,
            nominalFrameRate: kind == .video ? nominalRate(base: stream.pointee.r_frame_rate, average: stream.pointee.avg_frame_rate) : nil
        )
    }
}

/// The rate a stream's frames were made at: FFmpeg's base rate (`r_frame_rate`) unless it is
/// missing or more than 1.5 times the average (then it is a timestamp grid or a field rate,
/// as a TS can say 240), else the average.
func nominalRate(base: AVRational, average: AVRational) -> Double? {
    let base = base.isValid && base.seconds > 0 ? base.seconds : nil
    let average = average.isValid && average.seconds > 0 ? average.seconds : nil
    switch (base, average) {
    case let (base?, average?): return base <= average * 1.5 ? base : average
    case let (base?, nil): return base
    case let (nil, average?): return average
    default: return nil
    }
}
