internal import CFFmpeg

/// An encoder (AVCodecContext) feeding one stream of an output container, freed in deinit.
final class Encoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let stream: UnsafeMutablePointer<AVStream>
    let streamIndex: Int32
    private let output: OutputContainer
    private let packet = Packet()

    /// Creates the encoder; `configure` sets the codec context's fields before it opens.
    init(
        codec id: AVCodecID, name: String? = nil, output: OutputContainer, options: [String: String] = [:],
        configure: (UnsafeMutablePointer<AVCodecContext>) -> Void
    ) throws {
        self.output = output
        let found = name.flatMap { avcodec_find_encoder_by_name($0) } ?? avcodec_find_encoder(id)
        guard let codec = found else {
            let codecName = name ?? string(avcodec_get_name(id)) ?? "unknown"
            throw MediaError(.encodingFailed, "this FFmpeg has no \(codecName) encoder", path: output.path)
        }
        guard let context = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        self.context = context
        stream = output.addStream()
        streamIndex = stream.pointee.index
        configure(context)
        if output.needsGlobalHeader {
            context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        var dictionary: OpaquePointer?
        for (key, value) in options { av_dict_set(&dictionary, key, value, 0) }
        defer { av_dict_free(&dictionary) }
        try check(avcodec_open2(context, codec, &dictionary), "avcodec_open2", path: output.path, code: .encodingFailed,
                  "cannot open the \(string(codec.pointee.name) ?? "") encoder")
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, context), "avcodec_parameters_from_context",
                  path: output.path, code: .encodingFailed, "cannot describe the output stream")
        stream.pointee.time_base = context.pointee.time_base
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&freeing)
    }

    /// Encodes one frame (nil = drain) and writes every packet that comes out.
    func encode(_ frame: Frame?) throws {
        try check(avcodec_send_frame(context, frame?.pointer), "avcodec_send_frame", path: output.path,
                  code: .encodingFailed, "cannot encode")
        while true {
            let pulled = try pullResult(avcodec_receive_packet(context, packet.pointer), "avcodec_receive_packet",
                                        path: output.path, code: .encodingFailed, "cannot encode")
            guard pulled == .ready else { return }
            packet.pointer.pointee.stream_index = streamIndex
            av_packet_rescale_ts(packet.pointer, context.pointee.time_base, stream.pointee.time_base)
            try output.write(packet)
        }
    }
}
