import ArgumentParser
import Foundation
import Media
import Pipeline
import Stages

/// `seedpipe takes`: every take of every shot, as the cache and the journal know them.
struct TakesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "takes",
        abstract: "List the takes of a pipeline's shots: seed, state, request id, digest, duration, poster, pick.",
        discussion: """
            A shot is a generation stage (seedance.generate, or one shot of a chain or a
            storyboard); `takes: N` makes N takes of it, `seedpipe reroll` more. The picked
            take (*) is the one everything downstream uses. Nothing is generated; posters
            are stills from the middle of each made take, kept in the cache's posters/.

            Examples:
              seedpipe takes pipelines/waterfall-journey.yaml
              seedpipe takes pipelines/waterfall-journey.yaml shots-2 --json
            """
    )

    @OptionGroup var options: PipelineOptions

    @Argument(help: "Only this shot (e.g. shots-2).")
    var stage: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let (pipeline, picks) = try options.loadAllTakes()
        var takes = await ShotTakes.read(pipeline, picks: picks, storage: try options.storage(),
                                         posters: options.cacheFolder.appendingPathComponent("posters"))
        if let stage { takes.shots = [try options.shot(stage, in: takes)] }
        if json { return try Terminal.json(takes) }
        print(takes.shots.isEmpty ? "\(options.pipeline) has no generation stages" : takes.text())
    }
}

/// `seedpipe pick`: writes the picks file; generates nothing.
struct PickCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pick",
        abstract: "Choose the take a shot uses: writes NAME.picks.yaml beside the pipeline, generates nothing.",
        discussion: """
            The pick is recorded by take number and by the take's digest. It says what the
            next run will make because of it, and what that costs: in a chain, the shots
            after this one start on the picked take's last frame.

            Examples:
              seedpipe pick pipelines/waterfall-journey.yaml shots-2 1
              seedpipe pick pipelines/waterfall-journey.yaml shots 2 1
            """
    )

    @OptionGroup var options: PipelineOptions

    @Argument(help: "The shot: shots-2, or a chain's or storyboard's own name and then the shot number (shots 2).")
    var stage: String

    @Argument(help: ArgumentHelp("The take number (see seedpipe takes); after a chain's own name, the shot number, then the take.",
                                 valueName: "take"))
    var numbers: [Int] = []

    func validate() throws {
        guard (1...2).contains(numbers.count) else {
            throw ValidationError("give the shot and the take: pick PIPELINE shots-2 3 (or shots 2 3)")
        }
    }

    /// `shots 2 3` names shot `shots-2`, take 3.
    var shotName: String { numbers.count == 2 ? "\(stage)-\(numbers[0])" : stage }
    var take: Int { numbers.last ?? 1 }

    /// What the next run will run on, so what the pick makes it do is priced (or emulated) as it will be.
    @OptionGroup var backend: BackendOptions

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let pick = try await TakeActions.pick(shotName, take: take, options: options, storage: try options.storage(),
                                              backend: await backend.kind())
        try pick.write(options)
        print("\(pick.shot): take \(take) picked (was take \(pick.was))\(pick.made ? "" : ", not made yet"); "
              + "written to \(options.picksFile.relativePath)")
        print(pick.consequences.text)
    }
}

/// `seedpipe reroll`: more takes of one shot, and nothing else.
struct RerollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reroll",
        abstract: "Generate more takes of one shot (new seeds) and nothing else; pick the newest.",
        discussion: """
            In a chain the shots after this one start on its last frame, so a new take
            means the next run regenerates them (this command says which, and the
            cost). With --keep-after the new take is made between its neighbours: it
            starts on the shot before's last frame and ends on the first frame of the
            shot after, so every later shot stays as it is and nothing else is paid
            for; the seams on both sides are reported.

            Examples:
              seedpipe reroll pipelines/waterfall-journey.yaml shots-2
              seedpipe reroll pipelines/waterfall-journey.yaml shots 2 --count 3 \\
                  --keep-after
            """
    )

    @OptionGroup var options: PipelineOptions

    @Argument(help: "The shot: shots-2, or a chain's or storyboard's own name and then the shot number (shots 2).")
    var stage: String

    @Argument(help: "The shot number, when STAGE is a chain's or storyboard's own name.")
    var shot: Int?

    @Option(help: "How many new takes.")
    var count = 1

    @Flag(help: "Make the new take between its neighbours, so the shots after it are kept.")
    var keepAfter = false

    @OptionGroup var flags: RunFlags
    @OptionGroup var backend: BackendOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...20).contains(count) else { throw ValidationError("--count must be 1 to 20") }
    }

    func run() async throws {
        global.apply()
        let storage = try options.storage()
        let reroll = try await TakeActions.reroll(shot.map { "\(stage)-\($0)" } ?? stage, count: count, keepAfter: keepAfter,
                                                  options: options, storage: storage, backend: await backend.kind())
        if let note = reroll.note { Terminal.error(note) }
        Terminal.note(reroll.summary)
        if !reroll.consequences.added.isEmpty {
            Terminal.note("then " + reroll.consequences.text + (reroll.anchor == nil ? " (--keep-after keeps them)" : ""))
        }
        let result = await RunCommand.execute(reroll.only, storage: storage, plan: reroll.plan, cacheFolder: options.cacheFolder,
                                              backend: backend, options: flags.execution(keepGoing: true), json: flags.json,
                                              verbose: global.verbose)
        let report: RunReport
        switch result {
        case .success(let value): report = value
        case .failure(is CancellationError):
            Terminal.error("interrupted: remote generations stay journaled; reroll again (or run) to resume")
            throw ExitCode(130)
        case .failure(let error): throw error
        }
        print(try await reroll.finish(report, options: options, storage: storage))
        if let failure = report.firstFailure(in: reroll.only) { throw failure }
    }
}

