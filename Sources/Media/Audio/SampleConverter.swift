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
    /// The input shape this converter was made for (a deep copy of the frame's layout).
    private var inputLayout = AVChannelLayout()
    private let inputFormat: Int32
    private let path: String?

    /// - Parameters:
    ///   - layout: the output layout (wins over `channels`); by default the input's own.
    init(from frame: Frame, rate: Int32? = nil, channels: Int32? = nil, layout: AVChannelLayout? = nil, path: String?) throws {
        self.path = path
        let decoded = frame.pointer.pointee
        guard decoded.sample_rate > 0, decoded.ch_layout.nb_channels > 0, cff_frame_extended_data(frame.pointer) != nil else {
            throw MediaError(.decodingFailed, "a decoded audio frame has no sample rate or no channels", path: path)
        }
        inputRate = decoded.sample_rate
        inputFormat = decoded.format
        try check(av_channel_layout_copy(&inputLayout, &frame.pointer.pointee.ch_layout), "av_channel_layout_copy", path: path,
                  code: .decodingFailed, "cannot read the channel layout")
        // A layout of unknown order (PCM in AVI) is taken as the default one of its channel count.
        var swrInput = AVChannelLayout()
        if decoded.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
            av_channel_layout_default(&swrInput, decoded.ch_layout.nb_channels)
        } else {
            try check(av_channel_layout_copy(&swrInput, &inputLayout), "av_channel_layout_copy", path: path,
                      code: .decodingFailed, "cannot read the channel layout")
        }
        defer { av_channel_layout_uninit(&swrInput) }
        var outputLayout = AVChannelLayout()
        if var layout {
            try check(av_channel_layout_copy(&outputLayout, &layout), "av_channel_layout_copy", path: path,
                      code: .decodingFailed, "cannot read the channel layout")
        } else if let channels {
            av_channel_layout_default(&outputLayout, channels)
        } else {
            try check(av_channel_layout_copy(&outputLayout, &swrInput), "av_channel_layout_copy", path: path,
                      code: .decodingFailed, "cannot read the channel layout")
        }
        defer { av_channel_layout_uninit(&outputLayout) }
        self.channels = Int(outputLayout.nb_channels)
        outputRate = rate ?? inputRate
        let format = AVSampleFormat(rawValue: decoded.format)
        try check(swr_alloc_set_opts2(&context, &outputLayout, AV_SAMPLE_FMT_FLTP, outputRate, &swrInput, format,
                                      inputRate, 0, nil),
                  "swr_alloc_set_opts2", path: path, code: .decodingFailed, "cannot convert the audio samples")
        try check(swr_init(context), "swr_init", path: path, code: .decodingFailed, "cannot convert the audio samples")
    }

    deinit {
        swr_free(&context)
        av_channel_layout_uninit(&inputLayout)
        planes.forEach { $0.deallocate() }
    }

    /// True when `frame` has the shape this converter was made for: its rate, sample format
    /// and channel layout (a stream can change any of them mid-way).
    func accepts(_ frame: Frame) -> Bool {
        frame.pointer.pointee.sample_rate == inputRate && frame.pointer.pointee.format == inputFormat
            && av_channel_layout_compare(&frame.pointer.pointee.ch_layout, &inputLayout) == 0
    }

    /// The frame's samples (nil: what the resampler still holds) as planar floats; the
    /// pointers stay valid until the next call.
    func convert(_ frame: Frame?) throws -> (planes: [UnsafeMutablePointer<Float>], count: Int) {
        let inputCount = frame.map { Int($0.pointer.pointee.nb_samples) } ?? 0
        let needed = Int(try check(swr_get_out_samples(context, Int32(inputCount)), "swr_get_out_samples", path: path,
                                   code: .decodingFailed, "cannot convert the audio samples"))
        if needed > capacity {
            planes.forEach { $0.deallocate() }
            planes = (0..<channels).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: needed) }
            capacity = needed
        }
        guard needed > 0 else { return (planes, 0) }
        var destination: [UnsafeMutablePointer<UInt8>?] = planes.map {
            UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self)
        }
        var source: UnsafeMutablePointer<UnsafePointer<UInt8>?>?
        if let frame {
            guard accepts(frame), let data = cff_frame_extended_data(frame.pointer) else {
                throw MediaError(.decodingFailed, "the audio changed shape mid-stream (rate, format or channels)", path: path)
            }
            source = UnsafeMutableRawPointer(data).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        }
        let converted = try check(swr_convert(context, &destination, Int32(needed), source, Int32(inputCount)),
                                  "swr_convert", path: path, code: .decodingFailed, "cannot convert the audio samples")
        return (planes, Int(converted))
    }
}
