import Foundation

/// Joins clips, in order, into one MP4.
///
/// When every clip's streams are compatible (codec, codec parameters and extradata, size,
/// time base, sample rate, channel layout) the packets are copied without re-encoding:
/// fast, lossless, and with timestamps made continuous so there is no non-monotonic DTS
/// at a join. Each clip's audio is placed at the start of that clip's video, so audio and
/// video stay aligned however many clips there are. Otherwise every clip is re-encoded to
/// the first clip's size and frame rate (letterboxed, never stretched). A clip without
/// audio gets silence of its own length when other clips have audio.
public enum Concatenation {
    /// How to join.
    public enum Method: String, Sendable, Codable {
        /// Stream copy when the clips allow it, else re-encode.
        case automatic
        /// Stream copy, or fail with the reasons it is not possible.
        case streamCopy = "stream-copy"
        /// Always re-encode (H.264 + AAC).
        case reencode
        /// Trimmed clips: the pictures up to the next keyframe after each cut (and after the
        /// last whole GOP before an end cut) re-encoded, the GOPs between copied (``SmartTrim``),
        /// the clips then stream-copied. Asked for, it is ``automatic``: a smart cut where the
        /// clips allow it.
        case smartCut = "smart-cut"
    }

    /// How one clip gives way to the next.
    public enum Transition: Sendable, Hashable {
        /// A cut.
        case none
        /// The clips overlap by this many seconds, picture and sound fading across.
        case crossfade(seconds: Double)
    }

    /// What a join did.
    public struct Result: Sendable, Codable, Equatable {
        /// `stream-copy` or `reencode`.
        public var method: Method
        /// Why stream copy was not possible, one line per difference (empty after a stream copy).
        public var reasons: [String]
        /// Length of the result in seconds.
        public var duration: Double
        public var clipCount: Int
    }

