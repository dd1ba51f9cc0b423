import Foundation
import Media
import Pipeline
import SeedanceAPI

/// The stages seedpipe ships with.
public enum BuiltinStages {
    /// Every built-in stage and macro. Generation stages take their client from the run's
    /// services (``SeedanceService``), so one registry serves planning and running.
    public static func registry(prices: PriceBook = PriceBook()) -> StageRegistry {
        var registry = StageRegistry([
            GenerateStage(prices: prices), LastFrameStage(), ThumbnailStage(), ConcatStage(), TrimStage(),
            ProbeStage(), AudioCheckStage(), TemplateStage(), SeamStage(), SoundtrackStage(), ColorMatchStage(),
        ])
        registry.register(ChainMacro())
        registry.register(StoryboardMacro())
        registry.fileCheck = checkKind
        registry.parameterChecks[EncodeParameter.name] = EncodeParameter.problems
        return registry
    }

    /// A local file given for an image, video or audio input, probed by Media before
    /// anything runs: what is wrong with it for that kind, or nil.
    public static let checkKind: @Sendable (URL, ArtifactType) -> String? = { url, type in
        guard type == .image || type == .video || type == .audio else { return nil }
        let info: MediaInfo
        do {
            info = try MediaInfo.probe(url)
        } catch let error as MediaError where error.code == .librariesUnavailable {
            return "cannot be checked: \(error.message) (\(error.reason ?? ""))"
        } catch let error as MediaError {
            // FFmpeg's own reason: "Permission denied", "Invalid data found when processing input", …
            return "cannot be read as media (\(error.reason ?? error.message))"
        } catch {
            return "cannot be read as media (\(error))"
        }
        let still = info.container.hasSuffix("_pipe") || info.container == "image2"
        let what = still ? "an image" : info.video != nil ? "a video" : info.audio != nil ? "audio" : "neither picture nor sound"
        switch type {
        case .image where !still: return "is \(what), not an image"
        case .video where still || info.video == nil: return "is \(what), not a video"
        case .audio where info.audio == nil: return "is \(what), not audio (it has no sound)"
        default: return nil
        }
    }
}

extension BuiltinStages {
    /// What a plugin request says about an input file beyond its path: for video and audio
    /// `duration`, `width`, `height`, `frame_rate`, `has_audio`; for images `width`, `height`.
    /// A file Media cannot read gets nothing added (the plugin will say what is wrong with it).
    public static let describeMedia: PluginStage.Describer = { url, type in
        guard type == .video || type == .audio || type == .image, let info = try? MediaInfo.probe(url) else { return [:] }
        var facts: [String: Value] = [:]
        if let video = info.video {
            if let width = video.width { facts["width"] = .number(Double(width)) }
            if let height = video.height { facts["height"] = .number(Double(height)) }
            if type != .image, let rate = video.frameRate { facts["frame_rate"] = .number(rate) }
        }
        if type != .image {
            if let duration = info.duration { facts["duration"] = .number(duration) }
            facts["has_audio"] = .bool(info.audio != nil)
        }
        return facts
    }
}
