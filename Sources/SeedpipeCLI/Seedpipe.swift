import ArgumentParser

/// The `seedpipe` command: turns prompts into finished videos, and the media tools it is built on.
public struct Seedpipe: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "seedpipe",
        abstract: "Turn prompts into long, finished videos with Seedance 2.0 Mini, and check the result.",
        discussion: """
            Pipelines (offline, through the built-in emulator, without SEGMIND_API_KEY):

              seedpipe init teaser.yaml --template teaser
              seedpipe stages seedance.chain
              seedpipe validate pipelines/waterfall-journey.yaml
              seedpipe plan pipelines/waterfall-journey.yaml
              seedpipe run pipelines/waterfall-journey.yaml --max-generations 6

            Takes: list them, make more of one shot, pick one:

              seedpipe takes pipelines/waterfall-journey.yaml
              seedpipe reroll pipelines/waterfall-journey.yaml shots-2 --keep-after
              seedpipe pick pipelines/waterfall-journey.yaml shots-2 1

            A finished film as a timeline for an editor (OpenTimelineIO, FCPXML or EDL):

              seedpipe export pipelines/waterfall-journey.yaml --format otio -o film.otio

            Media commands work on local files through FFmpeg's libraries:

              seedpipe synth -o clip.mp4 --duration 5
              seedpipe probe clip.mp4
              seedpipe thumbnail clip.mp4 --at 2.5 --width 640 -o poster.jpg
              seedpipe last-frame clip.mp4 -o last.png
              seedpipe audio-check clip.mp4 --min-loudness -24
              seedpipe synth -o other.mp4 --seed 1
              seedpipe concat clip.mp4 other.mp4 -o film.mp4
              seedpipe soundtrack film.mp4 --music pipelines/assets/theme.m4a -o scored.mp4

            One generation (offline too without SEGMIND_API_KEY), and the emulator itself:

              seedpipe generate --prompt "A waterfall at dawn" --duration 5 -o clip.mp4
              seedpipe serve --port 8080

            Exit status (every command, run included): 0 success, 1 a check or a
            generation failed, 2 bad usage or bad input, 3 the service or the network
            failed, 130 interrupted.
            """,
        version: "0.1.0",
        subcommands: [
            ProbeCommand.self, ThumbnailCommand.self, LastFrameCommand.self, AudioCheckCommand.self,
            RunCommand.self, TakesCommand.self, PickCommand.self, RerollCommand.self, StudioCommand.self, ValidateCommand.self, PlanCommand.self, GraphCommand.self, ExportCommand.self, JobsCommand.self, BudgetCommand.self, CacheCommand.self,
            ConcatCommand.self, SoundtrackCommand.self, SynthCommand.self, GenerateCommand.self, ServeCommand.self, PluginsCommand.self,
            StagesCommand.self, SchemaCommand.self, InitCommand.self, LogCommand.self,
        ]
    )

    public init() {}
}
