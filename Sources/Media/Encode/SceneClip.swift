import Foundation

/// A generated clip that looks like a shot: it starts exactly on a first frame, ends
/// exactly on a last frame, and moves in between (the camera pushes in while one picture
/// dissolves into the other), with an ambient soundtrack. Without a first frame it paints
/// a scene from the seed; without a last frame the push simply continues.
///
/// The same settings and seed always give the same bytes. The Seedance emulator renders
/// its clips with this.
public struct SceneClip: Sendable {
    public var width: Int
    public var height: Int
    public var frameRate: Int
    /// Seconds.
    public var duration: Double
    /// Decides the painted scene, the motion and the sound.
    public var seed: UInt64
    /// The picture the clip starts on, scaled to fill the frame.
    public var firstFrame: FrameImage?
    /// The picture the clip ends on, scaled to fill the frame.
    public var lastFrame: FrameImage?
    /// Whether to write an AAC soundtrack.
    public var audio: Bool
    public var preset: String
    /// Pictures shown as insets along the bottom edge of every frame (reference images).
    public var insets: [FrameImage]
    /// Pictures that show through the whole frame, one after another (a reference video's frames).
    public var showThrough: [FrameImage]
    /// The soundtrack instead of the ambience, looped or trimmed to the clip (a reference audio).
    public var soundtrack: AudioSamples?
    /// Colour drift over the clip, as chained generations drift: the picture warms and its
    /// contrast grows steadily, reaching `drift` at the last frame (0.1: luma contrast ×1.05,
    /// chroma moved by 4 levels), so a chain built on last frames drifts further every shot.
    public var drift: Double = 0

    public init(width: Int, height: Int, frameRate: Int = 24, duration: Double, seed: UInt64,
                firstFrame: FrameImage? = nil, lastFrame: FrameImage? = nil, audio: Bool = true,
                preset: String = "veryfast", insets: [FrameImage] = [], showThrough: [FrameImage] = [],
                soundtrack: AudioSamples? = nil) {
        self.insets = insets
        self.showThrough = showThrough
        self.soundtrack = soundtrack
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.duration = duration
        self.seed = seed
        self.firstFrame = firstFrame
        self.lastFrame = lastFrame
        self.audio = audio
        self.preset = preset
    }

    public var frameCount: Int { max(1, Int((duration * Double(frameRate)).rounded())) }

    public func render(to url: URL) throws {
        var random = SplitMix64(seed: seed)
        let start = try PlanarImage(filling: firstFrame ?? Self.paintedScene(width: width, height: height, random: &random),
                                    width: width, height: height)
        let end = try lastFrame.map { try PlanarImage(filling: $0, width: width, height: height) }
        let push = 0.12 + 0.1 * random.unit()
        let writer = try MovieWriter(
            url: url, video: VideoSettings(width: width, height: height, frameRate: frameRate, preset: preset),
            audio: audio ? AudioSettings() : nil)
        var sound = audio ? Ambience(sampleRate: 48_000, random: &random) : nil
        let frames = frameCount
        // Insets: a fifth of the frame each, along the bottom from the right, on even pixels.
        let insetWidth = (width / 5) & ~1, insetHeight = (height / 5) & ~1, margin = (width / 40) & ~1
        let insetPictures = try insets.map { try PlanarImage(filling: $0, width: max(2, insetWidth), height: max(2, insetHeight)) }
        let throughPictures = try showThrough.map { try PlanarImage(filling: $0, width: width, height: height) }
        let track = soundtrack.flatMap { $0.sampleRate == 48_000 && $0.channels == 2 && $0.frameCount > 0 ? $0 : nil }
        for index in 0..<frames {
            let progress = frames > 1 ? Double(index) / Double(frames - 1) : 1
            let eased = progress * progress * (3 - 2 * progress)
            var picture = try start.zoomed(1 + push * eased)
            if let end {
                // The camera pushes in on the start while the end picture fades in over it,
                // so the last frame is exactly the end picture.
                picture = picture.blended(with: end, amount: eased)
            }
            if !throughPictures.isEmpty {
                picture = picture.blended(with: throughPictures[index * throughPictures.count / frames], amount: 0.4)
            }
            if drift != 0 {
                picture = picture.shifted(gain: 1 + 0.5 * drift * progress, cb: -40 * drift * progress, cr: 40 * drift * progress)
            }
            for (number, inset) in insetPictures.enumerated() {
                picture.paste(inset, x: width - (number + 1) * (insetWidth + margin), y: height - insetHeight - margin)
            }
            try writer.appendPlanes { picture.copy(into: $0) }
            if sound != nil {
                let first = index * 48_000 / frameRate, last = (index + 1) * 48_000 / frameRate
                if let track {
                    // The reference audio, looped: sample n of the clip is sample n mod its length.
                    var samples = [Float](repeating: 0, count: (last - first) * 2)
                    for n in first..<last {
                        let source = (n % track.frameCount) * 2
                        samples[(n - first) * 2] = track.interleaved[source]
                        samples[(n - first) * 2 + 1] = track.interleaved[source + 1]
                    }
                    try writer.appendAudio(interleaved: samples)
                } else {
                    try writer.appendAudio(interleaved: sound!.samples(from: first, to: last))
                }
            }
        }
        try writer.finish()
    }

