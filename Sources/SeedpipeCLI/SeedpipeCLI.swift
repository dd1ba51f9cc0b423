import ArgumentParser
import Foundation
import Media
import Pipeline
import SeedanceAPI
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
        } catch where ExitStatus.of(error) != nil {
            let status = ExitStatus.of(error)!
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

enum ExitStatus {
    static let success: Int32 = 0
    static let checkFailed: Int32 = 1
    static let badInput: Int32 = 2
    static let serviceFailed: Int32 = 3
    static let interrupted: Int32 = 130

    /// The status for one of seedpipe's own errors, decided by its cause: a stage's failure
    /// by the error the stage threw (a service that could not be reached is 3 in `run` as in
    /// `generate`). Nil for errors the argument parser handles.
    static func of(_ error: any Error) -> Int32? {
        switch error {
        case let error as PipelineError:
            switch error.code {
            case .invalidPipeline: return badInput
            case .interrupted: return interrupted
            case .missingService: return serviceFailed
            case .stageFailed: return error.underlying.flatMap(of) ?? checkFailed
            default: return checkFailed
            }
        case let error as StageError:
            if let underlying = error.underlying, let status = of(underlying), error.code != .checkFailed { return status }
            return error.code == .generationUnresolved ? serviceFailed : checkFailed
        case let error as SeedanceError:
            switch error.code {
            case .invalidRequest: return badInput
            case .inferenceFailed: return checkFailed
            default: return serviceFailed
            }
        case is MediaError: return badInput
        case is CheckFailure: return checkFailed
        case is CancellationError: return interrupted
        default: return nil
        }
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
