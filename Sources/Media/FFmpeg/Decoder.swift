internal import CFFmpeg

/// A decoder (AVCodecContext) for one stream of an input, freed in deinit.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let streamIndex: Int
    let timeBase: AVRational
    private let path: String
    private let packet = Packet()
    private let frame = Frame()

    init(input: InputContainer, streamIndex: Int, threads: Int32 = 0) throws {
        let stream = input.stream(streamIndex)
        let parameters = stream.pointee.codecpar!
        path = input.path
        self.streamIndex = streamIndex
        timeBase = stream.pointee.time_base
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            let name = string(avcodec_get_name(parameters.pointee.codec_id)) ?? "unknown"
            throw MediaError(.decodingFailed, "no decoder for codec \(name) in this FFmpeg", path: input.path)
        }
        guard let context = avcodec_alloc_context3(codec) else {
            fatalError("avcodec_alloc_context3: out of memory")
        }
        self.context = context
        try check(avcodec_parameters_to_context(context, parameters), "avcodec_parameters_to_context",
                  path: path, code: .decodingFailed, "cannot set up the decoder")
        context.pointee.pkt_timebase = stream.pointee.time_base
        context.pointee.thread_count = threads
        try check(avcodec_open2(context, codec, nil), "avcodec_open2", path: path, code: .decodingFailed,
                  "cannot open the \(string(codec.pointee.name) ?? "") decoder")
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&freeing)
    }

    /// Sends one packet (nil = drain). A full decoder (EAGAIN) is reported as false.
    @discardableResult
    func send(_ packet: Packet?) throws -> Bool {
        let status = avcodec_send_packet(context, packet?.pointer)
        if status == averrorEAGAIN || status == averrorEOF { return false }
        // Damaged packets are skipped, as players do; the loss shows up as fewer frames.
        if status == cff_averror_invaliddata() { return true }
        try check(status, "avcodec_send_packet", path: path, code: .decodingFailed, "cannot decode the data")
        return true
    }

    /// Receives the next decoded frame into `frame`.
    func receive(into frame: Frame) throws -> CodecPull {
        try pullResult(avcodec_receive_frame(context, frame.pointer), "avcodec_receive_frame",
                       path: path, code: .decodingFailed, "cannot decode the data")
    }

    func flushBuffers() { avcodec_flush_buffers(context) }

    /// Reads this decoder's packets from `input` and hands each decoded frame to `body`,
    /// until `body` returns false or the stream ends (the decoder is drained at the end).
    /// The frame passed in is reused: take its content (`Frame.take`) to keep it.
    func decode(from input: InputContainer, _ body: (Frame) throws -> Bool) throws {
        var draining = false
        while true {
            switch try receive(into: frame) {
            case .ready:
                if try !body(frame) { return }
                frame.unref()
                continue
            case .finished:
                return
            case .needsInput:
                break
            }
            if draining { return }
            var sent = false
            while try input.read(into: packet) {
                defer { packet.unref() }
                if packet.streamIndex == streamIndex {
                    try send(packet)
                    sent = true
                    break
                }
            }
            if !sent {
                try send(nil)
                draining = true
            }
        }
    }
}
