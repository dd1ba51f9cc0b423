import Foundation
import Media
import MediaTestSupport
import Testing

/// The pipelines in `pipelines/` are what a new user runs first: each validates, and the
/// waterfall journey runs offline end to end, then reruns from the cache alone.
@Suite struct ShippedPipelineTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A copy of `pipelines/`, so runs never write into the repository.
    func copy() throws -> TemporaryFolder {
        let folder = TemporaryFolder("shipped")
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("pipelines"),
                                         to: folder.file("pipelines"))
        // Only the pipelines and their assets: never a cache a local run left beside them.
        try? FileManager.default.removeItem(at: folder.file("pipelines/.seedpipe"))
        return folder
    }

    /// report.html names what ran; where a browser is installed, the page is loaded in it for real.
    func checkReport(_ report: URL) throws {
        let html = try String(contentsOf: report, encoding: .utf8)
        #expect(html.contains("3</b> generations paid for (15 s of video)"))
        #expect(html.contains("<video id=\"film\"") && html.contains("src=\"film.mp4\""))
        let browser = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { Referee.which($0) }.first
        guard let browser else { return }
        let dump = try ChildProcess.run(URL(fileURLWithPath: browser),
                                        ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", report.absoluteString])
        #expect(dump.status == 0, "\(dump.stderr.suffix(500))")
        let dom = dump.output
        #expect(dom.contains("id=\"timeline\""))
        #expect(dom.components(separatedBy: "seedance.generate").count - 1 == 3, "three generations on the timeline")
        #expect(dom.contains("id=\"seams\"") && dom.components(separatedBy: "continuous").count - 1 == 2)
        #expect(dom.contains("id=\"poster\""))
        #expect(dom.contains("LUFS"))
    }

    @Test func everyShippedPipelineValidates() throws {
        let folder = try copy()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.file("pipelines").path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 2)
        for file in files {
            let outcome = try SeedpipeBinary.run(["validate", "pipelines/\(file)"], in: folder)
            #expect(outcome.status == 0, "\(file): \(outcome.stderr)")
        }
    }

    @Test func waterfallJourneyRunsOfflineThenRerunsFromTheCache() throws {
        let folder = try copy()
        let first = try SeedpipeBinary.run(["run", "pipelines/waterfall-journey.yaml", "--out", "out", "--emulator-latency", "0.1"],
                                           in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("offline preview"))
        let film = folder.file("out/film.mp4")
        let info = try MediaInfo.probe(film)
        #expect(abs((info.video?.duration ?? 0) - 15) <= 1.0 / 24, "three 5 s shots")
        #expect(try AudioLevels.analyze(film).hasAudio)
        #expect(try MediaInfo.probe(folder.file("out/poster.jpg")).video?.width == 640)
        try checkReport(folder.file("out/report.html"))
        let again = try SeedpipeBinary.run(["run", "pipelines/waterfall-journey.yaml", "--out", "out", "--json"], in: folder)
        #expect(again.status == 0)
        let events = again.stdout.split(separator: "\n")
        #expect(events.count == 8 && events.allSatisfy { $0.contains("\"event\":\"cache_hit\"") }, "\(again.stdout)")
        #expect(again.stderr.contains("0 generations to pay for"))
        #expect(!again.stderr.contains("offline preview"), "nothing to generate, so no backend was started")
    }
}
