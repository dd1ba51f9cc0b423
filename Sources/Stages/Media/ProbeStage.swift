import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `probe`: what a video holds, as JSON.
public struct ProbeStage: Stage {
    public let kind = "probe"
    public init() {}
    public var documentation: StageDocumentation {
        StageDocumentation("what a video holds: duration, streams, codecs, size, frame rate, rotation",
                           inputs: ["video": "the video"], outputs: ["info": "the facts, as JSON"],
                           example: ["video": .string("clip.mp4")])
    }

    public var signature: StageSignature { StageSignature(inputs: [Port("video", .video)], outputs: [Port("info", .json)]) }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let video = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        var info = try await MediaThread.run { try MediaInfo.probe(video) }
        info.path = invocation["video"]!.artifact!.digest
        return ["info": try Value(encoding: info)]
    }
}
