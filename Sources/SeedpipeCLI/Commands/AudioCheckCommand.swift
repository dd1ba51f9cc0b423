import ArgumentParser
import Foundation
import Media

struct AudioCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio-check",
        abstract: "Measure a file's audio and fail when it is missing, silent or too quiet.",
        discussion: """
            Reports duration, sample peak and RMS (dBFS), integrated loudness (LUFS, after
            ITU-R BS.1770-4) and silent spans. Only the audio is decoded.
            Exits 1, saying why, when there is no audio track, the audio is silent, or its
            loudness is under --min-loudness.

            Examples (seedpipe synth -o clip.mp4 makes a clip to try them on):
              seedpipe audio-check clip.mp4
              seedpipe audio-check clip.mp4 --min-loudness -24 --json
            """
    )

    @Argument(help: "The file whose audio to check.")
    var file: String

    @Option(parsing: .unconditional, help: "Fail when the integrated loudness is under this many LUFS (e.g. -24).")
    var minLoudness: Double?

    @Option(parsing: .unconditional, help: "Level under which audio counts as silent, in dBFS.")
    var silenceThreshold: Double = -60

    @Option(help: "Shortest silent span to report, in seconds.")
    var minSilence: Double = 0.5

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        var file: String
        var ok: Bool
        var problems: [String]
        var levels: AudioLevels
    }

    func validate() throws {
        guard minSilence > 0 else { throw ValidationError("--min-silence must be more than 0 seconds") }
    }

    func run() throws {
        global.apply()
        let levels = try AudioLevels.analyze(
            URL(fileURLWithPath: file),
            options: AudioAnalysisOptions(silenceThreshold: silenceThreshold, minimumSilence: minSilence))
        let problems = problems(in: levels)
        if json {
            try Terminal.json(Report(file: file, ok: problems.isEmpty, problems: problems, levels: levels))
        } else {
            printLevels(levels)
        }
        if !problems.isEmpty {
            throw CheckFailure(message: "\(file): " + problems.joined(separator: "; "))
        }
    }

    private func problems(in levels: AudioLevels) -> [String] {
        guard levels.hasAudio else { return ["no audio track"] }
        if levels.isSilent {
            return ["the audio is silent (peak \(Format.decibels(levels.peak, unit: "dBFS")), under \(Format.decibels(silenceThreshold, unit: "dBFS")))"]
        }
        if let floor = minLoudness {
            guard let loudness = levels.integratedLoudness else { return ["the loudness cannot be measured (too short or too quiet)"] }
            if loudness < floor {
                return [String(format: "integrated loudness %.1f LUFS is under the floor of %.1f LUFS", loudness, floor)]
            }
        }
        return []
    }

    private func printLevels(_ levels: AudioLevels) {
        guard levels.hasAudio else {
            print("\(file): no audio track")
            return
        }
        print("\(file): \(levels.codec ?? "audio"), \(levels.sampleRate ?? 0) Hz, \(levels.channels ?? 0) channels, \(Format.seconds(levels.duration))")
        print("  peak      \(Format.decibels(levels.peak, unit: "dBFS"))")
        print("  rms       \(Format.decibels(levels.rms, unit: "dBFS"))")
        print("  loudness  \(Format.decibels(levels.integratedLoudness, unit: "LUFS"))")
        if levels.silences.isEmpty {
            print("  silences  none")
        } else {
            for span in levels.silences {
                print(String(format: "  silence   %.2f s – %.2f s (%.2f s)", span.start, span.end, span.duration))
            }
        }
    }
}
