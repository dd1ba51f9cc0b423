import Foundation

/// The commented starter pipelines `seedpipe init` writes: each validates and runs offline as
/// it is (through the built-in emulator without SEGMIND_API_KEY), using only built-in stages.
public enum StarterPipeline: String, CaseIterable, Sendable {
    /// Shots chained on each other's last frames, joined, with a poster.
    case chain
    /// Shots between keyframes, all generated at once.
    case storyboard
    /// Independent shots in parallel, crossfaded, sound checked.
    case teaser

    /// The file's text, for a pipeline called `name`.
    public func text(name: String) -> String {
        Self.header(name, summary: summary) + body
    }

    var summary: String {
        switch self {
        case .chain: "A chain: each shot starts on the last frame of the one before (so they run one after another),\n# joined into one film, with a poster."
        case .storyboard: "A storyboard: shot k goes from keyframe k to keyframe k+1, so every shot generates at once.\n# The keyframes here are frames of one establishing shot; use your own images instead."
        case .teaser: "A teaser: independent shots generated in parallel, joined with crossfades, its sound checked."
        }
    }

    static func header(_ name: String, summary: String) -> String {
        """
        # \(summary)
        #
        #   seedpipe plan \(name).yaml       what it makes and what it costs, before anything is paid
        #   seedpipe run \(name).yaml        the film in out/\(name)/ (offline, through the built-in
        #                                   emulator, until SEGMIND_API_KEY is set)
        #   seedpipe stages KIND             the keys a stage kind takes (seedpipe stages lists the kinds)
        #   seedpipe schema -o pipeline.schema.json, then a first line
        #   `# yaml-language-server: $schema=pipeline.schema.json` lets your editor complete this file.
        pipeline: \(name)

        """
    }

    var body: String {
        switch self {
        case .chain:
            return """
                vars:
                  place: "a lighthouse on a rocky coast"    # --var place="a glacier" changes it for one run
                defaults:
                  # Every generation: 480p for cheap drafts, 720p or 1080p to finish; 4, 5, 6, 8, 10, 12 or 15 s a shot.
                  seedance: { resolution: 720p, aspect_ratio: "16:9", duration: 5 }
                stages:
                  prompts:
                    uses: template                  # Mustache: one text per item of `each`
                    with:
                      template: "Shot {{index}} of {{count}}: {{place}} {{beat}}. The camera drifts slowly."
                      each:
                        - { beat: "at dawn, mist over the water" }
                        - { beat: "at noon, waves breaking on the rocks" }
                        - { beat: "at dusk, the lamp turning on" }
                  shots:
                    uses: seedance.chain            # shot k+1 starts on shot k's last frame; seams are measured
                    with: { prompts: "${prompts.texts}" }
                  film:
                    uses: concat                    # stream copy when the clips allow it
                    with: { clips: "${shots.clips}" }
                  poster:
                    uses: thumbnail
                    with: { video: "${film.video}", at: 1, width: 640 }
                outputs:
                  film: "${film.video}"
                  poster: "${poster.image}"

                """
        case .storyboard:
            return """
                defaults:
                  seedance: { resolution: 720p, aspect_ratio: "16:9", duration: 5 }
                stages:
                  look:
                    uses: seedance.generate         # one shot to draw the keyframes from
                    with: { prompt: "A wide valley with a river, seen from a hill, from first light to full day" }
                  key1: { uses: thumbnail, with: { video: "${look.video}", at: 0 } }
                  key2: { uses: thumbnail, with: { video: "${look.video}", at: 2.5 } }
                  key3: { uses: last-frame, with: { video: "${look.video}" } }
                  board:
                    uses: seedance.storyboard       # N+1 keyframes, N prompts: N shots at once
                    with:
                      keyframes: ["${key1.image}", "${key2.image}", "${key3.image}"]
                      prompts:
                        - "Shot 1: the camera glides down toward the river as the light grows."
                        - "Shot 2: the camera follows the river into the valley in full daylight."
                  film:
                    uses: concat
                    with: { clips: "${board.clips}" }
                outputs:
                  film: "${film.video}"

                """
        case .teaser:
            return """
                vars:
                  product: "a matte red kettle"
                defaults:
                  seedance: { resolution: 720p, aspect_ratio: "9:16", duration: 4 }   # vertical, for social
                stages:
                  shot1: { uses: seedance.generate, with: { prompt: "${vars.product} on a marble counter in soft morning light. Slow orbit." } }
                  shot2: { uses: seedance.generate, with: { prompt: "Steam curls from ${vars.product}. Macro close-up, shallow focus." } }
                  shot3: { uses: seedance.generate, with: { prompt: "${vars.product} beside two cups of tea. A slow push in." } }
                  film:
                    uses: concat
                    with:
                      clips: ["${shot1.video}", "${shot2.video}", "${shot3.video}"]
                      transition: crossfade
                      transition_seconds: 0.5
                  sound:
                    uses: audio-check               # fails the run when the sound is missing or silent
                    with: { video: "${film.video}", on_problem: warn }
                  poster:
                    uses: thumbnail
                    with: { video: "${film.video}", at: 2, width: 540 }
                outputs:
                  film: "${film.video}"
                  poster: "${poster.image}"

                """
        }
    }
}
