internal import CFFmpeg
import Foundation

/// Cuts one H.264 clip at exact frames re-encoding only what must be: the pictures from the
/// cut to the next keyframe, and those after the last whole GOP before the end cut. The GOPs
/// in between are copied packet for packet. The sound is decoded, cut to the same frames and
/// encoded again (AAC frames do not fall on video frames).
///
/// The copied pictures keep the source's parameter sets (SPS/PPS, in the `avcC` box and sent
/// again in-band before the first copied keyframe); the re-encoded ones carry their own in-band,
/// under ids the source does not use, so one stream holds both. The MP4 sample entry is
/// `avc3`, the H.264 entry that allows parameter sets in the stream. Re-encoded pictures have
/// no B-frames and decode at their presentation time less the source's reorder delay, so
/// decoding times rise across both seams.
///
/// Only a clip that allows it is cut so: H.264, 4:2:0 8-bit, upright, in MP4 with `avcC`, at the
/// film's constant frame rate, with closed GOPs that start on IDR pictures, and a whole GOP
/// inside the cut (``plan(_:trim:frameRate:)`` says nil otherwise and the caller re-encodes).
struct SmartTrim {
    let layout: Layout
    let plan: Plan
    let clip: ClipFormat
    let output: URL
    let encode: EncodeSettings

    /// Found only once cutting: the clip cannot be cut so after all (its pictures are not
    /// 4:2:0 8-bit, or a seam's decoding times would not rise); nothing was written.
    struct NotApplicable: Error {}

    /// One video packet of the source, in decode order.
    struct Source {
        var pts: Int64
        var dts: Int64
        var key: Bool
        var data: [UInt8]
    }

    /// What the source's video allows.
    struct Layout {
        var packets: [Source]
        /// Display index → decode index.
        var order: [Int]
        var frameDuration: Int64
        /// The most a packet's presentation comes after its decoding.
        var delay: Int64
        /// Display indices of the keyframes a copy may start at.
        var keyframes: [Int]
        var nalLengthSize: Int
        /// The source's SPS and PPS NAL units, from `avcC`.
        var parameterSets: [[UInt8]]
        /// The SPS and PPS ids the source uses.
        var usedIDs: Set<Int>
        var profile: Int32
        /// Frames per second: one frame lasts ``frameDuration`` in the stream's time base.
        var frameRate: Int
    }

    /// The frames (display indices) kept, and the run copied between the re-encoded ones.
    struct Plan: Equatable {
        var start: Int
        var end: Int
        var copyStart: Int
        var copyEnd: Int
    }

    /// How a clip would be cut, or nil when it must be re-encoded whole.
    static func plan(_ clip: ClipFormat, trim: ClipTrim, frameRate: Int) throws -> (Layout, Plan)? {
        guard let layout = try layout(of: clip, frameRate: frameRate) else { return nil }
        let count = layout.order.count
        let start = trim.head, end = count - trim.tail
        guard start >= 0, end > start, EncodeSettings.VideoCodec.h264.isAvailable,
              let copyStart = layout.keyframes.first(where: { $0 >= start }) else { return nil }
        let copyEnd = end == count ? count : (layout.keyframes.last { $0 <= end } ?? 0)
        guard copyStart < copyEnd else { return nil }
        return (layout, Plan(start: start, end: end, copyStart: copyStart, copyEnd: copyEnd))
    }

