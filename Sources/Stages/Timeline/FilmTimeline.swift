import Foundation
import Media
import Pipeline

/// A made film as an editor's timeline: its shots in order with their in and out points, the
/// crossfades between them, the clips' own sound, the soundtrack, and the captions as markers.
/// All times are whole frames at ``rate``; a shot's media starts at frame 0 of its file.
///
/// Built from what the cache holds of a run (``build(_:store:output:)``), following the film
/// back through the stages that pass a `video` on (`soundtrack`, `loudness-normalize`, …) to
/// the `concat` that joined it, and laid out by ``Media/Concatenation/layout(of:transition:)``,
/// so each shot starts and lasts in the timeline exactly as in the film. ``TimelineFormat``
/// writes it as OpenTimelineIO JSON, FCPXML 1.8 or a CMX 3600 EDL.
public struct FilmTimeline: Sendable, Equatable {
    public struct Shot: Sendable, Equatable {
        /// The stage that made the clip (e.g. `shots-2`).
        public var name: String
        public var media: URL
        /// A name for a copy of the media (`01-shots-1.mp4`).
        public var fileName: String
        /// The clip file's length.
        public var mediaFrames: Int
        /// The first film frame that shows it (where its incoming crossfade starts).
        public var filmStart: Int
        /// How many film frames show it, crossfades included.
        public var frames: Int
        public var hasAudio: Bool
    }

    /// One pass of the soundtrack's music (it loops to the film's length).
    public struct MusicCue: Sendable, Equatable {
        public var sourceIn: Int
        public var frames: Int
        public var filmStart: Int
    }

    public struct Music: Sendable, Equatable {
        public var name: String
        public var media: URL
        public var fileName: String
        public var mediaFrames: Int
        public var cues: [MusicCue]
    }

    /// A caption, from the run's SubRip captions.
    public struct Marker: Sendable, Equatable {
        public var filmStart: Int
        public var frames: Int
        public var text: String
    }

    public var name: String
    public var rate: Int
    public var width: Int
    public var height: Int
    public var shots: [Shot]
    /// Frames each crossfade overlaps (0: cuts).
    public var overlapFrames: Int
    /// Whether the clips' own sound is in the film (not with a soundtrack's `clips: drop`).
    public var clipAudio: Bool
    public var music: Music?
    public var markers: [Marker]
    /// The film's length.
    public var frames: Int

    /// Frames of a crossfade before its cut (OTIO's `in_offset`) and after it (`out_offset`).
    public var overlapBefore: Int { overlapFrames / 2 }
    public var overlapAfter: Int { overlapFrames - overlapBefore }

    /// A shot's cut range (where it is the picture on its own, half of each crossfade
    /// included): the film split at the middle of every crossfade.
    public func cut(_ index: Int) -> (start: Int, frames: Int, sourceIn: Int) {
        let head = index > 0 ? overlapBefore : 0
        let tail = index < shots.count - 1 ? overlapAfter : 0
        return (shots[index].filmStart + head, shots[index].frames - head - tail, head)
    }

    /// The shot whose cut range holds a film frame.
    public func shot(at frame: Int) -> Int {
        shots.indices.last { cut($0).start <= frame } ?? 0
    }

    /// The same timeline with every media file moved (to a copy beside the exported timeline):
    /// `move` gets each file and the name suggested for it, and returns where it now is.
    public func relocated(_ move: (_ media: URL, _ fileName: String) throws -> URL) rethrows -> FilmTimeline {
        var copy = self
        for index in copy.shots.indices { copy.shots[index].media = try move(shots[index].media, shots[index].fileName) }
        if let music { copy.music?.media = try move(music.media, music.fileName) }
        return copy
    }

