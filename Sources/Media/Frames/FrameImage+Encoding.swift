internal import CFFmpeg
import Foundation

extension FrameImage {
    /// Encodes the image as PNG or JPEG, scaled to `width` (height keeps the aspect ratio) when given.
    public func encoded(as format: ImageFormat, width targetWidth: Int? = nil, jpegQuality: Int = 2) throws -> Data {
        try FFmpegRuntime.ensure()
        let still = try StillShape(width: Int32(width), height: Int32(height), target: targetWidth, format: format)
        let converted = try Frame.video(width: still.width, height: still.height, format: still.pixelFormat, path: nil)
        let scaler = try Scaler(sourceWidth: Int32(width), sourceHeight: Int32(height), sourceFormat: AV_PIX_FMT_RGB24,
                                width: still.width, height: still.height, format: still.pixelFormat, path: nil)
        pixels.withUnsafeBufferPointer { buffer in
            var planes: [UnsafePointer<UInt8>?] = [buffer.baseAddress, nil, nil, nil]
            var strides: [Int32] = [Int32(width * 3), 0, 0, 0]
            scaler.scale(source: &planes, sourceStrides: &strides,
                         destination: cff_frame_data_array(converted.pointer),
                         destinationStrides: cff_frame_linesize_array(converted.pointer))
        }
        return try ImageEncoder.encode(converted, codec: still.codec, quality: format == .jpeg ? jpegQuality : nil)
    }

    /// Writes the image to `url`, format from its extension (.png, .jpg, .jpeg). The file
    /// appears whole or not at all.
    public func write(to url: URL, width: Int? = nil) throws {
        try writeAtomically(encoded(as: try ImageFormat(of: url), width: width), to: url)
    }
}

/// The size, pixel format and codec of a still: `target` wide (the height keeps the aspect
/// ratio, even for JPEG's 4:2:0), RGB for PNG, full-range 4:2:0 for JPEG.
struct StillShape {
    let width: Int32, height: Int32
    let pixelFormat: AVPixelFormat
    let codec: AVCodecID

    init(width sourceWidth: Int32, height sourceHeight: Int32, target: Int?, format: ImageFormat) throws {
        if let target, target < 2 || target > 16384 {
            throw MediaError(.invalidArgument, "width \(target) is out of range; use 2 to 16384 pixels")
        }
        width = Int32(target ?? Int(sourceWidth))
        var height = Int32(target.map { Int((Double($0) * Double(sourceHeight) / Double(sourceWidth)).rounded()) } ?? Int(sourceHeight))
        switch format {
        case .png:
            pixelFormat = AV_PIX_FMT_RGB24
            codec = AV_CODEC_ID_PNG
        case .jpeg:
            pixelFormat = AV_PIX_FMT_YUVJ420P
            codec = AV_CODEC_ID_MJPEG
            height += height & 1
        }
        self.height = max(height, 2)
    }
}

extension ImageFormat {
    /// The format a file name asks for, or an error naming the ones there are.
    init(of url: URL) throws {
        guard let format = ImageFormat(pathExtension: url.pathExtension) else {
            throw MediaError(.invalidArgument, "unknown image type '.\(url.pathExtension)'; use .png, .jpg or .jpeg",
                             path: url.relativePath)
        }
        self = format
    }
}

extension Frame {
    /// Encodes this picture as a still and writes it to `url` atomically.
    func writeStill(as format: ImageFormat, width target: Int?, to url: URL, path: String, time: Double) throws -> WrittenStill {
        let still = try StillShape(width: width, height: height, target: target, format: format)
        try writeAtomically(try encodedStill(as: format, width: target, path: path), to: url)
        return WrittenStill(width: Int(still.width), height: Int(still.height), time: time)
    }