    /// Reads the source's video packets and checks that they can be cut without re-encoding
    /// whole GOPs.
    static func layout(of clip: ClipFormat, frameRate: Int) throws -> Layout? {
        let video = clip.video
        // The pixel format is checked on the decoded pictures (an MP4's header may not say it).
        guard video.codec == AV_CODEC_ID_H264, [-1, AV_PIX_FMT_YUV420P.rawValue].contains(video.pixelFormat), video.displayMatrix == nil,
              let avcC = AVCConfiguration(video.extradata) else { return nil }
        let input = try InputContainer(url: clip.url, findStreamInfo: false)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { return nil }
        input.discardAll(except: [index])
        var packets: [Source] = []
        let packet = Packet()
        while try input.read(into: packet) {
            defer { packet.unref() }
            guard packet.streamIndex == index else { continue }
            let p = packet.pointer.pointee
            guard p.pts != noPTS, p.dts != noPTS, p.size > 0, let data = p.data else { return nil }
            packets.append(Source(pts: p.pts, dts: p.dts, key: p.flags & AV_PKT_FLAG_KEY != 0,
                                  data: Array(UnsafeBufferPointer(start: data, count: Int(p.size)))))
        }
        guard packets.count >= 2 else { return nil }
        let order = packets.indices.sorted { packets[$0].pts < packets[$1].pts }
        // One frame duration, the film's: frame k of the source is frame k of the cut.
        let timeBase = video.timeBase
        let step = packets[order[1]].pts - packets[order[0]].pts
        guard step > 0, zip(order, order.dropFirst()).allSatisfy({ packets[$1].pts - packets[$0].pts == step }),
              Int64(timeBase.den) == step * Int64(timeBase.num) * Int64(frameRate),
              order.count == JoinGeometry.frames(of: clip, at: frameRate) else { return nil }
        // Closed GOPs from IDR pictures: nothing decoded before a keyframe shows after it, nothing after before it.
        var before = Int64.min
        var after = Array(repeating: Int64.max, count: packets.count + 1)
        for index in packets.indices.reversed() { after[index] = min(after[index + 1], packets[index].pts) }
        var display = Array(repeating: 0, count: packets.count)
        for (position, decode) in order.enumerated() { display[decode] = position }
        var keyframes: [Int] = []
        for (index, source) in packets.enumerated() {
            if source.key, before < source.pts, after[index + 1] > source.pts,
               avcC.nalTypes(in: source.data).contains(5) {
                keyframes.append(display[index])
            }
            before = max(before, source.pts)
        }
        return Layout(packets: packets, order: order, frameDuration: step, delay: max(0, packets.map { $0.pts - $0.dts }.max() ?? 0),
                      keyframes: keyframes.sorted(), nalLengthSize: avcC.nalLengthSize, parameterSets: avcC.parameterSets,
                      usedIDs: avcC.ids, profile: input.stream(index).pointee.codecpar.pointee.profile, frameRate: frameRate)
    }

    /// Writes the cut. Throws, leaving nothing at `output`, when a seam cannot be made.
    func run() throws -> Concatenation.Result {
        let folder = output.deletingLastPathComponent()
        let pictures = folder.appendingPathComponent(".\(output.lastPathComponent).\(getpid()).video.mp4")
        defer { try? FileManager.default.removeItem(at: pictures) }
        let hasAudio = clip.audio != nil
        try writeVideo(to: hasAudio ? pictures : output, faststart: !hasAudio && encode.faststart)
        if hasAudio {
            let sound = try DecodedAudio(clip.url)
            let rate = sound.sampleRate
            let from = plan.start * rate / layout.frameRate, count = (plan.end - plan.start) * rate / layout.frameRate
            let channels = sound.channels.map { channel -> [Float] in
                let kept = Array(channel.dropFirst(from).prefix(count))
                return kept + [Float](repeating: 0, count: count - kept.count)
            }
            let cut = DecodedAudio(channels: channels, sampleRate: rate, weights: sound.weights)
            try LoudnessNormalizer.write(channels, source: cut, from: pictures, to: output, bitRate: encode.audioBitRate,
                                         faststart: encode.faststart)
        }
        let frames = plan.end - plan.start
        return Concatenation.Result(method: .smartCut,
                                    reasons: ["frames \(plan.copyStart)–\(plan.copyEnd - 1) copied, \(frames - (plan.copyEnd - plan.copyStart)) re-encoded"],
                                    duration: Double(frames) / Double(layout.frameRate), clipCount: 1)
    }

