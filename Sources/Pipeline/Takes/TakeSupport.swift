import Foundation

/// How a stage makes *takes*: several runs of the same shot that differ only in a seed, of
/// which one is picked for everything downstream.
///
/// A stage that declares it (``StageSignature/takes``) accepts `takes: N` in `with:`. The
/// pipeline then holds one node per take (`NAME#1` … `NAME#N`), each an ordinary stage run
/// cached and journaled under its own action key, and a selector node `NAME` (kind
/// `take:KIND`, see ``TakeSelector``) that forwards the picked take's outputs. Take k uses
/// seed `seed + k − 1`; takes made later by a re-roll have the seeds the picks file records.
public struct TakeSupport: Sendable, Hashable {
    /// The integer parameter that differs from take to take.
    public var seed: String
    /// The output whose digest identifies a take's content (what a pick records).
    public var identity: String
    /// How a take is made *between* unchanged neighbours, when the stage can do that.
    public var bridge: Bridge?

    /// A new take that ends where an earlier one did: it is given that take's output
    /// `output` as its input `input`, and the selector forwards the earlier take's `output`,
    /// so what continues from it keeps its inputs (and its cache entries).
    public struct Bridge: Sendable, Hashable {
        public var input: String
        public var output: String
        public init(input: String, output: String) {
            self.input = input
            self.output = output
        }
    }

    public init(seed: String, identity: String, bridge: Bridge? = nil) {
        self.seed = seed
        self.identity = identity
        self.bridge = bridge
    }
}

/// What a take node is: take `number` of shot `shot`. Set on the node (``StageNode/take``)
/// and handed to the stage (``StageInvocation/take``); not part of the action key.
public struct TakeRole: Sendable, Hashable, Codable {
    /// The shot's name: the selector node downstream stages read from.
    public var shot: String
    /// 1-based.
    public var number: Int
    /// How many takes the shot has (declared and re-rolled).
    public var count: Int
    /// Whether this is the take downstream stages see.
    public var picked: Bool
    /// Seeds between this take's own retries (a stage re-seeding a refused run steps by
    /// this, so it never lands on another take's seed): the number of declared takes.
    public var stride: Int

    public init(shot: String, number: Int, count: Int, picked: Bool, stride: Int) {
        self.shot = shot
        self.number = number
        self.count = count
        self.picked = picked
        self.stride = stride
    }

    /// "take 3 of 3 (picked)".
    public var summary: String { "take \(number) of \(count)\(picked ? " (picked)" : "")" }

    /// The node name of take `number` of `shot`.
    public static func nodeName(shot: String, number: Int) -> String { "\(shot)#\(number)" }
}
