internal import CFFmpeg
import Foundation

/// Joins compatible clips by copying their packets, rewriting timestamps so they run on.
///
/// Clip k's video starts at the sum of the video lengths of clips 0..<k. Audio is written
/// as one contiguous run of packets, because a player decodes it that way: at each join a
/// packet is dropped (the AAC encoder's priming, or a tail that overruns its clip) or a
/// frame of silence is added, whichever keeps the decoded audio within half an AAC frame
/// (about 10 ms) of where it belongs on the video timeline. So no drift accumulates however
/// many clips there are, and every stream's DTS rises strictly across the joins.
struct StreamCopier {
    let clips: [ClipFormat]
    let output: URL
    let progress: (@Sendable (Int, Int) -> Void)?
    /// The index before the media (web playback).
    var faststart = false
    /// Some clips carry parameter sets in the stream (cut by ``SmartTrim``): the sample entry says so (`avc3`).
    var parameterSetsInBand = false

    func run() throws -> Concatenation.Result {
        let out = try OutputContainer(url: output)
        let videoOut = out.addStream()
        let audioSource = clips.first { $0.audio != nil }
        let audioOut = audioSource == nil ? nil : out.addStream()
        try copyParameters(from: clips[0].url, type: AVMEDIA_TYPE_VIDEO, to: videoOut)
        if parameterSetsInBand { videoOut.pointee.codecpar.pointee.codec_tag = fourCC("avc3") }
        videoOut.pointee.avg_frame_rate = clips[0].video.frameRate
        // Every clip has the same display matrix here (else they are re-encoded); the film keeps it.
        try clips[0].video.displayMatrix?.attach(to: videoOut, path: output.relativePath)
        var audio: AudioRun?
        if let audioOut, let audioSource, let format = audioSource.audio {
            try copyParameters(from: audioSource.url, type: AVMEDIA_TYPE_AUDIO, to: audioOut)
            // Silence is needed for clips without audio (checked before choosing stream copy)
            // and welcome for gaps; a clip set whose audio it cannot match simply gets no gap filling.
            audio = AudioRun(
                stream: audioOut, timeBase: format.timeBase,
                frameDuration: format.frameSize > 0
                    ? av_rescale_q(Int64(format.frameSize), AVRational(num: 1, den: format.sampleRate), format.timeBase) : nil,
                silence: try? SilencePacket(matching: format, path: output.path))
        }
        try out.writeHeader(faststart: faststart)

        var video = VideoRun(stream: videoOut, timeBase: clips[0].video.timeBase)
        for (index, clip) in clips.enumerated() {
            try copy(clip, isFirst: index == 0, into: out, video: &video, audio: &audio)
            progress?(index + 1, clips.count)
        }
        try out.finish()
        return Concatenation.Result(method: .streamCopy, reasons: [], duration: video.seconds, clipCount: clips.count)
    }

    private func copyParameters(from url: URL, type: AVMediaType, to stream: UnsafeMutablePointer<AVStream>) throws {
        let input = try InputContainer(url: url, findStreamInfo: false)
        guard let source = (0..<input.streamCount).map(input.stream)
            .first(where: { $0.pointee.codecpar.pointee.codec_type == type }) else { return }
        try check(avcodec_parameters_copy(stream.pointee.codecpar, source.pointee.codecpar), "avcodec_parameters_copy",
                  path: output.path, code: .encodingFailed, "cannot set up the output stream")
        stream.pointee.codecpar.pointee.codec_tag = 0
        stream.pointee.time_base = source.pointee.time_base
    }

    private func copy(
        _ clip: ClipFormat, isFirst: Bool, into out: OutputContainer, video: inout VideoRun, audio: inout AudioRun?
    ) throws {
        let input = try InputContainer(url: clip.url, findStreamInfo: false)
        let streams = (0..<input.streamCount).map(input.stream)
        guard let videoIndex = streams.firstIndex(where: { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO })
        else { throw MediaError(.noVideoStream, "has no video stream", path: input.path) }
        let audioIndex = audio == nil ? nil
            : streams.firstIndex { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }
        input.discardAll(except: Set([videoIndex] + (audioIndex.map { [$0] } ?? [])))

        let videoTimeBase = streams[videoIndex].pointee.time_base
        let clipStart = video.offset
        // Audio positions are in the shared audio time base (equal for every clip with audio).
        let audioStart = audio.map { av_rescale_q(clipStart, videoTimeBase, $0.timeBase) } ?? 0
        let audioLimit = zipOptional(clip.video.duration, audio?.timeBase) { av_rescale_q($0, videoTimeBase, $1) }

        var zero: Int64?
        var waitingAudio: [Packet] = []
        let packet = Packet()

        func writeAudio(_ packet: Packet, zero: Int64) throws {
            guard audio != nil else { return }
            let p = packet.pointer
            let audioZero = av_rescale_q(zero, videoTimeBase, audio!.timeBase)
            let pts = p.pointee.pts != noPTS ? p.pointee.pts : p.pointee.dts
            // A packet without any time has no place on the timeline.
            guard pts != noPTS else { return }
            let (start, overflow) = pts.subtractingReportingOverflow(audioZero)
            guard !overflow else { return }
            // The encoder's priming would overlap the clip before; audio past the video belongs to no clip.
            if !isFirst && start + max(p.pointee.duration, 1) <= 0 { return }
            if let audioLimit, start >= audioLimit { return }
            try audio!.place(packet, at: audioStart + start, into: out)
        }

        while try input.read(into: packet) {
            if packet.streamIndex == videoIndex {
                if zero == nil {
                    let p = packet.pointer.pointee
                    zero = p.pts != noPTS ? p.pts : (p.dts != noPTS ? p.dts : 0)
                    for waiting in waitingAudio { try writeAudio(waiting, zero: zero!) }
                    waitingAudio.removeAll()
                }
                try video.write(packet, zero: zero!, timeBase: videoTimeBase, into: out, path: clip.url.relativePath)
            } else if packet.streamIndex == audioIndex {
                if let zero {
                    try writeAudio(packet, zero: zero)
                } else {
                    // Audio that comes before the first video packet waits until the clip's start is known.
                    guard let clone = av_packet_clone(packet.pointer) else { fatalError("av_packet_clone: out of memory") }
                    waitingAudio.append(Packet(adopting: clone))
                }
            }
            packet.unref()
        }
        guard zero != nil else {
            throw MediaError(.decodingFailed, "holds no video data (is the file cut off?)", path: clip.url.relativePath)
        }
        video.endClip()
        if audio != nil {
            // Silence to the clip's end: all of it for a clip without audio, the gap for a short one.
            try audio!.fillSilence(until: av_rescale_q(video.offset, videoTimeBase, audio!.timeBase), into: out)
        }
    }
}

