import Foundation
import Media
import MediaTestSupport
import Pipeline
import PipelineTesting
import SeedanceAPI
import SeedanceEmulator
import Stages
import Testing

@Suite(.timeLimit(.minutes(10))) struct ReferenceTests {
    /// A square of one colour.
    static func swatch(_ name: String, in harness: StagesHarness, red: UInt8, green: UInt8, blue: UInt8) throws -> URL {
        let url = harness.bed.file(name)
        try FrameImage(width: 200, height: 200, red: red, green: green, blue: blue).write(to: url)
        return url
    }

    /// The request bodies the journal recorded, by stage.
    static func requests(_ report: RunReport, _ harness: StagesHarness) async throws -> [String: [String: Value]] {
        var bodies: [String: [String: Value]] = [:]
        for (name, stage) in report.stages where stage.kind == GenerateStage.kind {
            guard let key = stage.key else { continue }
            bodies[name] = await GenerationEntry.find(key, in: harness.bed.storage.journal)?.requestBody.object
        }
        return bodies
    }

    @Test func filesURLsAndStageOutputsReachTheRequestAndTheCastIsCited() async throws {
        let harness = try await StagesHarness()
        _ = try Self.swatch("hero.png", in: harness, red: 220, green: 30, blue: 30)
        try SyntheticClip(duration: 1, tone: nil).render(to: harness.bed.file("motion.mp4"))
        // A URL the service fetches itself (one of the emulator's own files here).
        let remote = try await harness.seedance.client().upload([try Self.swatch("style.png", in: harness, red: 30, green: 30, blue: 220)])[0]
        let yaml = """
            defaults:
              seedance: { resolution: 480p, duration: 4 }
            cast:
              hero: { image: hero.png, note: "a courier in a red coat" }
            stages:
              still: { uses: thumbnail, with: { video: motion.mp4, at: 0.5 } }
              shot:
                uses: seedance.generate
                with:
                  prompt: "{{cast.hero}} ({{cast.hero.note}}) in the style of image 2, lit like image 3; moves like video 1"
                  cast: [hero]
                  reference_images: ["\(remote)", "${still.image}"]
                  reference_videos: [motion.mp4]
            outputs: { clip: "${shot.video}" }
            """
        let report = try await harness.run(yaml)
        let body = try #require(try await Self.requests(report, harness)["shot"])
        #expect(body["prompt"]?.string == "image 1 (a courier in a red coat) in the style of image 2, lit like image 3; moves like video 1")
        let images = (body["reference_images"]?.list ?? []).compactMap { $0.string }
        #expect(images.count == 3 && images[1] == remote, "the cast first, then what was given: \(images)")
        #expect(images[0] != images[2] && images.allSatisfy { $0.hasPrefix("http://127.0.0.1") })
        #expect(body["reference_videos"]?.list?.count == 1)
        #expect(body["first_frame_url"] == nil)
        // The emulator shows each reference image as an inset along the bottom, from the right.
        let frame = try VideoFile(try await harness.file(report.outputs["clip"])).frame(at: 2)
        func pixel(_ x: Int, _ y: Int) -> (Int, Int, Int) {
            let offset = (y * frame.width + x) * 3
            return (Int(frame.pixels[offset]), Int(frame.pixels[offset + 1]), Int(frame.pixels[offset + 2]))
        }
        let insetWidth = frame.width / 5, margin = frame.width / 40, row = frame.height - frame.height / 10 - margin
        let hero = pixel(frame.width - margin - insetWidth / 2, row), style = pixel(frame.width - 2 * margin - insetWidth * 3 / 2, row)
        #expect(hero.0 > 150 && hero.1 < 90 && hero.2 < 90, "image 1 (red) is the first inset: \(hero)")
        #expect(style.2 > 150 && style.0 < 90, "image 2 (blue) is the second: \(style)")
        // The reference video's frames show through: without it the same shot looks different.
        let without = try await harness.run(yaml.replacingOccurrences(of: "      reference_videos: [motion.mp4]\n", with: "")
            .replacingOccurrences(of: "; moves like video 1", with: ""))
        let plain = try VideoFile(try await harness.file(without.outputs["clip"])).frame(at: 2)
        let difference = try #require(plain.psnr(to: frame))
        #expect(difference < 30, "the video shows through: \(difference) dB apart")
        await harness.stop()
    }

    @Test func eachFileIsUploadedOnceAcrossShotsAndReruns() async throws {
        let harness = try await StagesHarness()
        _ = try Self.swatch("hero.png", in: harness, red: 200, green: 160, blue: 20)
        try SyntheticClip(duration: 2, tone: .init(frequency: 1000, level: -10)).render(to: harness.bed.file("theme.mp4"))
        func yaml(_ beat: String) -> String {
            """
            defaults:
              seedance: { resolution: 480p, duration: 4 }
            cast:
              hero: { image: hero.png }
              theme: { audio: theme.mp4 }
            stages:
              one: { uses: seedance.generate, with: { prompt: "{{cast.hero}} waves", cast: [hero, theme] } }
              two: { uses: seedance.generate, with: { prompt: "{{cast.hero}} \(beat)", cast: [hero, theme] } }
            outputs: { two: "${two.video}" }
            """
        }
        let report = try await harness.run(yaml("runs"))
        #expect(await harness.emulator.stats().uploads == 2, "one upload per distinct file, though two shots send both")
        _ = try await harness.run(yaml("jumps"))
        #expect(await harness.emulator.stats().submitted == 3)
        #expect(await harness.emulator.stats().uploads == 2, "the rerun found both uploads in the journal")
        // The reference audio is the clip's soundtrack: its 1 kHz tone, not the emulator's ambience.
        let clip = try await harness.file(report.outputs["two"])
        let sound = try AudioSamples.read(clip, channels: 1)
        let crossings = zip(sound.interleaved, sound.interleaved.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        let frequency = Double(crossings) / sound.duration
        #expect(abs(frequency - 1000) < 50, "dominant frequency \(frequency) Hz")
        await harness.stop()
    }

    @Test func everyReferenceRuleIsCheckedBeforeAnythingIsPaidForWithItsLocation() async throws {
        let harness = try await StagesHarness()
        let hero = try Self.swatch("hero.png", in: harness, red: 1, green: 2, blue: 3)
        try SyntheticClip(duration: 1).render(to: harness.bed.file("clip.mp4"))
        func problems(_ yaml: String) -> String {
            do {
                _ = try harness.load(yaml)
                return ""
            } catch {
                return "\(error)"
            }
        }
        let ten = Array(repeating: "hero.png", count: 10).joined(separator: ", ")
        let tooMany = problems("""
            stages:
              shot: { uses: seedance.generate, with: { prompt: "x", reference_images: [\(ten)] } }
            """)
        #expect(tooMany.contains("pipeline.yaml:2:57: error: stage `shot`: `reference_images` takes at most 9 (got 10)"), "\(tooMany)")
        // A prompt a template makes, citing an image the shot does not send.
        let citation = problems("""
            stages:
              words: { uses: template, with: { template: "Shot {{index}}: image 1 meets image {{n}}", each: [{ n: 1 }, { n: 3 }] } }
              a: { uses: seedance.generate, with: { prompt: "${words.texts[0]}", reference_images: [hero.png, hero.png] } }
              b: { uses: seedance.generate, with: { prompt: "${words.texts[1]}", reference_images: [hero.png, hero.png] } }
            """)
        #expect(citation.contains("pipeline.yaml:4:41: error: stage `b`: prompt: cites image 3 but reference_images has 2"), "\(citation)")
        #expect(!citation.contains("stage `a`"), "\(citation)")
        // A chain starts shots 2… on the last frame: with the cast's image, the API would refuse them.
        let chain = problems("""
            cast:
              hero: { image: hero.png }
            stages:
              shots: { uses: seedance.chain, with: { prompts: ["one", "two"], cast: [hero] } }
            """)
        #expect(chain.contains("pipeline.yaml:4:18: error: stage `shots-2`: first_frame: cannot be sent with reference images"), "\(chain)")
        #expect(chain.contains("storyboard keyframe") && !chain.contains("stage `shots-1`"), "\(chain)")
        let missing = problems("""
            cast:
              hero: { image: nobody.png }
            stages:
              shot: { uses: seedance.generate, with: { prompt: "x", cast: [hero], reference_audios: [clip.mp4] } }
            """)
        #expect(missing.contains("pipeline.yaml:4:17: error: stage `shot`: reference_images `nobody.png`: no such file"), "\(missing)")
        let wrongKind = problems("""
            stages:
              shot: { uses: seedance.generate, with: { prompt: "x", reference_images: [clip.mp4], reference_audios: [\(hero.lastPathComponent)] } }
            """)
        #expect(wrongKind.contains("reference_images `clip.mp4` is a video, not an image"), "\(wrongKind)")
        #expect(wrongKind.contains("reference_audios `hero.png` is an image, not audio"), "\(wrongKind)")
        // Tags a generation's prompt does not fill in would be sent, and paid for, as written.
        let tagged = problems("""
            vars: { place: the falls }
            stages:
              shot: { uses: seedance.generate, with: { prompt: "A fox at {{plaec}} by {{ place }}" } }
            """)
        #expect(tagged.contains("pipeline.yaml:3:") && tagged.contains("prompt: {{plaec}} is not filled in"), "\(tagged)")
        #expect(tagged.contains("{{place}} is not filled in") && tagged.contains("write `${vars.place}`"), "\(tagged)")
        // A file FFmpeg cannot read: its own reason, not a guess.
        try Data("not a video at all".utf8).write(to: harness.bed.file("garbled.mp4"))
        let unreadable = problems("""
            stages:
              shot: { uses: seedance.generate, with: { prompt: "x", reference_videos: [garbled.mp4] } }
            """)
        #expect(unreadable.contains("`garbled.mp4` cannot be read as media (Invalid data found when processing input)"), "\(unreadable)")
        let unknownMember = problems("""
            cast:
              hero: { image: hero.png }
            stages:
              shot: { uses: seedance.generate, with: { prompt: "{{cast.villain}} waits", cast: [hero, villian] } }
            """)
        #expect(unknownMember.contains("no cast member `villian`") && unknownMember.contains("(the cast: hero)"), "\(unknownMember)")
        #expect(await harness.emulator.stats().submitted == 0)
        await harness.stop()
    }
}
