import Foundation
import Media
import Pipeline

/// The engine's own cost: per-stage overhead of a 1,000-stage DAG of no-op stages, 1,000-stage
/// chains of `template` stages (plain, and with a tag in each) as whole `seedpipe run`
/// processes (fresh and fully cached), and a fully cached rerun of a 50-stage pipeline as a
/// whole process.
enum PipelineBench {
    struct NoOp: Stage {
        let kind = "noop"
        let signature = StageSignature(inputs: [Port("after", .list(.text), required: false)], outputs: [Port("text", .text)],
                                       parameters: [ParameterSpec("n", .integer, required: true)])
        func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
            ["text": .string(invocation.text("n"))]
        }
    }

    static func run(seedpipe: String) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        // 1. 1,000 no-op stages, each reading one or two earlier ones.
        let registry = StageRegistry([NoOp()])
        let graph = try PipelineGraph("dag", baseFolder: folder, registry: registry) {
            for index in 0..<1000 {
                let parents = Set(index == 0 ? [] : [index - 1, index / 2]).sorted()
                Use("s\(index)", "noop", ["n": .value(.number(Double(index))),
                                          "after": .list(parents.map { "${s\($0).text}" })])
            }
        }
        let pipeline = try PipelineValidator.validate(graph, registry: registry)
        let storage = try Storage.local(at: folder.appendingPathComponent("dag-cache"))
        for (label, _) in [("fresh", 0), ("all cached", 1)] {
            let start = ContinuousClock.now
            let report = try await Executor(pipeline: pipeline, storage: storage).run()
            let seconds = SeedanceBench.seconds(ContinuousClock.now - start)
            let cached = report.stages.values.filter { $0.cached }.count
            print(String(format: "1000-stage no-op DAG, %@: %.2f s = %.3f ms per stage (%d cached)", label, seconds,
                         seconds, cached))
        }

        // 2. Chains of 1,000 templates, each reading the one before, as whole processes: fresh
        //    (a new cache each time) and fully cached; plain, and with a tag in every template
        //    (Mustache then renders each, around a text that grows along the chain).
        var chain = "pipeline: chain\nstages:\n  t0: { uses: template, with: { template: \"start\" } }\n"
        var tagged = "pipeline: tagged\nvars: { word: seed }\nstages:\n  t0: { uses: template, with: { template: \"{{word}} start\" } }\n"
        for index in 1..<1000 {
            chain += "  t\(index): { uses: template, with: { template: \"${t\(index - 1).text} \(index)\" } }\n"
            tagged += "  t\(index): { uses: template, with: { template: \"{{word}} \(index) ${t\(index - 1).text}\" } }\n"
        }
        chain += "outputs: { last: \"${t999.text}\" }\n"
        tagged += "outputs: { last: \"${t999.text}\" }\n"
        for (name, text) in [("chain", chain), ("tagged", tagged)] {
            try text.write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
            let chainRun = { (cache: String) in
                [seedpipe, "run", folder.appendingPathComponent("\(name).yaml").path, "--cache", folder.appendingPathComponent(cache).path,
                 "--out", folder.appendingPathComponent("\(name)-out").path]
            }
            let fresh = (0..<5).map { index in ProcessRun.measure(chainRun("\(name)-cache-\(index)")) }
            let cached = (0..<7).map { _ in ProcessRun.measure(chainRun("\(name)-cache-0")) }
            print(String(format: "1000-stage template chain%@ as a whole process: fresh median %.0f ms (exit %d; goal: under 1000 ms), "
                         + "fully cached median %.0f ms (exit %d; goal: under 400 ms)",
                         name == "tagged" ? " with a tag in each ({{word}} 7 ${t6.text})" : "",
                         SeedanceBench.median(fresh.map(\.seconds)) * 1000, fresh.last?.status ?? -1,
                         SeedanceBench.median(cached.map(\.seconds)) * 1000, cached.last?.status ?? -1))
        }

        // 3. A 50-stage pipeline on a local clip, then its fully cached rerun as a whole process.
        try writeFiftyStages(in: folder)
        guard FileManager.default.changeCurrentDirectoryPath(folder.path) else { fatalError("cannot enter \(folder.path)") }
        let arguments = [seedpipe, "run", "fifty.yaml", "--backend", "http://127.0.0.1:9", "--out", "out"]
        _ = ProcessRun.measure(arguments)
        let reruns = (0..<7).map { _ in ProcessRun.measure(arguments) }
        print(String(format: "50-stage pipeline, fully cached rerun as a whole process: median %.0f ms (exit %d; goal: under 80 ms), peak %.1f MB",
                     SeedanceBench.median(reruns.map(\.seconds)) * 1000, reruns.last?.status ?? -1,
                     Double(reruns.map(\.peakBytes).max() ?? 0) / 1e6))
    }
}

extension PipelineBench {
    /// `fifty.yaml` and the clip it reads, in `folder`: 25 thumbnails and 25 probes of a 6 s clip.
    static func writeFiftyStages(in folder: URL) throws {
        try SyntheticClip(width: 640, height: 360, duration: 6).render(to: folder.appendingPathComponent("clip.mp4"))
        var yaml = "pipeline: fifty\nstages:\n"
        for index in 0..<25 {
            yaml += "  thumb\(index): { uses: thumbnail, with: { video: clip.mp4, at: \(Double(index) * 0.2), width: 320 } }\n"
            yaml += "  probe\(index): { uses: probe, with: { video: clip.mp4 } }\n"
        }
        yaml += "outputs: { poster: \"${thumb0.image}\" }\n"
        try yaml.write(to: folder.appendingPathComponent("fifty.yaml"), atomically: true, encoding: .utf8)
    }
}
