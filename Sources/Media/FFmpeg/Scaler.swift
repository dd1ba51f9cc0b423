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

    /// Converts a whole frame into a whole frame of this scaler's destination shape. (Scaling
    /// into part of a larger frame is not done: swscale writes whole SIMD groups past the
    /// scaled width, which would paint into a letterbox's bars.)
    func scale(_ source: Frame, into destination: Frame) throws {
        guard matches(source) else {
            throw MediaError(.decodingFailed, "the picture changed to \(source.width)x\(source.height) mid-stream "
                             + "(the converter was made for \(sourceWidth)x\(sourceHeight))", path: nil)
        }
        guard destination.width == width, destination.height == height, destination.pointer.pointee.format == format.rawValue,
              let sourceData = cff_frame_data_array(source.pointer), let destinationData = cff_frame_data_array(destination.pointer)
        else {
            throw MediaError(.encodingFailed, "a converted picture has no buffer of \(width)x\(height)", path: nil)
        }
        sws_scale(context, UnsafeRawPointer(sourceData).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                  cff_frame_linesize_array(source.pointer), 0, sourceHeight,
                  destinationData, cff_frame_linesize_array(destination.pointer))
    }
}
