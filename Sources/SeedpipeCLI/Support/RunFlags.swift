import ArgumentParser
import Foundation
import SeedpipeKit

/// How a command that generates runs: pool sizes and the event format (`run`, `reroll`, `studio`).
struct RunFlags: ParsableArguments {
    @Option(help: "Generations at once (the seedance pool).")
    var jobs = 4

    @Option(help: "Local stages at once (the cpu pool; default: the core count).")
    var cpuJobs: Int?

    @Flag(help: "Write one JSON event per line on standard output (the events of docs/EVENTS.md).")
    var json = false

    @Option(help: ArgumentHelp("After a submit whose outcome is unknown (a 5xx, a lost connection), how long request history is watched for it before it is sent again (longer: safer against paying twice; shorter: recovers sooner).",
                               valueName: "SECONDS"))
    var historyGrace: Double = 30

    @Option(help: ArgumentHelp("The team's journal of paid generations (or $SEEDPIPE_SHARED_JOURNAL), a PostgreSQL URL: each clip is claimed there before it is paid for, so machines sharing it submit it once between them.",
                               valueName: "postgres://USER@HOST:PORT/DB"))
    var sharedJournal: String?

    @Flag(help: "When the team's journal cannot be reached, submit anyway with this machine's journal alone (another machine may pay for the same clip). Without it such a run refuses to pay (exit 3); cached work still runs.")
    var allowLocalJournal = false

    func validate() throws {
        guard historyGrace >= 0 else { throw ValidationError("--history-grace must be 0 or more seconds") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be 1 or more") }
        guard (cpuJobs ?? 1) >= 1 else { throw ValidationError("--cpu-jobs must be 1 or more") }
        do { _ = try SharedJournal.from(sharedJournal) } catch { throw ValidationError("\(error)") }
    }

    /// A run's options from these flags and the backend's.
    func options(backend: BackendOptions, keepGoing: Bool = false) -> PipelineRun.Options {
        var options = PipelineRun.Options(jobs: jobs, cpuJobs: cpuJobs, keepGoing: keepGoing)
        options.historyGrace = .milliseconds(Int64(historyGrace * 1000))
        options.sharedJournal = try? SharedJournal.from(sharedJournal)  // checked in validate()
        options.allowLocalJournal = allowLocalJournal
        backend.apply(to: &options)
        return options
    }
}
