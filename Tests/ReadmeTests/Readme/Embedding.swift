import Foundation

// The README's embedding example, compiled here and run against the emulator by
// ReadmeExampleTests (which also checks the README shows exactly this code).
// README: begin
import Pipeline
import SeedanceAPI
import Stages

/// A teaser: one generated shot and its poster, cached in `cache`, paid for once.
func teaser(cache: URL, client: SeedanceClient = SeedanceClient()) async throws -> RunReport {
    let registry = BuiltinStages.registry()             // register stages of your own here too
    let graph = try PipelineGraph("teaser", registry: registry) {
        Var("product", "a red kettle")
        Use("shot", "seedance.generate", ["prompt": "A slow orbit around ${vars.product}", "duration": 4])
        Use("poster", "thumbnail", ["video": "${shot.video}", "at": 2])
        Output("poster", "${poster.image}")
    }
    let pipeline = try PipelineValidator.validate(graph, registry: registry)
    let storage = try Storage.local(at: cache)          // or stores of your own (ArtifactStore, ActionCache, ActionJournal)
    let plan = await Planner.plan(pipeline, storage: storage)
    print("this run pays for \(plan.cost)")             // before anything is spent
    var services = Services()
    services.set(SeedanceService(client: client))       // what seedance.* stages call
    return try await Executor(pipeline: pipeline, storage: storage, services: services,
                              options: ExecutionOptions(poolLimits: [.seedance: 4])).run()
}
// README: end
