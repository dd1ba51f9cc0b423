import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit
import Stages

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Say what a run would do and what it would cost, without running anything.",
        discussion: """
            Each stage is cached, to run, or to generate (paid, or emulated on an emulator);
            a stage that misses the cache says which parameter or input changed since its
            last run. Priced as --backend bills (an emulator at its own price, never mixed
            with the service's). No network, except asking a --backend URL whether it is
            seedpipe's emulator.

            --only and --until show exactly what a partial run would make and pay for.
            In a pipeline with profiles, a last line says what the profile's run makes
            (generations at which resolutions, seconds, money) and what exploring takes
            in the default profile has cost so far.

            Examples:
              seedpipe plan pipelines/waterfall-journey.yaml --var place="a glacier"
              seedpipe plan pipelines/waterfall-journey.yaml --only shots
              seedpipe plan pipelines/storyboard.yaml --profile final
            """
    )

    @OptionGroup var options: PipelineOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var backend: BackendOptions
    @OptionGroup var selection: SelectionOptions

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let project = options.project
        let storage = try project.storage()
        let kind = await backend.kind()
        let registry = BuiltinStages.registry(prices: try await project.prices(storage, backend: kind))
        let pipeline = try project.load(registry: registry).selecting(selection.selection)
        try project.claimName(pipeline.graph.name, record: false)
        let plan = await Planner.plan(pipeline, storage: storage)
        let estimate = await ProfileEstimate.of(plan, pipeline: pipeline, storage: storage, emulated: kind.emulated)
        if json {
            struct Output: Encodable {
                var steps: [Plan.Step]; var generations: Int; var seconds: Int; var money: Double?; var emulated: Bool
                var profile: ProfileEstimate?
            }
            return try Terminal.json(Output(steps: plan.steps, generations: plan.generations, seconds: plan.secondsToPay,
                                            money: plan.generations > 0 ? plan.cost.money : 0, emulated: plan.cost.emulated,
                                            profile: estimate))
        }
        let width = max(8, plan.steps.map(\.stage.count).max() ?? 8)
        for step in plan.steps {
            let name = step.stage.padding(toLength: width, withPad: " ", startingAt: 0)
            let status = step.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            let take = step.take.map { "  \($0.shot): \($0.summary)" } ?? ""
            print("  \(name)  \(status) \(step.kind)\(take)\(step.reason.map { "  (\($0))" } ?? "")")
        }
        print(plan.summary)
        if let estimate { print(estimate.text) }
    }
}
