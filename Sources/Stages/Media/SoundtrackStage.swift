import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `soundtrack`: music over the whole film, looped or cut to its length, faded in and out,
/// ducked under the clips' own sound (or replacing it, `clips: drop`), then brought to a
/// loudness target under a true-peak ceiling. FFmpeg's libavfilter mixes; only the audio is
/// re-encoded. `report` says what was done: the loudness before and after, how long the
/// music ducked, how often it plays, the filter graph.
public struct SoundtrackStage: Stage {
    public let kind = "soundtrack"
    public init() {}
    public var documentation: StageDocumentation {
        StageDocumentation("lays music over a whole film: looped or cut to length, faded, ducked under the clips' own sound, brought to a loudness target",
                           inputs: ["video": "the film", "music": "the music (looped or cut to the film's length)"],
                           outputs: ["video": "the film with its new sound (the picture stream-copied)",
                                     "report": "loudness before and after, time ducked, how often the music plays, the filter graph"],
                           parameters: ["fade_in": "seconds the music fades in", "fade_out": "seconds the music fades out at the end",
                                        "duck_db": "how far the music dips under the clips' own sound, dB",
                                        "threshold": "the clips' level (dBFS) above which the music ducks",
                                        "attack": "seconds the ducking takes to come in", "release": "seconds the ducking takes to let go",
                                        "clip_gain_db": "gain on the clips' own sound, dB",
                                        "clips": "the clips' own sound: mixed under the music, or dropped",
                                        "target": "integrated loudness of the result, LUFS",
                                        "true_peak": "the highest true peak allowed, dBTP",
                                        "encode": EncodeParameter.help + " (the picture is copied: audio_bitrate and faststart apply)"],
                           example: ["video": .string("clip.mp4"), "music": .string("music.m4a"), "fade_in": .number(1), "fade_out": .number(2)])
    }

    public var signature: StageSignature {
        let defaults = SoundtrackSettings()
        return StageSignature(
            inputs: [Port("video", .video), Port("music", .audio)],
            outputs: [Port("video", .video), Port("report", .json)],
            parameters: [ParameterSpec("fade_in", .number, default: .number(defaults.fadeIn), range: 0...60),
                         ParameterSpec("fade_out", .number, default: .number(defaults.fadeOut), range: 0...60),
                         ParameterSpec("duck_db", .number, default: .number(defaults.duckDB), range: 0...60),
                         ParameterSpec("threshold", .number, default: .number(defaults.threshold), range: -90...0),
                         ParameterSpec("attack", .number, default: .number(defaults.attack), range: 0.001...9),
                         ParameterSpec("release", .number, default: .number(defaults.release), range: 0.001...9),
                         ParameterSpec("clip_gain_db", .number, default: .number(defaults.clipGainDB), range: -60...24),
                         ParameterSpec("clips", .string, default: .string("mix"),
                                       allowed: SoundtrackSettings.ClipSound.allCases.map { .string($0.rawValue) }),
                         ParameterSpec("target", .number, default: .number(-14), range: -70 ... -5),
                         ParameterSpec("true_peak", .number, default: .number(defaults.truePeak), range: -20...0),
                         EncodeParameter.spec])
    }


    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let film = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        let music = try await context.store.verifiedLocation(of: invocation["music"]!.artifact!)
        let defaults = SoundtrackSettings()
        func number(_ name: String, _ fallback: Double) -> Double { invocation[name]?.number ?? fallback }
        let settings = SoundtrackSettings(
            fadeIn: number("fade_in", defaults.fadeIn), fadeOut: number("fade_out", defaults.fadeOut),
            duckDB: number("duck_db", defaults.duckDB), threshold: number("threshold", defaults.threshold),
            attack: number("attack", defaults.attack), release: number("release", defaults.release),
            clipGainDB: number("clip_gain_db", defaults.clipGainDB),
            clips: invocation["clips"]?.string.flatMap(SoundtrackSettings.ClipSound.init(rawValue:)) ?? .mix,
            target: number("target", -14), truePeak: number("true_peak", defaults.truePeak))
        let output = context.scratch.appendingPathComponent("soundtrack.mp4")
        context.progress(0, "mixing the music")
        let encode = try EncodeParameter.settings(invocation["encode"], base: Soundtrack.encode)
        let result = try await MediaThread.run { try Soundtrack.lay(music, over: film, to: output, settings: settings, encode: encode) }
        if let after = result.normalization?.after.integratedLoudness {
            context.logger.info("soundtrack: \(String(format: "%.1f", after)) LUFS, music ducked for \(String(format: "%.1f", result.duckedSeconds)) s of \(String(format: "%.1f", result.duration)) s")
        }
        return ["video": .artifact(try await context.store.put(file: output, type: .video)), "report": try Value(encoding: result)]
    }
}
