import ArgumentParser
import Foundation
import Media
import Pipeline
import SeedanceAPI

/// Runs the command line and maps every outcome to an exit status:
/// 0 success, 1 a check failed, 2 bad usage or bad input. Nothing escapes as a crash.
public enum SeedpipeCLI {
    public static func main() async -> Never {
        let status = await run(Array(CommandLine.arguments.dropFirst()))
        exit(status)
    }

    public static func run(_ arguments: [String]) async -> Int32 {
        do {
            var command = try Seedpipe.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return ExitStatus.success
        } catch let failure as CheckFailure {
            Terminal.error("check failed: \(failure.message)")
            return ExitStatus.checkFailed
        } catch let error as SeedanceError {
            switch error.code {
            case .invalidRequest:
                Terminal.error("error: \(error)")
                return ExitStatus.badInput
            case .inferenceFailed:
                Terminal.error("generation failed: \(error)")
                return ExitStatus.checkFailed
            default:
                Terminal.error("error: \(error)")
                return ExitStatus.serviceFailed
            }
        } catch let error as PipelineError {
            Terminal.error(error.description)
            return ExitStatus.badInput
        } catch let failure as StageFailure {
            Terminal.error("error: \(failure)")
            return ExitStatus.checkFailed
        } catch let error as MediaError {
            Terminal.error("error: \(error)")
            return ExitStatus.badInput
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

enum ExitStatus {
    static let success: Int32 = 0
    static let checkFailed: Int32 = 1
    static let badInput: Int32 = 2
    static let serviceFailed: Int32 = 3
}

/// A check that ran and found a problem (exit status 1).
struct CheckFailure: Error {
    var message: String
}