/// The video stream of the output: clip offsets and the last DTS written.
private struct VideoRun {
    let stream: UnsafeMutablePointer<AVStream>
    let timeBase: AVRational
    /// Start of the current clip, in the video time base.
    var offset: Int64 = 0
    /// End of the current clip's video relative to its start.
    var clipEnd: Int64 = 0
    var lastDTS = Int64.min

    var seconds: Double { Double(offset) * timeBase.seconds }

    mutating func write(_ packet: Packet, zero: Int64, timeBase input: AVRational, into out: OutputContainer,
                        path: String) throws {
        let p = packet.pointer
        let pts = p.pointee.pts != noPTS ? p.pointee.pts : p.pointee.dts
        let (relative, overflow) = pts.subtractingReportingOverflow(zero)
        guard pts != noPTS, !overflow, abs(relative) < 1 << 53 else {
            throw MediaError(.incompatibleClips, "has video packets without usable timestamps; join it with re-encoding (--reencode)",
                             path: path)
        }
        clipEnd = max(clipEnd, relative + max(p.pointee.duration, 0))
        if p.pointee.pts != noPTS { p.pointee.pts += offset - zero }
        if p.pointee.dts != noPTS { p.pointee.dts += offset - zero }
        p.pointee.stream_index = stream.pointee.index
        p.pointee.pos = -1
        av_packet_rescale_ts(p, input, stream.pointee.time_base)
        if p.pointee.dts != noPTS {
            guard p.pointee.dts > lastDTS else {
                throw MediaError(.incompatibleClips, "the video timestamps go backwards; join with re-encoding instead",
                                 path: path)
            }
            lastDTS = p.pointee.dts
        }
        try out.write(packet)
    }

    mutating func endClip() {
        offset += clipEnd
        clipEnd = 0
    }
}

/// The audio stream of the output, written as one contiguous run of packets.
private struct AudioRun {
    let stream: UnsafeMutablePointer<AVStream>
    let timeBase: AVRational
    /// What one packet decodes to, in `timeBase`: from the codec when it says, else the
    /// longest packet seen. A clip's last packet is often marked shorter (the container
    /// trims it), but a decoder still plays all of it.
    var frameDuration: Int64?
    let silence: SilencePacket?
    /// Where the next packet starts when the audio is decoded end to end; nil before the first.
    var next: Int64?

    /// Writes a packet meant to start at `intended`, unless the audio already written covers
    /// more than half of it; gaps of a whole frame or more are filled with silence first.
    mutating func place(_ packet: Packet, at intended: Int64, into out: OutputContainer) throws {
        let p = packet.pointer
        if p.pointee.duration > (frameDuration ?? 0) { frameDuration = p.pointee.duration }
        let duration = frameDuration ?? silence?.duration ?? 1024
        if next == nil { next = intended }
        if next! - intended > duration / 2 { return }
        if intended - next! >= duration { try fillSilence(until: intended, into: out) }
        p.pointee.pts = next!
        p.pointee.dts = next!
        p.pointee.duration = duration
        next! += duration
        try write(packet, into: out)
    }

    /// Adds frames of silence while the audio ends more than half a frame before `end`.
    mutating func fillSilence(until end: Int64, into out: OutputContainer) throws {
        guard let silence else { return }
        if next == nil { next = 0 }  // audio that opens with silence starts at 0
        while end - next! > silence.duration / 2 {
            let packet = silence.copy()
            packet.pointer.pointee.pts = next!
            packet.pointer.pointee.dts = next!
            packet.pointer.pointee.duration = silence.duration
            next! += silence.duration
            try write(packet, into: out)
        }
    }

    private func write(_ packet: Packet, into out: OutputContainer) throws {
        let p = packet.pointer
        p.pointee.stream_index = stream.pointee.index
        p.pointee.pos = -1
        av_packet_rescale_ts(p, timeBase, stream.pointee.time_base)
        try out.write(packet)
    }
}

private func zipOptional<A, B, C>(_ a: A?, _ b: B?, _ combine: (A, B) -> C) -> C? {
    guard let a, let b else { return nil }
    return combine(a, b)
}
