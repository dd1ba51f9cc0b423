import ArgumentParser
import Logging
import Media

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Show FFmpeg's own messages and the stages' info lines (on standard error).")
    var verbose = false

    /// Applies the options: FFmpeg stays quiet unless asked.
    func apply() {
        guard verbose else { return }
        var logger = Logger(label: "seedpipe.ffmpeg") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .debug
        MediaLogging.route(to: logger)
    }
}
