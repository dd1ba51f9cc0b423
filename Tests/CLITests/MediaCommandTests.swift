import Foundation
import Media
import MediaTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct MediaCommandTests {
    let folder = TemporaryFolder("cli")

    func clip(_ name: String = "clip.mp4", _ clip: SyntheticClip = SyntheticClip(duration: 3)) throws -> URL {
        try Fixtures.clip(name, in: folder, clip)
    }

    @Test func probePrintsStreamsAndJSON() async throws {
        _ = try clip()
        let text = try await SeedpipeBinary.run(["probe", "clip.mp4"], in: folder)
        #expect(text.status == 0)
        #expect(text.stdout.contains("video: h264"))
        #expect(text.stdout.contains("320x180"))
        #expect(text.stdout.contains("audio: aac"))
        let json = try await SeedpipeBinary.run(["probe", "clip.mp4", "--json"], in: folder)
        #expect(json.status == 0)
        let info = try JSONDecoder().decode(MediaInfo.self, from: Data(json.stdout.utf8))
        #expect(info.video?.frameCount == 75)
    }

    /// Without FFmpeg's libraries (a $SEEDPIPE_FFMPEG_DIR that has none) a media command and a
    /// pipeline's media check fail with an error naming the library, not a crash or an exit
    /// from inside Media.
    @Test func missingFFmpegLibrariesAreAnErrorNotAnExit() async throws {
        _ = try clip()
        let empty = TemporaryFolder("no-ffmpeg")
        var environment = SeedpipeBinary.offline
        environment["SEEDPIPE_FFMPEG_DIR"] = empty.url.path
        let probe = try await SeedpipeBinary.run(["probe", "clip.mp4"], in: folder, environment: environment)
        #expect(probe.status == 2 && !probe.signaled, "\(probe.stderr)")
        #expect(probe.stderr.contains("FFmpeg's libraries cannot be loaded") && probe.stderr.contains("libavutil.so."),
                "\(probe.stderr)")
        try "pipeline: p\nstages:\n  facts: { uses: probe, with: { video: clip.mp4 } }\n"
            .write(to: folder.file("p.yaml"), atomically: true, encoding: .utf8)
        let validate = try await SeedpipeBinary.run(["validate", "p.yaml"], in: folder, environment: environment)
        #expect(validate.status == 2 && validate.stderr.contains("cannot be checked: FFmpeg's libraries cannot be loaded"),
                "\(validate.stderr)")
        #expect(try await SeedpipeBinary.run(["probe", "clip.mp4"], in: folder).status == 0, "with them, it works")
    }

    @Test func thumbnailWritesAScaledFrame() async throws {
        _ = try clip()
        let outcome = try await SeedpipeBinary.run(["thumbnail", "clip.mp4", "--at", "2.5", "--width", "160", "-o", "poster.jpg"],
                                             in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let info = try MediaInfo.probe(folder.file("poster.jpg"))
        #expect(info.video?.codec == "mjpeg")
        #expect(info.video?.width == 160 && info.video?.height == 90)
    }

    @Test func lastFrameWritesTheLastFrame() async throws {
        let url = try clip()
        let outcome = try await SeedpipeBinary.run(["last-frame", "clip.mp4", "-o", "last.png"], in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let written = try FrameImage(contentsOf: folder.file("last.png"))
        #expect(SyntheticClip.frameNumber(in: written) == 74)
        #expect(written.pixels == (try VideoFile(url).lastFrame()).pixels)
    }

    @Test func audioCheckPassesFailsAndExplains() async throws {
        _ = try clip("loud.mp4", SyntheticClip(duration: 2, tone: .init(level: -12)))
        _ = try clip("quiet.mp4", SyntheticClip(duration: 2, tone: .init(level: -40)))
        _ = try clip("mute.mp4", SyntheticClip(duration: 2, tone: nil))
        _ = try clip("hush.mp4", SyntheticClip(duration: 2, tone: .init(level: -80)))
        let loud = try await SeedpipeBinary.run(["audio-check", "loud.mp4", "--min-loudness", "-24"], in: folder)
        #expect(loud.status == 0, "\(loud.stderr)")
        #expect(loud.stdout.contains("LUFS"))
        let quiet = try await SeedpipeBinary.run(["audio-check", "quiet.mp4", "--min-loudness", "-24"], in: folder)
        #expect(quiet.status == 1)
        #expect(quiet.stderr.contains("under the floor of -24.0 LUFS"))
        let mute = try await SeedpipeBinary.run(["audio-check", "mute.mp4"], in: folder)
        #expect(mute.status == 1)
        #expect(mute.stderr.contains("no audio track"))
        let hush = try await SeedpipeBinary.run(["audio-check", "hush.mp4", "--json"], in: folder)
        #expect(hush.status == 1)
        #expect(hush.stderr.contains("silent"))
        let report = try JSONSerialization.jsonObject(with: Data(hush.stdout.utf8)) as? [String: Any]
        #expect(report?["ok"] as? Bool == false)
    }

    @Test func concatJoinsClips() async throws {
        _ = try clip("a.mp4", SyntheticClip(duration: 1, seed: 1))
        _ = try clip("b.mp4", SyntheticClip(duration: 2, seed: 2))
        let outcome = try await SeedpipeBinary.run(["concat", "a.mp4", "b.mp4", "-o", "film.mp4"], in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("stream copy"))
        #expect(abs((try MediaInfo.probe(folder.file("film.mp4")).duration ?? 0) - 3) < 0.05)
    }

    @Test func soundtrackScoresAFilmAndCopiesItsPicture() async throws {
        _ = try clip("film.mp4", SyntheticClip(duration: 4, tone: .init(frequency: 440, level: -20), seed: 3))
        _ = try clip("theme.mp4", SyntheticClip(width: 64, height: 36, duration: 1.5, tone: .init(frequency: 330, level: -18), seed: 4))
        let outcome = try await SeedpipeBinary.run(["soundtrack", "film.mp4", "--music", "theme.mp4", "-o", "scored.mp4", "--json"],
                                                   in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let result = try JSONDecoder().decode(SoundtrackResult.self, from: Data(outcome.stdout.utf8))
        // The 1.5 s theme (its AAC sound up to two frames longer, whole frames of padding) loops over the 4 s film.
        #expect(abs(result.musicDuration - 1.5) <= 2048.0 / 48_000 && abs(result.duration - 4) < 0.05, "\(result)")
        #expect(abs(result.plays - result.duration / result.musicDuration) < 0.01 && result.plays > 2.5, "\(result.plays)")
        #expect(result.clipSound && result.duckedSeconds > 3, "the film's tone ducks the music nearly throughout")
        #expect(abs((result.normalization?.after.integratedLoudness ?? 0) + 14) < 0.5)
        #expect(result.filterGraph.contains("sidechaingate") && result.filterGraph.contains("aloop"))
        // The picture is copied: the same video packets, frame for frame.
        let before = try MediaInfo.probe(folder.file("film.mp4")).video
        let after = try MediaInfo.probe(folder.file("scored.mp4")).video
        #expect(after?.frameCount == before?.frameCount && after?.codec == before?.codec && after?.bitRate == before?.bitRate)

        let missing = try await SeedpipeBinary.run(["soundtrack", "film.mp4", "--music", "nothing.m4a", "-o", "bad.mp4"], in: folder)
        #expect(missing.status == 2 && missing.stderr.contains("nothing.m4a"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("bad.mp4").path))
    }

    @Test func helpHasExamples() async throws {
        for command in ["probe", "thumbnail", "last-frame", "audio-check", "concat", "soundtrack", "synth", "export"] {
            let outcome = try await SeedpipeBinary.run([command, "--help"], in: folder)
            #expect(outcome.status == 0)
            #expect(outcome.stdout.contains("seedpipe \(command) "), "\(command) --help shows an example")
        }
    }
}

/// Every media command over every shape of clip users bring (`Corpus`): an exit status, never
/// a signal (a Swift trap or a crash), and for these well-formed files, success.
@Suite(.timeLimit(.minutes(10))) struct CorpusCommandTests {
    let folder = TemporaryFolder("cli-corpus")

    @Test(arguments: Corpus.clips.map(\.name) + Corpus.stills.map(\.name))
    func noCommandEndsWithASignal(_ name: String) async throws {
        let file = try Corpus.file(name).path
        let isStill = Corpus.stills.contains { $0.name == name }
        var commands: [[String]] = [["probe", file], ["probe", file, "--json"]]
        if !isStill {
            let stem = URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent
            commands += [["thumbnail", file, "--at", "0.5", "--width", "32", "-o", "\(stem).jpg"],
                         ["last-frame", file, "-o", "\(stem)-last.png"],
                         ["audio-check", file, "--json"]]
        }
        for command in commands {
            let outcome = try await SeedpipeBinary.run(command, in: folder)
            #expect(!outcome.signaled, "\(command.joined(separator: " ")) ended with signal \(outcome.status): \(outcome.stderr)")
            let expected: Int32 = name == "noaudio.mp4" && command[0] == "audio-check" ? 1 : 0
            #expect(outcome.status == expected, "\(command.joined(separator: " ")): \(outcome.stderr)")
        }
    }

    @Test func theWholeCorpusJoinsAndScores() async throws {
        let clips = try Corpus.clips.map { try Corpus.file($0.name).path }
        let joined = try await SeedpipeBinary.run(["concat"] + clips + ["-o", "all.mp4"], in: folder)
        #expect(!joined.signaled && joined.status == 0, "\(joined.stderr)")
        let decode = try Referee.run("ffmpeg", ["-v", "error", "-i", folder.file("all.mp4").path, "-f", "null", "-"])
        #expect(decode.status == 0 && decode.stderr.isEmpty, "\(decode.stderr)")
        // Sound of any shape under a film of any shape: 5.1 music over a mono MP3 film, 22.05 kHz over 5.1.
        for (film, music) in [("mp3_mono.mp4", "surround51.mp4"), ("surround51.mp4", "rate22050.mp4"), ("rot270.mp4", "mjpeg.avi")] {
            let scored = try await SeedpipeBinary.run(["soundtrack", try Corpus.file(film).path, "--music", try Corpus.file(music).path,
                                                       "--fade-in", "0.2", "--fade-out", "0.2", "-o", "scored-\(film).mp4"], in: folder)
            #expect(!scored.signaled && scored.status == 0, "\(film) with \(music): \(scored.stderr)")
        }
        let info = try MediaInfo.probe(folder.file("scored-rot270.mp4.mp4"))
        #expect(info.video?.rotation == -90, "the scored film keeps its picture's display matrix")
        #expect(try MediaInfo.probe(folder.file("scored-surround51.mp4.mp4")).audio?.channels == 6)
    }
}
