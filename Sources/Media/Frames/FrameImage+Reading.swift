internal import CFFmpeg
import Foundation

extension FrameImage {
    /// Decodes the first picture of an image file (PNG, JPEG, …) or of a video.
    public init(contentsOf url: URL) throws {
        let input = try InputContainer(url: url)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw MediaError(.noVideoStream, "holds no picture", path: input.path)
        }
        input.discardAll(except: [index])
        let decoder = try Decoder(input: input, streamIndex: index)
        let picture = Frame()
        try decoder.decode(from: input) { frame in
            picture.take(from: frame)
            return false
        }
        guard picture.hasData else {
            throw MediaError(.decodingFailed, "no picture could be decoded", path: input.path)
        }
        // Upright as shown: a still by its EXIF orientation (the JPEG decoder also gives it as
        // the frame's own matrix; the PNG decoder of FFmpeg 5.1 ignores it), a video by its
        // display matrix.
        let stream = input.isStillImage ? (ExifOrientation.read(url) ?? .upright)
            : (DisplayMatrix(stream: input.stream(index))?.orientation ?? .upright)
        self = try picture.oriented(picture.orientation(stream: stream), path: input.path).rgbImage(path: input.path, time: nil)
    }
}

extension Frame {
    /// This decoded frame as RGB at its own size.
    func rgbImage(path: String, time: Double?) throws -> FrameImage {
        let scaler = try Scaler(
            sourceWidth: width, sourceHeight: height, sourceFormat: AVPixelFormat(rawValue: pointer.pointee.format),
            width: width, height: height, format: AV_PIX_FMT_RGB24, path: path)
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        pixels.withUnsafeMutableBufferPointer { buffer in
            let planes: [UnsafeMutablePointer<UInt8>?] = [buffer.baseAddress, nil, nil, nil]
            let strides: [Int32] = [width * 3, 0, 0, 0]
            let source = UnsafeRawPointer(cff_frame_data_array(pointer)!).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
            scaler.scale(source: source, sourceStrides: cff_frame_linesize_array(pointer), destination: planes,
                         destinationStrides: strides)
        }
        return FrameImage(width: Int(width), height: Int(height), pixels: pixels, time: time)
    }
}
