internal import CFFmpeg
import Foundation

/// Decodes the best video stream of a file, skipping every other stream.
final class VideoReader {
    let input: InputContainer
    let decoder: Decoder
    let stream: UnsafeMutablePointer<AVStream>

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

    func seconds(_ timestamp: Int64) -> Double { Double(timestamp - startTimestamp) * timeBase.seconds }

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

    /// The decoded frame as RGB, at its own size.
    func image(from frame: Frame) throws -> FrameImage {
        let width = frame.width
        let height = frame.height
        let scaler = try Scaler(
            sourceWidth: width, sourceHeight: height,
            sourceFormat: AVPixelFormat(rawValue: frame.pointer.pointee.format),
            width: width, height: height, format: AV_PIX_FMT_RGB24, path: path)
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        pixels.withUnsafeMutableBufferPointer { buffer in
            var planes: [UnsafeMutablePointer<UInt8>?] = [buffer.baseAddress, nil, nil, nil]
            var strides: [Int32] = [width * 3, 0, 0, 0]
            scaler.scale(frame.pointer, into: &planes, strides: &strides)
        }
        return FrameImage(width: Int(width), height: Int(height), pixels: pixels,
                          time: frame.timestamp.map(seconds))
    }
}

extension Scaler {
    fileprivate func scale(
        _ frame: UnsafeMutablePointer<AVFrame>, into planes: inout [UnsafeMutablePointer<UInt8>?],
        strides: inout [Int32]
    ) {
        let sourceData = UnsafeRawPointer(cff_frame_data_array(frame)!).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        scale(source: sourceData, sourceStrides: cff_frame_linesize_array(frame), destination: planes,
              destinationStrides: strides)
    }
}
