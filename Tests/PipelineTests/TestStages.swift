import Foundation
import Pipeline
import PipelineTesting

typealias Recorder = StageRecorder

struct MakeImageStage: Stage {
    let recorder: Recorder
    let kind = "make-image"
    let signature = StageSignature(outputs: [Port("image", .image)], parameters: [ParameterSpec("content", .string, required: true)])
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: "cpu")
        await recorder.stop(pool: "cpu")
        let file = context.scratch.appendingPathComponent("image.png")
        try Data(invocation.text("content").utf8).write(to: file)
        return ["image": .artifact(try await context.store.put(file: file, type: .image))]
    }
}

struct ReadStage: Stage {
    let recorder: Recorder
    let kind = "read"
    let signature = StageSignature(inputs: [Port("image", .image)], outputs: [Port("text", .text)])
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        await recorder.start(invocation.name, pool: "cpu")
        await recorder.stop(pool: "cpu")
        let url = try await context.store.verifiedLocation(of: invocation["image"]!.artifact!)
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
    var registry = StageRegistry.testStages(recorder)
    for stage: any Stage in [MakeImageStage(recorder: recorder), ReadStage(recorder: recorder), CheckedStage()] {
        registry.register(stage)
    }
    registry.register(RepeatMacro())
    return registry
}
