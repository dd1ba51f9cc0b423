import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `thumbnail`: the frame at a time, as JPEG, optionally scaled; with `sheet_columns`
/// also a contact sheet (a grid of frames at even intervals) as `sheet`.
public struct ThumbnailStage: Stage {
    public let kind = "thumbnail"
    public init() {}
    public var documentation: StageDocumentation {
        StageDocumentation("a poster: the frame at a time as JPEG, optionally scaled, and optionally a contact sheet of frames",
                           inputs: ["video": "the video"],
                           outputs: ["image": "the frame (JPEG)", "sheet": "with sheet_columns: a grid of frames at even intervals"],
                           parameters: ["at": "the time of the frame, seconds (past the end: the last frame)",
                                        "width": "scale to this width, keeping the aspect ratio (default: as it is)",
                                        "sheet_columns": "columns of the contact sheet (0: no sheet)", "sheet_rows": "rows of the contact sheet",
                                        "sheet_width": "the contact sheet's width, pixels"],
                           example: ["video": .string("clip.mp4"), "at": .number(2.5), "width": .number(640)])
    }

    public var signature: StageSignature {
        StageSignature(inputs: [Port("video", .video)], outputs: [Port("image", .image), Port("sheet", .image, required: false)],
                       parameters: [ParameterSpec("at", .number, default: .number(0), range: 0...1_000_000),
                                    ParameterSpec("width", .integer, range: 2...16384),
                                    ParameterSpec("sheet_columns", .integer, default: .number(0), range: 0...16),
                                    ParameterSpec("sheet_rows", .integer, default: .number(3), range: 1...16),
                                    ParameterSpec("sheet_width", .integer, default: .number(1280), range: 64...8192)])
    }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let video = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        let file = context.scratch.appendingPathComponent("thumbnail.jpg")
        let at = invocation["at"]?.number ?? 0, width = invocation["width"]?.number.map { Int($0) }
        _ = try await MediaThread.run { try VideoFile(video).writeStill(at: at, to: file, width: width) }
        var outputs: [String: Value] = ["image": .artifact(try await context.store.put(file: file, type: .image))]
        let columns = Int(invocation["sheet_columns"]?.number ?? 0)
        if columns > 0 {
            let sheet = context.scratch.appendingPathComponent("sheet.jpg")
            let rows = Int(invocation["sheet_rows"]?.number ?? 3), sheetWidth = Int(invocation["sheet_width"]?.number ?? 1280)
            try await MediaThread.run {
                try VideoFile(video).contactSheet(columns: columns, rows: rows, width: sheetWidth).write(to: sheet)
            }
            outputs["sheet"] = .artifact(try await context.store.put(file: sheet, type: .image))
        }
        return outputs
    }
}
