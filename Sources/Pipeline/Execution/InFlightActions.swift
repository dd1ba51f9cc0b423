/// Stages with the same action key run once per run: the first runs, the others wait for
/// its outputs. Two shots with identical parameters are one generation, paid once.
actor InFlightActions {
    typealias Result = (outputs: [String: Value], fromCache: Bool, cost: Cost?)
    private var running: [String: Task<Result, any Error>] = [:]

    /// Runs `work` for `key`, or awaits the run already under way. `shared` is true for a waiter.
    func run(_ key: String, _ work: @escaping @Sendable () async throws -> Result) async throws -> (Result, shared: Bool) {
        if let task = running[key] { return (try await task.value, true) }
        let task = Task { try await work() }
        running[key] = task
        defer { running[key] = nil }
        return (try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }, false)
    }
}
