import Foundation
import Media
import MediaTestSupport
import SeedpipeKit
import Testing

/// The pipelines in `pipelines/` are what a new user runs first: each validates, and the
/// waterfall journey runs offline end to end, then reruns from the cache alone.
@Suite(.timeLimit(.minutes(10))) struct ShippedPipelineTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A copy of `pipelines/` and `plugins/` (the project's plugins, found from the folder
    /// seedpipe runs in), so runs never write into the repository.
    func copy() throws -> TemporaryFolder {
        let folder = TemporaryFolder("shipped")
        for name in ["pipelines", "plugins"] {
            try FileManager.default.copyItem(at: Self.repository.appendingPathComponent(name), to: folder.file(name))
        }
        // Only the pipelines and their assets: never a cache a local run left beside them.
        try? FileManager.default.removeItem(at: folder.file("pipelines/.seedpipe"))
        return folder
    }

    /// report.html names what ran; where a browser is installed, the page is loaded in it for real.
    func checkReport(_ report: URL) throws {
        let html = try String(contentsOf: report, encoding: .utf8)
        #expect(html.contains("<b>3</b> generations emulated (15 s of video, nothing paid) · <b>0</b> generations paid for"),
                "an offline preview is emulated and costs nothing")
        #expect(html.contains("<video id=\"film\"") && html.contains("src=\"film.mp4\""))
        let browser = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { Referee.which($0) }.first
        guard let browser else { return }
        let dump = try ChildProcess.run(URL(fileURLWithPath: browser),
                                        ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", report.absoluteString])
        #expect(dump.status == 0, "\(dump.stderr.suffix(500))")
        let dom = dump.output
        #expect(dom.contains("id=\"timeline\""))
        #expect(dom.components(separatedBy: "seedance.generate").count - 1 == 3, "three generations on the timeline")
        #expect(dom.contains("id=\"seams\"") && dom.components(separatedBy: "continuous").count - 1 == 2)
        #expect(dom.contains("id=\"poster\""))
        #expect(dom.contains("LUFS"))
    }

    @Test func everyShippedPipelineValidates() async throws {
        let folder = try copy()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.file("pipelines").path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 2)
        for file in files {
            let outcome = try await SeedpipeBinary.run(["validate", "pipelines/\(file)"], in: folder)
            #expect(outcome.status == 0, "\(file): \(outcome.stderr)")
        }
    }

    @Test func waterfallJourneyRunsOfflineThenRerunsFromTheCache() async throws {
        let folder = try copy()
        let first = try await SeedpipeBinary.run(["run", "pipelines/waterfall-journey.yaml", "--out", "out", "--emulator-latency", "0.1"],
                                           in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("offline preview"))
        let film = folder.file("out/film.mp4")
        let info = try MediaInfo.probe(film)
        #expect(abs((info.video?.duration ?? 0) - 15) <= 1.0 / 24, "three 5 s shots")
        #expect(try AudioLevels.analyze(film).hasAudio)
        // The loudness-normalize plugin mastered it, by the ffmpeg referee's meter.
        let loudness = try #require(try Referee.loudnessAndTruePeak(film))
        #expect(abs(loudness.loudness - -14) <= 0.5 && loudness.truePeak < -1, "\(loudness)")
        // The captions plugin timed one cue per shot from the prompts.
        let srt = try String(contentsOf: folder.file("out/captions.srt"), encoding: .utf8)
        #expect(srt.hasPrefix("1\n00:00:00,000 --> 00:00:05,000\nShot 1: a moss-covered"))
        #expect(srt.contains("3\n00:00:10,000 --> 00:00:15,000\nShot 3:"))
        #expect(try String(contentsOf: folder.file("out/subtitles.vtt"), encoding: .utf8).hasPrefix("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n"))
        #expect(try MediaInfo.probe(folder.file("out/poster.jpg")).video?.width == 640)
        try checkReport(folder.file("out/report.html"))
        let again = try await SeedpipeBinary.run(["run", "pipelines/waterfall-journey.yaml", "--out", "out", "--json"], in: folder)
        #expect(again.status == 0)
        // Every line is a RunEvent (docs/EVENTS.md): run_started, a cache hit for each of eight stages
        // (the chain reports its three shots, its seams and its colour match as their own), run_finished.
        let events = try again.stdout.split(separator: "\n").map { try RunEvent(jsonLine: $0) }
        #expect(events.count == 14, "\(again.stdout)")
        guard case .runStarted(let started)? = events.first, case .runFinished(let finished)? = events.last else {
            Issue.record("run_started first, run_finished last: \(again.stdout)")
            return
        }
        #expect(started.version == RunEvent.version && started.generations == 0 && started.stages.count == 12)
        #expect(events.dropFirst().dropLast().allSatisfy { if case .cacheHit = $0 { true } else { false } }, "\(again.stdout)")
        #expect(finished.status == .succeeded && finished.exitCode == 0 && finished.generationsPaid == 0 && finished.failed.isEmpty)
        #expect(finished.outputs["film"] == ["film.mp4"] && finished.outputs["poster"] == ["poster.jpg"], "\(finished.outputs)")
        #expect(again.stderr.contains("0 generations to pay for"))
        #expect(!again.stderr.contains("offline preview"), "nothing to generate, so no backend was started")
        // The made film as a timeline for editors: the clips, their sound, the theme, the captions.
        try await checkExports(in: folder, pipeline: "pipelines/waterfall-journey.yaml",
                               shots: ["shots-1", "shots-2", "shots-3"], overlap: 0, music: true)
    }

    @Test func productTeaserCaptionsFollowTheCrossfades() async throws {
        let folder = try copy()
        let run = try await SeedpipeBinary.run(["run", "pipelines/product-teaser.yaml", "--out", "out", "--emulator-latency", "0.1"],
                                         in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        // Four 4 s shots, each join overlapping by the 0.5 s crossfade: cues every 3.5 s.
        let srt = try String(contentsOf: folder.file("out/captions.srt"), encoding: .utf8)
        #expect(srt.contains("1\n00:00:00,000 --> 00:00:03,500\nMeet the kettle.\n"))
        #expect(srt.contains("4\n00:00:10,500 --> 00:00:14,500\nRed. Quiet. Yours.\n"))
        let film = try MediaInfo.probe(folder.file("out/film.mp4"))
        #expect(abs((film.video?.duration ?? 0) - 14.5) <= 1.0 / 24)
        // The crossfades become transitions of 12 frames (0.5 s at 24 fps) in every format.
        try await checkExports(in: folder, pipeline: "pipelines/product-teaser.yaml",
                               shots: ["shot1", "shot2", "shot3", "shot4"], overlap: 12, music: false)
    }

    @Test func storyboardOpensOnTheTitleCardPluginDraftsTakesAndFinishesThePicks() async throws {
        let folder = try copy()
        let run = try await SeedpipeBinary.run(["run", "pipelines/storyboard.yaml", "--out", "out", "--emulator-latency", "0.1"],
                                         in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("emulated 6 generations"), "the draft: 3 shots × 2 takes: \(run.stderr)")
        let title = try FrameImage(contentsOf: folder.file("out/title.png"))
        #expect(title.width == 1280 && title.height == 720)
        // The first shot starts on the card: its first frame is the card (through H.264), at the draft's 480p.
        let first = try VideoFile(folder.file("out/film.mp4")).frame(at: 0)
        #expect(first.height == 480)
        let similarity = first.psnr(to: try title.scaled(width: first.width, height: first.height)) ?? 0
        // (The card's small text, scaled down by two different scalers, keeps this under 30 dB at 480p.)
        #expect(similarity > 27, "first frame against the title card: \(similarity) dB")
        // The same card bytes on a rerun: nothing is generated again.
        let again = try await SeedpipeBinary.run(["run", "pipelines/storyboard.yaml", "--out", "out"], in: folder)
        #expect(again.stderr.contains("0 generations to pay for"), "\(again.stderr)")
        // `takes` lists the shots in the order the pipeline declares them (board-1 runs last: it waits on the card).
        let takes = try await SeedpipeBinary.run(["takes", "pipelines/storyboard.yaml"], in: folder)
        #expect(takes.status == 0, "\(takes.stderr)")
        let listed = takes.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map { $0.split(separator: ":")[0] }
        #expect(listed == ["board-1", "board-2", "board-3"], "\(takes.stdout)")
        let json = try await SeedpipeBinary.run(["takes", "pipelines/storyboard.yaml", "--json"], in: folder)
        let shots = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["shots"] as? [[String: Any]]
        #expect(shots?.map { $0["shot"] as? String } == ["board-1", "board-2", "board-3"], "\(json.stdout.prefix(300))")

        // Pick, then finish: one 1080p generation per shot, the picked seeds.
        let pick = try await SeedpipeBinary.run(["pick", "pipelines/storyboard.yaml", "board", "2", "2"], in: folder)
        #expect(pick.status == 0, "\(pick.stderr)")
        let plan = try await SeedpipeBinary.run(["plan", "pipelines/storyboard.yaml", "--profile", "final"], in: folder)
        #expect(plan.stdout.contains("final: 3 generations at 1080p, 15 s of video"), "\(plan.stdout)")
        let final = try await SeedpipeBinary.run(["run", "pipelines/storyboard.yaml", "--profile", "final", "--emulator-latency", "0.1"],
                                           in: folder)
        #expect(final.status == 0 && final.stderr.contains("emulated 3 generations"), "\(final.stderr)")
        let film = try MediaInfo.probe(folder.file("out/storyboard/final/film.mp4"))
        #expect(film.video?.width == 1920 && film.video?.height == 1080)
    }

    @Test func recurringCharacterHoldsItsCastAcrossFourShots() async throws {
        let folder = try copy()
        let run = try await SeedpipeBinary.run(["run", "pipelines/recurring-character.yaml", "--out", "out", "--emulator-latency", "0.1"],
                                               in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("out/run.json"))) as! [String: Any]
        let shots = (summary["stages"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "seedance.generate" }
        #expect(shots.count == 4)
        // Every shot cites the cast as the API wants and sends the one card and the one theme.
        let journal = await journaledGenerations(folder.file("pipelines/.seedpipe"))
        #expect(journal.count == 4)
        for entry in journal {
            let body = entry.requestBody.object ?? [:]
            #expect(body["prompt"]?.string?.contains("image 1 shows the character, a courier in a yellow raincoat") == true)
            #expect(body["reference_images"]?.list?.count == 1 && body["reference_audios"]?.list?.count == 1)
        }
        #expect(Set(journal.compactMap { $0.requestBody.object?["reference_images"]?.list?.first?.string }).count == 1, "uploaded once")
        // The card is in every shot's picture (an inset, bottom right, in the card's gold).
        let film = try VideoFile(folder.file("out/film.mp4"))
        for second in [1.0, 5.0, 9.0, 13.0] {
            let frame = try film.frame(at: second)
            let x = frame.width - frame.width / 40 - frame.width / 10, y = frame.height - frame.height / 40 - frame.height / 20
            let offset = (y * frame.width + x) * 3
            let (r, g, b) = (Int(frame.pixels[offset]), Int(frame.pixels[offset + 1]), Int(frame.pixels[offset + 2]))
            #expect(r > 120 && g > 80 && b < 80 && r > b + 60, "the gold card at \(second) s: \((r, g, b))")
        }
    }

    /// A plugin whose program is missing stops only the pipelines that use it: the others
    /// validate with a warning naming it, the one that uses it fails naming it.
    @Test func aBrokenPluginStopsOnlyThePipelinesThatUseIt() async throws {
        let folder = try copy()
        let manifest = folder.file("plugins/loudness-normalize/plugin.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        #expect(text.contains("command: seedpipe-loudness-normalize"))
        try text.replacingOccurrences(of: "command: seedpipe-loudness-normalize", with: "command: not-built-yet")
            .write(to: manifest, atomically: true, encoding: .utf8)
        let teaser = try await SeedpipeBinary.run(["validate", "pipelines/product-teaser.yaml"], in: folder)
        #expect(teaser.status == 0, "\(teaser.stderr)")
        let warnings = teaser.stderr.components(separatedBy: "\n").filter { $0.contains(": warning: ") }
        #expect(warnings.count == 1, "\(teaser.stderr)")
        #expect(warnings.first?.contains("plugins/loudness-normalize/plugin.yaml:") == true
                && warnings.first?.contains("cannot find its program `not-built-yet`") == true, "\(warnings)")
        // `run` loads its pipeline twice (to plan, then to run) and still warns once.
        try "pipeline: words\nvars: { thing: kettle }\nstages:\n  say: { uses: template, with: { template: \"a {{thing}}\" } }\n"
            .write(to: folder.file("pipelines/words.yaml"), atomically: true, encoding: .utf8)
        let words = try await SeedpipeBinary.run(["run", "pipelines/words.yaml", "--out", "out"], in: folder)
        #expect(words.status == 0, "\(words.stderr)")
        #expect(words.stderr.components(separatedBy: "cannot find its program").count == 2, "\(words.stderr)")
        let waterfall = try await SeedpipeBinary.run(["validate", "pipelines/waterfall-journey.yaml"], in: folder)
        #expect(waterfall.status == 2)
        #expect(waterfall.stderr.contains("unknown kind `loudness-normalize`"), "\(waterfall.stderr)")
        #expect(waterfall.stderr.contains("error: plugin loudness-normalize: cannot find its program `not-built-yet`"), "\(waterfall.stderr)")
    }

    @Test func theShippedPluginsAreListedAndPassTheirChecks() async throws {
        let folder = try copy()
        let list = try await SeedpipeBinary.run(["plugins", "ls"], in: folder)
        #expect(list.status == 0, "\(list.stderr)")
        for name in ["captions 1.0.0", "loudness-normalize 1.0.0", "title-card 1.0.0"] {
            #expect(list.stdout.contains(name), "\(list.stdout)")
        }
        #expect(list.stdout.contains("(project)"))
        let check = try await SeedpipeBinary.run(["plugins", "check"], in: folder)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("title-card/title-card: example ok"))
        #expect(check.stdout.contains("3 plugins ok"))
        // A broken manifest is named with its line and column, and the check fails.
        try "name: captions\nversion: 1\ncommand: captions.py\nstages:\n  captions:\n    outputs: { srt: subtitles }\n"
            .write(to: folder.file("plugins/captions/plugin.yaml"), atomically: true, encoding: .utf8)
        let broken = try await SeedpipeBinary.run(["plugins", "check", "plugins/captions"], in: folder)
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("plugins/captions/plugin.yaml:6:21: error: port `srt`: `subtitles` is not a type"), "\(broken.stderr)")
        let validate = try await SeedpipeBinary.run(["validate", "pipelines/product-teaser.yaml"], in: folder)
        #expect(validate.status == 2 && validate.stderr.contains("plugin.yaml:6:21"), "\(validate.stderr)")
    }
}
