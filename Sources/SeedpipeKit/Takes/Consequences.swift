import Foundation
import Pipeline

/// What a change of picks makes the next run do: the generations it adds.
public struct Consequences: Sendable {
    public let before: Plan
    public let after: Plan
    public var excluding: Set<String> = []

    public init(before: Plan, after: Plan, excluding: Set<String> = []) {
        self.before = before
        self.after = after
        self.excluding = excluding
    }

    /// Generations in `after` that `before` did not have.
    public var added: [Plan.Step] {
        let earlier = Set(before.steps.filter { $0.status == .generate }.map(\.stage))
        return after.steps.filter { $0.status == .generate && !earlier.contains($0.stage) && !excluding.contains($0.stage) }
    }

    /// "the next run regenerates shots-3#1 because of it (1 generation, 5 s of video, about $0.40)".
    public var text: String {
        let added = added
        guard !added.isEmpty else {
            let pending = after.steps.filter { $0.status == .generate && !excluding.contains($0.stage) }.count
            return "the next run pays for nothing more because of it" + (pending > 0 ? " (it has \(plural(pending, "generation")) to make anyway)" : "")
        }
        let cost = added.map(\.cost).reduce(.free, +)
        let money = (cost.money ?? 0) > 0 ? String(format: cost.emulated ? ", $%.2f of emulator credits" : ", about $%.2f", cost.money!) : ""
        return "the next run \(cost.emulated ? "emulates" : "regenerates") \(added.map(\.stage).joined(separator: ", ")) because of it "
            + "(\(plural(cost.generations, "generation")), \(Int(cost.seconds.rounded())) s of video\(money))"
    }
}
