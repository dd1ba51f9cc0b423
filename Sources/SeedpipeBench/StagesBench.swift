import Foundation
import Media
import Pipeline
import SeedanceAPI
import SeedanceEmulator
import Stages

/// Parallel generation against one generation's latency: the teaser's four independent
/// shots and a six-shot storyboard, with the emulator taking 3 s a clip; and a fully cached
/// rerun of the waterfall journey as a whole process.
enum StagesBench {
    static func run(seedpipe: String, pipelines: String) async throws {
        let latency = 3.0
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stages-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(
            apiKey: "bench", latency: .seconds(latency), workers: 8, preset: "ultrafast", storage: folder.appendingPathComponent("emulator")))
        let url = try await emulator.start()
        let builtins = BuiltinStages.registry()
        var services = Services()
        services.set(SeedanceService(client: SeedanceClient(endpoints: .single(url), apiKey: APIKey("bench")),
                                     pollInterval: .milliseconds(100)))

        func time(_ file: URL, label: String, shots: Int, jobs: Int) async throws {
            // The shipped pipelines use plugins (captions, title-card), found as `seedpipe run` finds them.
            var registry = builtins
            for problem in PluginCatalog.discover(in: PluginCatalog.searchPath(pipeline: file))
                .registerUsable(into: &registry, describe: BuiltinStages.describeMedia) {
                print(problem.formatted(as: "warning"))
            }
            let pipeline = try PipelineValidator.validate(try PipelineFile.load(file, registry: registry), registry: registry)
            let storage = try Storage.local(at: folder.appendingPathComponent("cache-\(label)"))
            let start = ContinuousClock.now
            let report = try await Executor(pipeline: pipeline, storage: storage, services: services,
                                            options: ExecutionOptions(poolLimits: [.seedance: jobs])).run()
            let total = SeedanceBench.seconds(ContinuousClock.now - start)
            // The generations alone: from the first one's start to the last one's end.
            let generations = report.stages.values.filter { $0.kind == "seedance.generate" }
            let first = generations.compactMap(\.started).min()!
            let last = generations.compactMap { stage in stage.started.map { $0.addingTimeInterval(stage.seconds) } }.max()!
            let span = last.timeIntervalSince(first)
            print(String(format: "%@ (--jobs %d): %d shots generated in %.1f s = %.2f × one generation's %.0f s (one after another: %.0f s); whole run %.1f s",
                         label, jobs, shots, span, span / latency, latency, Double(shots) * latency, total))
        }
        try await time(URL(fileURLWithPath: pipelines).appendingPathComponent("product-teaser.yaml"), label: "product-teaser",
                       shots: 4, jobs: 4)

        // A six-shot storyboard from seven painted keyframes.
        var random = SplitMix64(seed: 3)
        var keyframes: [String] = []
        for index in 1...7 {
            let name = "key\(index).png"
            let hue = UInt8.random(in: 0...255, using: &random)
            try FrameImage(width: 320, height: 180, red: hue, green: 255 &- hue, blue: UInt8(index * 30))
                .write(to: folder.appendingPathComponent(name))
            keyframes.append(name)
        }
        let board = """
            defaults:
              seedance: { resolution: 720p, duration: 5 }
            stages:
              board:
                uses: seedance.storyboard
                with:
                  keyframes: [\(keyframes.joined(separator: ", "))]
                  prompts: [\((1...6).map { "\"shot \($0)\"" }.joined(separator: ", "))]
              film: { uses: concat, with: { clips: "${board.clips}" } }
            """
        try board.write(to: folder.appendingPathComponent("board.yaml"), atomically: true, encoding: .utf8)
        try renderCost(keyframes: keyframes.map { folder.appendingPathComponent($0) }, folder: folder)
        try await time(folder.appendingPathComponent("board.yaml"), label: "storyboard", shots: 6, jobs: 6)
        await emulator.stop()

        // The waterfall journey (with the plugins it uses), then its fully cached rerun as a whole process.
        let source = URL(fileURLWithPath: pipelines)
        let project = folder.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: project.appendingPathComponent("pipelines"))
        try FileManager.default.copyItem(at: source.deletingLastPathComponent().appendingPathComponent("plugins"),
                                         to: project.appendingPathComponent("plugins"))
        try? FileManager.default.removeItem(at: project.appendingPathComponent("pipelines/.seedpipe"))
        guard FileManager.default.changeCurrentDirectoryPath(project.path) else { fatalError("cannot enter \(project.path)") }
        let arguments = [seedpipe, "run", "pipelines/waterfall-journey.yaml", "--out", "out", "--emulator-latency", "0.1"]
        let fresh = ProcessRun.measure(arguments)
        guard fresh.status == 0 else {
            print("waterfall-journey failed (exit \(fresh.status)); run `\(arguments.dropFirst().joined(separator: " "))` in a copy to see why")
            exit(1)
        }
        let reruns = (0..<7).map { _ in ProcessRun.measure(arguments) }
        print(String(format: "waterfall-journey, fully cached rerun as a whole process: median %.0f ms (exit %d; goal: under 60 ms)",
                     SeedanceBench.median(reruns.map(\.seconds)) * 1000, reruns.last?.status ?? -1))

        // A one-stage template pipeline beside the shipped ones (their plugins found, never hashed), cached.
        try "pipeline: hello\nstages:\n  say: { uses: template, with: { template: \"hello\" } }\noutputs: { line: \"${say.text}\" }\n"
            .write(to: project.appendingPathComponent("pipelines/hello.yaml"), atomically: true, encoding: .utf8)
        let hello = [seedpipe, "run", "pipelines/hello.yaml", "--out", "out-hello"]
        _ = ProcessRun.measure(hello)
        let cached = (0..<7).map { _ in ProcessRun.measure(hello) }
        print(String(format: "one-stage template pipeline with the shipped plugins, cached, as a whole process: median %.0f ms (exit %d; goal: under 30 ms)",
                     SeedanceBench.median(cached.map(\.seconds)) * 1000, cached.last?.status ?? -1))
    }

    /// What the emulator spends rendering one storyboard shot (5 s of 720p from two
    /// keyframes): the work six parallel shots share the machine's cores for, inside the
    /// latency, while the client polls.
    static func renderCost(keyframes: [URL], folder: URL) throws {
        let first = try FrameImage(contentsOf: keyframes[0]), last = try FrameImage(contentsOf: keyframes[1])
        var times: [Double] = []
        for run in 0..<3 {
            let clip = SceneClip(width: 1280, height: 720, duration: 5, seed: UInt64(run), firstFrame: first, lastFrame: last,
                                 preset: "ultrafast")
            let start = ContinuousClock.now
            try clip.render(to: folder.appendingPathComponent("render-\(run).mp4"))
            times.append(SeedanceBench.seconds(ContinuousClock.now - start))
        }
        print(String(format: "emulator render of one storyboard shot (5 s, 1280x720, two keyframes, ultrafast): median %.2f s",
                     SeedanceBench.median(times)))
    }
}