    /// A stage name as part of a file name.
    static func fileName(_ stem: String, _ fileExtension: String) -> String {
        let safe = String(stem.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" })
        return fileExtension.isEmpty ? safe : "\(safe).\(fileExtension)"
    }
}

extension FilmTimeline {
    /// The timeline of a pipeline's film, from the cache: every stage it needs must be made.
    /// - Parameter output: which pipeline output is the film (default: `film`, else the
    ///   only video output).
    public static func build(_ made: MadeRun, store: any ArtifactStore, output: String? = nil) async throws -> FilmTimeline {
        let pipeline = made.pipeline.graph
        let name = try filmOutput(made, named: output)
        guard let film = made.outputs[name]?.artifact else {
            let file = pipeline.stages.lazy.compactMap(\.location?.file).first ?? "\(pipeline.name).yaml"
            let count = made.missing.count
            throw PipelineError("the film (output `\(name)`) is not made yet: \(count) \(count == 1 ? "stage is" : "stages are") not in the cache (\(made.missing.prefix(5).joined(separator: ", "))\(count > 5 ? ", …" : ""))",
                                fix: "run it first: seedpipe run \(file) (with the same --cache and --var)")
        }

        // Back from the film to the concat that joined it, noting a soundtrack on the way.
        var digest = film.digest
        var soundtrack: ActionRecord?
        var concat: ActionRecord?
        var visited: Set<String> = []
        while concat == nil {
            guard visited.insert(digest).inserted, let producer = made.producer(of: digest),
                  let record = made.records[producer.stage] else {
                throw PipelineError("the film (output `\(name)`) was not joined by a `concat` stage, so it has no shots to lay out")
            }
            if record.kind == "concat" {
                concat = record
            } else if let video = record.values["video"]?.artifact {
                if record.kind == "soundtrack", soundtrack == nil { soundtrack = record }
                digest = video.digest
            } else {
                throw PipelineError("the film (output `\(name)`) comes from `\(producer.stage)` (\(record.kind)), which takes no `video` to follow back to a `concat`")
            }
        }
        let joined = concat!

        let clipArtifacts = (joined.values["clips"]?.list ?? []).compactMap(\.artifact)
        let clipFiles = try await store.verifiedLocations(of: clipArtifacts)
        let transition: Concatenation.Transition = joined.values["transition"]?.string == "crossfade"
            ? .crossfade(seconds: joined.values["transition_seconds"]?.number ?? 0.5) : .none
        let layout = try await MediaThread.run { try Concatenation.layout(of: clipFiles, transition: transition) }
        let starts = layout.starts
        let shots = clipArtifacts.indices.map { index in
            let stage = shotName(of: clipArtifacts[index].digest, in: made) ?? "shot-\(index + 1)"
            return Shot(name: stage, media: clipFiles[index],
                        fileName: fileName(String(format: "%02d-", index + 1) + stage, clipArtifacts[index].fileExtension),
                        mediaFrames: layout.clipFrames[index], filmStart: starts[index],
                        frames: layout.clipFrames[index], hasAudio: layout.clipHasAudio[index])
        }
        let rate = layout.frameRate

        var music: Music?
        if let soundtrack, let artifact = soundtrack.values["music"]?.artifact {
            let file = try await store.verifiedLocation(of: artifact)
            let info = try await MediaThread.run { try MediaInfo.probe(file) }
            let seconds = info.audio?.duration ?? info.duration ?? 0
            guard seconds > 0 else { throw MediaError(.notMedia, "has no length to loop", path: file.path) }
            var cues: [MusicCue] = []
            var pass = 0
            while true {
                let start = Int((Double(pass) * seconds * Double(rate)).rounded())
                guard start < layout.frames else { break }
                let end = min(Int((Double(pass + 1) * seconds * Double(rate)).rounded()), layout.frames)
                cues.append(MusicCue(sourceIn: 0, frames: end - start, filmStart: start))
                pass += 1
            }
            let musicName = made.producers(of: artifact.digest).first?.stage ?? "music"
            music = Music(name: musicName, media: file, fileName: fileName(musicName, artifact.fileExtension), mediaFrames: Int((seconds * Double(rate)).rounded()), cues: cues)
        }

        var markers: [Marker] = []
        if let captions = made.outputs.keys.sorted().lazy.compactMap({ made.outputs[$0]?.artifact })
            .first(where: { $0.fileExtension == "srt" }) {
            let text = try String(contentsOf: try await store.verifiedLocation(of: captions), encoding: .utf8)
            markers = SubRip.cues(text).compactMap { cue in
                let start = Int((cue.start * Double(rate)).rounded())
                let end = min(Int((cue.end * Double(rate)).rounded()), layout.frames)
                return start < layout.frames && end > start ? Marker(filmStart: start, frames: end - start, text: cue.text) : nil
            }
        }

        return FilmTimeline(name: pipeline.name, rate: rate, width: layout.width, height: layout.height, shots: shots,
                            overlapFrames: layout.overlapFrames,
                            clipAudio: soundtrack?.values["clips"]?.string != "drop" && layout.clipHasAudio.contains(true),
                            music: music, markers: markers, frames: layout.frames)
    }

