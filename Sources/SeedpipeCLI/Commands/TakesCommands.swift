import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit

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
        let project = options.project
        let (pipeline, picks) = try project.loadAllTakes()
        var takes = await ShotTakes.read(pipeline, picks: picks, storage: try project.storage(),
                                         posters: project.cacheFolder.appendingPathComponent("posters"))
        if let stage { takes.shots = [try project.shot(stage, in: takes)] }
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
        let project = options.project
        let pick = try await TakeActions.pick(shotName, take: take, project: project, storage: try project.storage(),
                                              backend: await backend.kind())
        try pick.write()
        print("\(pick.shot): take \(take) picked (was take \(pick.was))\(pick.made ? "" : ", not made yet"); "
              + "written to \(project.picksFile.relativePath)")
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
        let project = options.project
        let reroll = try await TakeActions.reroll(shot.map { "\(stage)-\($0)" } ?? stage, count: count, keepAfter: keepAfter,
                                                  project: project, storage: try project.storage(), backend: await backend.kind())
        if let note = reroll.note { Terminal.error(note) }
        Terminal.note(reroll.summary)
        if !reroll.consequences.added.isEmpty {
            Terminal.note("then " + reroll.consequences.text + (reroll.anchor == nil ? " (--keep-after keeps them)" : ""))
        }
        let report: RunReport
        switch await RunConsole.run(reroll.run(options: flags.options(backend: backend)), json: flags.json, verbose: global.verbose) {
        case .success(let value): report = value.report
        case .failure(is CancellationError):
            Terminal.error("interrupted: remote generations stay journaled; reroll again (or run) to resume")
            throw ExitCode(130)
        case .failure(let error): throw error
        }
        print(try await reroll.finish(report))
        if let failure = report.firstFailure(in: reroll.only) { throw failure }
    }
}
