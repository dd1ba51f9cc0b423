import Foundation
import Pipeline
import SeedanceAPI

/// Runs one piece of work per key at a time in a process; others with the key await it.
public actor Coalescer<Result: Sendable> {
    private var running: [String: Task<Result, any Error>] = [:]
    public init() {}

    public func run(_ key: String, _ work: @escaping @Sendable () async throws -> Result) async throws -> Result {
        if let task = running[key] { return try await task.value }
        let task = Task { try await work() }
        running[key] = task
        defer { running[key] = nil }
        return try await task.value
    }
}