    /// The re-encoded head, the copied GOPs and the re-encoded tail, as one `avc3` stream.
    private func writeVideo(to url: URL, faststart: Bool) throws {
        let input = try InputContainer(url: clip.url, findStreamInfo: false)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw MediaError(.noVideoStream, "has no video stream", path: clip.url.relativePath) }
        let out = try OutputContainer(url: url)
        let stream = out.addStream()
        try check(avcodec_parameters_copy(stream.pointee.codecpar, input.stream(index).pointee.codecpar), "avcodec_parameters_copy",
                  path: out.path, code: .encodingFailed, "cannot set up the video stream")
        stream.pointee.codecpar.pointee.codec_tag = fourCC("avc3")
        stream.pointee.time_base = clip.video.timeBase
        stream.pointee.avg_frame_rate = clip.video.frameRate
        try out.writeHeader(faststart: faststart)

        let step = layout.frameDuration, delay = layout.delay
        var lastDTS = Int64.min
        func write(_ bytes: [UInt8], pts: Int64, dts: Int64, key: Bool) throws {
            guard dts > lastDTS, dts <= pts else { throw NotApplicable() }
            lastDTS = dts
            let packet = Packet()
            try check(av_new_packet(packet.pointer, Int32(bytes.count)), "av_new_packet", path: out.path, code: .encodingFailed,
                      "cannot make a packet")
            bytes.withUnsafeBufferPointer { _ = memcpy(packet.pointer.pointee.data, $0.baseAddress!, bytes.count) }
            packet.pointer.pointee.pts = pts
            packet.pointer.pointee.dts = dts
            packet.pointer.pointee.duration = step
            packet.pointer.pointee.stream_index = stream.pointee.index
            if key { packet.pointer.pointee.flags |= AV_PKT_FLAG_KEY }
            av_packet_rescale_ts(packet.pointer, clip.video.timeBase, stream.pointee.time_base)
            try out.write(packet)
        }
        // Re-encoded pictures, decoded from the source in display order. The head decodes as far
        // ahead of its times as the first copied picture does, so decoding times rise into it
        // (and a clip that follows this one in a join starts as the source did).
        let segments = try reencoded(input: input, stream: index)
        let first = layout.order[plan.copyStart]
        let headLead = layout.packets[first].pts - layout.packets[first].dts
        for (position, bytes) in segments.head.enumerated() {
            let pts = Int64(position) * step
            try write(bytes, pts: pts, dts: pts - headLead, key: position == 0)
        }
        let shift = Int64(plan.copyStart - plan.start) * step - layout.packets[first].pts
        let copied = layout.order[plan.copyStart..<plan.copyEnd].sorted()
        for decode in copied {
            let source = layout.packets[decode]
            // The source's own parameter sets again before its first picture, after the head's.
            let bytes = decode == copied.first && !segments.head.isEmpty ? inBand(layout.parameterSets) + source.data : source.data
            try write(bytes, pts: source.pts + shift, dts: source.dts + shift, key: source.key)
        }
        // The tail decodes after the last copied picture: as little ahead of its own times as that allows.
        let tailStart = Int64(plan.copyEnd - plan.start) * step
        let lead = max(0, min(delay, tailStart - lastDTS - 1))
        for (position, bytes) in segments.tail.enumerated() {
            let pts = tailStart + Int64(position) * step
            try write(bytes, pts: pts, dts: pts - lead, key: position == 0)
        }
        try out.finish()
    }

    /// The head's and the tail's pictures, encoded each from an IDR picture, as `avc3` samples.
    private func reencoded(input: InputContainer, stream index: Int) throws -> (head: [[UInt8]], tail: [[UInt8]]) {
        let head = plan.start..<plan.copyStart, tail = plan.copyEnd..<plan.end
        guard !head.isEmpty || !tail.isEmpty else { return ([], []) }
        var displayOf: [Int64: Int] = [:]
        for (position, decode) in layout.order.enumerated() { displayOf[layout.packets[decode].pts] = position }
        let id = (1...31).first { !layout.usedIDs.contains($0) } ?? 1
        let make = { try SegmentEncoder(width: clip.video.width, height: clip.video.height, frameRate: clip.video.frameRate,
                                        settings: encode, parameterSetID: id, profile: layout.profile, path: clip.url.relativePath) }
        let headEncoder = head.isEmpty ? nil : try make()
        let tailEncoder = tail.isEmpty ? nil : try make()
        let decoder = try Decoder(input: input, streamIndex: index)
        try decoder.decode(from: input) { decoded in
            guard let pts = decoded.timestamp, let position = displayOf[pts] else { return true }
            guard decoded.pointer.pointee.format == AV_PIX_FMT_YUV420P.rawValue,
                  decoded.width == clip.video.width, decoded.height == clip.video.height else { throw NotApplicable() }
            if head.contains(position) { try headEncoder?.encode(decoded) }
            if tail.contains(position) { try tailEncoder?.encode(decoded) }
            return position < plan.end - 1
        }
        let headPackets = try headEncoder?.finish() ?? []
        let tailPackets = try tailEncoder?.finish() ?? []
        guard headPackets.count == head.count, tailPackets.count == tail.count else {
            throw MediaError(.encodingFailed, "re-encoding the cut GOPs gave \(headPackets.count + tailPackets.count) pictures for \(head.count + tail.count)",
                             path: clip.url.relativePath)
        }
        let avc = AVCConfiguration.lengthPrefixed(size: layout.nalLengthSize)
        return (headPackets.map(avc), tailPackets.map(avc))
    }

    /// NAL units as `avc3` sample data: each behind its length.
    private func inBand(_ units: [[UInt8]]) -> [UInt8] {
        units.flatMap { unit in AVCConfiguration.length(unit.count, size: layout.nalLengthSize) + unit }
    }
}

