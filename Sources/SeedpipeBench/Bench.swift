import Foundation
import Media

/// `make bench`: figures printed, never asserted.
///
///     seedpipe-bench media PATH/TO/seedpipe   seedpipe against the ffmpeg program
///     seedpipe-bench seedance                 the emulator and the client under load
///     seedpipe-bench pipeline PATH/TO/seedpipe the engine's overhead and a cached rerun
///     seedpipe-bench stages PATH/TO/seedpipe pipelines/   parallel shots against one latency
///     seedpipe-bench team PATH/TO/seedpipe    a remote lookup per cached stage, upload throughput (nginx)
///     seedpipe-bench flaky PATH/TO/seedpipe   ten six-shot runs against a flaky emulator: exits and submits
@main
struct Bench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        switch arguments.count > 1 ? arguments[1] : "" {
        case "media" where arguments.count > 2: try MediaBench.run(seedpipe: arguments[2])
        case "seedance": try await SeedanceBench.run()
        case "pipeline" where arguments.count > 2: try await PipelineBench.run(seedpipe: arguments[2])
        case "stages" where arguments.count > 3: try await StagesBench.run(seedpipe: arguments[2], pipelines: arguments[3])
        case "team" where arguments.count > 2: try await TeamBench.run(seedpipe: arguments[2])
        case "flaky" where arguments.count > 2: try await FlakyBench.run(seedpipe: arguments[2])
        default:
            print("usage: seedpipe-bench media|pipeline PATH/TO/seedpipe | seedpipe-bench seedance   (make bench runs all)")
            exit(2)
        }
    }
}

/// seedpipe against the `ffmpeg` program doing the same job, each as a whole process,
/// median of several runs, side by side with the ratio.
enum MediaBench {
    static let runs = 7

    struct Row {
        var task: String
        var seedpipe: [ProcessRun]
        var ffmpeg: [ProcessRun]
    }

