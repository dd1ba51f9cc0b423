internal import CFFmpeg
internal import CFFmpegLoader
import Foundation
import Logging
import Synchronization

/// Routes FFmpeg's own log through swift-log. Quiet unless an application asks for it.
public enum MediaLogging {
    private static let installed = Mutex<Logger?>(nil)

    /// Sends FFmpeg's messages to `logger`, at the logger's level and above.
    /// Pass nil to silence FFmpeg again (the default).
    public static func route(to logger: Logger?) {
        guard (try? FFmpegRuntime.ensure()) != nil else { return }  // no libraries, nothing to route
        installed.withLock { $0 = logger }
        guard let logger else {
            av_log_set_level(AV_LOG_QUIET)
            return
        }
        av_log_set_level(ffmpegLevel(for: logger.logLevel))
        av_log_set_callback { avcl, level, format, arguments in
            guard level <= av_log_get_level(), let format, let arguments else { return }
            var line = [CChar](repeating: 0, count: 1024)
            var printPrefix: Int32 = 1
            _ = cff_format_log_line(avcl, level, format, arguments, &line, Int32(line.count), &printPrefix)
            let text = string(fromBuffer: line).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return }
            MediaLogging.emit(text, ffmpegLevel: level)
        }
    }

    fileprivate static func emit(_ text: String, ffmpegLevel level: Int32) {
        guard let logger = installed.withLock({ $0 }) else { return }
        let swiftLevel: Logger.Level
        switch level {
        case ...AV_LOG_ERROR: swiftLevel = .error
        case ...AV_LOG_WARNING: swiftLevel = .warning
        case ...AV_LOG_INFO: swiftLevel = .info
        case ...AV_LOG_VERBOSE: swiftLevel = .debug
        default: swiftLevel = .trace
        }
        logger.log(level: swiftLevel, "\(text)", metadata: ["source": "libav"])
    }

    private static func ffmpegLevel(for level: Logger.Level) -> Int32 {
        switch level {
        case .trace: AV_LOG_DEBUG
        case .debug: AV_LOG_VERBOSE
        case .info, .notice: AV_LOG_INFO
        case .warning: AV_LOG_WARNING
        case .error, .critical: AV_LOG_ERROR
        }
    }
}

/// One-time process set-up: FFmpeg's libraries loaded (an error, not an exit, when they
/// cannot be), and FFmpeg printing nothing on its own. Every Media entry point calls it first.
enum FFmpegRuntime {
    private static let loaded: String? = {
        guard cff_load_ffmpeg() == 0 else { return String(cString: cff_load_error()) }
        av_log_set_level(AV_LOG_QUIET)
        return nil
    }()

    static func ensure() throws {
        if let reason = loaded {
            throw MediaError(.librariesUnavailable,
                             "FFmpeg's libraries cannot be loaded (Debian: apt-get install libavformat59 libavcodec59 libswscale6 libswresample4)",
                             reason: reason)
        }
    }
}
