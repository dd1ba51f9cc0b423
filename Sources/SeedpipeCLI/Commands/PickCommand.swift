import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit

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
