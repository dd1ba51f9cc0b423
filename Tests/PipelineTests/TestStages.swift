import Foundation
import Pipeline

/// Records what test stages did, for assertions.
actor Recorder {
    private(set) var runs: [String: Int] = [:]
    private(set) var order: [String] = []
    private var current: [String: Int] = [:]
    private(set) var peak: [String: Int] = [:]

    func start(_ name: String, pool: String) {
        runs[name, default: 0] += 1
        order.append(name)
        current[pool, default: 0] += 1
        peak[pool] = max(peak[pool] ?? 0, current[pool]!)
    }

    func stop(pool: String) { current[pool, default: 1] -= 1 }
    func count(_ name: String) -> Int { runs[name] ?? 0 }
    var total: Int { runs.values.reduce(0, +) }
}

struct EmitStage: Stage {
    let recorder: Recorder
    let kind = "emit"
    let signature = StageSignature(outputs: [Port("text", .text)], parameters: [ParameterSpec("value", .string, required: true)])
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: "cpu")
        await recorder.stop(pool: "cpu")
        return ["text": .string(invocation.text("value"))]
    }
}

struct JoinStage: Stage {
    let recorder: Recorder
    let kind = "join"
    let signature = StageSignature(inputs: [Port("texts", .list(.text))], outputs: [Port("text", .text)],
                                   parameters: [ParameterSpec("separator", .string, default: .string(" "))])
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: "cpu")
        await recorder.stop(pool: "cpu")
        let texts = invocation["texts"]?.list?.map(\.text) ?? []
        return ["text": .string(texts.joined(separator: invocation.text("separator")))]
    }
}

struct WaitStage: Stage {
    let recorder: Recorder
    var kind = "wait"
    var pool = Pool.cpu
    var signature: StageSignature {
        StageSignature(inputs: [Port("after", .list(.text), required: false)], outputs: [Port("text", .text)],
                       parameters: [ParameterSpec("ms", .integer, default: .number(50)), ParameterSpec("tag", .string)],
                       pool: pool)
    }
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: pool.name)
        defer { Task { await recorder.stop(pool: pool.name) } }
        try await Task.sleep(for: .milliseconds(Int(invocation["ms"]?.number ?? 50)))
        await recorder.stop(pool: pool.name)
        return ["text": .string(invocation.name)]
    }
}

struct FailStage: Stage {
    let kind = "fail"
    let signature = StageSignature(inputs: [Port("after", .list(.text), required: false)], outputs: [Port("text", .text)])
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        struct Broken: Error, CustomStringConvertible { var description: String { "it broke on purpose" } }
        throw Broken()
    }
}

struct MakeImageStage: Stage {
    let recorder: Recorder
    let kind = "make-image"
    let signature = StageSignature(outputs: [Port("image", .image)], parameters: [ParameterSpec("content", .string, required: true)])
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: "cpu")
        await recorder.stop(pool: "cpu")
        let file = context.scratch.appendingPathComponent("image.png")
        try Data(invocation.text("content").utf8).write(to: file)
        return ["image": .artifact(try context.store.put(file: file, type: .image))]
    }
}

struct ReadStage: Stage {
    let recorder: Recorder
    let kind = "read"
    let signature = StageSignature(inputs: [Port("image", .image)], outputs: [Port("text", .text)])
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: "cpu")
        await recorder.stop(pool: "cpu")
        let url = try context.store.verifiedLocation(of: invocation["image"]!.artifact!)
        return ["text": .string(String(decoding: try Data(contentsOf: url), as: UTF8.self))]
    }
}

struct CheckedStage: Stage {
    let kind = "checked"
    let signature = StageSignature(outputs: [Port("text", .text)],
                                   parameters: [ParameterSpec("duration", .integer, default: .number(5)),
                                                ParameterSpec("mode", .string, allowed: [.string("fast"), .string("slow")])])
    func check(_ parameters: [String: Value]) -> [String] {
        guard let duration = parameters["duration"]?.number, ![4, 5, 6, 8, 10, 12, 15].contains(duration) else { return [] }
        return ["duration must be one of 4, 5, 6, 8, 10, 12, 15 seconds (got \(Value.number(duration).text))"]
    }
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] { ["text": .string("ok")] }
}

/// `repeat` with `texts: [a, b, c]` expands into one emit per text and a join of them.
struct RepeatMacro: MacroStage {
    let kind = "repeat"
    let acceptedKeys = ["texts"]
    func expand(name: String, with: [String: ValueExpression], location: SourceLocation?, context: MacroContext) throws -> MacroExpansion {
        guard case .literal(.list(let texts)) = with["texts"] ?? .literal(.null) else {
            throw PipelineError("`\(name)`: texts must be a list", at: location)
        }
        var stages = texts.enumerated().map { index, text in
            StageNode(name: "\(name)-\(index + 1)", kind: "emit", with: ["value": .literal(text)], location: location)
        }
        stages.append(StageNode(name: "\(name)-all", kind: "join", with: [
            "texts": .list(stages.map { .reference(Reference(stage: $0.name, output: "text")) }),
        ], location: location))
        return MacroExpansion(stages: stages, exports: ["text": .reference(Reference(stage: "\(name)-all", output: "text"))])
    }
}

func testRegistry(_ recorder: Recorder, waitPool: Pool = .cpu) -> StageRegistry {
    var registry = StageRegistry([
        EmitStage(recorder: recorder), JoinStage(recorder: recorder), WaitStage(recorder: recorder),
        WaitStage(recorder: recorder, kind: "remote-wait", pool: .seedance), FailStage(),
        MakeImageStage(recorder: recorder), ReadStage(recorder: recorder), CheckedStage(),
    ])
    registry.register(RepeatMacro())
    return registry
}
