internal import CFFmpeg
import Foundation

/// A video file on disk, for pulling exact frames out of it.
///
/// Each call opens the file, decodes only what it needs (from the keyframe before the
/// wanted frame) and closes it again; memory does not grow with the length of the video.
public struct VideoFile: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    /// The frame shown at `seconds` (the last frame whose presentation time is at or
    /// before it), found by seeking to the keyframe before and decoding forward.
    public func frame(at seconds: Double) throws -> FrameImage {
        let (reader, frame) = try decodedFrame(at: seconds)
        return try reader.image(from: frame)
    }

    /// The still shown at `seconds`, written to `url` (.jpg, .jpeg or .png by its extension),
    /// scaled to `width` when given (the height keeps the aspect ratio). The decoded picture
    /// goes to the encoder's pixel format in one conversion, without a full-size RGB copy in
    /// between. The file appears whole or not at all.
    @discardableResult
    public func writeStill(at seconds: Double, to output: URL, width: Int? = nil) throws -> WrittenStill {
        let format = try ImageFormat(of: output)
        let (reader, frame) = try decodedFrame(at: seconds)
        return try frame.writeStill(as: format, width: width, to: output, path: reader.path,
                                    time: frame.timestamp.map(reader.seconds) ?? seconds)
    }

    /// The decoded frame shown at `seconds`, upright as shown, with the reader it came from.
    private func decodedFrame(at seconds: Double) throws -> (VideoReader, Frame) {
        let reader = try VideoReader(url: url)
        guard seconds.isFinite, seconds >= 0 else {
            throw MediaError(.timeOutOfRange, "time \(seconds) s is before the start; give 0 or more", path: reader.path)
        }
        if let duration = reader.duration, seconds > duration + 1e-6 {
            throw MediaError(.timeOutOfRange,
                             "time \(format(seconds)) s is past the end (the video lasts \(format(duration)) s)",
                             path: reader.path)
        }
        let target = try reader.timestamp(at: seconds)
        try reader.seek(toKeyframeBefore: target)
        let candidate = Frame()
        var first: Frame?
        try reader.decodeForward { frame throws in
            guard let timestamp = frame.timestamp else { return true }
            if timestamp <= target {
                candidate.take(from: frame)
                return true
            }
            if !candidate.hasData {
                // The seek landed after the target (only for targets before the first frame).
                let kept = Frame()
                kept.take(from: frame)
                first = kept
            }
            return false
        }
        if candidate.hasData { return (reader, try reader.upright(candidate)) }
        if let first { return (reader, try reader.upright(first)) }
        throw MediaError(.decodingFailed, "no frame could be decoded at \(format(seconds)) s (is the file cut off?)",
                         path: reader.path)
    }

    /// The very last frame of the video: the one shown at its end, not the one before it.
    public func lastFrame() throws -> FrameImage {
        let (reader, last) = try decodedLastFrame()
        return try reader.image(from: last)
    }

    /// The very last frame written to `url` (.png, .jpg or .jpeg by its extension), converted
    /// from the decoded picture in one pass. The file appears whole or not at all.
    @discardableResult
    public func writeLastFrame(to output: URL, width: Int? = nil) throws -> WrittenStill {
        let format = try ImageFormat(of: output)
        let (reader, last) = try decodedLastFrame()
        return try last.writeStill(as: format, width: width, to: output, path: reader.path,
                                   time: last.timestamp.map(reader.seconds) ?? 0)
    }

    private func decodedLastFrame() throws -> (VideoReader, Frame) {
        let reader = try VideoReader(url: url)
        let last = Frame()
        var lastTimestamp = Int64.min
        let keep: (Frame) throws -> Bool = { frame in
            let timestamp = frame.timestamp ?? (lastTimestamp == .min ? 0 : lastTimestamp + 1)
            if timestamp >= lastTimestamp {
                lastTimestamp = timestamp
                last.take(from: frame)
            }
            return true
        }
        if let duration = reader.duration {
            let end = try reader.timestamp(at: duration)
            try reader.seek(toKeyframeBefore: end)
            try reader.decodeForward(keep)
        }
        if !last.hasData {
            // Unknown length or a failed seek near the end: decode the whole stream instead.
            try reader.seek(toKeyframeBefore: reader.startTimestamp)
            try reader.decodeForward(keep)
        }
        guard last.hasData else {
            throw MediaError(.decodingFailed, "no frame could be decoded (is the file cut off?)", path: reader.path)
        }
        return (reader, try reader.upright(last))
    }

    /// A still at `seconds`, encoded as PNG or JPEG and optionally scaled to `width`.
    public func thumbnail(at seconds: Double, format: ImageFormat, width: Int? = nil) throws -> Data {
        let (reader, frame) = try decodedFrame(at: seconds)
        return try frame.encodedStill(as: format, width: width, path: reader.path)
    }
}

func format(_ seconds: Double) -> String {
    String(format: "%.3f", seconds).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
}

/// What `writeStill` and `writeLastFrame` wrote: the image's size and the frame's time.
public struct WrittenStill: Sendable, Hashable {
    public let width: Int
    public let height: Int
    /// Seconds from the start of the video.
    public let time: Double
}
