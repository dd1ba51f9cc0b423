import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `last-frame`: the exact last frame of a video, as PNG.
public struct LastFrameStage: Stage {
    public let kind = "last-frame"
    public init() {}
    public var documentation: StageDocumentation {
        StageDocumentation("the exact last frame of a video, as PNG (the next shot's first frame)",
                           inputs: ["video": "the video"], outputs: ["image": "its last frame (PNG)"],
                           example: ["video": .string("clip.mp4")])
    }

    public var signature: StageSignature { StageSignature(inputs: [Port("video", .video)], outputs: [Port("image", .image)]) }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let video = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        let file = context.scratch.appendingPathComponent("last.png")
        _ = try await MediaThread.run { try VideoFile(video).writeLastFrame(to: file) }
        return ["image": .artifact(try await context.store.put(file: file, type: .image))]
    }
}
