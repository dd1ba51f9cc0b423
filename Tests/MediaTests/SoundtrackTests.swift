import Foundation
import Media
import MediaTestSupport
import Testing

/// The soundtrack against the `ffmpeg` program running the same filter graph, and the
/// ducking measured by frequency: the clips' sound is a 2 kHz tone (silent from 3 s on),
/// the music a 440 Hz tone, so each can be heard apart in the mix.
@Suite(.timeLimit(.minutes(10))) struct SoundtrackTests {
    let folder = TemporaryFolder("soundtrack")

    /// 6 s: a 2 kHz tone at -12 dBFS for 3 s, then silence.
    func film() throws -> URL {
        try Fixtures.clip("film.mp4", in: folder, SyntheticClip(
            width: 160, height: 90, frameRate: 24, duration: 6,
            tone: SyntheticClip.Tone(frequency: 2_000, level: -12, silences: [3...6.5])))
    }

    /// 2.5 s of a 440 Hz tone at -18 dBFS, so it loops over the film.
    func music() throws -> URL {
        try Fixtures.clip("music.mp4", in: folder, SyntheticClip(
            width: 64, height: 36, frameRate: 24, duration: 2.5, tone: SyntheticClip.Tone(frequency: 440, level: -18)))
    }

    /// Level of one frequency (dBFS of a sine's amplitude) over a span of the first channel.
    static func level(_ samples: AudioSamples, frequency: Double, from start: Double, to end: Double) -> Double {
        let rate = Double(samples.sampleRate)
        let first = Int(start * rate), last = Int(end * rate)
        let k = 2 * cos(2 * .pi * frequency / rate)
        var s1 = 0.0, s2 = 0.0
        for index in first..<last {
            let s0 = Double(samples.interleaved[index * samples.channels]) + k * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = s1 * s1 + s2 * s2 - k * s1 * s2
        let amplitude = 2 * power.squareRoot() / Double(last - first)
        return 20 * log10(max(amplitude, 1e-12))
    }

    /// The same graph in the ffmpeg program: its inputs labelled as ours are.
    func referee(film: URL, music: URL, graph: String, to output: URL) throws {
        let format = "aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo"
        let labels = "[0:a]\(format),apad,atrim=end_sample=288000[clips];[1:a]\(format)[music];"
        let result = try Referee.run("ffmpeg", ["-v", "error", "-y", "-i", film.path, "-i", music.path,
                                                "-filter_complex", labels + graph, "-map", "[out]", "-c:a", "pcm_f32le", output.path])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func theMixMatchesTheFFmpegProgramAndDucksByDuckDB() throws {
        let (film, music) = (try film(), try music())
        let output = folder.file("mixed.mp4")
        let settings = SoundtrackSettings(fadeIn: 0, fadeOut: 0, duckDB: 12, threshold: -40, attack: 0.02, release: 0.2, target: nil)
        let result = try Soundtrack.lay(music, over: film, to: output, settings: settings)
        #expect(result.clipSound)
        #expect(abs(result.duration - 6) < 0.05)
        #expect(abs(result.plays - 6 / 2.5) < 0.05)
        #expect(abs(result.duckedSeconds - 3) < 0.1)
        #expect(result.filterGraph.contains("sidechaingate") && result.filterGraph.contains("aloop"))

        let reference = folder.file("reference.wav")
        try referee(film: film, music: music, graph: result.filterGraph, to: reference)
        let ours = try #require(try Referee.integratedLoudness(output))
        let theirs = try #require(try Referee.integratedLoudness(reference))
        #expect(abs(ours - theirs) <= 0.5, "ours \(ours) LUFS, ffmpeg's \(theirs) LUFS")

        let mixed = try AudioSamples.read(output)
        let refereeMix = try AudioSamples.read(reference)
        for samples in [mixed, refereeMix] {
            // Where the clips carry sound the music is down by duck_db; where they are silent it is not.
            // (Each window inside one pass of the 2.5 s loop, so its phase is continuous.)
            let ducked = Self.level(samples, frequency: 440, from: 0.5, to: 2.4)
            let free = Self.level(samples, frequency: 440, from: 3.4, to: 4.9)
            #expect(abs((free - ducked) - 12) <= 1, "ducked \(ducked) dB, free \(free) dB")
            #expect(abs(free - -18) <= 1, "the music at its own level where nothing ducks it: \(free) dB")
            // The clips' own sound is still there, at its level.
            #expect(abs(Self.level(samples, frequency: 2_000, from: 0.5, to: 2.4) - -12) <= 1)
        }
        // The music loops: still playing in its third pass.
        #expect(Self.level(mixed, frequency: 440, from: 5.1, to: 5.9) > -20)
        // Only the audio was re-encoded.
        func videoHash(_ url: URL) throws -> String {
            String(decoding: try Referee.run("ffmpeg", ["-v", "error", "-i", url.path, "-map", "0:v", "-c", "copy", "-f", "md5", "-"]).stdout,
                   as: UTF8.self)
        }
        #expect(try videoHash(film) == videoHash(output))
    }

    @Test func droppingTheClipsSoundLeavesTheMusicUnducked() throws {
        let output = folder.file("dropped.mp4")
        let result = try Soundtrack.lay(try music(), over: try film(), to: output,
                                        settings: SoundtrackSettings(fadeIn: 0, fadeOut: 0, clips: .drop, target: nil))
        #expect(!result.clipSound)
        let mixed = try AudioSamples.read(output)
        #expect(Self.level(mixed, frequency: 2_000, from: 0.5, to: 2.4) < -60)
        let early = Self.level(mixed, frequency: 440, from: 0.5, to: 2.4)
        let late = Self.level(mixed, frequency: 440, from: 3.4, to: 4.9)
        #expect(abs(early - late) < 1)
    }

    @Test func fadesAndTheLoudnessTarget() throws {
        let output = folder.file("mastered.mp4")
        let result = try Soundtrack.lay(try music(), over: try film(), to: output,
                                        settings: SoundtrackSettings(fadeIn: 1, fadeOut: 1, target: -16, truePeak: -1.5))
        let measured = try #require(try Referee.loudnessAndTruePeak(output))
        #expect(abs(measured.loudness - -16) <= 0.5)
        #expect(measured.truePeak < -1.5)
        #expect(result.normalization != nil)
        // Faded in from silence, out to silence (the last 50 ms is nearly nothing).
        let samples = try AudioSamples.read(output)
        #expect(Self.level(samples, frequency: 440, from: 0, to: 0.05) < Self.level(samples, frequency: 440, from: 4.5, to: 4.9) - 20)
        #expect(Self.level(samples, frequency: 440, from: 5.95, to: 6.0) < -50)
    }

    @Test func badSettingsSayWhichAndTheFilmIsUntouched() throws {
        let film = try film()
        #expect {
            try Soundtrack.lay(try music(), over: film, to: folder.file("bad.mp4"), settings: SoundtrackSettings(duckDB: -3))
        } throws: { "\($0)".contains("duck_db") }
        #expect(!FileManager.default.fileExists(atPath: folder.file("bad.mp4").path))
        let garbage = folder.file("not-music.m4a")
        try Data("not audio".utf8).write(to: garbage)
        #expect {
            try Soundtrack.lay(garbage, over: film, to: folder.file("bad2.mp4"))
        } throws: { "\($0)".contains("not-music.m4a") }
    }
}