/// libx264 writing pictures to memory, parameter sets in-band under the given id, no B-frames,
/// one IDR picture at the start: a run of pictures to set into another H.264 stream.
private final class SegmentEncoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let path: String
    private var next: Int64 = 0
    private var packets: [[UInt8]] = []
    private let packet = Packet()

    init(width: Int32, height: Int32, frameRate: AVRational, settings: EncodeSettings, parameterSetID: Int, profile: Int32,
         path: String) throws {
        self.path = path
        guard let codec = avcodec_find_encoder_by_name("libx264"), let context = avcodec_alloc_context3(codec) else {
            throw MediaError(.encodingFailed, "this FFmpeg has no libx264 encoder", path: path)
        }
        self.context = context
        context.pointee.width = width
        context.pointee.height = height
        context.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        context.pointee.time_base = AVRational(num: frameRate.den, den: frameRate.num)
        context.pointee.framerate = frameRate
        context.pointee.gop_size = 100_000
        context.pointee.max_b_frames = 0
        if let cap = settings.maxBitRate {
            context.pointee.rc_max_rate = Int64(cap)
            context.pointee.rc_buffer_size = Int32(clamping: cap)
        }
        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        av_dict_set(&options, "preset", settings.preset, 0)
        av_dict_set(&options, "crf", String(settings.crf), 0)
        // x264 numbers its PPS as its SPS: one id for both, unused by the source.
        av_dict_set(&options, "x264-params", "sps-id=\(parameterSetID)", 0)
        let profiles: [Int32: String] = [66: "baseline", 77: "main", 100: "high"]
        if let name = profiles[profile] { av_dict_set(&options, "profile", name, 0) }
        try check(avcodec_open2(context, codec, &options), "avcodec_open2", path: path, code: .encodingFailed,
                  "cannot open the libx264 encoder")
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&freeing)
    }

    func encode(_ frame: Frame) throws {
        frame.pointer.pointee.pts = next
        frame.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
        next += 1
        try send(frame)
    }

    func finish() throws -> [[UInt8]] {
        try send(nil)
        return packets
    }

    private func send(_ frame: Frame?) throws {
        try check(avcodec_send_frame(context, frame?.pointer), "avcodec_send_frame", path: path, code: .encodingFailed, "cannot encode")
        while try pullResult(avcodec_receive_packet(context, packet.pointer), "avcodec_receive_packet", path: path,
                             code: .encodingFailed, "cannot encode") == .ready {
            let p = packet.pointer.pointee
            packets.append(Array(UnsafeBufferPointer(start: p.data, count: Int(p.size))))
            packet.unref()
        }
    }
}

/// An `avcC` box (ISO 14496-15): the NAL length size and the parameter sets.
struct AVCConfiguration {
    var nalLengthSize: Int
    var parameterSets: [[UInt8]]
    /// The SPS ids and PPS ids it holds.
    var ids: Set<Int>

