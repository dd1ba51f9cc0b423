import Foundation
import Media
import MediaTestSupport
import Testing

/// The OpenTimelineIO referee for `seedpipe export`: `read_timeline.py` beside this file, run
/// by the Python of the virtual environment `make test` makes (SEEDPIPE_OTIO_PYTHON), reads a
/// timeline back and says where each clip is in the film.
enum TimelineReferee {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("read_timeline.py")
    static let configured = ProcessInfo.processInfo.environment["SEEDPIPE_OTIO_PYTHON"]

    /// The Python that has OpenTimelineIO and its FCPXML and CMX 3600 adapters, when there is one.
    static var python: String? {
        let python = configured ?? FileManager.default.currentDirectoryPath + "/.build/timeline-venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: python) ? python : nil
    }

    struct Reading: Decodable {
        struct Clip: Decodable { var name: String; var url: String?; var start: Int; var frames: Int; var source_in: Int }
        struct Sound: Decodable { var name: String; var url: String?; var cut_start: Int; var cut_frames: Int; var source_in: Int }
        struct Marker: Decodable, Equatable { var start: Int; var frames: Int; var name: String }
        var name: String
        var frames: Int
        var transitions: Int
        var video: [Clip]
        var audio: [[Sound]]
        var markers: [Marker]
    }

    static func read(_ file: URL, format: String, rate: Int, python: String) async throws -> Reading {
        let adapter = ["otio": "otio_json", "fcpxml": "fcpx_xml", "edl": "cmx_3600"][format]!
        let outcome = try await Thread.detached {
            try ChildProcess.run(URL(fileURLWithPath: python), [script.path, file.path, adapter, String(rate)])
        }
        guard outcome.status == 0 else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(format): \(outcome.stderr.suffix(800))"])
        }
        return try JSONDecoder().decode(Reading.self, from: outcome.stdout)
    }
}

