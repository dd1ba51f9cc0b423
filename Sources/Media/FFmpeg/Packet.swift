internal import CFFmpeg

/// An AVPacket, freed in deinit.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() {
        guard let packet = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        pointer = packet
    }

    /// Takes ownership of a packet FFmpeg allocated (for example by `av_packet_clone`).
    init(adopting packet: UnsafeMutablePointer<AVPacket>) {
        pointer = packet
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&freeing)
    }

    var streamIndex: Int { Int(pointer.pointee.stream_index) }
    func unref() { av_packet_unref(pointer) }
}
