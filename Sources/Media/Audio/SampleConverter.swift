internal import CFFmpeg

/// Converts decoded audio of any sample format to planar float at the same rate and layout.
final class SampleConverter {
    private var context: OpaquePointer?
    private var planes: [UnsafeMutablePointer<Float>] = []
    private var capacity = 0
    private let channels: Int
    private let path: String?

    init(from frame: Frame, path: String?) throws {
        self.path = path
        var outputLayout = frame.pointer.pointee.ch_layout
        var inputLayout = frame.pointer.pointee.ch_layout
        channels = Int(inputLayout.nb_channels)
        let rate = frame.pointer.pointee.sample_rate
        let format = AVSampleFormat(rawValue: frame.pointer.pointee.format)
        try check(swr_alloc_set_opts2(&context, &outputLayout, AV_SAMPLE_FMT_FLTP, rate, &inputLayout, format, rate, 0, nil),
                  "swr_alloc_set_opts2", path: path, code: .decodingFailed, "cannot convert the audio samples")
        try check(swr_init(context), "swr_init", path: path, code: .decodingFailed, "cannot convert the audio samples")
    }

    deinit {
        swr_free(&context)
        planes.forEach { $0.deallocate() }
    }

    /// The frame's samples as planar floats; valid until the next call.
    func convert(_ frame: Frame) throws -> [UnsafePointer<Float>] {
        let count = Int(frame.pointer.pointee.nb_samples)
        if count > capacity {
            planes.forEach { $0.deallocate() }
            planes = (0..<channels).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
            capacity = count
        }
        var destination: [UnsafeMutablePointer<UInt8>?] = planes.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) }
        let source = UnsafeMutableRawPointer(cff_frame_extended_data(frame.pointer)!)
            .assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        try check(swr_convert(context, &destination, Int32(count), source, Int32(count)), "swr_convert", path: path,
                  code: .decodingFailed, "cannot convert the audio samples")
        return planes.map { UnsafePointer($0) }
    }
}
