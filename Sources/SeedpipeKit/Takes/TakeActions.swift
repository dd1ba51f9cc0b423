import Foundation
import Media
import Pipeline
import Stages

/// Picking and re-rolling, for `pick`, `reroll`, the studio and embedders: each worked out
/// first (what it will make and what that costs), then done.
public enum TakeActions {
    /// A pick, worked out: ``write()`` makes it so.
    public struct Pick: Sendable {
        public var shot: String
        public var take: Int
        /// The take picked before.
        public var was: Int
        /// Whether the take is made (else the next run makes it).
        public var made: Bool
        public var picks: Picks
        public var consequences: Consequences
        let project: PipelineProject

        /// Writes the picks file beside the pipeline.
        public func write() throws {
            try picks.write(to: project.picksFile, pipelineFile: project.file.lastPathComponent)
        }
    }

    /// Works out picking take `take` of shot `stage`: what the next run then makes and costs.
    public static func pick(_ stage: String, take: Int, project: PipelineProject, storage: Storage, backend: Backend.Kind = .service)
        async throws -> Pick {
        let (all, picks) = try project.loadAllTakes()
        try project.claimName(all.graph.name, record: true)
        let takes = await ShotTakes.read(all, picks: picks, storage: storage, posters: nil)
        let shot = try project.shot(stage, in: takes)
        guard let chosen = shot.takes.first(where: { $0.take == take }) else {
            throw RunError(.invalidRequest, "\(shot.shot) has no take \(take): it has "
                           + "\(shot.takes.count == 1 ? "take 1" : "takes 1–\(shot.takes.count)") (seedpipe reroll makes more)")
        }
        // Prices come from the journal: read them once for both plans.
        let registry = BuiltinStages.registry(prices: try await project.prices(storage, backend: backend))
        let before = await Planner.plan(try project.load(registry: registry, picks: picks), storage: storage)
        var updated = picks
        var entry = picks.shots[shot.shot] ?? Picks.Pick(take: take)
        entry.take = take
        entry.digest = chosen.digest
        updated.shots[shot.shot] = entry
        let after = await Planner.plan(try project.load(registry: registry, picks: updated), storage: storage)
        return Pick(shot: shot.shot, take: take, was: shot.picked, made: chosen.digest != nil, picks: updated,
                    consequences: Consequences(before: before, after: after), project: project)
    }

    /// A re-roll, worked out: ``run(options:)`` makes the new takes, then ``finish(_:)``
    /// records them.
    public struct Reroll: Sendable {
        public var shot: ShotTakes.Shot
        public var newTakes: [Int]
        public var firstSeed: Int
        /// The take the shots after this one keep (with keep-after).
        public var anchor: Int?
        public var picks: Picks
        /// The new takes and what they need, nothing else.
        public var only: ValidatedPipeline
        public var plan: Plan
        public var consequences: Consequences
        /// Something to tell before it runs (keep-after that changes nothing).
        public var note: String?
        let project: PipelineProject
        let storage: Storage
        let backend: Backend.Kind

        /// "reroll shots-2: take 3 (seed 44); 1 generation to pay for (5 s of video, about $0.40)".
        public var summary: String {
            let count = newTakes.count
            let seeds = newTakes.indices.map { String(firstSeed + $0) }.joined(separator: ", ")
            return "reroll \(shot.shot): \(count == 1 ? "take \(newTakes[0])" : "takes \(newTakes[0])–\(newTakes.last!)") "
                + "(seed\(count == 1 ? "" : "s") \(seeds))"
                + (anchor.map { ", between its neighbours (the shots after keep take \($0)'s last frame)" } ?? "") + "; "
                + "\(plural(plan.generations, "generation")) to pay for (\(plan.secondsToPay) s of video"
                + (plan.cost.money.map { String(format: ", about $%.2f", $0) } ?? "") + ")"
        }

        /// The run that makes the new takes (with keep-going: one refused take does not stop
        /// the others); nothing is written to the out folder.
        public func run(options: PipelineRun.Options) -> PipelineRun {
            var options = options
            options.keepGoing = true
            return PipelineRun(part: only, plan: plan, storage: storage, project: project, kind: backend, options: options)
        }

        /// Records the takes that were made and picks the newest (a refused one leaves the
        /// picks as they were); says what was made, and the seams of the newest.
        public func finish(_ report: RunReport) async throws -> String {
            let made = newTakes.filter { report.stages[TakeRole.nodeName(shot: shot.shot, number: $0)]?.outputs["video"] != nil }
            guard let newest = made.last else {
                throw report.firstFailure(in: only) ?? PipelineError(.stageFailed, "\(shot.shot): no new take was made")
            }
            let prior = try Picks.load(project.picksFile)
            var written = prior
            var record = prior.shots[shot.shot] ?? Picks.Pick(take: shot.picked)
            record.rerolls += made.map { Picks.Reroll(seed: firstSeed + ($0 - newTakes[0]), keepAfter: anchor) }
            record.take = shot.takes.count + made.count
            let newestReport = report.stages[TakeRole.nodeName(shot: shot.shot, number: newest)]
            record.digest = newestReport?.outputs["video"]?.artifact?.digest
            written.shots[shot.shot] = record
            try written.write(to: project.picksFile, pipelineFile: project.file.lastPathComponent)
            let numbers = (shot.takes.count + 1)...(shot.takes.count + made.count)
            var text = "\(shot.shot): \(made.count == 1 ? "take \(numbers.lowerBound)" : "takes \(numbers.lowerBound)–\(numbers.upperBound)") made; "
                + "take \(record.take) picked; written to \(project.picksFile.relativePath)"
            if let key = newestReport?.key, let seams = await TakeActions.seams(of: key, storage: storage) { text += "\n" + seams }
            return text
        }
    }

