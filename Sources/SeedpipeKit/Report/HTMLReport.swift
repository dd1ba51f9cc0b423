import Foundation
import Pipeline

/// report.html: a page a person can open beside the outputs, with the poster, the contact
/// sheet, the film, each stage on a timeline, cache hits, what was paid for, the seams and
/// the audio levels. Self-contained (inline CSS), reading the output files by relative name.
public enum HTMLReport {
    public static func render(_ run: RunSummary) -> String {
        let images = run.files.filter { name, files in files.contains { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") } }
        let poster = (images["poster"] ?? images.first(where: { $0.key != "sheet" })?.value)?.first
        let sheet = images["sheet"]?.first
        let film = (run.files["film"] ?? run.files.first(where: { $0.value.contains { $0.hasSuffix(".mp4") } })?.value)?.first
        let total = max(run.seconds, run.stages.map { ($0.offset ?? 0) + $0.seconds }.max() ?? 0, 0.001)

        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(run.pipeline)) · seedpipe</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>
            body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d1d22;background:#fafafa}
            h1{margin:0 0 .2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
            .facts{color:#555}.facts b{color:#111}
            .media{display:flex;gap:1rem;flex-wrap:wrap;align-items:flex-start}
            .media figure{margin:0}.media img,.media video{max-width:100%;border-radius:6px;background:#000}
            figcaption{font-size:13px;color:#666}
            table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}
            .bar{position:relative;height:14px;background:#eef}.bar span{position:absolute;top:0;height:14px;border-radius:3px;background:#5b6ee1}
            .cached span{background:#9ab}.failed span{background:#d55}.paid span{background:#e0913a}.emulated span{background:#c9a0e0}
            .warn{color:#b35900;font-weight:600}.ok{color:#2a7a2a}
            code{font-size:12px;color:#555}
            </style></head><body>
            <h1>\(escape(run.pipeline))</h1>
            <p class="facts">ran \(format(run.started)) in <b>\(String(format: "%.1f", run.seconds)) s</b> ·
            <b>\(run.stages.count)</b> stages, <b>\(run.cacheHits)</b> from cache ·
            \(run.generationsEmulated > 0 ? "<b>\(run.generationsEmulated)</b> generations emulated (\(run.secondsEmulated) s of video, nothing paid) · " : "")<b>\(run.generationsPaid)</b> generations paid for (\(run.secondsPaid) s of video\(run.moneyPaid.map { String(format: ", <b id=\"money\">$%.2f</b>", $0) } ?? ""))\(run.remainingCredits.map { String(format: " · $%.2f of credits left", $0) } ?? "")\(run.failures.isEmpty ? "" : " · <span class=\"warn\">\(run.failures.count) failed</span>")</p>
            <div class="media">
            """
        if let film { html += "<figure><video id=\"film\" controls preload=\"metadata\" src=\"\(escape(film))\" style=\"max-height:480px\"></video><figcaption>\(escape(film))</figcaption></figure>" }
        if let poster { html += "<figure><img id=\"poster\" alt=\"poster\" src=\"\(escape(poster))\" style=\"max-height:480px\"><figcaption>poster</figcaption></figure>" }
        html += "</div>"
        if let sheet { html += "<h2>Contact sheet</h2><img id=\"sheet\" alt=\"contact sheet\" src=\"\(escape(sheet))\" style=\"max-width:100%\">" }

        html += "<h2>Timeline</h2><table id=\"timeline\"><tr><th>stage</th><th>kind</th><th style=\"width:40%\"></th><th>time</th><th>cost</th><th>request</th></tr>"
        for stage in run.stages {
            let left = 100 * (stage.offset ?? 0) / total, width = max(0.5, 100 * stage.seconds / total)
            let state = stage.error != nil ? "failed" : stage.skipped ? "skipped" : stage.cached ? "cached" : stage.paid ? "paid" : stage.emulated ? "emulated" : "ran"
            html += "<tr class=\"\(state)\"><td>\(escape(stage.stage))</td><td><code>\(escape(stage.kind))</code></td>"
            html += "<td><div class=\"bar \(state)\"><span style=\"left:\(String(format: "%.2f", left))%;width:\(String(format: "%.2f", width))%\"></span></div></td>"
            html += "<td>\(state == "cached" ? "cached" : String(format: "%.1f s", stage.seconds))\(stage.error.map { " <span class=\"warn\">\(escape($0))</span>" } ?? "")</td>"
            html += "<td>\(stage.cost.map { String(format: "$%.2f", $0) } ?? "")</td><td><code>\(escape(stage.requestID ?? ""))</code></td></tr>"
        }
        html += "</table>"

        let several = run.shots.filter { $0.takes.count > 1 }
        if !several.isEmpty {
            html += "<h2>Takes</h2><table id=\"takes\"><tr><th>shot</th><th>picked</th><th>other takes</th></tr>"
            func figure(_ take: ShotTakes.Take, height: Int) -> String {
                let label = "take \(take.take) · seed \(take.seed.map(String.init) ?? "?") · \(take.state)"
                let image = take.poster.map { "<img alt=\"\(escape(label))\" src=\"\(escape($0))\" style=\"height:\(height)px\">" } ?? ""
                return "<figure data-take=\"\(take.take)\"\(take.picked ? " data-picked=\"true\"" : "")>\(image)<figcaption>\(escape(label))</figcaption></figure>"
            }
            for shot in several {
                let picked = shot.takes.filter(\.picked)
                let others = shot.takes.filter { !$0.picked }
                html += "<tr data-stage=\"\(escape(shot.shot))\"><td>\(escape(shot.shot))</td>"
                html += "<td><div class=\"media\">\(picked.map { figure($0, height: 135) }.joined())</div></td>"
                html += "<td><div class=\"media\">\(others.map { figure($0, height: 90) }.joined())</div></td></tr>"
            }
            html += "</table>"
        }

        if !run.seams.isEmpty {
            html += "<h2>Seams</h2><table id=\"seams\"><tr><th>join</th><th>PSNR</th><th></th></tr>"
            for seam in run.seams {
                let psnr = seam["psnr"]?.number.map { String(format: "%.1f dB", $0) } ?? "–"
                let warning = seam["warning"]?.bool == true
                html += "<tr><td>shot \(seam["from"]?.text ?? "?") → \(seam["to"]?.text ?? "?")</td><td>\(psnr)</td>"
                html += "<td class=\"\(warning ? "warn" : "ok")\">\(warning ? "visible jump" : "continuous")</td></tr>"
            }
            html += "</table>"
        }
        for (stage, clips) in run.drift {
            html += "<h2>Colour drift (\(escape(stage)))</h2><table class=\"drift\"><tr><th>clip</th><th>ΔE before</th><th>ΔE after</th><th></th></tr>"
            for clip in clips {
                func delta(_ key: String) -> String { clip[key]?.number.map { String(format: "%.1f", $0) } ?? "–" }
                let corrected = clip["corrected"]?.bool == true
                html += "<tr><td>\(clip["clip"]?.text ?? "?")</td><td>\(delta("before"))</td><td>\(delta("after"))</td>"
                html += "<td class=\"ok\">\(corrected ? "corrected" : "within tolerance")</td></tr>"
            }
            html += "</table>"
        }
        for (stage, report) in run.audioReports {
            func level(_ key: String, _ unit: String) -> String { report[key]?.number.map { String(format: "%.1f %@", $0, unit) } ?? "–" }
            let problems = report["problems"]?.list?.map(\.text) ?? []
            html += "<h2>Audio (\(escape(stage)))</h2><table class=\"audio\"><tr><th>loudness</th><th>peak</th><th>RMS</th><th>duration</th><th></th></tr>"
            html += "<tr><td>\(level("integratedLoudness", "LUFS"))</td><td>\(level("peak", "dBFS"))</td><td>\(level("rms", "dBFS"))</td>"
            html += "<td>\(level("duration", "s"))</td><td class=\"\(problems.isEmpty ? "ok" : "warn")\">\(problems.isEmpty ? "ok" : escape(problems.joined(separator: "; ")))</td></tr></table>"
        }
        html += "<p class=\"facts\">Details: <a href=\"run.json\">run.json</a></p></body></html>\n"
        return html
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
