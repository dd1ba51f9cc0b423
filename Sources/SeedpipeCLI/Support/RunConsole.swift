import ArgumentParser
import Foundation
import SeedpipeKit

/// A run on the command line: its events printed as they come, Ctrl-C turned into
/// cancellation (a second one ends the process at once).
enum RunConsole {
    static func run(_ run: PipelineRun, json: Bool, verbose: Bool) async -> Result<PipelineRun.Result, any Error> {
        let printer = Task { await EventPrinter(json: json, verbose: verbose).print(run.events) }
        let runTask = Task { try await run.run() }
        let interrupt = Task {
            if await SignalWaiter.waitForTermination() != nil { runTask.cancel() }
        }
        let result = await runTask.result
        interrupt.cancel()
        await printer.value
        return result
    }
}
