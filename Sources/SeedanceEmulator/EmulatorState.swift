import Foundation
import SeedanceAPI

/// Every accepted generation and its progress through QUEUED → PROCESSING → COMPLETED/FAILED,
/// with a fixed number of workers.
actor EmulatorState {
    private var jobs: [String: EmulatorJob] = [:]
    /// Ids in submission order, for history (newest first when listed).
    private var order: [String] = []
    /// Every body accepted so far (as sorted-key JSON), to count duplicates.
    private var acceptedBodies: Set<String> = []
    /// Files whose download was cut short once.
    private var cut: Set<String> = []
    /// Who waits for a job to end (the v1 sync path).
    private var finished: [String: [CheckedContinuation<Void, Never>]] = [:]

    static func text(of body: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
    private var queue: [String] = []
    private var running = 0
    private(set) var stats = EmulatorStats()
    let configuration: EmulatorConfiguration
    let renderer: ClipRenderer
    /// The balance (nil: unlimited), and what accepted generations still running would take from it.
    private var credits: Double?
    private var pending = 0.0

    init(configuration: EmulatorConfiguration, renderer: ClipRenderer) {
        self.configuration = configuration
        self.renderer = renderer
        credits = configuration.credits
    }

    /// What a generation costs when it completes.
    func price(of request: GenerationRequest) -> Double {
        Double(request.effectiveDuration) * configuration.price(resolution: request.effectiveResolution)
    }

    /// Why the balance does not cover a new generation, or nil when it does.
    func shortfall(for request: GenerationRequest) -> String? {
        guard let credits else { return nil }
        let cost = price(of: request), available = credits - pending
        guard cost > available + 1e-9 else { return nil }
        return String(format: "Insufficient credits: the balance ($%.2f, less $%.2f for generations running) does not cover this generation ($%.2f); add credits or raise the team's spend limit",
                      credits, pending, cost)
    }

    /// Accepts a generation (billable) and queues it.
    func submit(_ request: GenerationRequest, body: JSONValue, baseURL: String) -> EmulatorJob {
        let seed = request.effectiveSeed == -1 ? Int.random(in: 0...2_147_483_647) : request.effectiveSeed
        let job = EmulatorJob(id: UUID().uuidString.lowercased(), request: request, body: body, baseURL: baseURL,
                              submittedAt: configuration.clock.date, seed: seed)
        jobs[job.id] = job
        order.append(job.id)
        queue.append(job.id)
        stats.submitted += 1
        if !acceptedBodies.insert(Self.text(of: body)).inserted { stats.duplicates += 1 }
        pending += price(of: request)
        pump()
        return job
    }

    /// Runs a generation to its end and returns it (the v1 sync path).
    func runNow(_ request: GenerationRequest, body: JSONValue, baseURL: String) async -> EmulatorJob {
        stats.syncRuns += 1
        let job = submit(request, body: body, baseURL: baseURL)
        while let current = jobs[job.id], current.isPending {
            await withCheckedContinuation { finished[job.id, default: []].append($0) }
        }
        return jobs[job.id]!
    }

    /// The job, or nil when unknown or finished longer ago than the retention.
    func job(_ id: String) -> EmulatorJob? {
        guard let job = jobs[id] else { return nil }
        if let finished = job.finishedAt, configuration.clock.date.timeIntervalSince(finished) > configuration.retention.timeInterval {
            return nil
        }
        return job
    }

    /// The history row of any job ever accepted, however old.
    func historyEntry(_ id: String) -> HistoryEntry? {
        jobs[id].map { $0.historyEntry(price: price(of: $0.request)) }
    }

    /// Request history, newest first, without what is younger than `historyLag` (a real
    /// history can lag behind the submits it lists).
    func history() -> [HistoryEntry] {
        let lag = configuration.historyLag.timeInterval
        let shown = configuration.clock.date.addingTimeInterval(-lag)
        return order.reversed().compactMap { id in
            guard let job = jobs[id], lag <= 0 || job.submittedAt <= shown else { return nil }
            return job.historyEntry(price: price(of: job.request))
        }
    }

    func count(_ update: (inout EmulatorStats) -> Void) { update(&stats) }

    /// Every accepted request, in the order they were submitted.
    var accepted: [GenerationRequest] { order.compactMap { jobs[$0]?.request } }

    /// Whether to cut this file's download short: at most once per file, at `rate`.
    func cutOnce(_ name: String, rate: Double) -> Bool {
        guard !cut.contains(name), Double.random(in: 0..<1) < rate else { return false }
        cut.insert(name)
        stats.truncated += 1
        return true
    }

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
            jobs[id]?.startedAt = configuration.clock.date
            let job = jobs[id]!
            Task { finish(id, with: await renderer.process(job)) }
        }
    }

    private func finish(_ id: String, with outcome: ClipRenderer.Outcome) {
        running -= 1
        jobs[id]?.finishedAt = configuration.clock.date
        switch outcome {
        case .completed(let video, let lastFrame, let rendered):
            // Only a completed generation is billed.
            let cost = jobs[id].map { price(of: $0.request) } ?? 0
            pending = max(0, pending - cost)
            if let balance = credits { credits = max(0, balance - cost) }
            jobs[id]?.cost = cost
            jobs[id]?.remainingCredits = credits
            stats.billed += cost
            jobs[id]?.state = .completed
            jobs[id]?.video = video
            jobs[id]?.lastFrame = lastFrame
            stats.completed += 1
            if rendered { stats.rendered += 1 }
        case .failed(let reason):
            pending = max(0, pending - (jobs[id].map { price(of: $0.request) } ?? 0))
            jobs[id]?.state = .failed
            jobs[id]?.error = reason
            stats.failed += 1
        }
        for waiter in finished.removeValue(forKey: id) ?? [] { waiter.resume() }
        pump()
    }
}
