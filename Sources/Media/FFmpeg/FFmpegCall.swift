internal import CFFmpeg

/// FFmpeg's text for an AVERROR value ("Invalid data found when processing input").
func averrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(cff_error_buffer_size()))
    if av_strerror(code, &buffer, buffer.count) < 0 {
        return "error \(code)"
    }
    return string(fromBuffer: buffer)
}

/// The text of a NUL-terminated C buffer.
func string(fromBuffer buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

let averrorEOF = cff_averror_eof()
let averrorEAGAIN = cff_averror_eagain()

/// Every C call that returns an FFmpeg status goes through here: a negative value becomes
/// a `MediaError` carrying the function's name and FFmpeg's reason.
@discardableResult
func check(
    _ result: Int32, _ function: String, path: String?, code: MediaError.Code = .ffmpeg,
    _ message: @autoclosure () -> String
) throws -> Int32 {
    guard result < 0 else { return result }
    throw MediaError(code, message(), path: path, function: function, averror: result, reason: averrorText(result))
}

/// The outcome of pulling from a codec: EAGAIN and EOF are results, not errors.
enum CodecPull: Equatable {
    case ready
    case needsInput
    case finished
}

/// Classifies the status of `avcodec_receive_frame` / `avcodec_receive_packet`.
func pullResult(
    _ result: Int32, _ function: String, path: String?, code: MediaError.Code, _ message: @autoclosure () -> String
) throws -> CodecPull {
    if result >= 0 { return .ready }
    if result == averrorEAGAIN { return .needsInput }
    if result == averrorEOF { return .finished }
    try check(result, function, path: path, code: code, message())
    return .finished
}

/// A C string from FFmpeg, or nil.
func string(_ pointer: UnsafePointer<CChar>?) -> String? {
    pointer.map { String(cString: $0) }
}

extension AVRational {
    var seconds: Double { den == 0 ? 0 : Double(num) / Double(den) }
    var isValid: Bool { num != 0 && den != 0 }
}

let noPTS = cff_nopts_value()

/// A four-character code as FFmpeg's `codec_tag` holds it (`avc3`, `hvc1`): FFmpeg's `MKTAG`.
func fourCC(_ text: String) -> UInt32 {
    text.utf8.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
}
