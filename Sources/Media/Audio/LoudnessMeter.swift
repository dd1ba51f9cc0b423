internal import CFFmpeg
import Foundation

/// Integrated loudness after ITU-R BS.1770-4: K-weighting (a high shelf and a high pass),
/// mean square per channel over 400 ms blocks overlapping by 75 %, an absolute gate at
/// -70 LUFS and a relative gate 10 LU under the ungated mean.
///
/// Memory is one number per 100 ms of audio, so an hour costs 36,000 doubles.
struct LoudnessMeter {
    private struct Biquad {
        var b0, b1, b2, a1, a2: Double
        var z1 = 0.0, z2 = 0.0

        mutating func process(_ x: Double) -> Double {
            let y = b0 * x + z1
            z1 = b1 * x - a1 * y + z2
            z2 = b2 * x - a2 * y
            return y
        }
    }

    private var shelves: [Biquad]
    private var highPasses: [Biquad]
    private let weights: [Double]
    private let subBlockLength: Int
    private var subBlockFill = 0
    private var subBlockEnergy = 0.0
    /// Weighted energy (Σ over channels of G_c × Σ y²) of each complete 100 ms sub-block.
    private var subBlocks: [Double] = []

    /// - Parameter weights: per-channel weight (1 for front, 1.41 for surround, 0 for LFE).
    init(sampleRate: Int, weights: [Double]) {
        let rate = Double(sampleRate)
        // Pre-filter (high shelf), coefficients derived for any sample rate as in libebur128.
        var f0 = 1681.974450955533
        let gain = 3.999843853973347
        var q = 0.7071752369554196
        var k = tan(.pi * f0 / rate)
        let vh = pow(10, gain / 20)
        let vb = pow(vh, 0.4996667741545416)
        var a0 = 1 + k / q + k * k
        let shelf = Biquad(
            b0: (vh + vb * k / q + k * k) / a0, b1: 2 * (k * k - vh) / a0, b2: (vh - vb * k / q + k * k) / a0,
            a1: 2 * (k * k - 1) / a0, a2: (1 - k / q + k * k) / a0)
        // RLB high pass.
        f0 = 38.13547087602444
        q = 0.5003270373238773
        k = tan(.pi * f0 / rate)
        a0 = 1 + k / q + k * k
        let highPass = Biquad(b0: 1, b1: -2, b2: 1, a1: 2 * (k * k - 1) / a0, a2: (1 - k / q + k * k) / a0)
        shelves = Array(repeating: shelf, count: weights.count)
        highPasses = Array(repeating: highPass, count: weights.count)
        self.weights = weights
        subBlockLength = max(1, sampleRate / 10)
    }

    /// Feeds `count` samples of each channel (`planes[c]`).
    mutating func add(planes: [UnsafePointer<Float>], count: Int) {
        var offset = 0
        while offset < count {
            let run = min(count - offset, subBlockLength - subBlockFill)
            for channel in 0..<min(planes.count, weights.count) where weights[channel] > 0 {
                let samples = planes[channel] + offset
                var shelf = shelves[channel]
                var highPass = highPasses[channel]
                var sum = 0.0
                for index in 0..<run {
                    let y = highPass.process(shelf.process(Double(samples[index])))
                    sum += y * y
                }
                shelves[channel] = shelf
                highPasses[channel] = highPass
                subBlockEnergy += weights[channel] * sum
            }
            subBlockFill += run
            offset += run
            if subBlockFill == subBlockLength {
                subBlocks.append(subBlockEnergy)
                subBlockEnergy = 0
                subBlockFill = 0
            }
        }
    }

    /// Integrated loudness in LUFS, or nil when no block passes the gates (silence, or under 400 ms).
    var integratedLoudness: Double? {
        guard subBlocks.count >= 4 else { return nil }
        let blockLength = Double(subBlockLength * 4)
        var blocks: [Double] = []
        blocks.reserveCapacity(subBlocks.count - 3)
        var window = subBlocks[0] + subBlocks[1] + subBlocks[2]
        for index in 3..<subBlocks.count {
            window += subBlocks[index]
            blocks.append(window / blockLength)
            window -= subBlocks[index - 3]
        }
        let absoluteGate = power(ofLoudness: -70)
        let loud = blocks.filter { $0 > absoluteGate }
        guard !loud.isEmpty else { return nil }
        let relativeGate = power(ofLoudness: loudness(ofPower: loud.reduce(0, +) / Double(loud.count)) - 10)
        let gated = loud.filter { $0 > relativeGate }
        guard !gated.isEmpty else { return nil }
        return loudness(ofPower: gated.reduce(0, +) / Double(gated.count))
    }

    private func loudness(ofPower power: Double) -> Double { -0.691 + 10 * log10(power) }
    private func power(ofLoudness loudness: Double) -> Double { pow(10, (loudness + 0.691) / 10) }

    /// BS.1770's channel weights for a layout: 1 for front channels, 1.41 for surround, 0 for LFE.
    static func weights(of layout: AVChannelLayout) -> [Double] {
        var layout = layout
        return (0..<layout.nb_channels).map { index -> Double in
            switch av_channel_layout_channel_from_index(&layout, UInt32(index)) {
            case AV_CHAN_LOW_FREQUENCY, AV_CHAN_LOW_FREQUENCY_2: 0
            case AV_CHAN_BACK_LEFT, AV_CHAN_BACK_RIGHT, AV_CHAN_SIDE_LEFT, AV_CHAN_SIDE_RIGHT: 1.41
            default: 1
            }
        }
    }
}