    /// Joins `clips` into `output`. The output appears whole or not at all.
    /// - Parameters:
    ///   - corrections: a colour correction per clip (nil: none), from ``ColorMatch``; any
    ///     correction means re-encoding, its tables applied to that clip's picture only.
    ///   - trims: frames cut from each clip's head and tail, exact to the frame (with the sound
    ///     under them): a smart cut where the clips allow it and nothing else needs re-encoding,
    ///     else the clips re-encoded.
    ///   - encode: how a re-encoding join encodes (codec, quality, caps, audio bit rate);
    ///     `faststart` applies to a stream copy too.
    ///   - progress: called after each clip with (clips done, clips in all).
    public static func join(
        _ clips: [URL], to output: URL, method: Method = .automatic, transition: Transition = .none,
        corrections: [ColorCorrection?] = [], trims: [ClipTrim] = [], encode: EncodeSettings = .reencode,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> Result {
        guard !clips.isEmpty else {
            throw MediaError(.invalidArgument, "nothing to join: give at least one clip", path: output.path)
        }
        let outputPath = output.standardizedFileURL.path
        if let clash = clips.first(where: { $0.standardizedFileURL.path == outputPath }) {
            throw MediaError(.invalidArgument, "the output is also one of the clips; choose another output path",
                             path: clash.path)
        }
        let formats = try clips.map(ClipFormat.init(url:))
        var reasons = ClipFormat.incompatibilities(formats)
        let corrections = clips.indices.map { $0 < corrections.count ? corrections[$0] : nil }
        let corrected = corrections.indices.filter { corrections[$0] != nil }
        if !corrected.isEmpty {
            guard method != .streamCopy else {
                throw MediaError(.incompatibleClips, "colour correction changes pictures, so it cannot be a stream copy",
                                 path: output.relativePath)
            }
            reasons.append("colour correction of clip\(corrected.count == 1 ? "" : "s") " + corrected.map { "\($0 + 1)" }.joined(separator: ", "))
        }
        let frameRate = JoinGeometry.frameRate(of: formats)
        for (index, trim) in trims.enumerated() where index < formats.count && trim != .none {
            let frames = JoinGeometry.frames(of: formats[index], at: frameRate)
            guard trim.head >= 0, trim.tail >= 0, trim.head + trim.tail < frames else {
                throw MediaError(.invalidArgument, "cutting \(trim.head) frames from the head and \(trim.tail) from the tail leaves nothing "
                                 + "of its \(frames) frames (at \(frameRate) fps)", path: clips[index].relativePath)
            }
        }
        let trimmed = trims.indices.filter { $0 < clips.count && trims[$0] != .none }
        let trimReason = "clip\(trimmed.count == 1 ? "" : "s") " + trimmed.map { "\($0 + 1)" }.joined(separator: ", ") + " trimmed to the frame"
        if !trimmed.isEmpty {
            guard method != .streamCopy else {
                throw MediaError(.incompatibleClips, "a cut inside a clip lands on an exact frame, so it cannot be a stream copy",
                                 path: output.relativePath)
            }
            reasons.append(trimReason)
        }
        if reasons.isEmpty, let audio = formats.first(where: { $0.audio != nil })?.audio,
           let silent = formats.firstIndex(where: { $0.audio == nil }) {
            do {
                _ = try SilencePacket(matching: audio, path: output.path)
            } catch {
                reasons.append("clip \(silent + 1) (\(formats[silent].name)) has no audio, and silence in the other clips' audio format cannot be stream-copied")
            }
        }
        if case .crossfade(let seconds) = transition {
            guard seconds > 0, seconds.isFinite else {
                throw MediaError(.invalidArgument, "a crossfade needs a length of more than 0 seconds", path: output.relativePath)
            }
            guard method != .streamCopy else {
                throw MediaError(.incompatibleClips, "a crossfade blends pictures, so it cannot be a stream copy", path: output.relativePath)
            }
            return try Reencoder(clips: formats, output: output, progress: progress, crossfade: seconds, corrections: corrections,
                                 encode: encode, trims: trims)
                .run(reasons: reasons + ["crossfade transitions need re-encoding"])
        }
        // Clips cut at frames, and nothing else to re-encode for: only the cut GOPs are re-encoded
        // where the clips allow it, and the clips joined by stream copy.
        if method == .automatic || method == .smartCut, !trimmed.isEmpty, reasons == [trimReason],
           let result = try smartCut(formats, trims: trims, frameRate: frameRate, output: output, encode: encode, progress: progress) {
            return result
        }
        switch method {
        case .reencode:
            return try Reencoder(clips: formats, output: output, progress: progress, corrections: corrections, encode: encode, trims: trims)
                .run(reasons: reasons)
        case .streamCopy where !reasons.isEmpty:
            throw MediaError(.incompatibleClips, "the clips cannot be joined by stream copy: "
                                 + reasons.joined(separator: "; ") + " (join them with re-encoding instead)",
                             path: output.path)
        case .streamCopy, .automatic, .smartCut:
            if reasons.isEmpty {
                return try StreamCopier(clips: formats, output: output, progress: progress, faststart: encode.faststart).run()
            }
            return try Reencoder(clips: formats, output: output, progress: progress, corrections: corrections, encode: encode, trims: trims)
                .run(reasons: reasons)
        }
    }
}

extension Concatenation {
    /// Each trimmed clip cut by ``SmartTrim`` (into a scratch file beside the output when there
    /// are several), then the clips joined by stream copy; nil when a clip does not allow it.
    static func smartCut(_ formats: [ClipFormat], trims: [ClipTrim], frameRate: Int, output: URL, encode: EncodeSettings,
                         progress: (@Sendable (Int, Int) -> Void)?) throws -> Result? {
        guard encode.videoCodec == .h264, encode.pixelFormat == "yuv420p" else { return nil }
        var cuts: [(index: Int, trim: SmartTrim)] = []
        for (index, trim) in trims.enumerated() where index < formats.count && trim != .none {
            guard let (layout, plan) = try SmartTrim.plan(formats[index], trim: trim, frameRate: frameRate) else { return nil }
            let target = formats.count == 1 ? output
                : output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).\(getpid()).cut\(index).mp4")
            cuts.append((index, SmartTrim(layout: layout, plan: plan, clip: formats[index], output: target, encode: encode)))
        }
        defer { if formats.count > 1 { for cut in cuts { try? FileManager.default.removeItem(at: cut.trim.output) } } }
        var reasons: [String] = []
        do {
            for cut in cuts {
                let result = try cut.trim.run()
                reasons += result.reasons.map { formats.count == 1 ? $0 : "clip \(cut.index + 1): \($0)" }
                if formats.count == 1 { progress?(1, 1); return result }
            }
        } catch is SmartTrim.NotApplicable {
            return nil
        }
        var prepared = formats
        for cut in cuts { prepared[cut.index] = try ClipFormat(url: cut.trim.output) }
        guard ClipFormat.incompatibilities(prepared).isEmpty else { return nil }
        var joined: Result
        do {
            joined = try StreamCopier(clips: prepared, output: output, progress: progress, faststart: encode.faststart,
                                      parameterSetsInBand: true).run()
        } catch let error as MediaError where error.code == .incompatibleClips {
            return nil  // the cut clips' times do not run on: re-encoded instead
        }
        joined.method = .smartCut
        joined.reasons = reasons
        return joined
    }

    /// The frame rate a join of this clip uses and the frames it gives it (what trims count in).
    public static func frames(of clip: URL) throws -> (rate: Int, frames: Int) {
        let format = try ClipFormat(url: clip)
        let rate = JoinGeometry.frameRate(of: [format])
        return (rate, JoinGeometry.frames(of: format, at: rate))
    }
}

/// Frames cut from a clip's head and tail, at the film's frame rate.
public struct ClipTrim: Sendable, Hashable {
    public var head: Int
    public var tail: Int

    public init(head: Int = 0, tail: Int = 0) {
        self.head = head
        self.tail = tail
    }

    public static let none = ClipTrim()
}
