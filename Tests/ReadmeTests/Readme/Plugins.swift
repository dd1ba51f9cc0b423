import Foundation

// The README's "Plugins: stages of your own" example, compiled here; ReadmeExampleTests
// checks the README shows exactly this code, and runs it.
// README: begin
import Pipeline

/// A stage of your own: typed ports, and parameters checked before anything runs.
struct Shout: Stage {
    let kind = "shout"
    let version = "1"  // part of every action key: bump it when the output changes
    let signature = StageSignature(
        inputs: [Port("text", .text)], outputs: [Port("text", .text)],
        parameters: [ParameterSpec("marks", .integer, default: .number(1), range: 0...5)])

    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let marks = String(repeating: "!", count: Int(invocation["marks"]?.number ?? 1))
        return ["text": .string(invocation.text("text").uppercased() + marks)]
    }
}

func shout(cache: URL) async throws -> RunReport {
    var registry = StageRegistry()  // or BuiltinStages.registry() to add seedpipe's own
    registry.register(Shout())
    let graph = try PipelineGraph("shouting", registry: registry) {
        Use("once", "shout", ["text": "hello", "marks": 2])
        Use("again", "shout", ["text": "${once.text} again"])
        Output("line", "${again.text}")
    }
    let pipeline = try PipelineValidator.validate(graph, registry: registry)
    return try await Executor(pipeline: pipeline, storage: Storage.local(at: cache)).run()
}
// README: end
