/// One decoded picture as 8-bit RGB, rows top to bottom, tightly packed (`width * 3` bytes a row).
public struct FrameImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes: R, G, B for each pixel.
    public var pixels: [UInt8]
    /// When this frame is shown in its file, in seconds, if it came from one.
    public var time: Double?

    public init(width: Int, height: Int, pixels: [UInt8], time: Double? = nil) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "FrameImage needs width * height * 3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.time = time
    }

    /// A frame of one colour.
    public init(width: Int, height: Int, red: UInt8, green: UInt8, blue: UInt8) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for index in stride(from: 0, to: pixels.count, by: 3) {
            pixels[index] = red
            pixels[index + 1] = green
            pixels[index + 2] = blue
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The colour at (x, y).
    public subscript(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let offset = (y * width + x) * 3
        return (pixels[offset], pixels[offset + 1], pixels[offset + 2])
    }

    /// Peak signal-to-noise ratio against another image of the same size, in dB
    /// (`.infinity` when identical). Higher is closer; above ~40 dB the two look the same.
    public func psnr(to other: FrameImage) -> Double? {
        guard width == other.width, height == other.height else { return nil }
        var squaredError: UInt64 = 0
        pixels.withUnsafeBufferPointer { mine in
            other.pixels.withUnsafeBufferPointer { theirs in
                for index in 0..<mine.count {
                    let difference = Int(mine[index]) - Int(theirs[index])
                    squaredError &+= UInt64(difference * difference)
                }
            }
        }
        if squaredError == 0 { return .infinity }
        let meanSquaredError = Double(squaredError) / Double(pixels.count)
        return 10 * log10(255 * 255 / meanSquaredError)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
