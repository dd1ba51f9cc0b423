import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit
import Stages

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline file and report every problem with its file:line:column.",
        discussion: """
            Nothing runs and nothing is sent. Macro stages are expanded first, so every
            generation is checked against the API's rules (a duration of 7 is caught here).

            A pipeline with profiles is checked in every profile, unless --profile
            names one.

            Example:
              seedpipe validate pipelines/waterfall-journey.yaml
            """
    )

    @OptionGroup var options: PipelineOptions

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        // Without --profile, every profile is checked (a final's 4k is caught before a draft is made).
        let project = options.project
        let registry = BuiltinStages.registry()
        let loaded = options.profile == nil ? try project.loadEveryProfile(registry: registry) : [(options.profile!, try project.load(registry: registry))]
        for (profile, pipeline) in loaded {
            let generations = pipeline.steps.filter { $0.stage.signature.pool == .seedance }.count
            print("\(options.pipeline)\(profile.isEmpty ? "" : " (\(profile))"): ok (\(plural(pipeline.steps.count, "stage")), \(plural(generations, "generation")))")
        }
    }
}