/// Exports a made film in every format and checks, by the OpenTimelineIO referee, that each
/// clip starts and lasts as in the film (frames counted by ffprobe), that the media, the sound
/// tracks and the caption markers are there.
func checkExports(in folder: TemporaryFolder, pipeline: String, shots: [String], overlap: Int, music: Bool) async throws {
    let rate = 24
    let filmFrames = try #require(try Referee.frameCount(folder.file("out/film.mp4")))
    let cues = try String(contentsOf: folder.file("out/captions.srt"), encoding: .utf8)
        .components(separatedBy: "\n\n").compactMap { block -> TimelineReferee.Reading.Marker? in
            let lines = block.split(separator: "\n").map(String.init)
            guard lines.count >= 3 else { return nil }
            let times = lines[1].components(separatedBy: " --> ").map { stamp -> Int in
                let parts = stamp.replacingOccurrences(of: ",", with: ".").split(separator: ":").compactMap { Double($0) }
                return Int(((parts[0] * 3600 + parts[1] * 60 + parts[2]) * Double(rate)).rounded())
            }
            return .init(start: times[0], frames: min(times[1], filmFrames) - times[0], name: lines[2...].joined(separator: " "))
        }
    #expect(!cues.isEmpty)

    for format in ["otio", "fcpxml", "edl"] {
        let exported = try await SeedpipeBinary.run(["export", pipeline, "--format", format, "-o", "out/timeline.\(format)"], in: folder)
        try #require(exported.status == 0, "\(format): \(exported.stderr)")
        #expect(exported.stdout.contains("wrote out/timeline.\(format) (\(format))"), "\(exported.stdout)")
        let media = folder.file("out/timeline-media")
        guard let python = TimelineReferee.python else {
            // `make test` (and CI) installs OpenTimelineIO and sets SEEDPIPE_OTIO_PYTHON: there this must run.
            #expect(TimelineReferee.configured == nil, "SEEDPIPE_OTIO_PYTHON=\(TimelineReferee.configured ?? "") is not there")
            print("skipped the OpenTimelineIO referee: not installed here (make test installs it)")
            continue
        }
        let reading = try await TimelineReferee.read(folder.file("out/timeline.\(format)"), format: format, rate: rate, python: python)
        #expect(reading.frames == filmFrames, "\(format): the timeline lasts \(reading.frames) frames, the film \(filmFrames)")
        #expect(reading.transitions == (overlap > 0 ? reading.video.count - 1 : 0), "\(format)")
        // Each clip is named after the generation that made it (a colour-matched one too).
        #expect(reading.video.map(\.name) == shots, "\(format)")
        var start = 0
        for clip in reading.video {
            let url = try #require(clip.url, "\(format): \(clip.name) references no media")
            #expect(url.hasPrefix(media.standardizedFileURL.path + "/"), "\(format): \(url) is not the copy")
            let frames = try Referee.frameCount(URL(fileURLWithPath: url))
            #expect(clip.frames == frames, "\(format): \(clip.name) lasts \(clip.frames) frames, its file \(frames ?? -1)")
            #expect(clip.start == start, "\(format): \(clip.name) starts on frame \(clip.start), in the film on \(start)")
            start += clip.frames - overlap
        }
        #expect(start + overlap == filmFrames, "\(format): the last clip ends with the film")

        // The clips' sound under the pictures, and the music looped to the film's length.
        #expect(reading.audio.count == (music ? 2 : 1), "\(format): \(reading.audio.map { $0.map(\.name) })")
        let sound = reading.audio.first { $0.first?.url?.contains("-media/0") == true } ?? []
        #expect(sound.map(\.url) == reading.video.map(\.url), "\(format): the clips' sound follows the pictures")
        if music {
            let cuesOfMusic = try #require(reading.audio.first { $0.first?.url?.hasSuffix(".m4a") == true }, "\(format): no music track")
            let length = try #require(try Referee.formatDuration(URL(fileURLWithPath: cuesOfMusic[0].url!)))
            var at = 0
            for cue in cuesOfMusic {
                #expect(cue.cut_start == at && cue.source_in == 0 && Double(cue.cut_frames) <= length * Double(rate) + 0.5, "\(format): \(cue)")
                at += cue.cut_frames
            }
            #expect(at == filmFrames, "\(format): the music runs \(at) frames of the film's \(filmFrames)")
        }
        #expect(reading.markers == (format == "edl" ? cues.map { .init(start: $0.start, frames: 0, name: $0.name) } : cues),
                "\(format): \(reading.markers) against the captions \(cues)")
    }
}

@Suite(.timeLimit(.minutes(10))) struct ExportCommandTests {
    @Test func aPipelineNotRunYetHasNothingToExport() async throws {
        let folder = TemporaryFolder("export")
        try """
            pipeline: unmade
            stages:
              shot: { uses: seedance.generate, with: { prompt: "a lighthouse at night", duration: 5 } }
              film: { uses: concat, with: { clips: ["${shot.video}"] } }
            outputs:
              film: "${film.video}"
            """.write(to: folder.file("unmade.yaml"), atomically: true, encoding: .utf8)
        let export = try await SeedpipeBinary.run(["export", "unmade.yaml", "--format", "otio", "-o", "film.otio"], in: folder)
        #expect(export.status == 2, "\(export.stderr)")
        #expect(export.stderr.contains("the film (output `film`) is not made yet") && export.stderr.contains("seedpipe run"), "\(export.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("film.otio").path), "nothing written")

        let unknown = try await SeedpipeBinary.run(["export", "unmade.yaml", "--format", "otio", "-o", "film.otio", "--film", "poster"], in: folder)
        #expect(unknown.status == 2 && unknown.stderr.contains("no output `poster`") && unknown.stderr.contains("film"), "\(unknown.stderr)")
        let format = try await SeedpipeBinary.run(["export", "unmade.yaml", "--format", "aaf", "-o", "film.aaf"], in: folder)
        #expect(format.status != 0 && format.stderr.contains("otio") && format.stderr.contains("fcpxml") && format.stderr.contains("edl"),
                "\(format.stderr)")
    }
}
