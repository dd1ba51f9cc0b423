internal import CFFmpeg
import Foundation

/// A picture in YUV 4:2:0 (the encoder's own format), for generated video.
struct PlanarImage {
    let width: Int
    let height: Int
    var y: [UInt8]
    var u: [UInt8]
    var v: [UInt8]

    var chromaWidth: Int { width / 2 }
    var chromaHeight: Int { height / 2 }

    /// Converts an RGB image, scaled to fill `width`×`height` (cropped to keep its aspect ratio).
    init(filling image: FrameImage, width: Int, height: Int) throws {
        self.width = width
        self.height = height
        y = [UInt8](repeating: 0, count: width * height)
        u = [UInt8](repeating: 128, count: width * height / 4)
        v = [UInt8](repeating: 128, count: width * height / 4)
        // The largest centred crop of the source with the target's aspect ratio.
        let targetAspect = Double(width) / Double(height)
        var cropWidth = Double(image.width), cropHeight = Double(image.height)
        if cropWidth / cropHeight > targetAspect { cropWidth = cropHeight * targetAspect } else { cropHeight = cropWidth / targetAspect }
        let cw = max(1, Int(cropWidth.rounded())), ch = max(1, Int(cropHeight.rounded()))
        let x = (image.width - cw) / 2, y = (image.height - ch) / 2
        let scaler = try Scaler(sourceWidth: Int32(cw), sourceHeight: Int32(ch), sourceFormat: AV_PIX_FMT_RGB24,
                                width: Int32(width), height: Int32(height), format: AV_PIX_FMT_YUV420P, path: nil)
        image.pixels.withUnsafeBufferPointer { source in
            let origin = source.baseAddress! + (y * image.width + x) * 3
            var sourcePlanes: [UnsafePointer<UInt8>?] = [origin, nil, nil, nil]
            var sourceStrides: [Int32] = [Int32(image.width * 3), 0, 0, 0]
            withDestination { destination, strides in
                scaler.scale(source: &sourcePlanes, sourceStrides: &sourceStrides, destination: destination,
                             destinationStrides: strides)
            }
        }
    }


    /// Hands sws the three planes as destination pointers.
    private mutating func withDestination(
        _ body: (UnsafePointer<UnsafeMutablePointer<UInt8>?>, UnsafePointer<Int32>) -> Void
    ) {
        let strides: [Int32] = [Int32(width), Int32(chromaWidth), Int32(chromaWidth), 0]
        y.withUnsafeMutableBufferPointer { y in
            u.withUnsafeMutableBufferPointer { u in
                v.withUnsafeMutableBufferPointer { v in
                    let pointers: [UnsafeMutablePointer<UInt8>?] = [y.baseAddress, u.baseAddress, v.baseAddress, nil]
                    body(pointers, strides)
                }
            }
        }
    }

