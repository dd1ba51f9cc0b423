/// The one error type of the Media module.
///
/// Every failure names the file it concerns and, when FFmpeg refused, the failing
/// function and FFmpeg's own reason (its AVERROR text), so a message reads like
/// `clip.mp4: cannot open as media: avformat_open_input: Invalid data found when processing input`.
public struct MediaError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; stable across releases, so callers can switch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case fileNotFound, emptyFile, notMedia, notAVideo, noVideoStream, noAudioStream
            case timeOutOfRange, invalidArgument, outputNotWritable, decodingFailed
            case encodingFailed, incompatibleClips, ffmpeg, librariesUnavailable
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The input path does not exist.
        public static let fileNotFound = Code(.fileNotFound)
        /// The input exists but holds no bytes.
        public static let emptyFile = Code(.emptyFile)
        /// FFmpeg could not recognise or open the input as media (random bytes, a cut-off file).
        public static let notMedia = Code(.notMedia)
        /// The input is media but not a video (a still image, an audio-only file).
        public static let notAVideo = Code(.notAVideo)
        /// The container has no video stream.
        public static let noVideoStream = Code(.noVideoStream)
        /// The container has no audio stream.
        public static let noAudioStream = Code(.noAudioStream)
        /// A time outside the file's duration.
        public static let timeOutOfRange = Code(.timeOutOfRange)
        /// A parameter with a value the operation cannot use.
        public static let invalidArgument = Code(.invalidArgument)
        /// The output cannot be written (missing folder, permissions).
        public static let outputNotWritable = Code(.outputNotWritable)
        /// The input's data could not be decoded.
        public static let decodingFailed = Code(.decodingFailed)
        /// Encoding or muxing the output failed.
        public static let encodingFailed = Code(.encodingFailed)
        /// Clips that cannot be joined as asked (for example stream copy of different formats).
        public static let incompatibleClips = Code(.incompatibleClips)
        /// Any other FFmpeg failure.
        public static let ffmpeg = Code(.ffmpeg)
        /// FFmpeg's shared libraries cannot be loaded (not installed, or another major version):
        /// the message names the library and the loader's reason. The host process carries on.
        public static let librariesUnavailable = Code(.librariesUnavailable)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// What went wrong, in words a person can act on.
    public var message: String
    /// The file the failure concerns, when there is one.
    public var path: String?
    /// The FFmpeg function that failed, when the failure came from FFmpeg.
    public var function: String?
    /// FFmpeg's AVERROR value, when the failure came from FFmpeg.
    public var averror: Int32?
    /// FFmpeg's text for `averror`.
    public var reason: String?
    /// The error underneath, when there is one.
    public var underlying: (any Error & Sendable)?

    public init(
        _ code: Code, _ message: String, path: String? = nil, function: String? = nil,
        averror: Int32? = nil, reason: String? = nil, underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.function = function
        self.averror = averror
        self.reason = reason
        self.underlying = underlying
    }

    /// One line: `path: message: function: reason`.
    public var description: String {
        var line = ""
        if let path { line += "\(path): " }
        line += message
        if let function { line += ": \(function)" }
        if let reason { line += function == nil ? ": \(reason)" : ": \(reason)" }
        if function == nil, reason == nil, let underlying { line += ": \(underlying)" }
        return line
    }
}
