internal import CFFmpeg
import Foundation

/// A display matrix: how a picture is turned to be shown (AV_PKT_DATA_DISPLAYMATRIX on a
/// stream, a phone's rotation; AV_FRAME_DATA_DISPLAYMATRIX on a decoded frame, a JPEG's EXIF
/// orientation). Nine Int32 `a b u / c d v / x y w`, 16.16 fixed point (2.30 for u, v, w).
struct DisplayMatrix: Equatable, Sendable {
    let values: [Int32]

    /// The stream's matrix, read from its header (FFmpeg 5.1 keeps it in the stream's side
    /// data; FFmpeg 7 moved it to `codecpar->coded_side_data`).
    init?(stream: UnsafePointer<AVStream>) {
        var size = 0
        guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size) else { return nil }
        self.init(bytes: UnsafeRawPointer(data), count: size)
    }

    /// A decoded frame's own matrix.
    init?(frame: Frame) {
        guard let side = av_frame_get_side_data(frame.pointer, AV_FRAME_DATA_DISPLAYMATRIX) else { return nil }
        self.init(bytes: side.pointee.data.map(UnsafeRawPointer.init), count: Int(side.pointee.size))
    }

    private init?(bytes: UnsafeRawPointer?, count: Int) {
        guard let bytes, count >= 36 else { return nil }
        values = (0..<9).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) }
    }

    var isIdentity: Bool { values == [1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30] }

    /// FFmpeg's `av_display_rotation_get`: degrees counter-clockwise, as ffprobe prints it
    /// (-90 for a phone's portrait clip, shown turned 90° clockwise); nil when degenerate.
    var rotation: Double? {
        let m = values.map { Double($0) / 65536 }
        let scaleX = (m[0] * m[0] + m[3] * m[3]).squareRoot(), scaleY = (m[1] * m[1] + m[4] * m[4]).squareRoot()
        guard scaleX != 0, scaleY != 0 else { return nil }
        let angle = -atan2(m[1] / scaleY, m[0] / scaleX) * 180 / .pi
        return angle == 0 ? 0 : angle
    }

    /// The right-angle turn it makes; a matrix at any other angle shows the picture as stored.
    var orientation: Orientation { Orientation(matrix: values) ?? .upright }

    /// Puts the matrix on an output stream, before its header is written (MP4 keeps it in the
    /// track header), so a stream copy is shown as its source was.
    func attach(to stream: UnsafeMutablePointer<AVStream>, path: String?) throws {
        guard let data = av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, 36) else {
            throw MediaError(.encodingFailed, "cannot keep the clip's display matrix", path: path)
        }
        values.withUnsafeBytes { UnsafeMutableRawPointer(data).copyMemory(from: $0.baseAddress!, byteCount: 36) }
    }
}

/// One of the eight right-angle turns and mirrors. A stored pixel (x, y) is shown at
/// (a·x + c·y, b·x + d·y) plus a shift, y pointing down (libavutil/display.h).
struct Orientation: Hashable, Sendable {
    let a: Int, b: Int, c: Int, d: Int

    static let upright = Orientation(a: 1, b: 0, c: 0, d: 1)
    var isUpright: Bool { self == .upright }
    /// A quarter turn or a transpose: width and height trade places.
    var swapsAxes: Bool { a == 0 }
    /// Degrees counter-clockwise, as ``DisplayMatrix/rotation`` (EXIF 6 is -90).
    var rotation: Double {
        let angle = -atan2(Double(b), Double(a)) * 180 / .pi
        return angle == 0 ? 0 : angle
    }

    init(a: Int, b: Int, c: Int, d: Int) {
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }

    init?(matrix m: [Int32]) {
        guard m.count == 9 else { return nil }
        func sign(_ value: Int32) -> Int { value > 0 ? 1 : value < 0 ? -1 : 0 }
        let (a, b, c, d) = (sign(m[0]), sign(m[1]), sign(m[3]), sign(m[4]))
        guard (a != 0 && d != 0 && b == 0 && c == 0) || (a == 0 && d == 0 && b != 0 && c != 0) else { return nil }
        self.init(a: a, b: b, c: c, d: d)
    }

    /// EXIF Orientation 1 to 8.
    init?(exif value: Int) {
        switch value {
        case 1: self = .upright
        case 2: self.init(a: -1, b: 0, c: 0, d: 1)     // mirrored left to right (hflip)
        case 3: self.init(a: -1, b: 0, c: 0, d: -1)    // 180°
        case 4: self.init(a: 1, b: 0, c: 0, d: -1)     // mirrored top to bottom (vflip)
        case 5: self.init(a: 0, b: 1, c: 1, d: 0)      // transposed
        case 6: self.init(a: 0, b: 1, c: -1, d: 0)     // 90° clockwise (transpose=clock)
        case 7: self.init(a: 0, b: -1, c: -1, d: 0)    // transversed
        case 8: self.init(a: 0, b: -1, c: 1, d: 0)     // 90° counter-clockwise (transpose=cclock)
        default: return nil
        }
    }

    /// How it is said in a message.
    var phrase: String {
        switch (a, b, c, d) {
        case (1, 0, 0, 1): "as stored"
        case (0, 1, -1, 0): "turned 90° clockwise"
        case (-1, 0, 0, -1): "turned 180°"
        case (0, -1, 1, 0): "turned 90° counter-clockwise"
        default: "mirrored"
        }
    }
}

