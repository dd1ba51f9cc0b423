internal import CFFmpeg
import Foundation

/// Decodes the best video stream of a file, skipping every other stream.
final class VideoReader {
    let input: InputContainer
    let decoder: Decoder
    let stream: UnsafeMutablePointer<AVStream>
    /// How the stream's display matrix turns its pictures to be shown.
    let streamOrientation: Orientation

    init(url: URL) throws {
        input = try InputContainer(url: url)
        if input.isStillImage {
            throw MediaError(.notAVideo, "is a still image (\(input.formatName)), not a video", path: input.path)
        }
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw MediaError(.noVideoStream, "has no video stream", path: input.path)
        }
        input.discardAll(except: [index])
        stream = input.stream(index)
        streamOrientation = DisplayMatrix(stream: stream)?.orientation ?? .upright
        decoder = try Decoder(input: input, streamIndex: index)
    }

    var path: String { input.path }
    var timeBase: AVRational { stream.pointee.time_base }

    /// Stream start in time-base units (0 when unknown).
    var startTimestamp: Int64 {
        let start = stream.pointee.start_time
        return start == noPTS ? 0 : start
    }

    /// The video's length in seconds: the stream's own when recorded, else the container's.
    var duration: Double? {
        let value = stream.pointee.duration
        if value != noPTS, value > 0 { return Double(value) * timeBase.seconds }
        return input.duration
    }

    func seconds(_ timestamp: Int64) -> Double { (Double(timestamp) - Double(startTimestamp)) * timeBase.seconds }

    /// The stream timestamp of a time from the start; an error (not a trap) when the stream's
    /// time base or the time cannot make one.
    func timestamp(at seconds: Double) throws -> Int64 {
        let ticks = (seconds / timeBase.seconds).rounded()
        guard timeBase.isValid, ticks.isFinite, abs(ticks) < 0x1p62 else {
            throw MediaError(.decodingFailed, "cannot find \(seconds) s in a stream of time base \(timeBase.num)/\(timeBase.den)", path: path)
        }
        let (sum, overflow) = startTimestamp.addingReportingOverflow(Int64(ticks))
        guard !overflow else { throw MediaError(.decodingFailed, "the stream's start time is out of range", path: path) }
        return sum
    }

    /// Seeks to the keyframe at or before `timestamp` and resets the decoder.
    func seek(toKeyframeBefore timestamp: Int64) throws {
        let status = av_seek_frame(input.context, Int32(decoder.streamIndex), timestamp, AVSEEK_FLAG_BACKWARD)
        if status < 0 {
            // Some inputs cannot seek; decoding from the start is slower but exact.
            try check(avformat_seek_file(input.context, -1, Int64.min, 0, 0, 0), "avformat_seek_file",
                      path: path, code: .decodingFailed, "cannot seek")
        }
        decoder.flushBuffers()
    }

    /// Decodes forward, handing each frame to `body` until it returns false or the stream ends.
    func decodeForward(_ body: (Frame) throws -> Bool) throws {
        try decoder.decode(from: input, body)
    }

    /// A decoded frame as it is shown: turned upright by its display matrix.
    func upright(_ frame: Frame) throws -> Frame {
        try frame.oriented(frame.orientation(stream: streamOrientation), path: path)
    }

    /// The decoded frame as RGB, at its own size.
    func image(from frame: Frame) throws -> FrameImage {
        try frame.rgbImage(path: path, time: frame.timestamp.map(seconds))
    }
}
