import Foundation
import Media
import Pipeline
import Stages

/// The takes of a pipeline's shots as the cache and the journal know them: what `takes`
/// lists, and what `pick` and `reroll` work from. Read from the pipeline loaded with every
/// take (``TakeSelection/all``).
public struct ShotTakes: Encodable, Sendable {
    public struct Take: Encodable, Sendable {
        public var take: Int
        public var seed: Int?
        /// done, failed, submitted (paid, not downloaded yet), intent (sent, not confirmed),
        /// not made, or waiting (what it starts from is not made yet).
        public var state: String
        public var requestID: String?
        public var digest: String?
        public var seconds: Double?
        public var poster: String?
        public var picked: Bool
        public var keepAfter: Int?
        /// What it was billed, USD, when the service said.
        public var cost: Double?
        public var key: String?
        /// Seeds moderation refused before this take got through (or gave up).
        public var refusedSeeds: [Int]?
        /// The video in the store, when made (not encoded).
        public var video: Artifact?
        /// The prompt it was generated from, when made.
        public var prompt: String?

        enum CodingKeys: String, CodingKey {
            case take, seed, state, digest, seconds, poster, picked, key, cost, prompt
            case requestID = "request_id", keepAfter = "keep_after", refusedSeeds = "refused_seeds"
        }
    }

    public struct Shot: Encodable, Sendable {
        public var shot: String
        public var picked: Int
        public var takes: [Take]
        /// The take node names by take number (not encoded).
        public var nodes: [Int: String] = [:]
        /// The shot as a finishing profile makes it (one take, the picked seed), when asked for.
        public var finished: Take?
        /// That profile.
        public var finishedProfile: String?

        enum CodingKeys: String, CodingKey {
            case shot, picked, takes, finished
            case finishedProfile = "finished_profile"
        }
    }

    public var shots: [Shot]

    public func shot(_ name: String) -> Shot? { shots.first { $0.shot == name } }

    /// Every shot (a stage that can have takes) and its takes, in pipeline order. Posters
    /// are made for made takes, once, in `posters` (the cache's `posters/` folder).
    public static func read(_ pipeline: ValidatedPipeline, picks: Picks, storage: Storage, posters: URL?) async -> ShotTakes {
        let plan = await Planner.plan(pipeline, storage: storage)
        let keys = Dictionary(plan.steps.map { ($0.stage, $0.key) }, uniquingKeysWith: { first, _ in first })
        var shots: [Shot] = []
        var index: [String: Int] = [:]
        for step in pipeline.steps {
            guard step.stage.signature.takes != nil else { continue }
            let role = step.node.take ?? TakeRole(shot: step.node.name, number: 1, count: 1, picked: true, stride: 1)
            if index[role.shot] == nil {
                index[role.shot] = shots.count
                shots.append(Shot(shot: role.shot, picked: picks.shots[role.shot]?.take ?? 1, takes: []))
            }
            let key = keys[step.node.name] ?? nil
            var take = Take(take: role.number, seed: step.with["seed"].flatMap { if case .literal(let v) = $0 { v.number.map { Int($0) } } else { nil } },
                            state: key == nil ? "waiting" : "not made", picked: role.picked, key: key)
            if let rerolls = picks.shots[role.shot]?.rerolls, role.number > role.count - rerolls.count {
                take.keepAfter = rerolls[role.number - (role.count - rerolls.count) - 1].keepAfter
            }
            if let key {
                if let entry = await GenerationEntry.find(key, in: storage.journal) {
                    take.state = entry.state == .downloaded ? "done" : entry.state.rawValue
                    take.requestID = entry.requestID
                    take.seed = entry.seed ?? take.seed
                    take.seconds = Double(entry.seconds)
                    take.refusedSeeds = entry.refusals?.map(\.seed)
                    take.cost = entry.cost
                }
                if let hit = await storage.actions.lookup(key), let video = hit.outputs["video"]?.artifact {
                    take.prompt = hit.values["prompt"]?.string
                    take.state = "done"
                    take.digest = video.digest
                    take.video = video
                    if let posters, let location = try? await storage.artifacts.verifiedLocation(of: video) {
                        take.poster = await poster(for: video, at: location, in: posters).map { Self.display($0) }
                        take.seconds = take.seconds ?? (try? MediaInfo.probe(location))?.duration
                    }
                }
            }
            shots[index[role.shot]!].takes.append(take)
            shots[index[role.shot]!].nodes[role.number] = step.node.name
        }
        // In the order the pipeline declares them (the steps run in dependency order, which
        // can put a storyboard's first shot last).
        var declared: [String: Int] = [:]
        for (position, node) in pipeline.graph.stages.enumerated() where declared[node.take?.shot ?? node.name] == nil {
            declared[node.take?.shot ?? node.name] = position
        }
        shots.sort { (declared[$0.shot] ?? .max, $0.shot) < (declared[$1.shot] ?? .max, $1.shot) }
        return ShotTakes(shots: shots.map { var shot = $0; shot.takes.sort { $0.take < $1.take }; return shot })
    }

    /// A path as a person would type it (`.seedpipe/posters/…`, not `./.seedpipe/posters/…`).
    static func display(_ url: URL) -> String {
        let path = url.relativePath
        return path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    }

    /// A still from the middle of the take, 320 wide, made once per video.
    static func poster(for video: Artifact, at location: URL, in folder: URL) async -> URL? {
        let file = folder.appendingPathComponent("\(video.digest).jpg")
        if FileManager.default.fileExists(atPath: file.path) { return file }
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let made = try? await MediaThread.run {
            let duration = try MediaInfo.probe(location).duration ?? 0
            return try VideoFile(location).writeStill(at: duration / 2, to: file, width: 320)
        }
        return made == nil ? nil : file
    }

    /// The text `takes` prints.
    public func text() -> String {
        var lines: [String] = []
        for shot in shots {
            lines.append("\(shot.shot): \(shot.takes.count == 1 ? "1 take" : "\(shot.takes.count) takes"), take \(shot.picked) picked")
            for take in shot.takes {
                var fields = ["\(take.picked ? "*" : " ") take \(take.take)"]
                fields.append(take.seed.map { "seed \($0)" } ?? "seed ?")
                fields.append(take.state)
                if let seconds = take.seconds { fields.append(String(format: "%.1f s", seconds)) }
                if let id = take.requestID { fields.append("request \(id)") }
                if let digest = take.digest { fields.append("digest \(digest.prefix(12))") }
                if let keepAfter = take.keepAfter { fields.append("between its neighbours (after take \(keepAfter))") }
                if let refused = take.refusedSeeds, !refused.isEmpty {
                    fields.append("refused at seed\(refused.count == 1 ? "" : "s") \(refused.map(String.init).joined(separator: ", "))")
                }
                if let poster = take.poster { fields.append(poster) }
                lines.append("  " + fields.joined(separator: "  "))
            }
            if let finished = shot.finished, let profile = shot.finishedProfile {
                var fields = ["  \(profile)", finished.seed.map { "seed \($0)" } ?? "seed ?", finished.state]
                if let seconds = finished.seconds { fields.append(String(format: "%.1f s", seconds)) }
                if let digest = finished.digest { fields.append("digest \(digest.prefix(12))") }
                if let poster = finished.poster { fields.append(poster) }
                lines.append("  " + fields.joined(separator: "  "))
            }
        }
        return lines.joined(separator: "\n")
    }
}
