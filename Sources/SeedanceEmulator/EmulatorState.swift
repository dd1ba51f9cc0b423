import Foundation
import SeedanceAPI

/// Every accepted generation and its progress through QUEUED → PROCESSING → COMPLETED/FAILED,
/// with a fixed number of workers.
actor EmulatorState {
    private var jobs: [String: EmulatorJob] = [:]
    /// Ids in submission order, for history (newest first when listed).
    private var order: [String] = []
    private var queue: [String] = []
    private var running = 0
    private(set) var stats = EmulatorStats()
    let configuration: EmulatorConfiguration
    let renderer: ClipRenderer

    init(configuration: EmulatorConfiguration, renderer: ClipRenderer) {
        self.configuration = configuration
        self.renderer = renderer
    }

    /// Accepts a generation (billable) and queues it.
    func submit(_ request: GenerationRequest, body: JSONValue, baseURL: String) -> EmulatorJob {
        let seed = request.effectiveSeed == -1 ? Int.random(in: 0...2_147_483_647) : request.effectiveSeed
        let job = EmulatorJob(id: UUID().uuidString.lowercased(), request: request, body: body, baseURL: baseURL,
                              submittedAt: Date(), seed: seed)
        jobs[job.id] = job
        order.append(job.id)
        queue.append(job.id)
        stats.submitted += 1
        pump()
        return job
    }

    /// Runs a generation to its end and returns it (the v1 sync path).
    func runNow(_ request: GenerationRequest, body: JSONValue, baseURL: String) async -> EmulatorJob {
        stats.syncRuns += 1
        let job = submit(request, body: body, baseURL: baseURL)
        while let current = jobs[job.id], current.isPending {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return jobs[job.id]!
    }

    /// The job, or nil when unknown or finished longer ago than the retention.
    func job(_ id: String) -> EmulatorJob? {
        guard let job = jobs[id] else { return nil }
        if let finished = job.finishedAt,
           Date().timeIntervalSince(finished) > Double(configuration.retention.components.seconds)
            + Double(configuration.retention.components.attoseconds) / 1e18 {
            return nil
        }
        return job
    }

    /// The history row of any job ever accepted, however old.
    func historyEntry(_ id: String) -> HistoryEntry? {
        jobs[id]?.historyEntry(pricePerSecond: configuration.pricePerSecond)
    }

    /// Every job's history row, newest first.
    func history() -> [HistoryEntry] {
        order.reversed().compactMap { jobs[$0]?.historyEntry(pricePerSecond: configuration.pricePerSecond) }
    }

    func count(_ update: (inout EmulatorStats) -> Void) { update(&stats) }

    var currentStats: EmulatorStats {
        var snapshot = stats
        snapshot.queued = queue.count
        snapshot.processing = running
        return snapshot
    }

    private func pump() {
        while running < configuration.workers, !queue.isEmpty {
            let id = queue.removeFirst()
            running += 1
            jobs[id]?.state = .processing
            jobs[id]?.startedAt = Date()
            let job = jobs[id]!
            Task { finish(id, with: await renderer.process(job)) }
        }
    }

    private func finish(_ id: String, with outcome: ClipRenderer.Outcome) {
        running -= 1
        jobs[id]?.finishedAt = Date()
        switch outcome {
        case .completed(let video, let lastFrame, let rendered):
            jobs[id]?.state = .completed
            jobs[id]?.video = video
            jobs[id]?.lastFrame = lastFrame
            stats.completed += 1
            if rendered { stats.rendered += 1 }
        case .failed(let reason):
            jobs[id]?.state = .failed
            jobs[id]?.error = reason
            stats.failed += 1
        }
        pump()
    }
}
