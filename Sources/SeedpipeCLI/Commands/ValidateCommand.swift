import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline file and report every problem with its file:line:column.",
        discussion: """
            Nothing runs and nothing is sent. Macro stages are expanded first, so every
            generation is checked against the API's rules (a duration of 7 is caught here).

            Example:
              seedpipe validate pipelines/waterfall-journey.yaml
            """
    )

    @OptionGroup var options: PipelineOptions

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let pipeline = try options.load()
        let generations = pipeline.steps.filter { $0.stage.signature.pool == .seedance }.count
        print("\(options.pipeline): ok (\(plural(pipeline.steps.count, "stage")), \(plural(generations, "generation")))")
    }
}
