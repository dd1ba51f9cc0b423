import Foundation
import Pipeline
import Stages

/// What a run in one of a pipeline's profiles makes and costs, beside what exploring takes in
/// the default profile has cost so far: `plan --profile final` says it before anything is paid.
public struct ProfileEstimate: Sendable, Encodable {
    /// The profile planned.
    public var profile: String
    /// The profile takes are explored in.
    public var explored: String
    /// Generations the run would make (not cached), at which resolutions.
    public var generations: Int
    public var resolutions: [String]
    public var seconds: Int
    /// USD, when the price is known.
    public var money: Double?
    /// An emulator's credits rather than money.
    public var emulated: Bool
    /// What the generations made in the default profile were billed so far, every take
    /// (nil: nothing known).
    public var exploredSpent: Double?

    enum CodingKeys: String, CodingKey {
        case profile, explored, generations, resolutions, seconds, money, emulated
        case exploredSpent = "explored_spent"
    }

    /// The estimate of `plan` (of `pipeline`, in one of its profiles), or nil for a pipeline
    /// without profiles.
    public static func of(_ plan: Plan, pipeline: ValidatedPipeline, storage: Storage, emulated: Bool) async -> ProfileEstimate? {
        guard let choice = pipeline.graph.profiles else { return nil }
        var resolutions: [String] = []
        let generating = Set(plan.steps.filter { $0.status == .generate }.map(\.stage))
        // A step's `with:` holds its parameters' defaults too.
        for step in pipeline.steps where generating.contains(step.node.name) {
            if case .literal(.string(let resolution))? = step.with["resolution"], !resolutions.contains(resolution) {
                resolutions.append(resolution)
            }
        }
        // Every take made in the default profile, picked or not, in the graph or not any more.
        let entries = ((try? await GenerationEntry.all(in: storage.journal)) ?? []).filter {
            $0.pipeline == pipeline.graph.name && $0.profile == choice.defaultName && $0.state == .downloaded
        }
        let costs = entries.compactMap(\.cost)
        let spent: Double? = costs.isEmpty ? nil : costs.reduce(0, +)
        return ProfileEstimate(profile: choice.selected, explored: choice.defaultName, generations: plan.generations,
                               resolutions: resolutions, seconds: plan.secondsToPay,
                               money: plan.generations > 0 ? plan.cost.money : 0, emulated: emulated, exploredSpent: spent)
    }

    /// "final: 3 generations at 1080p, 12 s of video, about $1.20; draft spent so far $0.48".
    public var text: String {
        func amount(_ value: Double) -> String { String(format: "$%.2f", value) + (emulated ? " of emulator credits" : "") }
        var text = "\(profile): \(plural(generations, "generation"))"
        if generations > 0 {
            if !resolutions.isEmpty { text += " at \(resolutions.joined(separator: ", "))" }
            text += ", \(seconds) s of video"
            text += money.map { ", " + (emulated ? "" : "about ") + amount($0) } ?? ", price unknown"
        } else {
            text += " (all made)"
        }
        if profile != explored {
            text += "; \(explored) spent so far " + (exploredSpent.map(amount) ?? "nothing known")
        }
        return text
    }
}

extension TakeActions {
    /// Finishing a take, worked out: ``run(options:)`` picks the take (if it is not picked
    /// already) and makes the shot in the finishing profile, with what it needs there.
    public struct Finish: Sendable {
        public var shot: String
        public var take: Int
        public var profile: String
        /// The pick it writes first (nil: the take is picked already).
        public var pick: Pick?
        /// What finishing makes and costs: the shot and what it needs, in `profile`.
        public var plan: Plan
        public var estimate: ProfileEstimate?
        let project: PipelineProject

        /// "finish shots-2 take 2 in final: final: 2 generations at 1080p, 8 s of video, …".
        public var summary: String {
            "finish \(shot) take \(take) in \(profile)" + (pick == nil ? "" : " (picking it)") + ": "
                + (estimate?.text ?? plan.summary)
        }

        /// Writes the pick, then the run that makes the finished shot (delivering to the
        /// profile's out folder unless `options.out` says otherwise).
        public func run(options: PipelineRun.Options) async throws -> PipelineRun {
            try pick?.write()
            var options = options
            options.selection = StageSelection(only: [shot])
            return try await PipelineRun(project: project, options: options)
        }
    }

    /// Works out finishing take `take` of shot `stage` in `profile` (a profile other than the
    /// one takes are explored in): one generation of the shot with that take's seed at the
    /// profile's settings, and the finished shots it starts from (a chain's finals chain from
    /// finals).
    public static func finish(_ stage: String, take: Int, profile: String, project: PipelineProject, storage: Storage,
                              backend: Backend.Kind = .service) async throws -> Finish {
        var target = project
        target.profile = profile
        let registry = BuiltinStages.registry(prices: try await project.prices(storage, backend: backend))
        let probe = try target.load(registry: registry)
        guard let choice = probe.graph.profiles else {
            throw RunError(.invalidRequest, "\(project.name) has no profiles: a take is finished in a profile such as `final`")
        }
        guard choice.finishing else {
            throw RunError(.invalidRequest, "takes are explored in `\(choice.defaultName)`: finish a take in another profile ("
                           + choice.names.filter { $0 != choice.defaultName }.joined(separator: ", ") + ")")
        }
        let chosen = try await pick(stage, take: take, project: target, storage: storage, backend: backend)
        let picks = chosen.was == take ? nil : chosen
        let pipeline = try target.load(registry: registry, picks: chosen.picks).selecting(StageSelection(only: [chosen.shot]))
        let plan = await Planner.plan(pipeline, storage: storage)
        return Finish(shot: chosen.shot, take: take, profile: profile, pick: picks, plan: plan,
                      estimate: await ProfileEstimate.of(plan, pipeline: pipeline, storage: storage, emulated: backend.emulated),
                      project: target)
    }
}

extension ShotTakes {
    /// Each shot's finished version in `pipeline` (built in a finishing profile): the one
    /// take it makes there, by shot name, as far as the cache and journal know it.
    public static func finished(_ pipeline: ValidatedPipeline, storage: Storage, posters: URL?) async -> [String: Take] {
        guard pipeline.graph.profiles?.finishing == true else { return [:] }
        let read = await read(pipeline, picks: Picks(), storage: storage, posters: posters)
        var finished: [String: Take] = [:]
        for shot in read.shots {
            guard var take = shot.takes.first else { continue }
            take.picked = true
            finished[shot.shot] = take
        }
        return finished
    }

    /// With each shot's finished version in `profile` (see ``finished(_:storage:posters:)``).
    public mutating func attach(finished: [String: Take], profile: String) {
        for index in shots.indices {
            shots[index].finished = finished[shots[index].shot]
            shots[index].finishedProfile = finished[shots[index].shot] == nil ? nil : profile
        }
    }
}
