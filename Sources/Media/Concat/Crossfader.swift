internal import CFFmpeg

/// Sits between the re-encoder and the writer. With a crossfade of F frames (and the
/// matching S samples), it holds back the last F frames and S samples of every clip but
/// the last, and blends them into the next clip's first F frames and S samples, so each
/// join overlaps by the fade and the film is (clips - 1) × fade shorter. With no fade it
/// passes everything straight through.
final class Crossfader {
    private let writer: MovieWriter
    let fadeFrames: Int
    let fadeSamples: Int
    private let channels: Int
    private var heldFrames: [PlanarImage] = []
    private var nextFrames: [PlanarImage] = []
    private var heldAudio: [[Float]]
    private var nextAudio: [[Float]]
    private var clipFrames: Int64 = 0
    private var clipSamples: Int64 = 0
    private var framePosition: Int64 = 0
    private var samplePosition: Int64 = 0
    private var isLast = false

    init(writer: MovieWriter, fadeFrames: Int, fadeSamples: Int, channels: Int) {
        self.writer = writer
        self.fadeFrames = fadeFrames
        self.fadeSamples = fadeSamples
        self.channels = channels
        heldAudio = Array(repeating: [], count: channels)
        nextAudio = Array(repeating: [], count: channels)
    }

    /// Starts a clip of `frames` output frames and `samples` output samples.
    func beginClip(frames: Int64, samples: Int64, isLast: Bool) {
        heldFrames = nextFrames
        nextFrames = []
        heldAudio = nextAudio
        nextAudio = Array(repeating: [], count: channels)
        clipFrames = frames
        clipSamples = samples
        framePosition = 0
        samplePosition = 0
        self.isLast = isLast
    }

    func video(_ canvas: Frame) throws {
        let position = Int(framePosition)
        framePosition += 1
        if position < heldFrames.count {
            let amount = Double(position + 1) / Double(heldFrames.count + 1)
            let mixed = heldFrames[position].blended(with: PlanarImage(frame: canvas), amount: amount)
            try writer.appendPlanes { mixed.copy(into: $0) }
        } else if !isLast && fadeFrames > 0 && framePosition > clipFrames - Int64(fadeFrames) {
            nextFrames.append(PlanarImage(frame: canvas))
        } else {
            try writer.append(frame: canvas)
        }
    }

    func audio(_ planes: [UnsafePointer<Float>], count: Int) throws {
        guard planes.count >= channels else {
            throw MediaError(.encodingFailed, "a clip's audio has \(planes.count) channels, the film \(channels)", path: nil)
        }
        guard fadeSamples > 0 else {
            var pointers = planes.map { UnsafeMutableRawPointer(mutating: $0) as UnsafeMutableRawPointer? }
            try writer.appendAudio(planes: &pointers, count: count)
            return
        }
        var output = Array(repeating: [Float](), count: channels)
        let heldCount = heldAudio.first?.count ?? 0
        let tailStart = isLast ? Int64.max : clipSamples - Int64(fadeSamples)
        for index in 0..<count {
            let position = Int(samplePosition) + index
            for channel in 0..<channels {
                let sample = planes[channel][index]
                if position < heldCount {
                    let weight = Float(position + 1) / Float(heldCount + 1)
                    output[channel].append(heldAudio[channel][position] * (1 - weight) + sample * weight)
                } else if Int64(position) >= tailStart {
                    nextAudio[channel].append(sample)
                } else {
                    output[channel].append(sample)
                }
            }
        }
        samplePosition += Int64(count)
        guard let written = output.first?.count, written > 0 else { return }
        try output.withUnsafeBufferPointers { pointers in
            var planes = pointers.map { UnsafeMutableRawPointer(mutating: $0.baseAddress!) as UnsafeMutableRawPointer? }
            try writer.appendAudio(planes: &planes, count: written)
        }
    }

    /// Silence, through the same path (a short clip's padding still fades).
    func silence(count: Int64) throws {
        guard count > 0 else { return }
        let zeros = [Float](repeating: 0, count: Int(count))
        try zeros.withUnsafeBufferPointer { buffer in
            try audio(Array(repeating: buffer.baseAddress!, count: channels), count: Int(count))
        }
    }
}

extension Array where Element == [Float] {
    /// Calls `body` with a pointer to each inner array's storage.
    func withUnsafeBufferPointers<T>(_ body: ([UnsafeBufferPointer<Float>]) throws -> T) rethrows -> T {
        func nest(_ index: Int, _ collected: [UnsafeBufferPointer<Float>]) throws -> T {
            guard index < count else { return try body(collected) }
            return try self[index].withUnsafeBufferPointer { try nest(index + 1, collected + [$0]) }
        }
        return try nest(0, [])
    }
}
