internal import CFFmpeg
import Foundation

/// The colour of a picture or a clip: per-channel statistics of its Y′CbCr values (BT.601,
/// limited range, as the planes of an H.264 clip hold them) and its mean CIELAB colour.
public struct ColorStatistics: Sendable, Equatable {
    /// Mean Y′, Cb, Cr (0…255).
    public let mean: [Double]
    /// Standard deviation of Y′, Cb, Cr.
    public let deviation: [Double]
    /// Mean CIELAB colour (L*, a*, b*; D65).
    public let lab: [Double]
    /// The sampled pixels (Y′CbCr), kept to predict what a correction does.
    let samples: [SIMD3<Double>]

    init(samples: [SIMD3<Double>]) {
        self.samples = samples
        let count = Double(max(samples.count, 1))
        let sum = samples.reduce(SIMD3<Double>(repeating: 0), +)
        let mean = sum / count
        let variance = samples.reduce(SIMD3<Double>(repeating: 0)) { $0 + ($1 - mean) * ($1 - mean) } / count
        self.mean = [mean.x, mean.y, mean.z]
        deviation = [variance.x.squareRoot(), variance.y.squareRoot(), variance.z.squareRoot()]
        let lab = samples.reduce(SIMD3<Double>(repeating: 0)) { $0 + ColorSpace.lab(ycbcr: $1) } / count
        self.lab = [lab.x, lab.y, lab.z]
    }

    /// CIE76 colour difference between the mean colours (about 2.3 is just noticeable).
    public func deltaE(to other: ColorStatistics) -> Double {
        zip(lab, other.lab).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
    }
}

/// A per-channel affine map on Y′, Cb and Cr (`out = in × gain + offset`), applied as
/// three 256-entry lookup tables to the decoded planes.
public struct ColorCorrection: Sendable, Hashable, Codable {
    public var gains: [Double]
    public var offsets: [Double]

    enum CodingKeys: String, CodingKey { case gains, offsets }

    /// A decoded correction has three finite gains and offsets, or it is refused (never a trap later).
    public init(from decoder: any Swift.Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        gains = try container.decode([Double].self, forKey: .gains)
        offsets = try container.decode([Double].self, forKey: .offsets)
        guard gains.count == 3, offsets.count == 3, (gains + offsets).allSatisfy(\.isFinite) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a colour correction has three finite gains and three offsets"))
        }
    }

    /// The statistics transfer that gives `clip` the anchor's mean and contrast per channel
    /// (contrast changes held to 0.5…2×, so a flat clip is not blown up).
    public init(from clip: ColorStatistics, to anchor: ColorStatistics) {
        let gains = (0..<3).map { channel in
            clip.deviation[channel] < 1 ? 1 : min(2, max(0.5, anchor.deviation[channel] / clip.deviation[channel]))
        }
        self.gains = gains
        offsets = (0..<3).map { anchor.mean[$0] - clip.mean[$0] * gains[$0] }
    }

    /// The table of plane `index` (0 Y′, 1 Cb, 2 Cr).
    func table(_ index: Int) -> [UInt8] {
        (0..<256).map { UInt8(max(0, min(255, (Double($0) * gains[index] + offsets[index]).rounded()))) }
    }

    func apply(_ pixel: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(pixel.x * gains[0] + offsets[0], pixel.y * gains[1] + offsets[1], pixel.z * gains[2] + offsets[2])
            .clamped(lowerBound: SIMD3(repeating: 0), upperBound: SIMD3(repeating: 255))
    }

    /// Applies the tables to a yuv420p picture's rectangle (luma coordinates, even).
    func apply(to frame: Frame, x: Int, y: Int, width: Int, height: Int) {
        let planes = YUVPlanes(frame: frame.pointer, width: Int(frame.width), height: Int(frame.height))
        for index in 0..<3 {
            let table = self.table(index)
            let (base, stride) = planes.plane(index)
            let shift = index == 0 ? 0 : 1
            let (left, top) = (x >> shift, y >> shift)
            let (columns, rows) = ((width + shift) >> shift, (height + shift) >> shift)
            table.withUnsafeBufferPointer { lookup in
                for row in top..<(top + rows) {
                    let line = base + row * stride + left
                    for column in 0..<columns { line[column] = lookup[Int(line[column])] }
                }
            }
        }
    }
}

/// How far a clip's colour is from the anchor, before and after correction.
public struct ColorDrift: Sendable, Codable, Equatable {
    /// ΔE (CIE76, mean colours) against the anchor as the clip came.
    public var before: Double
    /// ΔE after the correction (equal to `before` when the clip was left alone).
    public var after: Double
    /// True when the drift was over the tolerance and the clip was corrected.
    public var corrected: Bool
}

/// Keeps colour steady across a film: measure each clip against an anchor (the chain's
/// first frame, or any image), and correct the clips that drifted past a tolerance.
///
/// The correction is a per-channel statistics transfer on Y′CbCr (each channel's mean
/// and deviation moved to the anchor's), applied as lookup tables to the decoded planes.
/// Chained generation drifts as exposure, contrast and tint creeping away shot by shot,
/// which is exactly a per-channel shift and scale; a transfer undoes it without a colour
/// conversion per pixel, cannot invent colours a 3D LUT fitted to one frame might, and
/// leaves the picture's own content (what moved where) alone.
public enum ColorMatch {
    /// The statistics of a still image (PNG, JPEG, …).
    public static func statistics(ofImage url: URL) throws -> ColorStatistics {
        try statistics(of: try FrameImage(contentsOf: url))
    }

