import Foundation
import Media

/// The `ffmpeg` and `ffprobe` programs as an independent referee for tests and benchmarks.
/// seedpipe itself never runs them.
public enum Referee {
    /// True when both programs are on the PATH.
    public static let isAvailable: Bool = which("ffmpeg") != nil && which("ffprobe") != nil

    public static func which(_ program: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs a program found on the PATH, returning its exit status, standard output and standard error.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        let outcome = try ChildProcess.run(URL(fileURLWithPath: which(program) ?? program), arguments)
        return (outcome.status, outcome.stdout, outcome.stderr)
    }

    /// ffprobe's duration of one stream kind (`v` or `a`) in seconds: end of its last packet.
    public static func streamDuration(_ url: URL, stream: String) throws -> Double? {
        let result = try run("ffprobe", ["-v", "error", "-select_streams", "\(stream):0", "-show_entries",
                                         "packet=pts_time,duration_time", "-of", "csv=p=0", url.path])
        var end: Double?
        for line in String(decoding: result.stdout, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ",").compactMap { Double($0) }
            guard parts.count == 2 else { continue }
            end = max(end ?? -.infinity, parts[0] + parts[1])
        }
        return end
    }

    /// What ffprobe says of each stream (`codec_name`, `profile`, `pix_fmt`, `codec_tag_string`,
    /// `bit_rate`, …), in stream order.
    public static func streams(_ url: URL) throws -> [[String: Any]] {
        let result = try run("ffprobe", ["-v", "error", "-show_streams", "-of", "json", url.path])
        let json = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        return json?["streams"] as? [[String: Any]] ?? []
    }

    /// The MP4's top-level boxes in file order, as ffprobe's trace reads them (`ftyp`, `moov`, `mdat`, …).
    public static func topLevelBoxes(_ url: URL) throws -> [String] {
        let result = try run("ffprobe", ["-v", "trace", url.path])
        return result.stderr.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "type:'"), line.contains("parent:'root'") else { return nil }
            return String(line[range.upperBound...].prefix(4))
        }
    }

    /// ffprobe's count of the video frames it decodes.
    public static func frameCount(_ url: URL) throws -> Int? {
        let result = try run("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                         "stream=nb_read_frames", "-of", "csv=p=0", url.path])
        return Int(String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// ffprobe's container duration in seconds.
    public static func formatDuration(_ url: URL) throws -> Double? {
        let result = try run("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url.path])
        return Double(String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A frame as ffmpeg decodes it, as RGB24: `seek` is ffmpeg's accurate input seek
    /// (`-ss`), and `last` asks for the very last frame (`-sseof -0.1 … -update 1`).
    public static func frame(_ url: URL, at seconds: Double? = nil, last: Bool = false, width: Int, height: Int)
        throws -> FrameImage
    {
        var arguments = ["-v", "error"]
        if let seconds { arguments += ["-ss", String(seconds)] }
        if last { arguments += ["-sseof", "-0.1"] }
        arguments += ["-i", url.path]
        arguments += last ? ["-update", "1"] : ["-frames:v", "1"]
        arguments += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-sws_flags", "bicubic+accurate_rnd", "-"]
        if last {
            // -update 1 keeps overwriting one output; rawvideo to a pipe would emit every frame, so keep the tail.
            let result = try run("ffmpeg", arguments)
            let frameSize = width * height * 3
            guard result.stdout.count >= frameSize else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey:
                    "ffmpeg gave \(result.stdout.count) bytes, not a \(width)x\(height) RGB frame: \(result.stderr)"])
            }
            let bytes = [UInt8](result.stdout.suffix(frameSize))
            return FrameImage(width: width, height: height, pixels: bytes)
        }
        let result = try run("ffmpeg", arguments)
        guard result.stdout.count >= width * height * 3 else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey:
                "ffmpeg gave \(result.stdout.count) bytes, not a \(width)x\(height) RGB frame: \(result.stderr)"])
        }
        return FrameImage(width: width, height: height, pixels: [UInt8](result.stdout.prefix(width * height * 3)))
    }

    /// Peak (`max_volume`) and RMS (`mean_volume`) in dBFS by ffmpeg's volumedetect filter.
    public static func volume(_ url: URL) throws -> (max: Double, mean: Double)? {
        let result = try run("ffmpeg", ["-nostats", "-i", url.path, "-vn", "-af", "volumedetect", "-f", "null", "-"])
        func value(_ key: String) -> Double? {
            guard let line = result.stderr.split(separator: "\n").last(where: { $0.contains(key) }) else { return nil }
            return line.split(separator: " ").compactMap { Double($0) }.first
        }
        guard let max = value("max_volume:"), let mean = value("mean_volume:") else { return nil }
        return (max, mean)
    }

    /// Integrated loudness (LUFS) by ffmpeg's ebur128 filter.
    public static func integratedLoudness(_ url: URL) throws -> Double? {
        let result = try run("ffmpeg", ["-nostats", "-i", url.path, "-vn", "-af", "ebur128", "-f", "null", "-"])
        // The summary block ends with "I: -23.0 LUFS".
        let lines = result.stderr.split(separator: "\n").filter { $0.contains("I:") && $0.contains("LUFS") }
        guard let line = lines.last else { return nil }
        let number = line.split(separator: " ").compactMap { Double($0) }.first
        return number
    }

    /// Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's ebur128 filter (audio only).
    public static func loudnessAndTruePeak(_ url: URL) throws -> (loudness: Double, truePeak: Double)? {
        let result = try run("ffmpeg", ["-nostats", "-i", url.path, "-vn", "-af", "ebur128=peak=true", "-f", "null", "-"])
        // The summary ends with "I: -14.0 LUFS" and, under "True peak:", "Peak: -1.2 dBFS".
        let lines = result.stderr.split(separator: "\n")
        func number(after marker: String, unit: String) -> Double? {
            lines.last { $0.contains(marker) && $0.contains(unit) }?.split(separator: " ").compactMap { Double($0) }.first
        }
        guard let loudness = number(after: "I:", unit: "LUFS"), let peak = number(after: "Peak:", unit: "dBFS") else { return nil }
        return (loudness, peak)
    }
}
