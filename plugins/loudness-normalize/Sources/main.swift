// loudness-normalize: a seedpipe plugin (protocol 1, see plugins/README.md) written in Swift
// on seedpipe's public Media library. It reads one request on stdin, answers in JSON lines
// on stdout, and exits 0 on success.
import Foundation
import Media

/// One JSON line on stdout, flushed at once (seedpipe reads them as they come).
func send(_ message: [String: Any]) {
    guard var data = try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys]) else { return }
    data.append(0x0A)
    FileHandle.standardOutput.write(data)
}

func fail(_ message: String) -> Never {
    send(["type": "error", "message": message])
    FileHandle.standardError.write(Data("loudness-normalize: \(message)\n".utf8))
    exit(1)
}

let input = FileHandle.standardInput.readDataToEndOfFile()
guard let request = (try? JSONSerialization.jsonObject(with: input)) as? [String: Any] else {
    fail("the request on stdin is not a JSON object")
}
guard (request["protocol"] as? Int) == 1 else { fail("this plugin speaks protocol 1, the request is \(request["protocol"] ?? "unversioned")") }
let parameters = request["parameters"] as? [String: Any] ?? [:]
guard let video = (request["inputs"] as? [String: Any])?["video"] as? [String: Any], let path = video["path"] as? String else {
    fail("the request has no input `video` with a `path`")
}
guard let outputFolder = request["output_folder"] as? String else { fail("the request has no `output_folder`") }
let target = parameters["target"] as? Double ?? -14
let ceiling = parameters["true_peak"] as? Double ?? -1
let tolerance = parameters["tolerance"] as? Double ?? 0.5
// `encode:`: the audio is re-encoded (its bit rate), the picture copied; faststart puts the index first.
let (encode, problems) = EncodeSettings(audioBitRate: 192_000).applying(parameters["encode"] as? [String: Any] ?? [:])
if let problem = problems.first { fail("encode.\(problem)") }

send(["type": "progress", "fraction": 0.1, "message": "measuring"])
let output = URL(fileURLWithPath: outputFolder).appendingPathComponent("normalized.mp4")
do {
    let result = try LoudnessNormalizer.normalize(URL(fileURLWithPath: path), to: output, target: target, ceiling: ceiling,
                                                  tolerance: tolerance, bitRate: encode.audioBitRate, faststart: encode.faststart)
    func number(_ value: Double?) -> Any { value.map { (($0 * 100).rounded() / 100) as Any } ?? NSNull() }
    send(["type": "log", "level": "info", "message": String(
        format: "%.1f LUFS, %.1f dBTP → %.1f LUFS, %.1f dBTP (gain %+.1f dB%@)",
        result.before.integratedLoudness ?? -.infinity, result.before.truePeak ?? -.infinity,
        result.after.integratedLoudness ?? -.infinity, result.after.truePeak ?? -.infinity, result.gain,
        result.limited ? ", peaks limited" : "")])
    send(["type": "progress", "fraction": 1.0, "message": "done"])
    send(["type": "result", "outputs": [
        "video": "normalized.mp4",
        "report": [
            "target": target, "true_peak_ceiling": ceiling,
            "before": ["integrated_loudness": number(result.before.integratedLoudness), "true_peak": number(result.before.truePeak)],
            "after": ["integrated_loudness": number(result.after.integratedLoudness), "true_peak": number(result.after.truePeak)],
            "gain": number(result.gain), "limited": result.limited,
        ] as [String: Any],
    ] as [String: Any]])
} catch {
    fail("\(error)")
}
