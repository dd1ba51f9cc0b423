import ArgumentParser
import Foundation
import Pipeline
import Stages

/// How a command that generates runs: pool sizes and the event format (`run`, `reroll`).
struct RunFlags: ParsableArguments {
    @Option(help: "Generations at once (the seedance pool).")
    var jobs = 4

    @Option(help: "Local stages at once (the cpu pool; default: the core count).")
    var cpuJobs: Int?

    @Flag(help: "Write one JSON event per line on standard output.")
    var json = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be 1 or more") }
        guard (cpuJobs ?? 1) >= 1 else { throw ValidationError("--cpu-jobs must be 1 or more") }
    }

    func execution(keepGoing: Bool) -> ExecutionOptions {
        ExecutionOptions(poolLimits: [.seedance: jobs, .cpu: cpuJobs ?? ProcessInfo.processInfo.activeProcessorCount], keepGoing: keepGoing)
    }
}
