internal import CFFmpeg

/// Buffers planar float samples and feeds an AAC encoder whole frames of its frame size.
final class AudioEncoderQueue {
    let encoder: Encoder
    private let fifo: OpaquePointer
    private let frame = Frame()
    private let channels: Int32
    private let frameSize: Int32
    private(set) var samplesEncoded: Int64 = 0
    private let path: String

    init(encoder: Encoder, path: String) throws {
        self.encoder = encoder
        self.path = path
        let context = encoder.context.pointee
        channels = context.ch_layout.nb_channels
        frameSize = context.frame_size > 0 ? context.frame_size : 1024
        guard let fifo = av_audio_fifo_alloc(context.sample_fmt, channels, frameSize * 4) else {
            fatalError("av_audio_fifo_alloc: out of memory")
        }
        self.fifo = fifo
    }

    deinit { av_audio_fifo_free(fifo) }

    /// Queues planar samples (`planes[c]` points at `count` floats) and encodes what fills frames.
    func write(planes: UnsafeMutablePointer<UnsafeMutableRawPointer?>, count: Int32) throws {
        guard count > 0 else { return }
        try check(av_audio_fifo_write(fifo, planes, count), "av_audio_fifo_write", path: path, code: .encodingFailed,
                  "cannot queue audio")
        try drain(final: false)
    }

    /// Queues `count` samples of silence.
    func writeSilence(count: Int64) throws {
        var remaining = count
        let chunk = Int32(4096)
        var zeros = [Float](repeating: 0, count: Int(chunk))
        try zeros.withUnsafeMutableBytes { (bytes) throws in
            var planes = [UnsafeMutableRawPointer?](repeating: bytes.baseAddress, count: Int(channels))
            while remaining > 0 {
                let now = Int32(min(Int64(chunk), remaining))
                try write(planes: &planes, count: now)
                remaining -= Int64(now)
            }
        }
    }

    /// Encodes every whole frame queued; with `final`, also the last partial one, then drains the encoder.
    func drain(final: Bool) throws {
        while av_audio_fifo_size(fifo) >= frameSize || (final && av_audio_fifo_size(fifo) > 0) {
            let count = min(frameSize, av_audio_fifo_size(fifo))
            frame.unref()
            let context = encoder.context.pointee
            frame.pointer.pointee.nb_samples = count
            frame.pointer.pointee.format = context.sample_fmt.rawValue
            frame.pointer.pointee.sample_rate = context.sample_rate
            try check(av_channel_layout_copy(&frame.pointer.pointee.ch_layout, &encoder.context.pointee.ch_layout),
                      "av_channel_layout_copy", path: path, code: .encodingFailed, "cannot set up audio")
            try check(av_frame_get_buffer(frame.pointer, 0), "av_frame_get_buffer", path: path, code: .encodingFailed,
                      "cannot allocate audio")
            let planes = UnsafeMutableRawPointer(cff_frame_extended_data(frame.pointer)!)
                .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
            let read = av_audio_fifo_read(fifo, planes, count)
            try check(read, "av_audio_fifo_read", path: path, code: .encodingFailed, "cannot read queued audio")
            frame.pointer.pointee.pts = samplesEncoded
            samplesEncoded += Int64(count)
            try encoder.encode(frame)
        }
        if final { try encoder.encode(nil) }
    }
}
