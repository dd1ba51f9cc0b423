import Foundation
import Pipeline
import Testing

/// A generation's length is known before it is made (its `duration`): a trim past a clip's
/// end, a crossfade as long as a clip, a frame before the film's start are refused at
/// `validate`, where they are written, before anything is paid for.
@Suite(.timeLimit(.minutes(10))) struct KnownLengthTests {
    func problems(_ yaml: String) async throws -> String {
        let harness = try await StagesHarness()
        defer { Task { await harness.stop() } }
        do {
            _ = try harness.load(yaml)
            return ""
        } catch {
            return "\(error)"
        }
    }

    static let shots = """
        stages:
          a: { uses: seedance.generate, with: { prompt: "one", duration: 5 } }
          b: { uses: seedance.generate, with: { prompt: "two", duration: 4 } }

        """

    @Test func aTrimLongerThanItsClipIsRefused() async throws {
        let trimmed = try await problems(Self.shots + """
              film: { uses: concat, with: { clips: ["${a.video}", "${b.video}"], trim_head: [9, 0] } }
            """)
        #expect(trimmed.contains("pipeline.yaml:4:70") && trimmed.contains("stage `film`: trim_head: cuts 9 s from clip 1 of 2, which lasts 5 s"),
                "\(trimmed)")
        let cut = try await problems(Self.shots + """
              part: { uses: trim, with: { video: "${b.video}", start: 6 } }
            """)
        #expect(cut.contains("stage `part`: start: 6 is past the end of the clip (4 s, as its generation asks)"), "\(cut)")
        let frames = try await problems(Self.shots + """
              part: { uses: trim, with: { video: "${b.video}", start: 1, duration: "96f" } }
            """)
        #expect(frames.contains("pipeline.yaml:4:62") && frames.contains("duration: 96f from 1 s runs past the end of the clip (4 s"), "\(frames)")
    }

    @Test func aCrossfadeAsLongAsAClipIsRefused() async throws {
        let long = try await problems(Self.shots + """
              film: { uses: concat, with: { clips: ["${a.video}", "${b.video}"], transition: crossfade, transition_seconds: 4 } }
            """)
        #expect(long.contains("transition_seconds: a 4 s crossfade is as long as clip 2 (4 s)"), "\(long)")
        // Through a trim: the cut's length is known too.
        let cut = try await problems(Self.shots + """
              part: { uses: trim, with: { video: "${a.video}", start: 2.5 } }
              film: { uses: concat, with: { clips: ["${part.video}", "${b.video}"], transition: crossfade, transition_seconds: 3 } }
            """)
        #expect(cut.contains("a 3 s crossfade is as long as clip 1 (2.5 s)"), "\(cut)")
    }

    @Test func whatFitsValidatesAndAThumbnailBeforeTheStartDoesNot() async throws {
        let fits = try await problems(Self.shots + """
              film: { uses: concat, with: { clips: ["${a.video}", "${b.video}"], trim_head: 1, transition: crossfade, transition_seconds: 0.5 } }
              poster: { uses: thumbnail, with: { video: "${film.video}", at: 2 } }
            outputs: { film: "${film.video}" }
            """)
        #expect(fits.isEmpty, "\(fits)")
        let before = try await problems(Self.shots + """
              poster: { uses: thumbnail, with: { video: "${a.video}", at: -3 } }
            """)
        #expect(before.contains("at must be from 0"), "\(before)")
    }
}
