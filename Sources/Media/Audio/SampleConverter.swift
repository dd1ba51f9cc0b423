internal import CFFmpeg

/// Converts decoded audio of any sample format, rate and layout to planar float at a
/// chosen rate and channel count (by default the input's own).
final class SampleConverter {
    private var context: OpaquePointer?
    private var planes: [UnsafeMutablePointer<Float>] = []
    private var capacity = 0
    let channels: Int
    let inputRate: Int32
    let outputRate: Int32
    private let path: String?

    init(from frame: Frame, rate: Int32? = nil, channels: Int32? = nil, path: String?) throws {
        self.path = path
        var inputLayout = frame.pointer.pointee.ch_layout
        var outputLayout = AVChannelLayout()
        if let channels {
            av_channel_layout_default(&outputLayout, channels)
        } else {
            try check(av_channel_layout_copy(&outputLayout, &inputLayout), "av_channel_layout_copy", path: path,
                      code: .decodingFailed, "cannot read the channel layout")
        }
        defer { av_channel_layout_uninit(&outputLayout) }
        self.channels = Int(outputLayout.nb_channels)
        inputRate = frame.pointer.pointee.sample_rate
        outputRate = rate ?? inputRate
        let format = AVSampleFormat(rawValue: frame.pointer.pointee.format)
        try check(swr_alloc_set_opts2(&context, &outputLayout, AV_SAMPLE_FMT_FLTP, outputRate, &inputLayout, format,
                                      inputRate, 0, nil),
                  "swr_alloc_set_opts2", path: path, code: .decodingFailed, "cannot convert the audio samples")
        try check(swr_init(context), "swr_init", path: path, code: .decodingFailed, "cannot convert the audio samples")
    }

    deinit {
        swr_free(&context)
        planes.forEach { $0.deallocate() }
    }

    /// True when `frame` has the shape this converter was made for.
    func accepts(_ frame: Frame) -> Bool {
        frame.pointer.pointee.sample_rate == inputRate
    }

    /// The frame's samples (nil: what the resampler still holds) as planar floats; the
    /// pointers stay valid until the next call.
    func convert(_ frame: Frame?) throws -> (planes: [UnsafeMutablePointer<Float>], count: Int) {
        let inputCount = frame.map { Int($0.pointer.pointee.nb_samples) } ?? 0
        let needed = Int(swr_get_out_samples(context, Int32(inputCount)))
        if needed > capacity {
            planes.forEach { $0.deallocate() }
            planes = (0..<channels).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: needed) }
            capacity = needed
        }
        guard needed > 0 else { return (planes, 0) }
        var destination: [UnsafeMutablePointer<UInt8>?] = planes.map {
            UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self)
        }
        let source = frame.map {
            UnsafeMutableRawPointer(cff_frame_extended_data($0.pointer)!).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        }
        let converted = try check(swr_convert(context, &destination, Int32(needed), source, Int32(inputCount)),
                                  "swr_convert", path: path, code: .decodingFailed, "cannot convert the audio samples")
        return (planes, Int(converted))
    }
}
