import Foundation
import Media
import SeedanceAPI
import SeedanceEmulator

/// The emulator and the client under load: render speed, submissions per second with 64
/// concurrent clients, and the client's own cost per job (submit + polls + result + download).
enum SeedanceBench {
    static func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("seedance-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        // 1. Rendering one 5 s 720p clip with audio, as the emulator does (x264 veryfast).
        var renders: [Double] = []
        for run in 0..<3 {
            let start = ContinuousClock.now
            try SceneClip(width: 1280, height: 720, frameRate: 24, duration: 5, seed: UInt64(run + 1))
                .render(to: folder.appendingPathComponent("render\(run).mp4"))
            renders.append(seconds(ContinuousClock.now - start))
        }
        let render = median(renders)
        print(String(format: "render 5 s 720p + audio: %.2f s (%.2f × real time; under 1 is faster than playback)", render, render / 5))

        // 2. 64 concurrent clients against an emulator with zero latency. Identical requests
        //    share one render, so this measures the API, not the encoder.
        let emulator = try SeedanceEmulator(configuration: EmulatorConfiguration(
            apiKey: "bench", latency: .zero, workers: 64, preset: "ultrafast", storage: folder.appendingPathComponent("emulator")))
        let url = try await emulator.start()
        let client = SeedanceClient(endpoints: .single(url), apiKey: APIKey("bench"))
        let request = GenerationRequest(prompt: "benchmark", duration: 4, resolution: "480p", seed: 1)
        _ = try await client.wait(for: try await client.submit(request), interval: .milliseconds(5))  // warm the render

        let clients = 64, perClient = 25
        let submitStart = ContinuousClock.now
        let jobs = try await withThrowingTaskGroup(of: [SubmittedJob].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [SubmittedJob] = []
                    for _ in 0..<perClient { mine.append(try await client.submit(request)) }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let submitSeconds = seconds(ContinuousClock.now - submitStart)
        print(String(format: "submissions: %d from %d concurrent clients in %.2f s = %.0f per second",
                     jobs.count, clients, submitSeconds, Double(jobs.count) / submitSeconds))

        // 3. Whole jobs: submit + polls + result + download, one client alone and 64 at once.
        func job(_ index: Int) async throws -> Double {
            let start = ContinuousClock.now
            let result = try await client.wait(for: try await client.submit(request), interval: .milliseconds(5))
            try await client.download(result.output!, to: folder.appendingPathComponent("job-\(index).mp4"))
            return seconds(ContinuousClock.now - start) * 1000
        }
        var alone: [Double] = []
        for index in 0..<50 { alone.append(try await job(index)) }
        let concurrentStart = ContinuousClock.now
        let together = try await withThrowingTaskGroup(of: Double.self) { group in
            for index in 0..<(clients * 4) { group.addTask { try await job(1000 + index) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let concurrentSeconds = seconds(ContinuousClock.now - concurrentStart)
        let size = (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("job-0.mp4").path)[.size] as? Int) ?? 0
        print(String(format: "per job, one client: median %.1f ms (submit + polls + result + download of %d KB)",
                     median(alone), size / 1000))
        print(String(format: "per job, 64 clients: median %.1f ms, p95 %.1f ms; %d jobs in %.2f s = %.0f jobs per second",
                     median(together), percentile(together, 0.95), together.count, concurrentSeconds,
                     Double(together.count) / concurrentSeconds))
        let stats = await emulator.stats()
        print("emulator: \(stats.submitted) submitted, \(stats.completed) completed, \(stats.rendered) rendered")
        await emulator.stop()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}
