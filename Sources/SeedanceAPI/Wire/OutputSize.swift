/// The pixel size Seedance renders for a resolution and aspect ratio.
public struct OutputSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)x\(height)" }

    /// The size of a clip: the short side is the resolution's lines (480, 720, 1080), the
    /// long side follows the aspect ratio; `adaptive` takes the first frame's shape (16:9
    /// without one). Both sides are even, as H.264 4:2:0 needs.
    public init(resolution: String, aspectRatio: String, firstFrameAspect: Double? = nil) {
        let lines = Int(resolution.dropLast()) ?? 720
        let ratio: Double
        switch aspectRatio {
        case "9:16": ratio = 9.0 / 16
        case "1:1": ratio = 1
        case "4:3": ratio = 4.0 / 3
        case "3:4": ratio = 3.0 / 4
        case "21:9": ratio = 21.0 / 9
        case "adaptive": ratio = firstFrameAspect ?? 16.0 / 9
        default: ratio = 16.0 / 9
        }
        func even(_ value: Double) -> Int { max(2, Int((value / 2).rounded()) * 2) }
        if ratio >= 1 {
            self.init(width: even(Double(lines) * ratio), height: lines)
        } else {
            self.init(width: lines, height: even(Double(lines) / ratio))
        }
    }
}
