/// Runs each render once however many identical requests ask for it at the same time:
/// the first caller renders, the others wait for that render.
actor RenderCoalescer {
    private var inFlight: [String: Task<Bool, any Error>] = [:]

    /// Runs `work` for `key` unless a run for it is under way, then awaits that one.
    /// Returns what the run returned (for the caller that started it) or false (for a waiter).
    func run(_ key: String, _ work: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        if let running = inFlight[key] {
            _ = try await running.value
            return false
        }
        let task = Task { try await work() }
        inFlight[key] = task
        defer { inFlight[key] = nil }
        return try await task.value
    }
}