    /// The stage that made a clip: the first to output it, followed back through stages that
    /// pass a list of clips on item by item (a `color-match` outputs its item k, corrected or
    /// not, for its input item k), so a corrected shot keeps its generation's name.
    static func shotName(of digest: String, in made: MadeRun) -> String? {
        var digest = digest
        var visited: Set<String> = []
        while visited.insert(digest).inserted, let producer = made.producers(of: digest).first {
            guard let record = made.records[producer.stage],
                  let outputs = record.outputs[producer.port]?.list, let inputs = record.values[producer.port]?.list,
                  outputs.count == inputs.count,
                  let index = outputs.firstIndex(where: { $0.artifact?.digest == digest }),
                  let source = inputs[index].artifact
            else { return producer.stage }
            digest = source.digest
        }
        return nil
    }

    private static func filmOutput(_ made: MadeRun, named output: String?) throws -> String {
        let outputs = made.pipeline.graph.outputs
        if let output {
            guard outputs[output] != nil else {
                throw PipelineError("the pipeline has no output `\(output)`",
                                    fix: "choose one of: \(outputs.keys.sorted().joined(separator: ", "))")
            }
            return output
        }
        if outputs["film"] != nil { return "film" }
        let videos = outputs.keys.sorted().filter { name in
            outputs[name]!.references.first.flatMap { reference in
                made.pipeline.step(reference.stage)?.stage.signature.outputs.first { $0.name == reference.output }?.type
            } == .video
        }
        guard videos.count == 1 else {
            throw PipelineError(videos.isEmpty ? "the pipeline has no video output to export" : "the pipeline has several video outputs",
                                fix: "name the film with --output (one of: \(outputs.keys.sorted().joined(separator: ", ")))")
        }
        return videos[0]
    }
}

/// SubRip (.srt) cues: index, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, text lines, a blank line.
enum SubRip {
    struct Cue: Equatable {
        var start: Double
        var end: Double
        var text: String
    }

    static func cues(_ text: String) -> [Cue] {
        var cues: [Cue] = []
        let blocks = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
        for block in blocks {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            guard let timing = lines.firstIndex(where: { $0.contains("-->") }) else { continue }
            let ends = lines[timing].components(separatedBy: "-->").map { $0.trimmingCharacters(in: .whitespaces) }
            guard ends.count == 2, let start = seconds(ends[0]), let end = seconds(ends[1].split(separator: " ").first.map(String.init) ?? "")
            else { continue }
            cues.append(Cue(start: start, end: end, text: lines[(timing + 1)...].joined(separator: " ")))
        }
        return cues
    }

    /// `HH:MM:SS,mmm` (or with a `.`) in seconds.
    static func seconds(_ stamp: String) -> Double? {
        let parts = stamp.replacingOccurrences(of: ",", with: ".").split(separator: ":")
        guard parts.count == 3, let hours = Double(parts[0]), let minutes = Double(parts[1]), let seconds = Double(parts[2])
        else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }
}
