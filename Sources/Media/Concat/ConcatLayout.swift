import Foundation

extension Concatenation {
    /// Where each clip lands in a joined film, in frames: what ``join(_:to:method:transition:corrections:progress:)``
    /// makes of the clips, worked out from their headers alone (nothing is decoded). A
    /// timeline of the film (an editor's cut list) is built from this, so it matches the
    /// film to the frame.
    public struct Layout: Sendable, Equatable {
        /// The film's frame rate: the first clip's nominal rate (the rate its frames were made
        /// at, 30 for a phone clip that averages 27.9), rounded to a whole number a second.
        public var frameRate: Int
        /// The film's picture size (the first clip's as shown, rounded down to even numbers).
        public var width: Int
        public var height: Int
        /// Frames each clip gives the film, before any overlap.
        public var clipFrames: [Int]
        /// Frames each join overlaps (0 for cuts).
        public var overlapFrames: Int
        /// Whether each clip has a sound track.
        public var clipHasAudio: [Bool]

        /// The film frame each clip starts on.
        public var starts: [Int] {
            var starts: [Int] = []
            var position = 0
            for frames in clipFrames {
                starts.append(position)
                position += frames - overlapFrames
            }
            return starts
        }

        /// The film's length in frames.
        public var frames: Int { clipFrames.reduce(0, +) - overlapFrames * max(0, clipFrames.count - 1) }
    }

    /// The layout of the film that joining `clips` with `transition` makes.
    public static func layout(of clips: [URL], transition: Transition = .none) throws -> Layout {
        guard !clips.isEmpty else { throw MediaError(.invalidArgument, "nothing to lay out: give at least one clip", path: "") }
        let formats = try clips.map(ClipFormat.init(url:))
        let frameRate = JoinGeometry.frameRate(of: formats)
        let clipFrames = formats.map { JoinGeometry.frames(of: $0, at: frameRate) }
        var overlap = 0
        if case .crossfade(let seconds) = transition { overlap = JoinGeometry.fadeFrames(seconds, clipFrames: clipFrames, at: frameRate) }
        return Layout(frameRate: frameRate, width: Int(formats[0].video.displayWidth) & ~1,
                      height: Int(formats[0].video.displayHeight) & ~1,
                      clipFrames: clipFrames, overlapFrames: overlap, clipHasAudio: formats.map { $0.audio != nil })
    }
}

/// The arithmetic of a join, shared by the re-encoder and ``Concatenation/layout(of:transition:)``.
enum JoinGeometry {
    /// The first clip's nominal frame rate, rounded (25 when it does not say), 1 to 240. The
    /// nominal rate, not the average: a variable-rate phone clip made at 30 that dropped
    /// frames averages 27.9, and its film should be 30.
    static func frameRate(of clips: [ClipFormat]) -> Int {
        let rate = clips[0].video.nominalRate ?? 25
        return min(max(Int(rate.rounded()), 1), 240)
    }

    /// The frames a clip gives the film: its video length at the film's rate, at least one.
    static func frames(of clip: ClipFormat, at frameRate: Int) -> Int {
        max(1, Int((clip.videoSeconds * Double(frameRate)).rounded()))
    }

    /// A crossfade's frames: never as long as the shortest clip.
    static func fadeFrames(_ seconds: Double, clipFrames: [Int], at frameRate: Int) -> Int {
        let shortest = clipFrames.min() ?? 0
        return max(0, min(Int((seconds * Double(frameRate)).rounded()), shortest - 1))
    }
}
