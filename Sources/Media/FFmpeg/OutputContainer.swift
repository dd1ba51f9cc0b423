internal import CFFmpeg
import Foundation

/// An output file being written (AVFormatContext + AVIOContext).
///
/// Writes go to a temporary file beside the destination, renamed into place by `finish()`,
/// so a failed or interrupted write never leaves a half-made file under the real name.
final class OutputContainer {
    let context: UnsafeMutablePointer<AVFormatContext>
    let path: String
    private let finalPath: String
    private let temporaryPath: String
    private var headerWritten = false
    private var finished = false

    init(url: URL, format: String = "mp4") throws {
        try FFmpegRuntime.ensure()
        path = url.relativePath
        finalPath = url.path
        let folder = try writableFolder(of: url)
        temporaryPath = folder + "/." + url.lastPathComponent + ".\(getpid()).partial"
        var allocated: UnsafeMutablePointer<AVFormatContext>?
        // Named by the file it writes: the MP4 muxer's faststart pass reopens it by this name.
        let status = avformat_alloc_output_context2(&allocated, nil, format, temporaryPath)
        guard status >= 0, let allocated else {
            throw MediaError(.outputNotWritable, "cannot create a \(format) file", path: path,
                             function: "avformat_alloc_output_context2", averror: status, reason: averrorText(status))
        }
        context = allocated
    }

    deinit {
        if context.pointee.pb != nil {
            avio_closep(&context.pointee.pb)
        }
        avformat_free_context(context)
        if !finished { unlink(temporaryPath) }
    }

    var needsGlobalHeader: Bool { context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 }

    func addStream() -> UnsafeMutablePointer<AVStream> {
        guard let stream = avformat_new_stream(context, nil) else { fatalError("avformat_new_stream: out of memory") }
        return stream
    }

    /// Opens the temporary file and writes the container header. `faststart` asks the MP4
    /// muxer to move the index (`moov`) before the media when the file is finished.
    func writeHeader(faststart: Bool = false) throws {
        try check(avio_open(&context.pointee.pb, temporaryPath, AVIO_FLAG_WRITE), "avio_open", path: path,
                  code: .outputNotWritable, "cannot create the output file")
        var dictionary: OpaquePointer?
        if faststart { av_dict_set(&dictionary, "movflags", "+faststart", 0) }
        defer { av_dict_free(&dictionary) }
        try check(avformat_write_header(context, &dictionary), "avformat_write_header", path: path,
                  code: .encodingFailed, "cannot write the file header")
        headerWritten = true
    }

    /// Writes one packet, interleaving by timestamp; the packet is consumed.
    func write(_ packet: Packet) throws {
        try check(av_interleaved_write_frame(context, packet.pointer), "av_interleaved_write_frame", path: path,
                  code: .encodingFailed, "cannot write to the output")
    }

    /// Writes the trailer, syncs the bytes to disk and renames the file into place.
    func finish() throws {
        guard headerWritten else { throw MediaError(.encodingFailed, "nothing was written", path: path) }
        try check(av_write_trailer(context), "av_write_trailer", path: path, code: .encodingFailed,
                  "cannot finish the output")
        avio_flush(context.pointee.pb)
        avio_closep(&context.pointee.pb)
        let descriptor = open(temporaryPath, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        guard rename(temporaryPath, finalPath) == 0 else {
            let reason = String(cString: strerror(errno))
            throw MediaError(.outputNotWritable, "cannot move the finished file into place", path: path, reason: reason)
        }
        finished = true
    }
}

/// The folder `url` would be written into, checked to exist and be writable; its real path.
func writableFolder(of url: URL) throws -> String {
    let folder = url.deletingLastPathComponent()
    var isDirectory: ObjCBool = false
    let shown = folder.relativePath.isEmpty ? "." : folder.relativePath
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw MediaError(.outputNotWritable, "cannot write here: the folder \(shown) does not exist", path: url.relativePath)
    }
    guard FileManager.default.isWritableFile(atPath: folder.path) else {
        throw MediaError(.outputNotWritable, "cannot write here: the folder \(shown) is not writable", path: url.relativePath)
    }
    return folder.path
}
