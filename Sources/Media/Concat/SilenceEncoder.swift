internal import CFFmpeg

/// One AAC frame of digital silence whose codec parameters match a clip's audio byte for
/// byte, so gaps and clips without audio can be filled in a stream copy.
final class SilencePacket {
    /// The encoded frame (a steady-state one, not the encoder's priming frame).
    let packet: Packet
    /// Samples the frame holds, in the audio time base it was made for.
    let duration: Int64

    /// Fails with `.incompatibleClips` when this FFmpeg's AAC encoder cannot produce the
    /// exact stream parameters of `format` (then the join re-encodes instead).
    init(matching format: ClipFormat.Audio, path: String) throws {
        guard format.codec == AV_CODEC_ID_AAC, let codec = avcodec_find_encoder(AV_CODEC_ID_AAC),
              let context = avcodec_alloc_context3(codec)
        else {
            throw MediaError(.incompatibleClips, "silence can only be made for AAC audio", path: path)
        }
        var owned: UnsafeMutablePointer<AVCodecContext>? = context
        defer { avcodec_free_context(&owned) }
        context.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        context.pointee.sample_rate = format.sampleRate
        av_channel_layout_default(&context.pointee.ch_layout, format.channels)
        context.pointee.time_base = AVRational(num: 1, den: format.sampleRate)
        context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        try check(avcodec_open2(context, codec, nil), "avcodec_open2", path: path, code: .encodingFailed,
                  "cannot open the AAC encoder")
        let extradata = Array(UnsafeBufferPointer(start: context.pointee.extradata, count: Int(context.pointee.extradata_size)))
        guard extradata == format.extradata else {
            throw MediaError(.incompatibleClips, "silence cannot match the clips' audio parameters", path: path)
        }
        // Encode a few frames of zeros and keep one from the middle: past the priming, its
        // decoder state is silence in and silence out.
        let frame = Frame()
        var packets: [Packet] = []
        for index in 0..<4 {
            frame.unref()
            frame.pointer.pointee.nb_samples = context.pointee.frame_size
            frame.pointer.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
            frame.pointer.pointee.sample_rate = format.sampleRate
            av_channel_layout_copy(&frame.pointer.pointee.ch_layout, &context.pointee.ch_layout)
            try check(av_frame_get_buffer(frame.pointer, 0), "av_frame_get_buffer", path: path, code: .encodingFailed,
                      "cannot allocate silence")
            av_samples_set_silence(cff_frame_extended_data(frame.pointer), 0, context.pointee.frame_size,
                                   format.channels, AV_SAMPLE_FMT_FLTP)
            frame.pointer.pointee.pts = Int64(index) * Int64(context.pointee.frame_size)
            try check(avcodec_send_frame(context, frame.pointer), "avcodec_send_frame", path: path,
                      code: .encodingFailed, "cannot encode silence")
            while true {
                let packet = Packet()
                let pulled = try pullResult(avcodec_receive_packet(context, packet.pointer), "avcodec_receive_packet",
                                            path: path, code: .encodingFailed, "cannot encode silence")
                guard pulled == .ready else { break }
                packets.append(packet)
            }
        }
        guard packets.count >= 2 else {
            throw MediaError(.encodingFailed, "the AAC encoder produced no silence", path: path)
        }
        packet = packets[packets.count - 1]
        duration = av_rescale_q(Int64(context.pointee.frame_size), context.pointee.time_base, format.timeBase)
    }

    /// A fresh copy to write (the muxer consumes what it is given).
    func copy() -> Packet {
        guard let clone = av_packet_clone(packet.pointer) else { fatalError("av_packet_clone: out of memory") }
        return Packet(adopting: clone)
    }
}