    static func run(seedpipe: String) throws {
        guard let ffmpeg = which("ffmpeg") else {
            print("the ffmpeg program is the referee and is not installed (make deps)")
            exit(2)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("seedpipe-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        guard FileManager.default.changeCurrentDirectoryPath(folder.path) else { fatalError("cannot enter \(folder.path)") }

        print("making 20 clips of 5 s, 1280x720 H.264 + AAC …")
        var clips: [String] = []
        for index in 0..<20 {
            let name = "clip\(index).mp4"
            try SyntheticClip(width: 1280, height: 720, frameRate: 25, duration: 5,
                              tone: .init(frequency: 220 + Double(index) * 20), seed: index)
                .render(to: folder.appendingPathComponent(name))
            clips.append(name)
        }
        try clips.map { "file '\($0)'" }.joined(separator: "\n")
            .write(toFile: folder.appendingPathComponent("list.txt").path, atomically: true, encoding: .utf8)
        try (0..<5).flatMap { _ in clips }.map { "file '\($0)'" }.joined(separator: "\n")
            .write(toFile: folder.appendingPathComponent("list100.txt").path, atomically: true, encoding: .utf8)
        // The 100 s film every later task works on.
        _ = ProcessRun.measure([seedpipe, "concat"] + clips + ["-o", "film.mp4"])
        // A 12 s "theme" (a small picture, a 330 Hz tone) that the soundtrack loops over it.
        try SyntheticClip(width: 160, height: 90, frameRate: 25, duration: 12, tone: .init(frequency: 330, level: -18), seed: 99)
            .render(to: folder.appendingPathComponent("theme.mp4"))
        // The soundtrack's own filter graph, labelled for the ffmpeg program as the stage labels its inputs.
        let rate = 48_000
        let filmSamples = Int(((try MediaInfo.probe(folder.appendingPathComponent("film.mp4")).duration ?? 100) * Double(rate)).rounded())
        let themeSamples = try AudioSamples.read(folder.appendingPathComponent("theme.mp4"), sampleRate: rate, channels: 2).frameCount
        let graph = Soundtrack.filterGraph(settings: SoundtrackSettings(target: nil), filmSamples: filmSamples, musicSamples: themeSamples,
                                           sampleRate: rate, channels: 2, clipSound: true)
        let format = "aformat=sample_fmts=fltp:sample_rates=\(rate):channel_layouts=stereo"
        let labelled = "[0:a]\(format),apad,atrim=end_sample=\(filmSamples)[clips];[1:a]\(format)[music];" + graph

        var rows: [Row] = []
        func compare(_ task: String, _ ours: [String], _ theirs: [String], runs: Int = Self.runs) {
            var row = Row(task: task, seedpipe: [], ffmpeg: [])
            for _ in 0..<runs {
                // Alternate, so both see the same cache and machine state.
                row.seedpipe.append(checked(ProcessRun.measure([seedpipe] + ours), ours))
                row.ffmpeg.append(checked(ProcessRun.measure([ffmpeg, "-v", "error", "-y"] + theirs), theirs))
            }
            rows.append(row)
        }
        // Process start alone (goal: under 25 ms): what every command pays before its work.
        compare("process start (--version)", ["--version"], ["-version"])
        compare("concat 20 × 5 s 720p (stream copy)",
                ["concat"] + clips + ["-o", "joined.mp4"],
                ["-f", "concat", "-safe", "0", "-i", "list.txt", "-c", "copy", "joined-ff.mp4"])
        compare("thumbnail at 2.5 s (JPEG, 640 wide)",
                ["thumbnail", "film.mp4", "--at", "2.5", "--width", "640", "-o", "thumb.jpg"],
                ["-ss", "2.5", "-i", "film.mp4", "-frames:v", "1", "-vf", "scale=640:-2", "-q:v", "2", "thumb-ff.jpg"])
        compare("last frame (PNG)",
                ["last-frame", "film.mp4", "-o", "last.png"],
                ["-sseof", "-0.1", "-i", "film.mp4", "-update", "1", "last-ff.png"])
        compare("audio levels of the 100 s film",
                ["audio-check", "film.mp4", "--json"],
                ["-i", "film.mp4", "-vn", "-af", "volumedetect,ebur128,silencedetect=n=-60dB:d=0.5", "-f", "null", "-"])
        compare("soundtrack over the 100 s film (mix, ducked)",
                ["soundtrack", "film.mp4", "--music", "theme.mp4", "--no-master", "-o", "scored.mp4"],
                ["-i", "film.mp4", "-i", "theme.mp4", "-filter_complex", labelled, "-map", "0:v", "-map", "[out]",
                 "-c:v", "copy", "-c:a", "aac", "-b:a", "192k", "scored-ff.mp4"])
        compare("concat 100 × 5 s 720p (stream copy)",
                ["concat"] + (0..<5).flatMap { _ in clips } + ["-o", "joined100.mp4"],
                ["-f", "concat", "-safe", "0", "-i", "list100.txt", "-c", "copy", "joined100-ff.mp4"])

        // A 100 s 720p film re-encoded with the same libx264 and AAC settings (3 runs: each is a real encode).
        compare("re-encode 100 s 720p (x264 veryfast crf 23)",
                ["concat"] + clips + ["-o", "reencoded.mp4", "--crf", "23", "--preset", "veryfast", "--audio-bitrate", "128k"],
                ["-f", "concat", "-safe", "0", "-i", "list.txt", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50",
                 "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "reencoded-ff.mp4"], runs: 3)

        print("")
        print("median of \(runs) runs (3 for the re-encode), whole processes; ratio = seedpipe / ffmpeg (goal ≤ 1.00)")
        print(pad("task", 40) + pad("seedpipe", 12) + pad("ffmpeg", 12) + pad("ratio", 8) + pad("seedpipe RSS", 14) + "ffmpeg RSS")
        for row in rows {
            let ours = median(row.seedpipe.map(\.seconds)), theirs = median(row.ffmpeg.map(\.seconds))
            let ourMemory = row.seedpipe.map(\.peakBytes).max() ?? 0, theirMemory = row.ffmpeg.map(\.peakBytes).max() ?? 0
            print(pad(row.task, 40) + pad(milliseconds(ours), 12) + pad(milliseconds(theirs), 12)
                  + pad(String(format: "%.2f", ours / theirs), 8) + pad(megabytes(ourMemory), 14) + megabytes(theirMemory))
        }
        let sizes = ["reencoded.mp4", "reencoded-ff.mp4"].map {
            ((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent($0).path))?[.size] as? Int) ?? 0
        }
        print(String(format: "re-encode file sizes: seedpipe %.2f MB, ffmpeg %.2f MB (seedpipe %+.1f %%; goal within 2 %%)",
                     Double(sizes[0]) / 1e6, Double(sizes[1]) / 1e6, (Double(sizes[0]) / Double(max(sizes[1], 1)) - 1) * 100))
    }

    static func checked(_ run: ProcessRun, _ arguments: [String]) -> ProcessRun {
        if run.status != 0 {
            print("warning: exit \(run.status) from \(arguments.prefix(3).joined(separator: " ")) …")
        }
        return run
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }
    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func which(_ program: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
