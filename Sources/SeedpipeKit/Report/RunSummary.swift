import Foundation
import Pipeline
import Stages

/// Everything a finished run tells a person: written as run.json and report.html.
public struct RunSummary: Encodable, Sendable {
    public struct Stage: Encodable, Sendable {
        public var stage: String
        public var kind: String
        public var key: String?
        public var cached: Bool
        public var skipped: Bool
        /// Seconds after the run started.
        public var offset: Double?
        public var seconds: Double
        public var error: String?
        /// The Seedance request behind a generation, from the journal.
        public var requestID: String?
        public var paid: Bool
        /// Made by an emulator: counted, not paid.
        public var emulated: Bool = false
        /// What the generation was billed, USD (the service's own figure), when known.
        public var cost: Double?
        public var outputs: [String: Value]
    }

    public var pipeline: String
    public var started: Date
    public var seconds: Double
    public var stages: [Stage]
    public var outputs: [String: Value]
    /// Output name → files written beside run.json.
    public var files: [String: [String]]
    public var failures: [String: String]
    /// Generations paid for in this run, and their seconds of video.
    public var generationsPaid: Int
    public var secondsPaid: Int
    /// USD paid in this run, when every generation's cost is known.
    public var moneyPaid: Double?
    /// Generations an emulator made in place of paid ones (nothing paid), their seconds and
    /// what the emulator billed in its own credits.
    public var generationsEmulated: Int
    public var secondsEmulated: Int
    public var moneyEmulated: Double?
    /// The account's balance after the run's last generation, when the service said.
    public var remainingCredits: Double?
    public var cacheHits: Int
    /// Every shot's takes (seed, request id, digest, picked; posters beside run.json).
    public var shots: [ShotTakes.Shot]
    /// A partial run (`--only`, `--until`): what it was asked for, the outputs it produced,
    /// and those it did not (their files in the out folder are left as they were).
    public var partial: Partial?

    public struct Partial: Encodable, Sendable {
        public var only: [String]
        public var until: String?
        public var produced: [String]
        public var notProduced: [String]
    }

    init(report: RunReport, pipeline: ValidatedPipeline, journal: any ActionJournal, started: Date,
         files: [String: [String]], shots: [ShotTakes.Shot] = []) async {
        self.shots = shots
        self.pipeline = pipeline.graph.name
        self.started = started
        seconds = Date().timeIntervalSince(started)
        var stages: [Stage] = []
        var latest: GenerationEntry?
        for step in pipeline.steps {
            guard let stage = report.stages[step.node.name] else { continue }
            var entry: GenerationEntry?
            if step.stage.kind == GenerateStage.kind, let key = stage.key { entry = await GenerationEntry.find(key, in: journal) }
            if let entry, !stage.cached, entry.remainingCredits != nil, entry.updatedAt > latest?.updatedAt ?? .distantPast { latest = entry }
            stages.append(Stage(stage: stage.stage, kind: stage.kind, key: stage.key, cached: stage.cached, skipped: stage.skipped,
                                offset: stage.started.map { $0.timeIntervalSince(started) }, seconds: stage.seconds,
                                error: stage.error?.message, requestID: entry?.requestID, paid: stage.cost.isPaid,
                                emulated: stage.cost.emulated, cost: entry?.cost, outputs: stage.outputs))
        }
        self.stages = stages
        outputs = report.outputs
        self.files = files
        failures = report.failures.mapValues(\.message)
        let paid = report.paid, emulated = report.emulated
        generationsPaid = paid.generations
        secondsPaid = Int(paid.seconds.rounded())
        moneyPaid = paid.generations == 0 ? 0 : paid.money
        generationsEmulated = emulated.generations
        secondsEmulated = Int(emulated.seconds.rounded())
        moneyEmulated = emulated.generations == 0 ? 0 : emulated.money
        remainingCredits = latest?.remainingCredits
        cacheHits = report.stages.values.filter(\.cached).count
    }

    /// Seam reports (from `seams` stages) and audio reports (from `audio-check`) found in the stages' outputs.
    public var seams: [[String: Value]] {
        stages.compactMap { $0.outputs["report"]?.object?["seams"]?.list }.flatMap { $0.compactMap(\.object) }
    }

    /// Colour drift reports (from `color-match` stages and `concat` with `color_match`): each clip's ΔE before and after.
    public var drift: [(stage: String, clips: [[String: Value]])] {
        stages.compactMap { stage in
            stage.outputs["drift"]?.object?["clips"]?.list.map { (stage.stage, $0.compactMap(\.object)) }
        }
    }

    public var audioReports: [(stage: String, report: [String: Value])] {
        stages.filter { $0.kind == "audio-check" }.compactMap { stage in stage.outputs["report"]?.object.map { (stage.stage, $0) } }
    }
}
