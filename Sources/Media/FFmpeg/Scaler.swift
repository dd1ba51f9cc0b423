internal import CFFmpeg

/// A swscale context converting between one source and one destination shape, freed in deinit.
final class Scaler {
    private let context: OpaquePointer
    let sourceWidth: Int32, sourceHeight: Int32, sourceFormat: AVPixelFormat
    let width: Int32, height: Int32, format: AVPixelFormat

    /// Bicubic, like the `ffmpeg` program's default, so stills match what it would write.
    init(
        sourceWidth: Int32, sourceHeight: Int32, sourceFormat: AVPixelFormat,
        width: Int32, height: Int32, format: AVPixelFormat, path: String?
    ) throws {
        guard let context = sws_getContext(
            sourceWidth, sourceHeight, sourceFormat, width, height, format, SWS_BICUBIC | SWS_ACCURATE_RND, nil, nil, nil)
        else {
            let from = string(av_get_pix_fmt_name(sourceFormat)) ?? "?"
            let to = string(av_get_pix_fmt_name(format)) ?? "?"
            throw MediaError(.invalidArgument,
                             "cannot convert \(sourceWidth)x\(sourceHeight) \(from) to \(width)x\(height) \(to)",
                             path: path, function: "sws_getContext")
        }
        self.context = context
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.sourceFormat = sourceFormat
        self.width = width
        self.height = height
        self.format = format
    }

    deinit { sws_freeContext(context) }

    func matches(_ frame: Frame) -> Bool {
        frame.width == sourceWidth && frame.height == sourceHeight && frame.pointer.pointee.format == sourceFormat.rawValue
    }

    /// Converts planes described by pointers and strides.
    func scale(
        source: UnsafePointer<UnsafePointer<UInt8>?>, sourceStrides: UnsafePointer<Int32>,
        destination: UnsafePointer<UnsafeMutablePointer<UInt8>?>, destinationStrides: UnsafePointer<Int32>
    ) {
        sws_scale(context, source, sourceStrides, 0, sourceHeight, destination, destinationStrides)
    }

    /// Converts a frame into planes at an offset of a larger frame (letterboxing).
    func scale(_ source: Frame, into destination: Frame, x: Int32, y: Int32) {
        let sourceData = UnsafeRawPointer(cff_frame_data_array(source.pointer)!)
            .assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        var planes: [UnsafeMutablePointer<UInt8>?] = [nil, nil, nil, nil]
        var strides: [Int32] = [0, 0, 0, 0]
        for plane in 0..<3 {
            let stride = cff_frame_linesize(destination.pointer, Int32(plane))
            let shift: Int32 = plane == 0 ? 0 : 1
            strides[plane] = stride
            planes[plane] = cff_frame_data(destination.pointer, Int32(plane))
                .map { $0 + Int((y >> shift) * stride + (x >> shift)) }
        }
        sws_scale(context, sourceData, cff_frame_linesize_array(source.pointer), 0, sourceHeight, planes, strides)
    }
}
