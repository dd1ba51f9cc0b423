import Foundation

/// True peak after ITU-R BS.1770-4 Annex 2: the signal upsampled 4× (a 49-tap windowed-sinc
/// interpolator whose phase 0 passes the samples through unchanged) and the largest
/// magnitude found, so peaks between samples, which a DAC or an AAC decoder will produce,
/// are counted.
enum TruePeak {
    static let factor = 4
    /// Taps of the prototype filter, centred on tap 24 (a delay of 6 input samples).
    static let taps: [Float] = {
        let length = 49, centre = 24.0
        return (0..<length).map { k in
            let t = (Double(k) - centre) / Double(factor)
            let sinc = t == 0 ? 1 : sin(.pi * t) / (.pi * t)
            // Blackman-Harris window.
            let x = 2 * Double.pi * Double(k) / Double(length - 1)
            let window = 0.35875 - 0.48829 * cos(x) + 0.14128 * cos(2 * x) - 0.01168 * cos(3 * x)
            return Float(sinc * window)
        }
    }()

    /// The true-peak envelope of one channel: for each sample, the largest magnitude of the
    /// upsampled signal within half a sample of it (the sample itself included).
    static func envelope(_ samples: [Float]) -> [Float] {
        let count = samples.count
        var envelope = samples.map(abs)
        guard count > 0 else { return envelope }
        let delay = (taps.count - 1) / 2
        samples.withUnsafeBufferPointer { x in
            taps.withUnsafeBufferPointer { h in
                // Output m of the 4× signal sits at input time (m - delay) / 4.
                for n in 0..<(count + delay / factor) {
                    for phase in 1..<factor {
                        let m = n * factor + phase
                        var sum: Float = 0
                        var k = phase
                        while k < h.count {
                            let index = (m - k) / factor
                            if index >= 0 && index < count { sum += h[k] * x[index] }
                            k += factor
                        }
                        let time = m - delay
                        let nearest = (time + factor / 2) / factor
                        if nearest >= 0 && nearest < count { envelope[nearest] = max(envelope[nearest], abs(sum)) }
                    }
                }
            }
        }
        return envelope
    }
}

/// A look-ahead peak limiter: the gain needed so the true-peak envelope stays under the
/// ceiling is brought in over `attack` before each peak (a sliding minimum, then a moving
/// average, so it never exceeds what any sample needs) and released exponentially
/// afterwards. One gain for every channel, so the stereo image stays put.
enum PeakLimiter {
    /// The gain per sample that keeps `envelope` × `scale` under `ceiling`, or nil when no
    /// sample needs any reduction.
    static func gains(envelope: [Float], scale: Float, ceiling: Float, sampleRate: Int,
                      attack: Double = 0.005, release: Double = 0.08) -> [Float]? {
        let count = envelope.count
        guard count > 0, (envelope.max() ?? 0) * scale > ceiling else { return nil }
        let needed = envelope.map { $0 * scale > ceiling ? ceiling / ($0 * scale) : 1 }
        let window = max(1, Int(attack * Double(sampleRate)))
        // minimum[j] = min(padded[j ..< j + window]), padded = window - 1 ones before `needed`.
        let padded = [Float](repeating: 1, count: window - 1) + needed
        var minimum = [Float](repeating: 1, count: padded.count)
        var queue: [Int] = []  // indices, descending; their values ascending from `head`
        var head = 0
        for j in stride(from: padded.count - 1, through: 0, by: -1) {
            while queue.count > head, padded[queue[queue.count - 1]] >= padded[j] { queue.removeLast() }
            queue.append(j)
            while queue[head] >= j + window { head += 1 }
            minimum[j] = padded[queue[head]]
        }
        // Sample i gets the mean of the minima of every window holding it (never more than it
        // needs), then an exponential release.
        var gain = [Float](repeating: 1, count: count)
        var sum = minimum[0..<window].reduce(0, +)
        let releaseStep = Float(1 - exp(-1 / (release * Double(sampleRate))))
        var previous: Float = 1
        for i in 0..<count {
            if i > 0 { sum += minimum[i + window - 1] - minimum[i - 1] }
            let smooth = min(sum / Float(window), needed[i])
            previous = min(smooth, previous + (1 - previous) * releaseStep)
            gain[i] = previous
        }
        return gain
    }
}
