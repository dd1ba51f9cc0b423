import Foundation
import Pipeline
import Stages

/// Everything a finished run tells a person: written as run.json and report.html.
struct RunSummary: Encodable {
    struct Stage: Encodable {
        var stage: String
        var kind: String
        var key: String?
        var cached: Bool
        var skipped: Bool
        /// Seconds after the run started.
        var offset: Double?
        var seconds: Double
        var error: String?
        /// The Seedance request behind a generation, from the journal.
        var requestID: String?
        var paid: Bool
        /// Made by an emulator: counted, not paid.
        var emulated: Bool = false
        /// What the generation was billed, USD (the service's own figure), when known.
        var cost: Double?
        var outputs: [String: Value]
    }

    var pipeline: String
    var started: Date
    var seconds: Double
    var stages: [Stage]
    var outputs: [String: Value]
    /// Output name → files written beside run.json.
    var files: [String: [String]]
    var failures: [String: String]
    /// Generations paid for in this run, and their seconds of video.
    var generationsPaid: Int
    var secondsPaid: Int
    /// USD paid in this run, when every generation's cost is known.
    var moneyPaid: Double?
    /// Generations an emulator made in place of paid ones (nothing paid), their seconds and
    /// what the emulator billed in its own credits.
    var generationsEmulated: Int
    var secondsEmulated: Int
    var moneyEmulated: Double?
    /// The account's balance after the run's last generation, when the service said.
    var remainingCredits: Double?
    var cacheHits: Int
    /// Every shot's takes (seed, request id, digest, picked; posters beside run.json).
    var shots: [ShotTakes.Shot]

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
    var seams: [[String: Value]] {
        stages.compactMap { $0.outputs["report"]?.object?["seams"]?.list }.flatMap { $0.compactMap(\.object) }
    }

    /// Colour drift reports (from `color-match` stages and `concat` with `color_match`): each clip's ΔE before and after.
    var drift: [(stage: String, clips: [[String: Value]])] {
        stages.compactMap { stage in
            stage.outputs["drift"]?.object?["clips"]?.list.map { (stage.stage, $0.compactMap(\.object)) }
        }
    }

    var audioReports: [(stage: String, report: [String: Value])] {
        stages.filter { $0.kind == "audio-check" }.compactMap { stage in stage.outputs["report"]?.object.map { (stage.stage, $0) } }
    }
}