extension Frame {
    /// The orientation this decoded picture is shown in: its own matrix first, else its
    /// stream's (the order FFmpeg's own autorotation takes).
    func orientation(stream: Orientation) -> Orientation { DisplayMatrix(frame: self)?.orientation ?? stream }

    /// The picture as shown. It is turned in its decoded pixel format, before any conversion
    /// or scaling, as the `ffmpeg` program does (turning after scaling would not match it):
    /// formats subsampled alike across and down (4:2:0, 4:4:4, grey, packed RGB, NV12, any
    /// depth) exactly; any other (4:2:2, 4:1:1, …) after a conversion to RGB24 at its own size.
    func oriented(_ orientation: Orientation, path: String?) throws -> Frame {
        guard !orientation.isUpright else { return self }
        let own = AVPixelFormat(rawValue: pointer.pointee.format)
        let source = cff_pix_fmt_turnable(own) != 0 ? self : try converted(to: AV_PIX_FMT_RGB24, path: path)
        let format = AVPixelFormat(rawValue: source.pointer.pointee.format)
        let (width, height) = (Int(source.width), Int(source.height))
        let turned = try Frame.video(width: Int32(orientation.swapsAxes ? height : width),
                                     height: Int32(orientation.swapsAxes ? width : height), format: format, path: path)
        let shift = Int(cff_pix_fmt_chroma_shift(format))
        for plane in 0..<4 {
            let element = Int(cff_pix_fmt_plane_step(format, Int32(plane)))
            guard element > 0, let from = cff_frame_data(source.pointer, Int32(plane)),
                  let to = cff_frame_data(turned.pointer, Int32(plane)) else { continue }
            let chroma = plane == 1 || plane == 2
            let planeWidth = chroma ? (width + (1 << shift) - 1) >> shift : width
            let planeHeight = chroma ? (height + (1 << shift) - 1) >> shift : height
            PlaneTurn.turn(orientation, from: UnsafePointer(from), stride: Int(cff_frame_linesize(source.pointer, Int32(plane))),
                           width: planeWidth, height: planeHeight, element: element,
                           to: to, stride: Int(cff_frame_linesize(turned.pointer, Int32(plane))))
        }
        source.copyProperties(to: turned, swapAspect: orientation.swapsAxes)
        return turned
    }

    /// The picture in another pixel format at its own size (one conversion).
    func converted(to format: AVPixelFormat, path: String?) throws -> Frame {
        let output = try Frame.video(width: width, height: height, format: format, path: path)
        let scaler = try Scaler(sourceWidth: width, sourceHeight: height, sourceFormat: AVPixelFormat(rawValue: pointer.pointee.format),
                                width: width, height: height, format: format, path: path)
        try scaler.scale(self, into: output)
        copyProperties(to: output, swapAspect: false)
        return output
    }

    /// Times, aspect (inverted by a quarter turn) and colour, onto a frame made from this one.
    private func copyProperties(to other: Frame, swapAspect: Bool) {
        let (source, target) = (pointer, other.pointer)
        target.pointee.pts = source.pointee.pts
        target.pointee.best_effort_timestamp = source.pointee.best_effort_timestamp
        target.pointee.pkt_dts = source.pointee.pkt_dts
        let aspect = source.pointee.sample_aspect_ratio
        target.pointee.sample_aspect_ratio = swapAspect && aspect.num != 0 && aspect.den != 0
            ? AVRational(num: aspect.den, den: aspect.num) : aspect
        target.pointee.color_range = source.pointee.color_range
        target.pointee.colorspace = source.pointee.colorspace
        target.pointee.color_primaries = source.pointee.color_primaries
        target.pointee.color_trc = source.pointee.color_trc
        target.pointee.chroma_location = source.pointee.chroma_location
    }
}

/// Turns one plane of `width` × `height` elements of `element` bytes each.
enum PlaneTurn {
    static func turn(_ o: Orientation, from source: UnsafePointer<UInt8>, stride sourceStride: Int, width: Int, height: Int,
                     element: Int, to destination: UnsafeMutablePointer<UInt8>, stride destinationStride: Int) {
        let outWidth = o.swapsAxes ? height : width, outHeight = o.swapsAxes ? width : height
        // Stored (x, y) lands at X = a·x + c·y + X0, Y = b·x + d·y + Y0.
        let x0 = (o.a < 0 || o.c < 0) ? outWidth - 1 : 0
        let y0 = (o.b < 0 || o.d < 0) ? outHeight - 1 : 0
        let stepX = o.b * destinationStride + o.a * element      // destination bytes per stored column
        let stepY = o.d * destinationStride + o.c * element      // destination bytes per stored row
        var rowStart = destination + y0 * destinationStride + x0 * element
        for y in 0..<height {
            let line = source + y * sourceStride
            if stepX == element {
                memcpy(rowStart, line, width * element)
            } else {
                var out = rowStart
                switch element {
                case 1:
                    for x in 0..<width { out.pointee = line[x]; out += stepX }
                case 2:
                    for x in 0..<width {
                        UnsafeMutableRawPointer(out).storeBytes(of: UnsafeRawPointer(line + 2 * x).loadUnaligned(as: UInt16.self),
                                                                as: UInt16.self)
                        out += stepX
                    }
                default:
                    for x in 0..<width { memcpy(out, line + x * element, element); out += stepX }
                }
            }
            rowStart += stepY
        }
    }
}