@Suite(.timeLimit(.minutes(10))) struct ColorMatchTests {
    let folder = TemporaryFolder("color-match")

    func anchor() throws -> URL {
        let url = folder.file("anchor.png")
        try Fixtures.picture(url, red: 60, green: 110, blue: 150)
        return url
    }

    /// A clip starting on the anchor that drifts warm by `drift` at its end.
    func drifting(_ drift: Double, name: String) throws -> URL {
        var clip = SceneClip(width: 160, height: 90, frameRate: 24, duration: 2, seed: 7,
                             firstFrame: try FrameImage(contentsOf: try anchor()), audio: true, preset: "ultrafast")
        clip.drift = drift
        let url = folder.file(name)
        try clip.render(to: url)
        return url
    }

    @Test func aDriftedClipIsCorrectedTowardTheAnchor() throws {
        let anchor = try ColorMatch.statistics(ofImage: try anchor())
        let clip = try drifting(0.5, name: "drifted.mp4")
        let (drift, correction) = ColorMatch.plan(try ColorMatch.statistics(ofClip: clip), anchor: anchor, tolerance: 3)
        #expect(drift.before > 5, "the emulator's drift is visible: ΔE \(drift.before)")
        #expect(drift.corrected)
        #expect(drift.after < drift.before / 2)
        let corrected = folder.file("corrected.mp4")
        _ = try Concatenation.join([clip], to: corrected, corrections: [try #require(correction)])
        // The referee decodes the last frames of both; the corrected one is much nearer the anchor.
        func lastFrameDrift(_ url: URL) throws -> Double {
            let png = folder.file(url.deletingPathExtension().lastPathComponent + "-last.png")
            try Referee.frame(url, last: true, width: 160, height: 90).write(to: png)
            return try ColorMatch.statistics(ofImage: png).deltaE(to: anchor)
        }
        let (rawEnd, fixedEnd) = (try lastFrameDrift(clip), try lastFrameDrift(corrected))
        #expect(fixedEnd < rawEnd / 2, "last frame ΔE \(rawEnd) → \(fixedEnd)")
        // Measured again on the written clip, the prediction holds.
        let measured = try ColorMatch.statistics(ofClip: corrected).deltaE(to: anchor)
        #expect(abs(measured - drift.after) < 1.5, "predicted \(drift.after), measured \(measured)")
    }

    @Test func aSteadyClipIsLeftAlone() throws {
        let anchor = try ColorMatch.statistics(ofImage: try anchor())
        let (drift, correction) = ColorMatch.plan(try ColorMatch.statistics(ofClip: try drifting(0, name: "steady.mp4")),
                                                  anchor: anchor, tolerance: 3)
        #expect(correction == nil)
        #expect(!drift.corrected)
        #expect(drift.before <= 3)
        #expect(drift.after == drift.before)
    }
}
