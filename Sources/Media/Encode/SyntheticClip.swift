import Foundation

/// A generated test clip: a moving gradient with the frame number written into it as
/// a row of black and white cells, and a sine tone. Tests, benchmarks and the offline
/// emulator make their media with it, so no binary fixture is ever committed.
///
/// `SyntheticClip.frameNumber(in:)` reads the number back from a decoded frame, which lets
/// a test check that a frame is exactly the one it asked for.
public struct SyntheticClip: Sendable, Equatable {
    /// The tone written on every channel.
    public struct Tone: Sendable, Equatable {
        public var frequency: Double
        /// Level of the sine's peak, in dBFS.
        public var level: Double
        public var sampleRate: Int
        public var channels: Int
        /// Spans (seconds) left digitally silent.
        public var silences: [ClosedRange<Double>]

        public init(frequency: Double = 440, level: Double = -12, sampleRate: Int = 48_000, channels: Int = 2,
                    silences: [ClosedRange<Double>] = []) {
            self.frequency = frequency
            self.level = level
            self.sampleRate = sampleRate
            self.channels = channels
            self.silences = silences
        }
    }

    public var width: Int
    public var height: Int
    public var frameRate: Int
    /// Seconds; the clip has `round(duration × frameRate)` frames.
    public var duration: Double
    /// nil for a clip without an audio track.
    public var tone: Tone?
    /// Changes the colours, so clips made with different seeds differ.
    public var seed: Int
    public var preset: String

    public init(width: Int = 320, height: Int = 180, frameRate: Int = 25, duration: Double = 2,
                tone: Tone? = Tone(), seed: Int = 0, preset: String = "veryfast") {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.duration = duration
        self.tone = tone
        self.seed = seed
        self.preset = preset
    }

    /// Bits of the frame number drawn in the top band.
    static let codeBits = 12

    public var frameCount: Int { Int((duration * Double(frameRate)).rounded()) }

    /// Encodes the clip to `url` (H.264 + AAC MP4).
    public func render(to url: URL) throws {
        let audio = tone.map { AudioSettings(sampleRate: $0.sampleRate, channels: $0.channels) }
        let writer = try MovieWriter(
            url: url, video: VideoSettings(width: width, height: height, frameRate: frameRate, preset: preset),
            audio: audio)
        var row = [UInt8](repeating: 0, count: width)
        let cellWidth = width / Self.codeBits
        let bandHeight = max(2, (height / 4) & ~1)
        for index in 0..<frameCount {
            try writer.appendPlanes { planes in
                // Luma: a gradient sliding 4 pixels a frame, one row computed then copied down.
                let shift = index * 4 + seed * 37
                for x in 0..<width { row[x] = UInt8(32 + (x + shift) % 192) }
                let (luma, stride) = planes.plane(0)
                row.withUnsafeBufferPointer { source in
                    for y in bandHeight..<height { memcpy(luma + y * stride, source.baseAddress!, width) }
                }
                // The frame number, most significant bit first: white cell = 1, black = 0.
                planes.fill(plane: 0, x: 0, y: 0, width: width, height: bandHeight, value: 16)
                for bit in 0..<Self.codeBits where (index >> (Self.codeBits - 1 - bit)) & 1 == 1 {
                    planes.fill(plane: 0, x: bit * cellWidth, y: 0, width: cellWidth, height: bandHeight, value: 235)
                }
                // Chroma: a tint that drifts with time and differs by seed, neutral in the code band.
                let hue = Double(index) / Double(max(frameRate, 1)) + Double(seed)
                let u = UInt8(128 + 40 * sin(hue))
                let v = UInt8(128 + 40 * cos(hue * 0.7))
                planes.fill(plane: 1, x: 0, y: 0, width: width / 2, height: height / 2, value: u)
                planes.fill(plane: 2, x: 0, y: 0, width: width / 2, height: height / 2, value: v)
                planes.fill(plane: 1, x: 0, y: 0, width: width / 2, height: bandHeight / 2, value: 128)
                planes.fill(plane: 2, x: 0, y: 0, width: width / 2, height: bandHeight / 2, value: 128)
            }
            if let tone {
                try writer.appendAudio(interleaved: samples(of: tone, forFrame: index))
            }
        }
        try writer.finish()
    }

    /// The samples that accompany video frame `index` (exact integer boundaries, so the
    /// audio lasts exactly as long as the video).
    func samples(of tone: Tone, forFrame index: Int) -> [Float] {
        let start = index * tone.sampleRate / frameRate
        let end = (index + 1) * tone.sampleRate / frameRate
        let amplitude = pow(10, tone.level / 20)
        var samples = [Float](repeating: 0, count: (end - start) * tone.channels)
        for n in start..<end {
            let time = Double(n) / Double(tone.sampleRate)
            if tone.silences.contains(where: { $0.contains(time) }) { continue }
            let value = Float(amplitude * sin(2 * .pi * tone.frequency * time))
            for channel in 0..<tone.channels { samples[(n - start) * tone.channels + channel] = value }
        }
        return samples
    }

    /// Reads the frame number drawn by `render` back out of a decoded frame, or nil when
    /// the image does not carry one.
    public static func frameNumber(in image: FrameImage) -> Int? {
        let cellWidth = image.width / codeBits
        let bandHeight = max(2, (image.height / 4) & ~1)
        guard cellWidth >= 2 else { return nil }
        var number = 0
        for bit in 0..<codeBits {
            let pixel = image[bit * cellWidth + cellWidth / 2, bandHeight / 2]
            let brightness = (Int(pixel.red) + Int(pixel.green) + Int(pixel.blue)) / 3
            guard brightness < 60 || brightness > 190 else { return nil }
            number = number << 1 | (brightness > 128 ? 1 : 0)
        }
        return number
    }
}