    /// A sky, a sun and a horizon in colours drawn from the seed. The scene is laid out on a
    /// 16:9 canvas and the frame is its centre at any size and shape (a 9:16 frame shows the
    /// middle of the same scene), so one seed paints the same shot at every resolution and
    /// aspect ratio, as a draft and its final are the same shot.
    static func paintedScene(width: Int, height: Int, random: inout SplitMix64) -> FrameImage {
        func colour() -> (Double, Double, Double) { (random.unit(), random.unit(), random.unit()) }
        // The canvas: 16:9, covering the frame; the frame is its centre.
        let canvasWidth = max(Double(width), Double(height) * 16 / 9), canvasHeight = canvasWidth * 9 / 16
        let left = (canvasWidth - Double(width)) / 2, top0 = (canvasHeight - Double(height)) / 2
        let top = colour(), bottom = colour(), ground = colour()
        let sunX = canvasWidth * (0.2 + 0.6 * random.unit()) - left, sunY = canvasHeight * (0.15 + 0.3 * random.unit()) - top0
        let radius = min(canvasWidth, canvasHeight) * (0.06 + 0.08 * random.unit())
        let horizon = Int(canvasHeight * (0.6 + 0.2 * random.unit()) - top0)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { buffer in
            for y in 0..<height {
                let t = (Double(y) + top0) / canvasHeight
                let sky = (top.0 + (bottom.0 - top.0) * t, top.1 + (bottom.1 - top.1) * t, top.2 + (bottom.2 - top.2) * t)
                let dy = Double(y) - sunY
                for x in 0..<width {
                    var (r, g, b) = y >= horizon ? (ground.0 * 0.6, ground.1 * 0.6, ground.2 * 0.6) : sky
                    let dx = Double(x) - sunX
                    if y < horizon && dx * dx + dy * dy < radius * radius { (r, g, b) = (1, 0.92, 0.6) }
                    let offset = (y * width + x) * 3
                    buffer[offset] = UInt8(r * 255)
                    buffer[offset + 1] = UInt8(g * 255)
                    buffer[offset + 2] = UInt8(b * 255)
                }
            }
        }
        return FrameImage(width: width, height: height, pixels: pixels)
    }
}

/// A soft, slowly breathing chord with a little air: never silent, about -20 dBFS RMS.
struct Ambience {
    let sampleRate: Double
    let frequencies: [Double]
    let tremolo: Double
    var noise: SplitMix64

    init(sampleRate: Int, random: inout SplitMix64) {
        self.sampleRate = Double(sampleRate)
        let root = 110 + 110 * random.unit()
        frequencies = [root, root * 1.5, root * 2.0 * (1 + 0.01 * random.unit())]
        tremolo = 0.2 + 0.3 * random.unit()
        noise = SplitMix64(seed: random.next())
    }

    /// Stereo samples for sample positions first..<last.
    mutating func samples(from first: Int, to last: Int) -> [Float] {
        var samples = [Float](repeating: 0, count: (last - first) * 2)
        for n in first..<last {
            let time = Double(n) / sampleRate
            var value = 0.0
            for frequency in frequencies { value += sin(2 * .pi * frequency * time) }
            value *= 0.05 * (0.75 + 0.25 * sin(2 * .pi * tremolo * time))
            let air = (noise.unit() - 0.5) * 0.02
            samples[(n - first) * 2] = Float(value + air)
            samples[(n - first) * 2 + 1] = Float(value - air)
        }
        return samples
    }
}

/// A small, fast, seedable generator (SplitMix64), so generated media is reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<1.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