/// Picking and re-rolling, for `pick`, `reroll` and the studio: each worked out first (what
/// it will make and cost), then done.
enum TakeActions {
    /// A pick, worked out: write it to make it so.
    struct Pick {
        var shot: String
        var take: Int
        var was: Int
        var made: Bool
        var picks: Picks
        var consequences: Consequences

        func write(_ options: PipelineOptions) throws {
            try picks.write(to: options.picksFile, pipelineFile: options.url.lastPathComponent)
        }
    }

    static func pick(_ stage: String, take: Int, options: PipelineOptions, storage: Storage, backend: BackendOptions.Kind = .service)
        async throws -> Pick {
        let (all, picks) = try options.loadAllTakes()
        try options.claimName(all.graph.name, record: true)
        let takes = await ShotTakes.read(all, picks: picks, storage: storage, posters: nil)
        let shot = try options.shot(stage, in: takes)
        guard let chosen = shot.takes.first(where: { $0.take == take }) else {
            throw ValidationError("\(shot.shot) has no take \(take): it has \(shot.takes.count == 1 ? "take 1" : "takes 1–\(shot.takes.count)")"
                                  + " (seedpipe reroll makes more)")
        }
        // Prices come from the journal: read them once for both plans.
        let registry = BuiltinStages.registry(prices: try await options.prices(storage, backend: backend))
        let before = await Planner.plan(try options.load(registry: registry, picks: picks), storage: storage)
        var updated = picks
        var entry = picks.shots[shot.shot] ?? Picks.Pick(take: take)
        entry.take = take
        entry.digest = chosen.digest
        updated.shots[shot.shot] = entry
        let after = await Planner.plan(try options.load(registry: registry, picks: updated), storage: storage)
        return Pick(shot: shot.shot, take: take, was: shot.picked, made: chosen.digest != nil, picks: updated,
                    consequences: Consequences(before: before, after: after))
    }

    /// A re-roll, worked out: run `only`, then `finish` records the takes it made.
    struct Reroll {
        var shot: ShotTakes.Shot
        var newTakes: [Int]
        var firstSeed: Int
        var anchor: Int?
        var picks: Picks
        /// The new takes and what they need, nothing else.
        var only: ValidatedPipeline
        var plan: Plan
        var consequences: Consequences
        var note: String?

        var summary: String {
            let count = newTakes.count
            let seeds = newTakes.indices.map { String(firstSeed + $0) }.joined(separator: ", ")
            return "reroll \(shot.shot): \(count == 1 ? "take \(newTakes[0])" : "takes \(newTakes[0])–\(newTakes.last!)") "
                + "(seed\(count == 1 ? "" : "s") \(seeds))"
                + (anchor.map { ", between its neighbours (the shots after keep take \($0)'s last frame)" } ?? "") + "; "
                + "\(plan.generations == 1 ? "1 generation" : "\(plan.generations) generations") to pay for (\(plan.secondsToPay) s of video"
                + (plan.cost.money.map { String(format: ", about $%.2f", $0) } ?? "") + ")"
        }