    /// A copy of a yuv420p frame's planes.
    init(frame: Frame) {
        width = Int(frame.width)
        height = Int(frame.height)
        func plane(_ index: Int32, _ rowWidth: Int, _ rows: Int) -> [UInt8] {
            let base = cff_frame_data(frame.pointer, index)!
            let stride = Int(cff_frame_linesize(frame.pointer, index))
            var bytes = [UInt8](repeating: 0, count: rowWidth * rows)
            bytes.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<rows { memcpy(buffer.baseAddress! + row * rowWidth, base + row * stride, rowWidth) }
            }
            return bytes
        }
        y = plane(0, width, height)
        u = plane(1, width / 2, height / 2)
        v = plane(2, width / 2, height / 2)
    }

    /// The centre of the picture magnified by `zoom` (≥ 1), as a camera pushing in sees it.
    func zoomed(_ zoom: Double) throws -> PlanarImage {
        guard zoom > 1.0001 else { return self }
        let cropWidth = max(2, Int((Double(width) / zoom / 2).rounded()) * 2)
        let cropHeight = max(2, Int((Double(height) / zoom / 2).rounded()) * 2)
        let left = ((width - cropWidth) / 2) & ~1, top = ((height - cropHeight) / 2) & ~1
        let scaler = try Scaler(sourceWidth: Int32(cropWidth), sourceHeight: Int32(cropHeight),
                                sourceFormat: AV_PIX_FMT_YUV420P, width: Int32(width), height: Int32(height),
                                format: AV_PIX_FMT_YUV420P, path: nil)
        var result = self
        y.withUnsafeBufferPointer { sy in
            u.withUnsafeBufferPointer { su in
                v.withUnsafeBufferPointer { sv in
                    var sources: [UnsafePointer<UInt8>?] = [
                        sy.baseAddress! + top * width + left,
                        su.baseAddress! + (top / 2) * chromaWidth + left / 2,
                        sv.baseAddress! + (top / 2) * chromaWidth + left / 2, nil,
                    ]
                    var sourceStrides: [Int32] = [Int32(width), Int32(chromaWidth), Int32(chromaWidth), 0]
                    result.withDestination { destination, strides in
                        scaler.scale(source: &sources, sourceStrides: &sourceStrides, destination: destination,
                                     destinationStrides: strides)
                    }
                }
            }
        }
        return result
    }

    /// The picture with its colour moved: luma contrast scaled by `gain` (around black),
    /// `cb` and `cr` added to the chroma planes (a warm cast is cb < 0, cr > 0).
    func shifted(gain: Double, cb: Double, cr: Double) -> PlanarImage {
        func map(_ plane: inout [UInt8], _ transform: (Double) -> Double) {
            let table = (0..<256).map { UInt8(max(0, min(255, transform(Double($0)).rounded()))) }
            for i in plane.indices { plane[i] = table[Int(plane[i])] }
        }
        var result = self
        map(&result.y) { 16 + ($0 - 16) * gain }
        map(&result.u) { $0 + cb }
        map(&result.v) { $0 + cr }
        return result
    }

    /// Mixes two pictures: `amount` 0 gives `self`, 1 gives `other`.
    func blended(with other: PlanarImage, amount: Double) -> PlanarImage {
        let weight = UInt32((amount * 256).rounded())
        guard weight > 0 else { return self }
        guard weight < 256 else { return other }
        func mix(_ mine: inout [UInt8], _ theirs: [UInt8]) {
            let inverse = 256 - weight
            mine.withUnsafeMutableBufferPointer { out in
                theirs.withUnsafeBufferPointer { other in
                    for i in 0..<out.count {
                        out[i] = UInt8((UInt32(out[i]) * inverse + UInt32(other[i]) * weight + 128) >> 8)
                    }
                }
            }
        }
        var result = self
        mix(&result.y, other.y)
        mix(&result.u, other.u)
        mix(&result.v, other.v)
        return result
    }

    /// Draws `other` over this picture with its top-left corner at (`x`, `y`), both even;
    /// whatever falls outside is left out.
    mutating func paste(_ other: PlanarImage, x: Int, y top: Int) {
        func copy(_ source: [UInt8], _ sourceWidth: Int, _ sourceRows: Int, into target: inout [UInt8], _ targetWidth: Int,
                  _ targetRows: Int, _ left: Int, _ upper: Int) {
            let columns = min(sourceWidth, targetWidth - left)
            guard columns > 0, left >= 0, upper >= 0 else { return }
            for row in 0..<min(sourceRows, targetRows - upper) {
                target.replaceSubrange((upper + row) * targetWidth + left..<(upper + row) * targetWidth + left + columns,
                                       with: source[row * sourceWidth..<row * sourceWidth + columns])
            }
        }
        copy(other.y, other.width, other.height, into: &y, width, height, x, top)
        copy(other.u, other.chromaWidth, other.chromaHeight, into: &u, chromaWidth, chromaHeight, x / 2, top / 2)
        copy(other.v, other.chromaWidth, other.chromaHeight, into: &v, chromaWidth, chromaHeight, x / 2, top / 2)
    }

    /// Copies the picture into an encoder frame's planes.
    func copy(into target: YUVPlanes) {
        for (index, plane) in [y, u, v].enumerated() {
            let (base, stride) = target.plane(index)
            let rowWidth = index == 0 ? width : chromaWidth
            let rows = index == 0 ? height : chromaHeight
            plane.withUnsafeBufferPointer { source in
                for row in 0..<rows {
                    memcpy(base + row * stride, source.baseAddress! + row * rowWidth, rowWidth)
                }
            }
        }
    }
}
