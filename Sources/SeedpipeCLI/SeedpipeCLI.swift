import ArgumentParser
import Foundation
import Media
import Pipeline
import SeedanceAPI
import SeedpipeKit
import Stages

/// Runs the command line and maps every outcome to an exit status: 0 success, 1 a check or
/// a generation failed, 2 bad usage or bad input, 3 the service or the network failed, 130
/// interrupted. Nothing escapes as a crash.
public enum SeedpipeCLI {
    public static func main() async -> Never {
        let status = await run(Array(CommandLine.arguments.dropFirst()))
        exit(status)
    }

    public static func run(_ arguments: [String]) async -> Int32 {
        do {
            var command = try parse(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return ExitStatus.success
        } catch let error as ExitCode {
            return error.rawValue
        } catch where ExitStatus.status(of: error) != nil {
            let status = ExitStatus.status(of: error)!
            Terminal.error(ExitStatus.line(for: error, status: status))
            return status
        } catch {
            let code = Seedpipe.exitCode(for: error)
            let message = Seedpipe.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                return ExitStatus.success
            }
            guard code == .validationFailure else {
                Terminal.error(message)
                return code.rawValue
            }
            // One line, like every other error; the usage is one --help away.
            Terminal.error("error: \(Seedpipe.message(for: error)) (see 'seedpipe help')")
            return ExitStatus.badInput
        }
    }
}

extension SeedpipeCLI {
    /// The command the arguments name. A leaf command (`run`, `plan`, …) given without any
    /// help, version or completion request is parsed on its own, skipping the reflection over
    /// every other command's arguments that parsing from the root costs (milliseconds of a
    /// cached rerun); anything else, and any argument error, goes through the root as usual,
    /// so help and error messages stay the root's.
    static func parse(_ arguments: [String]) throws -> any ParsableCommand {
        let asks: Set<String> = ["-h", "--help", "help", "--version", "--experimental-dump-help"]
        if let name = arguments.first,
           let leaf = Seedpipe.configuration.subcommands.first(where: { $0.configuration.commandName == name }),
           leaf.configuration.subcommands.isEmpty,
           !arguments.contains(where: { asks.contains($0) || $0.hasPrefix("--generate-completion-script") }),
           let command = try? leaf.parse(Array(arguments.dropFirst())) {
            return command
        }
        return try Seedpipe.parseAsRoot(arguments)
    }
}

/// The CLI exits as a library run reports (``SeedpipeKit/ExitStatus``), and a check of its
/// own that found a problem (``CheckFailure``) is 1.
extension ExitStatus {
    static func status(of error: any Error) -> Int32? {
        error is CheckFailure ? checkFailed : of(error)
    }

    /// The one line printed for an error with this status.
    static func line(for error: any Error, status: Int32) -> String {
        switch error {
        case let error as PipelineError where error.code == .invalidPipeline: return error.description
        case let failure as CheckFailure: return "check failed: \(failure.message)"
        case let error as SeedanceError where error.code == .inferenceFailed: return "generation failed: \(error)"
        default: return (status == checkFailed && error is StageError ? "failed: " : "error: ") + "\(error)"
        }
    }
}

/// A check that ran and found a problem (exit status 1).
struct CheckFailure: Error {
    var message: String
}
