import Foundation
import Pipeline

/// Records what the test stages did: how often each ran, in which order, and the most that
/// ran at once per pool. Stages can also wait on a gate, so a test waits on events, not time.
public actor StageRecorder {
    public private(set) var runs: [String: Int] = [:]
    public private(set) var order: [String] = []
    private var current: [String: Int] = [:]
    public private(set) var peak: [String: Int] = [:]
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    public init() {}

    public func start(_ name: String, pool: String) {
        runs[name, default: 0] += 1
        order.append(name)
        current[pool, default: 0] += 1
        peak[pool] = max(peak[pool] ?? 0, current[pool]!)
        let started = order.count
        waiters.removeAll { waiter in
            guard started >= waiter.count else { return false }
            waiter.continuation.resume()
            return true
        }
    }

    public func stop(pool: String) { current[pool, default: 1] -= 1 }
    public func count(_ name: String) -> Int { runs[name] ?? 0 }
    public var total: Int { runs.values.reduce(0, +) }

    /// Returns once `count` stage runs have started (at once if they already have).
    public func waitForStarts(_ count: Int) async {
        guard order.count < count else { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }
}

/// `emit`: outputs its `value` as text.
public struct EmitStage: Stage {
    public let recorder: StageRecorder
    public let kind = "emit"
    public let signature = StageSignature(outputs: [Port("text", .text)], parameters: [ParameterSpec("value", .string, required: true)])
    public init(recorder: StageRecorder) { self.recorder = recorder }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: "cpu")
        await recorder.stop(pool: "cpu")
        return ["text": .string(invocation.text("value"))]
    }
}

/// `join`: its `texts` joined by `separator`.
public struct JoinStage: Stage {
    public let recorder: StageRecorder
    public let kind = "join"
    public let signature = StageSignature(inputs: [Port("texts", .list(.text))], outputs: [Port("text", .text)],
                                          parameters: [ParameterSpec("separator", .string, default: .string(" "))])
    public init(recorder: StageRecorder) { self.recorder = recorder }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: "cpu")
        await recorder.stop(pool: "cpu")
        let texts = invocation["texts"]?.list?.map(\.text) ?? []
        return ["text": .string(texts.joined(separator: invocation.text("separator")))]
    }
}

/// `wait` (or another kind and pool): sleeps `ms` milliseconds, then outputs its name. With a
/// `cost`, it declares one paid generation of `seconds` per run, like a remote stage.
public struct WaitStage: Stage {
    public let recorder: StageRecorder
    public var kind: String
    public var pool: Pool
    public var paid: Bool

    public init(recorder: StageRecorder, kind: String = "wait", pool: Pool = .cpu, paid: Bool = false) {
        self.recorder = recorder
        self.kind = kind
        self.pool = pool
        self.paid = paid
    }

    public var signature: StageSignature {
        StageSignature(inputs: [Port("after", .list(.text), required: false)], outputs: [Port("text", .text)],
                       parameters: [ParameterSpec("ms", .integer, default: .number(50)), ParameterSpec("tag", .string),
                                    ParameterSpec("seconds", .number, default: .number(5))],
                       pool: pool)
    }

    public func cost(_ parameters: [String: Value]) -> Cost {
        paid ? Cost(generations: 1, seconds: parameters["seconds"]?.number ?? 5) : .free
    }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: pool.name)
        do {
            try await Task.sleep(for: .milliseconds(Int(invocation["ms"]?.number ?? 50)))
        } catch {
            await recorder.stop(pool: pool.name)
            throw error
        }
        await recorder.stop(pool: pool.name)
        return ["text": .string(invocation.name)]
    }
}

/// `fail`: always throws ``FailStage/Broken``.
public struct FailStage: Stage {
    public struct Broken: Error, CustomStringConvertible {
        public var description: String { "it broke on purpose" }
    }
    public let kind = "fail"
    public let signature = StageSignature(inputs: [Port("after", .list(.text), required: false)], outputs: [Port("text", .text)])
    public init() {}
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] { throw Broken() }
}

extension StageRegistry {
    /// `emit`, `join`, `wait`, `remote-wait` (a paid stage in pool `remote`) and `fail`.
    public static func testStages(_ recorder: StageRecorder) -> StageRegistry {
        StageRegistry([
            EmitStage(recorder: recorder), JoinStage(recorder: recorder), WaitStage(recorder: recorder),
            WaitStage(recorder: recorder, kind: "remote-wait", pool: Pool("remote"), paid: true), FailStage(),
        ])
    }
}