    /// This decoded picture as a PNG or JPEG still, converted (and scaled) in one pass.
    func encodedStill(as format: ImageFormat, width target: Int?, path: String?, jpegQuality: Int = 2) throws -> Data {
        let still = try StillShape(width: width, height: height, target: target, format: format)
        let converted = try Frame.video(width: still.width, height: still.height, format: still.pixelFormat, path: path)
        let scaler = try Scaler(sourceWidth: width, sourceHeight: height, sourceFormat: AVPixelFormat(rawValue: pointer.pointee.format),
                                width: still.width, height: still.height, format: still.pixelFormat, path: path)
        let source = UnsafeRawPointer(cff_frame_data_array(pointer)!).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        scaler.scale(source: source, sourceStrides: cff_frame_linesize_array(pointer),
                     destination: cff_frame_data_array(converted.pointer), destinationStrides: cff_frame_linesize_array(converted.pointer))
        return try ImageEncoder.encode(converted, codec: still.codec, quality: format == .jpeg ? jpegQuality : nil)
    }
}

/// Writes bytes to a temporary file beside `url` and renames it into place: the file appears
/// whole or not at all. No fsync (Foundation's `.atomic` does one, which costs more than
/// encoding a still on a slow disk); like the `ffmpeg` program, durability is the system's.
func writeAtomically(_ data: Data, to url: URL) throws {
    let folder = try writableFolder(of: url)
    let temporary = folder + "/." + url.lastPathComponent + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).partial"
    func failure(_ what: String) -> MediaError {
        MediaError(.outputNotWritable, "cannot write the file", path: url.relativePath, reason: "\(what): \(String(cString: strerror(errno)))")
    }
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw failure("open") }
    var written = 0
    let complete = data.withUnsafeBytes { bytes -> Bool in
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            written += count
        }
        return true
    }
    let error = complete ? nil : failure("write")
    close(descriptor)
    if let error {
        unlink(temporary)
        throw error
    }
    guard rename(temporary, url.path) == 0 else {
        let error = failure("rename")
        unlink(temporary)
        throw error
    }
}

/// One-shot still-image encoding (PNG, MJPEG).
enum ImageEncoder {
    static func encode(_ frame: Frame, codec id: AVCodecID, quality: Int?) throws -> Data {
        guard let codec = avcodec_find_encoder(id) else {
            throw MediaError(.encodingFailed, "this FFmpeg has no \(string(avcodec_get_name(id)) ?? "") encoder")
        }
        guard let context = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        var owned: UnsafeMutablePointer<AVCodecContext>? = context
        defer { avcodec_free_context(&owned) }
        context.pointee.width = frame.width
        context.pointee.height = frame.height
        context.pointee.pix_fmt = AVPixelFormat(rawValue: frame.pointer.pointee.format)
        context.pointee.time_base = AVRational(num: 1, den: 25)
        if let quality {
            context.pointee.flags |= AV_CODEC_FLAG_QSCALE
            context.pointee.global_quality = Int32(quality) * FF_QP2LAMBDA
            frame.pointer.pointee.quality = context.pointee.global_quality
        }
        try check(avcodec_open2(context, codec, nil), "avcodec_open2", path: nil, code: .encodingFailed,
                  "cannot open the image encoder")
        frame.pointer.pointee.pts = 0
        try check(avcodec_send_frame(context, frame.pointer), "avcodec_send_frame", path: nil, code: .encodingFailed,
                  "cannot encode the image")
        try check(avcodec_send_frame(context, nil), "avcodec_send_frame", path: nil, code: .encodingFailed,
                  "cannot encode the image")
        let packet = Packet()
        var data = Data()
        while try pullResult(avcodec_receive_packet(context, packet.pointer), "avcodec_receive_packet", path: nil,
                             code: .encodingFailed, "cannot encode the image") == .ready {
            if let bytes = packet.pointer.pointee.data, packet.pointer.pointee.size > 0 {
                data.append(bytes, count: Int(packet.pointer.pointee.size))
            }
            packet.unref()
        }
        return data
    }
}