    /// The statistics of a clip's first frame.
    public static func statistics(ofFirstFrame url: URL) throws -> ColorStatistics {
        try statistics(of: try VideoFile(url).frame(at: 0))
    }

    static func statistics(of image: FrameImage) throws -> ColorStatistics {
        ColorStatistics(samples: samples(of: try image.scaled(width: sampleWidth, height: sampleHeight(image.width, image.height))))
    }

    /// The statistics of a whole clip: `frames` pictures spread over its length.
    public static func statistics(ofClip url: URL, frames: Int = 8) throws -> ColorStatistics {
        let reader = try VideoReader(url: url)
        let duration = reader.duration ?? 0
        var pixels: [SIMD3<Double>] = []
        var next = 0
        var scaler: Scaler?
        var small: Frame?
        try reader.decodeForward { frame in
            let time = frame.timestamp.map(reader.seconds) ?? 0
            guard next < frames, time + 1e-6 >= duration * Double(next) / Double(frames) else { return next < frames }
            next += 1
            if scaler == nil || !scaler!.matches(frame) {
                let height = sampleHeight(Int(frame.width), Int(frame.height))
                scaler = try Scaler(sourceWidth: frame.width, sourceHeight: frame.height,
                                    sourceFormat: AVPixelFormat(rawValue: frame.pointer.pointee.format),
                                    width: Int32(sampleWidth), height: Int32(height), format: AV_PIX_FMT_YUV444P, path: reader.path)
                small = try Frame.video(width: Int32(sampleWidth), height: Int32(height), format: AV_PIX_FMT_YUV444P, path: reader.path)
            }
            try scaler!.scale(frame, into: small!)
            let planes = YUVPlanes(frame: small!.pointer, width: sampleWidth, height: Int(small!.height))
            let (y, cb, cr) = (planes.plane(0), planes.plane(1), planes.plane(2))
            for row in 0..<Int(small!.height) {
                for column in 0..<sampleWidth {
                    pixels.append(SIMD3(Double(y.base[row * y.stride + column]), Double(cb.base[row * cb.stride + column]),
                                        Double(cr.base[row * cr.stride + column])))
                }
            }
            return next < frames
        }
        guard !pixels.isEmpty else {
            throw MediaError(.decodingFailed, "no video frame could be decoded to measure its colour", path: reader.path)
        }
        return ColorStatistics(samples: pixels)
    }

    /// What matching `clip` to `anchor` would do: its drift, and the correction when the
    /// drift is over `tolerance` (ΔE).
    public static func plan(_ clip: ColorStatistics, anchor: ColorStatistics, tolerance: Double)
        -> (drift: ColorDrift, correction: ColorCorrection?)
    {
        let before = clip.deltaE(to: anchor)
        guard before > tolerance else { return (ColorDrift(before: before, after: before, corrected: false), nil) }
        let correction = ColorCorrection(from: clip, to: anchor)
        let after = ColorStatistics(samples: clip.samples.map(correction.apply)).deltaE(to: anchor)
        return (ColorDrift(before: before, after: after, corrected: true), correction)
    }

    static let sampleWidth = 64
    static func sampleHeight(_ width: Int, _ height: Int) -> Int {
        max(2, Int((Double(sampleWidth) * Double(height) / Double(max(width, 1))).rounded()) & ~1)
    }

    /// An RGB image's pixels as BT.601 limited-range Y′CbCr.
    static func samples(of image: FrameImage) -> [SIMD3<Double>] {
        stride(from: 0, to: image.pixels.count, by: 3).map {
            ColorSpace.ycbcr(rgb: SIMD3(Double(image.pixels[$0]), Double(image.pixels[$0 + 1]), Double(image.pixels[$0 + 2])) / 255)
        }
    }
}

/// BT.601 limited-range Y′CbCr, sRGB and CIELAB (D65).
enum ColorSpace {
    static func ycbcr(rgb: SIMD3<Double>) -> SIMD3<Double> {
        let (r, g, b) = (rgb.x, rgb.y, rgb.z)
        return SIMD3(16 + 65.481 * r + 128.553 * g + 24.966 * b,
                     128 - 37.797 * r - 74.203 * g + 112.0 * b,
                     128 + 112.0 * r - 93.786 * g - 18.214 * b)
    }

    static func rgb(ycbcr: SIMD3<Double>) -> SIMD3<Double> {
        let y = (ycbcr.x - 16) / 219, cb = (ycbcr.y - 128) / 224, cr = (ycbcr.z - 128) / 224
        let rgb = SIMD3(y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb)
        return rgb.clamped(lowerBound: SIMD3(repeating: 0), upperBound: SIMD3(repeating: 1))
    }

    static func lab(ycbcr: SIMD3<Double>) -> SIMD3<Double> {
        func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        let rgb = rgb(ycbcr: ycbcr)
        let (r, g, b) = (linear(rgb.x), linear(rgb.y), linear(rgb.z))
        let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
        let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
        let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        return SIMD3(116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))
    }
}
