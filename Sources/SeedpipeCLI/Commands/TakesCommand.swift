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
              seedpipe takes pipelines/waterfall-journey.yaml shots 2
            """
    )

    @OptionGroup var options: PipelineOptions

    @Argument(help: "Only this shot: shots-2, or a chain's or storyboard's own name and then the shot number (shots 2).")
    var stage: String?

    @Argument(help: "The shot number, when STAGE is a chain's or storyboard's own name.")
    var shot: Int?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let project = options.project
        let (pipeline, picks) = try project.loadAllTakes()
        var takes = await ShotTakes.read(pipeline, picks: picks, storage: try project.storage(),
                                         posters: project.cacheFolder.appendingPathComponent("posters"))
        if let profile = project.profile {
            // Beside the takes explored in the default profile, each shot as this profile finishes it.
            let storage = try project.storage()
            let finishing = try project.load(picks: picks)
            if finishing.graph.profiles?.finishing == true {
                takes.attach(finished: await ShotTakes.finished(finishing, storage: storage, posters: project.cacheFolder.appendingPathComponent("posters")),
                             profile: profile)
            }
        }
        if let stage { takes.shots = [try project.shot(shot.map { "\(stage)-\($0)" } ?? stage, in: takes)] }
        if json { return try Terminal.json(takes) }
        print(takes.shots.isEmpty ? "\(options.pipeline) has no generation stages" : takes.text())
    }
}
