import ArgumentParser
import Foundation
import Media

/// `seedpipe soundtrack`: the `soundtrack` stage on local files.
struct SoundtrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soundtrack",
        abstract: "Lay one piece of music over a film: looped or trimmed to its length, faded, ducked under the clips' sound, mastered.",
        discussion: """
            The music (any format FFmpeg reads) loops or is cut to the film's length
            and fades in and out; where the film's own sound rises above --threshold,
            the music goes down by --duck-db. Then the mix is mastered to --target
            LUFS under a --true-peak ceiling, as loudness-normalize does (--no-master
            leaves the mix as it is). Only the sound is re-encoded; the picture is
            copied.

            Examples (seedpipe synth -o clip.mp4 makes a film to try them on):
              seedpipe soundtrack clip.mp4 --music pipelines/assets/theme.m4a \\
                  -o scored.mp4
              seedpipe soundtrack clip.mp4 --music pipelines/assets/theme.m4a \\
                  --duck-db 18 --fade-out 4 -o scored.mp4
              seedpipe soundtrack clip.mp4 --music pipelines/assets/theme.m4a \\
                  --clips drop -o scored.mp4
            """
    )

    @Argument(help: "The film.")
    var film: String

    @Option(help: "The music to lay over it.")
    var music: String

    @Option(name: .shortAndLong, help: "The MP4 file to write.")
    var output: String

    @Option(help: "Seconds of fade-in of the music.") var fadeIn = 1.0
    @Option(help: "Seconds of fade-out of the music.") var fadeOut = 2.0
    @Option(help: "dB the music goes down under the clips' sound.") var duckDB = 12.0
    @Option(help: "dBFS over which the clips' sound ducks the music.") var threshold = -40.0
    @Option(help: "Seconds the music takes to go down.") var attack = 0.05
    @Option(help: "Seconds the music takes to come back.") var release = 0.5
    @Option(help: "dB on the clips' own sound.") var clipGainDB = 0.0
    @Option(help: "mix: the clips' sound under the music; drop: the music alone.") var clips: SoundtrackSettings.ClipSound = .mix
    @Option(help: "Integrated loudness to master to, in LUFS.") var target = -14.0
    @Option(help: "True-peak ceiling in dBTP.") var truePeak = -1.0
    @Flag(help: "Leave the mix unmastered (no loudness target).") var noMaster = false
    @Flag(help: "Print what was done as JSON, the filter graph included.") var json = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let settings = SoundtrackSettings(fadeIn: fadeIn, fadeOut: fadeOut, duckDB: duckDB, threshold: threshold, attack: attack,
                                          release: release, clipGainDB: clipGainDB, clips: clips, target: noMaster ? nil : target,
                                          truePeak: truePeak)
        let result = try Soundtrack.lay(URL(fileURLWithPath: music), over: URL(fileURLWithPath: film), to: URL(fileURLWithPath: output),
                                        settings: settings)
        if json { return try Terminal.json(result) }
        var line = "wrote \(output): the music played \(String(format: "%.2f", result.plays)) times over \(Format.seconds(result.duration))"
        if result.clipSound { line += String(format: ", ducked for %.1f s under the clips' sound", result.duckedSeconds) }
        if let after = result.normalization?.after.integratedLoudness { line += String(format: ", mastered to %.1f LUFS", after) }
        print(line)
    }
}

extension SoundtrackSettings.ClipSound: ExpressibleByArgument {}
