import ArgumentParser
import Foundation
import Pipeline
import Stages

/// `seedpipe export`: the made film as an editor's timeline.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the finished film as a timeline an editor opens: OpenTimelineIO, FCPXML or a CMX 3600 EDL.",
        discussion: """
            Each shot is a clip referencing its media file with its in and out points, the
            crossfades are transitions, the clips' own sound and the soundtrack's music are
            tracks of their own, and the captions are markers. Starts and lengths match the
            film to the frame. Nothing runs: the film must be made (seedpipe run) with the
            same cache and --var values.

            --media copy (the default) copies the clips and the music into FILE's name
            with -media (film.otio: film-media/), so the timeline outlives the cache;
            --media link points at the files in the cache.

            Examples:
              seedpipe export pipelines/waterfall-journey.yaml --format otio \\
                  -o out/film.otio
              seedpipe export pipelines/waterfall-journey.yaml --format fcpxml \\
                  -o film.fcpxml --media link
              seedpipe export pipelines/waterfall-journey.yaml --format edl -o film.edl
            """
    )

    enum MediaMode: String, ExpressibleByArgument, CaseIterable { case copy, link }

    @OptionGroup var options: PipelineOptions

    @Option(help: "The timeline format: otio, fcpxml or edl.")
    var format: TimelineFormat

    @Option(name: .shortAndLong, help: "The timeline file to write.")
    var output: String

    @Option(help: "copy: the media into FILE-media/ beside the timeline; link: the files in the cache.")
    var media: MediaMode = .copy

    @Option(help: "The pipeline output that is the film (default: `film`, else its only video output).")
    var film: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        let storage = try options.storage()
        let made = await Planner.made(try options.load(), storage: storage)
        var timeline = try await FilmTimeline.build(made, store: storage.artifacts, output: film)
        let file = URL(fileURLWithPath: output).standardizedFileURL
        var copied: URL?
        if media == .copy {
            let folder = file.deletingLastPathComponent().appendingPathComponent(file.deletingPathExtension().lastPathComponent + "-media")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            timeline = try timeline.relocated { source, name in
                let target = folder.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: source, to: target)
                return target
            }
            copied = folder
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(try format.text(timeline).utf8).write(to: file, options: .atomic)

        let fades = timeline.overlapFrames > 0 ? max(0, timeline.shots.count - 1) : 0
        var parts = ["\(timeline.shots.count) shot\(timeline.shots.count == 1 ? "" : "s")"]
        if fades > 0 { parts.append("\(fades) crossfade\(fades == 1 ? "" : "s") of \(timeline.overlapFrames) frames") }
        if timeline.music != nil { parts.append("a soundtrack") }
        if !timeline.markers.isEmpty { parts.append("\(timeline.markers.count) caption marker\(timeline.markers.count == 1 ? "" : "s")") }
        print("wrote \(output) (\(format.rawValue)): " + parts.joined(separator: ", ")
              + String(format: "; %d frames (%.2f s) at %d fps", timeline.frames, Double(timeline.frames) / Double(timeline.rate), timeline.rate))
        if let copied { print("media copied to \(copied.path)/") } else { print("media linked from the cache (\(options.cacheFolder.path)); `seedpipe cache gc` can remove it") }
    }
}

extension TimelineFormat: ExpressibleByArgument {}
