internal import CFFmpeg
import Foundation

/// An opened input file (AVFormatContext), closed in deinit.
final class InputContainer {
    let context: UnsafeMutablePointer<AVFormatContext>
    /// The path as the caller gave it, for messages.
    let path: String

    /// Opens `url` for reading. Missing, empty and unrecognised files get their own codes.
    /// - Parameter findStreamInfo: read ahead to fill codec parameters that the
    ///   container header does not carry (needed for probing; not for MP4 stream copy).
    init(url: URL, findStreamInfo: Bool = true) throws {
        try FFmpegRuntime.ensure()
        let path = url.relativePath
        self.path = path
        let file = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw MediaError(.fileNotFound, "no such file", path: path)
        }
        guard !isDirectory.boolValue else {
            throw MediaError(.notMedia, "is a folder, not a media file", path: path)
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int, size == 0 {
            throw MediaError(.emptyFile, "the file is empty (0 bytes)", path: path)
        }
        var opened: UnsafeMutablePointer<AVFormatContext>?
        let status = avformat_open_input(&opened, file, nil, nil)
        guard status >= 0, let opened else {
            throw MediaError(
                .notMedia, "cannot open as media", path: path, function: "avformat_open_input",
                averror: status, reason: averrorText(status))
        }
        context = opened
        if findStreamInfo {
            let info = avformat_find_stream_info(opened, nil)
            if info < 0 {
                var closing: UnsafeMutablePointer<AVFormatContext>? = opened
                avformat_close_input(&closing)
                throw MediaError(
                    .notMedia, "cannot read the streams", path: path, function: "avformat_find_stream_info",
                    averror: info, reason: averrorText(info))
            }
        }
    }

    deinit {
        var closing: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&closing)
    }

    var streamCount: Int { Int(context.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        context.pointee.streams[index]!
    }

    var formatName: String { string(context.pointee.iformat.pointee.name) ?? "unknown" }

    /// True for demuxers that read single images (png_pipe, image2, …).
    var isStillImage: Bool {
        let name = formatName
        return name.hasSuffix("_pipe") || name == "image2"
    }

    /// The best stream of a kind, as FFmpeg chooses it, or nil.
    func bestStream(_ type: AVMediaType) -> Int? {
        let index = av_find_best_stream(context, type, -1, -1, nil, 0)
        return index >= 0 ? Int(index) : nil
    }

    /// Tells the demuxer to skip every stream except `keep`.
    func discardAll(except keep: Set<Int>) {
        for index in 0..<streamCount where !keep.contains(index) {
            stream(index).pointee.discard = AVDISCARD_ALL
        }
    }

    /// A decoder for the first audio stream, with every other stream skipped by the demuxer,
    /// or nil when there is none. Opened without stream probing, the stream's parameters
    /// are probed only when the header left them out.
    func firstAudioDecoder() throws -> Decoder? {
        guard let index = (0..<streamCount).first(where: {
            stream($0).pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO
        }) else { return nil }
        discardAll(except: [index])
        let parameters = stream(index).pointee.codecpar.pointee
        if parameters.sample_rate <= 0 || parameters.ch_layout.nb_channels <= 0 {
            try check(avformat_find_stream_info(context, nil), "avformat_find_stream_info", path: path,
                      code: .notMedia, "cannot read the audio stream's parameters")
        }
        return try Decoder(input: self, streamIndex: index)
    }

    /// Reads the next packet into `packet`; false at the end of the file.
    func read(into packet: Packet) throws -> Bool {
        let status = av_read_frame(context, packet.pointer)
        if status == averrorEOF { return false }
        try check(status, "av_read_frame", path: path, code: .decodingFailed, "cannot read the file's data")
        return true
    }

    /// Duration of the file in seconds, when the container knows it.
    var duration: Double? {
        let value = context.pointee.duration
        return value == noPTS || value <= 0 ? nil : Double(value) / Double(AV_TIME_BASE)
    }
}
