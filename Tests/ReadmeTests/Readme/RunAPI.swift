import Foundation

// The README's run API example, compiled here and run offline by ReadmeExampleTests (which
// also checks the README shows exactly this code).
// README: begin
import SeedpipeKit

/// Runs a pipeline file as `seedpipe run` does (its plugins, picks, prices and cache), on the
/// built-in emulator, printing what it will cost and each stage as it is made.
func render(_ file: URL, out: URL) async throws -> PipelineRun.Result {
    let project = PipelineProject(file: file)           // cache: .seedpipe/ beside the file
    let run = try await PipelineRun(project: project,
                                    options: .init(out: out, backend: .emulator, maxGenerations: 6))
    print(run.plan.summary)                             // before anything is paid
    let progress = Task {
        for await event in run.events {                 // the events of `seedpipe run --json`
            if case .finished(let stage, _, let seconds) = event { print("made \(stage) in \(seconds) s") }
        }
    }
    let result = try await run.run()                    // cancel this task: as Ctrl-C
    await progress.value
    return result                                       // outputs, run.json, report.html in out/
}
// README: end
