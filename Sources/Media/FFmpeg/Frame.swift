internal import CFFmpeg

/// An AVFrame, freed in deinit.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() {
        guard let frame = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        pointer = frame
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&freeing)
    }

    func unref() { av_frame_unref(pointer) }

    /// Moves `other`'s content here, leaving `other` empty.
    func take(from other: Frame) {
        av_frame_unref(pointer)
        av_frame_move_ref(pointer, other.pointer)
    }

    /// The presentation time in stream time-base units (best effort), or nil.
    var timestamp: Int64? {
        let best = pointer.pointee.best_effort_timestamp
        if best != noPTS { return best }
        let pts = pointer.pointee.pts
        return pts == noPTS ? nil : pts
    }

    var width: Int32 { pointer.pointee.width }
    var height: Int32 { pointer.pointee.height }
    var hasData: Bool { cff_frame_data(pointer, 0) != nil }

    /// Allocates a writable video buffer of the given shape.
    static func video(width: Int32, height: Int32, format: AVPixelFormat, path: String?) throws -> Frame {
        let frame = Frame()
        frame.pointer.pointee.width = width
        frame.pointer.pointee.height = height
        frame.pointer.pointee.format = format.rawValue
        try check(av_frame_get_buffer(frame.pointer, 0), "av_frame_get_buffer", path: path, code: .encodingFailed,
                  "cannot allocate a \(width)x\(height) frame")
        return frame
    }
}
