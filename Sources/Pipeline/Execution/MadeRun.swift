import Foundation

/// What the cache holds of a pipeline as it stands: each stage's record where its action is
/// made, and the pipeline's outputs as far as they are made. Nothing runs; for tools that
/// read a finished run (an editor's timeline, a report).
public struct MadeRun: Sendable {
    /// The record of each made stage, by stage name.
    public var records: [String: ActionRecord]
    /// The pipeline's outputs that are made, by output name.
    public var outputs: [String: Value]
    /// Stages whose action is not in the cache (they would run, or generate).
    public var missing: [String]
    /// The pipeline, in order.
    public var pipeline: ValidatedPipeline

    /// The stages whose outputs hold the artifact with this digest, in pipeline order (one
    /// that passes an input on unchanged is listed after the stage that made it), each with
    /// the output port.
    public func producers(of digest: String) -> [(stage: String, port: String)] {
        pipeline.steps.flatMap { step -> [(stage: String, port: String)] in
            guard let record = records[step.node.name] else { return [] }
            return record.outputs.keys.sorted()
                .filter { record.outputs[$0]!.artifacts.contains { $0.digest == digest } }
                .map { (step.node.name, $0) }
        }
    }

    /// The last stage to output the artifact: the one whose output it is, as far down the pipeline as it goes.
    public func producer(of digest: String) -> (stage: String, port: String)? { producers(of: digest).last }
}

extension Planner {
    /// Looks the pipeline up in the cache, stage by stage, as ``plan(_:storage:)`` does.
    public static func made(_ pipeline: ValidatedPipeline, storage: Storage) async -> MadeRun {
        let plan = await plan(pipeline, storage: storage)
        var records: [String: ActionRecord] = [:]
        var missing: [String] = []
        for step in plan.steps {
            if step.status == .cached, let key = step.key, let record = await storage.actions.lookup(key) {
                records[step.stage] = record
            } else {
                missing.append(step.stage)
            }
        }
        let known = records.mapValues(\.outputs)
        let executor = Executor(pipeline: pipeline, storage: storage)
        var outputs: [String: Value] = [:]
        for (name, expression) in pipeline.graph.outputs {
            guard expression.references.allSatisfy({ known[$0.stage] != nil }),
                  let value = try? await executor.resolve(expression, upstream: known, port: nil, storeFiles: false)
            else { continue }
            outputs[name] = value
        }
        return MadeRun(records: records, outputs: outputs, missing: missing, pipeline: pipeline)
    }
}
