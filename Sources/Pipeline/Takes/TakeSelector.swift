import Foundation

/// `take:KIND`: the node a shot with several takes keeps its name for. It reads every take
/// node's outputs and forwards the picked take's, so downstream stages see one take.
///
/// The pick is a take number, checked against the digest recorded with it: when another of
/// the takes has that digest (the takes were renumbered), that one is used; when none has
/// (what the shot starts from changed since the pick), the numbered take is used and a
/// warning says so. For a bridged take the bridge output comes from the take the following
/// stages continue from. Free, local, and cached like any stage.
public struct TakeSelector: Stage {
    public static let prefix = "take:"
    public let wrapped: any Stage
    public let support: TakeSupport

    public init?(wrapping stage: any Stage) {
        guard let support = stage.signature.takes else { return nil }
        wrapped = stage
        self.support = support
    }

    public var kind: String { Self.prefix + wrapped.kind }

    public var signature: StageSignature {
        let outputs = wrapped.signature.outputs
        return StageSignature(
            inputs: outputs.map { Port($0.name, .list($0.type)) },
            outputs: outputs + [Port("take", .number)],
            parameters: [
                ParameterSpec("numbers", .list, required: true),
                ParameterSpec("pick", .integer, required: true),
                ParameterSpec("digest", .string),
                ParameterSpec("anchor", .integer),
            ])
    }

    public func predict(_ invocation: StageInvocation) -> [String: Value]? {
        let identities = (invocation[support.identity]?.list ?? []).map { $0.artifact?.digest }
        // A take not made yet comes as null while planning. If the pick's digest matches no take
        // that is made, one not made yet may turn out to be the pick: only running tells.
        if let digest = invocation["digest"]?.string, identities.contains(nil), !identities.contains(digest) { return nil }
        guard let choice = try? choose(invocation) else { return nil }
        // What is known: a bridged pick not made yet still passes on its anchor's last frame.
        let known = choice.outputs.filter { $0.value != .null }
        return known.isEmpty ? nil : known
    }

    /// The picked take's outputs are known once it is made, whatever the other takes are.
    public var predictsFromPartialInputs: Bool { true }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let choice = try choose(invocation)
        if let note = choice.note {
            if choice.matchedByDigest { context.logger.info("\(note)") } else { context.logger.warning("\(note)") }
        }
        return choice.outputs
    }

    /// The picked take's outputs, and a note when the digest moved the pick or no longer matches.
    func choose(_ invocation: StageInvocation) throws -> (outputs: [String: Value], note: String?, matchedByDigest: Bool) {
        let numbers = (invocation["numbers"]?.list ?? []).compactMap(\.number).map { Int($0) }
        let pick = Int(invocation["pick"]?.number ?? 1)
        guard var index = numbers.firstIndex(of: pick) else {
            throw PipelineError(.invalidPipeline, "take \(pick) is not among the takes (\(numbers.map(String.init).joined(separator: ", ")))")
        }
        let shot = invocation.name
        var note: String?
        var matched = false
        if let digest = invocation["digest"]?.string {
            let digests = (invocation[support.identity]?.list ?? []).map { $0.artifact?.digest }
            if digests.indices.contains(index), digests[index] != digest {
                if let match = digests.firstIndex(of: digest) {
                    note = "\(shot): the picked take is take \(numbers[match]) now (found by its digest)"
                    index = match
                    matched = true
                } else {
                    note = "\(shot): take \(pick) is not the take that was picked: its prompt or what it starts from changed since; "
                        + "using take \(pick) (seedpipe pick to choose again)"
                }
            }
        }
        var outputs: [String: Value] = [:]
        for port in wrapped.signature.outputs {
            outputs[port.name] = invocation[port.name]?.list?[safe: index]
        }
        if let anchor = invocation["anchor"]?.number.map({ Int($0) }), let bridge = support.bridge,
           let anchorIndex = numbers.firstIndex(of: anchor) {
            // What follows keeps starting where the take it was made from ended.
            outputs[bridge.output] = invocation[bridge.output]?.list?[safe: anchorIndex]
        }
        outputs["take"] = .number(Double(numbers[index]))
        return (outputs, note, matched)
    }
}

fileprivate extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
