import ArgumentParser
import Logging
import Media

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Show FFmpeg's own messages and the stages' info lines (on standard error).")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Print only the result, warnings and errors: no plan, progress or notes.")
    var quiet = false

    func validate() throws {
        if verbose && quiet { throw ValidationError("--verbose and --quiet cannot go together") }
    }

    /// Applies the options: FFmpeg stays quiet unless asked; --quiet leaves out notes and progress.
    func apply() {
        Terminal.quiet.store(quiet, ordering: .relaxed)
        guard verbose else { return }
        var logger = Logger(label: "seedpipe.ffmpeg") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .debug
        MediaLogging.route(to: logger)
    }
}
