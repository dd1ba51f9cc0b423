import ArgumentParser
import Foundation
import Pipeline

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

            Example:
              seedpipe plan pipelines/waterfall-journey.yaml --var place="a glacier"
            """
    )

    @OptionGroup var options: PipelineOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var backend: BackendOptions

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let storage = try options.storage()
        let pipeline = try await options.loadPriced(storage, backend: await backend.kind())
        try options.claimName(pipeline.graph.name, record: false)
        let plan = await Planner.plan(pipeline, storage: storage)
        if json {
            struct Output: Encodable {
                var steps: [Plan.Step]; var generations: Int; var seconds: Int; var money: Double?; var emulated: Bool
            }
            return try Terminal.json(Output(steps: plan.steps, generations: plan.generations, seconds: plan.secondsToPay,
                                            money: plan.generations > 0 ? plan.cost.money : 0, emulated: plan.cost.emulated))
        }
        let width = max(8, plan.steps.map(\.stage.count).max() ?? 8)
        for step in plan.steps {
            let name = step.stage.padding(toLength: width, withPad: " ", startingAt: 0)
            let status = step.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            let take = step.take.map { "  \($0.shot): \($0.summary)" } ?? ""
            print("  \(name)  \(status) \(step.kind)\(take)\(step.reason.map { "  (\($0))" } ?? "")")
        }
        print(Self.summary(plan))
    }

    /// "plan: 3 cached, 2 to run; 1 generation to pay for (5 s of video)", and for shots
    /// with several takes a line saying which take each uses and how many takes the run adds.
    static func summary(_ plan: Plan) -> String {
        let cached = plan.steps.filter { $0.status == .cached }.count
        let toRun = plan.steps.count - cached
        var text = "plan: \(cached) cached, \(toRun) to run; \(plural(plan.generations, "generation")) "
        if plan.cost.emulated {
            // An emulator's work: what it bills is its own credits, not money.
            text += "to emulate (\(plan.secondsToPay) s of video"
                + ((plan.cost.money ?? 0) > 0 ? String(format: ", $%.2f of emulator credits", plan.cost.money!) : "") + ", nothing paid)"
        } else {
            text += "to pay for (\(plan.secondsToPay) s of video"
            if plan.generations > 0 {
                text += plan.cost.money.map { String(format: ", about $%.2f", $0) } ?? ", price unknown: give --price-per-second"
            }
            text += ")"
        }
        let picked = plan.steps.compactMap(\.take).filter(\.picked)
        if !picked.isEmpty {
            let added = plan.steps.filter { $0.take != nil && $0.status == .generate }.count
            text += "\ntakes: " + picked.map { "\($0.shot): \($0.summary)" }.joined(separator: ", ")
                + "; this run adds \(added == 1 ? "1 take" : "\(added) takes")"
        }
        return text
    }
}