        /// Records the takes that were made and picks the newest (a refused one leaves the
        /// picks as they were); says what was made, and the seams of the newest.
        func finish(_ report: RunReport, options: PipelineOptions, storage: Storage) async throws -> String {
            let made = newTakes.filter { report.stages[TakeRole.nodeName(shot: shot.shot, number: $0)]?.outputs["video"] != nil }
            guard let newest = made.last else {
                throw report.firstFailure(in: only) ?? PipelineError(.stageFailed, "\(shot.shot): no new take was made")
            }
            let prior = try Picks.load(options.picksFile)
            var written = prior
            var record = prior.shots[shot.shot] ?? Picks.Pick(take: shot.picked)
            record.rerolls += made.map { Picks.Reroll(seed: firstSeed + ($0 - newTakes[0]), keepAfter: anchor) }
            record.take = shot.takes.count + made.count
            let newestReport = report.stages[TakeRole.nodeName(shot: shot.shot, number: newest)]
            record.digest = newestReport?.outputs["video"]?.artifact?.digest
            written.shots[shot.shot] = record
            try written.write(to: options.picksFile, pipelineFile: options.url.lastPathComponent)
            let numbers = (shot.takes.count + 1)...(shot.takes.count + made.count)
            var text = "\(shot.shot): \(made.count == 1 ? "take \(numbers.lowerBound)" : "takes \(numbers.lowerBound)–\(numbers.upperBound)") made; "
                + "take \(record.take) picked; written to \(options.picksFile.relativePath)"
            if let key = newestReport?.key, let seams = await RerollCommand.seams(of: key, storage: storage) { text += "\n" + seams }
            return text
        }
    }

    static func reroll(_ stage: String, count: Int, keepAfter: Bool, options: PipelineOptions, storage: Storage,
                       backend: BackendOptions.Kind = .service) async throws -> Reroll {
        let (all, picks) = try options.loadAllTakes()
        try options.claimName(all.graph.name, record: true)
        let takes = await ShotTakes.read(all, picks: picks, storage: storage, posters: nil)
        let shot = try options.shot(stage, in: takes)
        var note: String?
        let anchor = try keepAfter ? RerollCommand.bridgeAnchor(of: shot, in: all, note: &note) : nil

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
        let registry = BuiltinStages.registry(prices: try await options.prices(storage, backend: backend))
        let everything = try options.load(registry: registry, picks: updated, takes: .all)
        let only = everything.only(targets)
        let plan = await Planner.plan(only, storage: storage)
        let upstream = plan.steps.filter { $0.status == .generate && !targets.contains($0.stage) }.map(\.stage)
        guard upstream.isEmpty else {
            throw ValidationError("\(shot.shot) starts from \(upstream.joined(separator: ", ")), not made yet: run the pipeline first "
                                  + "(reroll makes takes of one shot and nothing else)")
        }
        let before = await Planner.plan(try options.load(registry: registry, picks: picks), storage: storage)
        let after = await Planner.plan(try options.load(registry: registry, picks: updated), storage: storage)
        return Reroll(shot: shot, newTakes: newTakes, firstSeed: firstSeed, anchor: anchor, picks: updated, only: only, plan: plan,
                      consequences: Consequences(before: before, after: after, excluding: targets), note: note)
    }
}

extension RerollCommand {
    /// The take the shots after this one continue from (the picked take, or the take a
    /// bridged pick was made from), checked to be a chain shot with a made take.
    static func bridgeAnchor(of shot: ShotTakes.Shot, in pipeline: ValidatedPipeline, note: inout String?) throws -> Int? {
        let node = shot.nodes[shot.picked].flatMap { pipeline.step($0) }
        if node?.with["last_frame"] != nil, shot.takes.first(where: { $0.picked })?.keepAfter == nil {
            throw ValidationError("--keep-after is for chain shots: \(shot.shot) already ends on a given frame, so a new take changes nothing after it")
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
            throw ValidationError("--keep-after keeps the shots after take \(anchor) of \(shot.shot), which is not made yet: run the pipeline first")
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

/// What a change of picks makes the next run do: the generations it adds.
struct Consequences {
    let before: Plan
    let after: Plan
    var excluding: Set<String> = []

    /// Generations in `after` that `before` did not have.
    var added: [Plan.Step] {
        let earlier = Set(before.steps.filter { $0.status == .generate }.map(\.stage))
        return after.steps.filter { $0.status == .generate && !earlier.contains($0.stage) && !excluding.contains($0.stage) }
    }

    var text: String {
        let added = added
        guard !added.isEmpty else {
            let pending = after.steps.filter { $0.status == .generate && !excluding.contains($0.stage) }.count
            return "the next run pays for nothing more because of it" + (pending > 0 ? " (it has \(plural(pending, "generation")) to make anyway)" : "")
        }
        let cost = added.map(\.cost).reduce(.free, +)
        let money = (cost.money ?? 0) > 0 ? String(format: cost.emulated ? ", $%.2f of emulator credits" : ", about $%.2f", cost.money!) : ""
        return "the next run \(cost.emulated ? "emulates" : "regenerates") \(added.map(\.stage).joined(separator: ", ")) because of it "
            + "(\(plural(cost.generations, "generation")), \(Int(cost.seconds.rounded())) s of video\(money))"
    }
}