    /// Works out `count` new takes of shot `stage` (new seeds), with `keepAfter` made between
    /// its neighbours so the shots after it stay as they are.
    public static func reroll(_ stage: String, count: Int, keepAfter: Bool, project: PipelineProject, storage: Storage,
                              backend: Backend.Kind = .service) async throws -> Reroll {
        guard (1...20).contains(count) else { throw RunError(.invalidRequest, "--count must be 1 to 20") }
        let (all, picks) = try project.loadAllTakes()
        try project.claimName(all.graph.name, record: true)
        let takes = await ShotTakes.read(all, picks: picks, storage: storage, posters: nil)
        let shot = try project.shot(stage, in: takes)
        var note: String?
        let anchor = try keepAfter ? bridgeAnchor(of: shot, in: all, note: &note) : nil

        // New seeds after the highest this shot has used (takes, rerolls, refused retries).
        let journaled = try await GenerationEntry.all(in: storage.journal).filter {
            $0.pipeline == all.graph.name && ($0.stage == shot.shot || $0.stage.hasPrefix(shot.shot + "#"))
        }
        let used = shot.takes.compactMap(\.seed) + journaled.flatMap { [$0.seed].compactMap { $0 } + ($0.refusals ?? []).map(\.seed) }
        let firstSeed = (used.max() ?? 41) + 1
        let firstTake = shot.takes.count + 1
        let newTakes = Array(firstTake..<(firstTake + count))
        var updated = picks
        var entry = picks.shots[shot.shot] ?? Picks.Pick(take: shot.picked)
        entry.rerolls += (0..<count).map { Picks.Reroll(seed: firstSeed + $0, keepAfter: anchor) }
        entry.take = newTakes.last!
        entry.digest = nil
        updated.shots[shot.shot] = entry

        let targets = Set(newTakes.map { TakeRole.nodeName(shot: shot.shot, number: $0) })
        let registry = BuiltinStages.registry(prices: try await project.prices(storage, backend: backend))
        let everything = try project.load(registry: registry, picks: updated, takes: .all, exploring: true)
        let only = everything.only(targets)
        let plan = await Planner.plan(only, storage: storage)
        let upstream = plan.steps.filter { $0.status == .generate && !targets.contains($0.stage) }.map(\.stage)
        guard upstream.isEmpty else {
            throw RunError(.invalidRequest, "\(shot.shot) starts from \(upstream.joined(separator: ", ")), not made yet: run the pipeline first "
                           + "(reroll makes takes of one shot and nothing else)")
        }
        let before = await Planner.plan(try project.load(registry: registry, picks: picks), storage: storage)
        let after = await Planner.plan(try project.load(registry: registry, picks: updated), storage: storage)
        return Reroll(shot: shot, newTakes: newTakes, firstSeed: firstSeed, anchor: anchor, picks: updated, only: only, plan: plan,
                      consequences: Consequences(before: before, after: after, excluding: targets), note: note, project: project,
                      storage: storage, backend: backend)
    }

    /// The take the shots after this one continue from (the picked take, or the take a
    /// bridged pick was made from), checked to be a chain shot with a made take.
    static func bridgeAnchor(of shot: ShotTakes.Shot, in pipeline: ValidatedPipeline, note: inout String?) throws -> Int? {
        let node = shot.nodes[shot.picked].flatMap { pipeline.step($0) }
        if node?.with["last_frame"] != nil, shot.takes.first(where: { $0.picked })?.keepAfter == nil {
            throw RunError(.invalidRequest,
                           "--keep-after is for chain shots: \(shot.shot) already ends on a given frame, so a new take changes nothing after it")
        }
        let readers = pipeline.steps.filter { step in
            step.with.values.flatMap(\.references).contains { $0.stage == shot.shot && $0.output == "last_frame" }
        }
        guard !readers.isEmpty else {
            note = "note: nothing continues from \(shot.shot)'s last frame, so --keep-after changes nothing"
            return nil
        }
        guard let picked = shot.takes.first(where: { $0.picked }) else { return nil }
        let anchor = picked.keepAfter ?? picked.take
        guard shot.takes.first(where: { $0.take == anchor })?.state == "done" else {
            throw RunError(.invalidRequest,
                           "--keep-after keeps the shots after take \(anchor) of \(shot.shot), which is not made yet: run the pipeline first")
        }
        return anchor
    }

    /// The seams of a new take with what it was made between: its first frame against the
    /// frame it was asked to start on, its last frame against the one it was asked to end on.
    static func seams(of key: String, storage: Storage) async -> String? {
        guard let record = await storage.actions.lookup(key), let video = record.outputs["video"]?.artifact,
              let clip = try? await storage.artifacts.verifiedLocation(of: video) else { return nil }
        var lines: [String] = []
        for (input, side) in [("first_frame", "start"), ("last_frame", "end")] {
            guard let frame = record.values[input]?.artifact,
                  let image = try? await storage.artifacts.verifiedLocation(of: frame) else { continue }
            let psnr = try? await MediaThread.run { () throws -> Double? in
                let clipFrame = side == "start" ? try VideoFile(clip).frame(at: 0) : try VideoFile(clip).lastFrame()
                return clipFrame.psnr(to: try FrameImage(contentsOf: image)).map { $0.isInfinite ? 99 : $0 }
            }
            let neighbour = side == "start" ? "the shot before's last frame" : "the shot after's first frame"
            lines.append("seam at the \(side): \((psnr ?? nil).map { String(format: "%.1f dB", $0) } ?? "not measurable") against \(neighbour)")
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}