    init?(_ box: [UInt8]) {
        guard box.count >= 7, box[0] == 1 else { return nil }
        nalLengthSize = Int(box[4] & 3) + 1
        var offset = 5
        var sets: [[UInt8]] = []
        func read(_ count: Int) -> Bool {
            for _ in 0..<count {
                guard offset + 2 <= box.count else { return false }
                let length = Int(box[offset]) << 8 | Int(box[offset + 1])
                offset += 2
                guard length > 0, offset + length <= box.count else { return false }
                sets.append(Array(box[offset..<(offset + length)]))
                offset += length
            }
            return true
        }
        let spsCount = Int(box[offset] & 0x1f)
        offset += 1
        guard spsCount > 0, read(spsCount), offset < box.count else { return nil }
        let ppsCount = Int(box[offset])
        offset += 1
        guard ppsCount > 0, read(ppsCount) else { return nil }
        parameterSets = sets
        var ids: Set<Int> = []
        for unit in sets {
            var bits = BitReader(AVCConfiguration.unescaped(Array(unit.dropFirst())))
            switch unit.first.map({ $0 & 0x1f }) {
            case 7:  // SPS: profile, constraints, level, then its id
                bits.skip(24)
                if let id = bits.exponentialGolomb() { ids.insert(id) }
            case 8:  // PPS: its id, then its SPS's
                if let id = bits.exponentialGolomb() { ids.insert(id) }
            default: break
            }
        }
        self.ids = ids
    }

    /// The NAL unit types in a sample (length-prefixed).
    func nalTypes(in sample: [UInt8]) -> [UInt8] {
        var types: [UInt8] = []
        var offset = 0
        while offset + nalLengthSize < sample.count {
            var length = 0
            for byte in sample[offset..<(offset + nalLengthSize)] { length = length << 8 | Int(byte) }
            offset += nalLengthSize
            guard length > 0, offset + length <= sample.count else { break }
            types.append(sample[offset] & 0x1f)
            offset += length
        }
        return types
    }

    /// Annex B (start codes) to length-prefixed NAL units, without access unit delimiters.
    static func lengthPrefixed(size: Int) -> ([UInt8]) -> [UInt8] {
        { annexB in
            var units: [ArraySlice<UInt8>] = []
            var index = 0, start: Int?
            while index + 2 < annexB.count {
                if annexB[index] == 0, annexB[index + 1] == 0, annexB[index + 2] == 1 {
                    if let start { units.append(annexB[start..<(index > start && annexB[index - 1] == 0 ? index - 1 : index)]) }
                    index += 3
                    start = index
                } else {
                    index += 1
                }
            }
            if let start, start < annexB.count { units.append(annexB[start...]) }
            return units.filter { !$0.isEmpty && $0.first! & 0x1f != 9 }.flatMap { length($0.count, size: size) + Array($0) }
        }
    }

    static func length(_ count: Int, size: Int) -> [UInt8] {
        (0..<size).reversed().map { UInt8(truncatingIfNeeded: count >> ($0 * 8)) }
    }

    /// A NAL unit's payload without emulation-prevention bytes (00 00 03 → 00 00).
    static func unescaped(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var zeros = 0
        for byte in bytes {
            if zeros >= 2 && byte == 3 {
                zeros = 0
                continue
            }
            zeros = byte == 0 ? zeros + 1 : 0
            out.append(byte)
        }
        return out
    }
}

/// Reads bits most significant first, and unsigned exponential-Golomb codes.
private struct BitReader {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func skip(_ count: Int) { position += count }

    mutating func bit() -> Int? {
        guard position / 8 < bytes.count else { return nil }
        defer { position += 1 }
        return Int(bytes[position / 8] >> (7 - UInt8(position % 8))) & 1
    }

    mutating func exponentialGolomb() -> Int? {
        var zeros = 0
        while let bit = bit(), bit == 0 { zeros += 1; if zeros > 31 { return nil } }
        var value = 1
        for _ in 0..<zeros { guard let bit = bit() else { return nil }; value = value << 1 | bit }
        return value - 1
    }
}
