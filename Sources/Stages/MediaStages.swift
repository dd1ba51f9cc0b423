import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `last-frame`: the exact last frame of a video, as PNG.
public struct LastFrameStage: Stage {
    public let kind = "last-frame"
    public init() {}
    public var signature: StageSignature { StageSignature(inputs: [Port("video", .video)], outputs: [Port("image", .image)]) }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let video = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        let file = context.scratch.appendingPathComponent("last.png")
        _ = try await MediaThread.run { try VideoFile(video).writeLastFrame(to: file) }
        return ["image": .artifact(try await context.store.put(file: file, type: .image))]
    }
}

/// `thumbnail`: the frame at a time, as JPEG, optionally scaled; with `sheet_columns`
/// also a contact sheet (a grid of frames at even intervals) as `sheet`.
public struct ThumbnailStage: Stage {
    public let kind = "thumbnail"
    public init() {}
    public var signature: StageSignature {
        StageSignature(inputs: [Port("video", .video)], outputs: [Port("image", .image), Port("sheet", .image, required: false)],
                       parameters: [ParameterSpec("at", .number, default: .number(0)),
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

/// `concat`: clips joined in order (stream copy when they allow it), cut or crossfaded.
/// With `color_match: anchor` each clip's colour is measured against the anchor
/// (`color_anchor`, else the first clip's first frame) and the clips that drifted past
/// `color_tolerance` (ΔE) are corrected as the film is joined; `drift` reports every clip.
public struct ConcatStage: Stage {
    public let kind = "concat"
    public init() {}
    public var signature: StageSignature {
        StageSignature(inputs: [Port("clips", .list(.video)), Port("color_anchor", .image, required: false)],
                       outputs: [Port("video", .video), Port("drift", .json, required: false)],
                       parameters: [ParameterSpec("reencode", .boolean, default: .bool(false)),
                                    ParameterSpec("transition", .string, default: .string("none"),
                                                  allowed: [.string("none"), .string("crossfade")]),
                                    ParameterSpec("transition_seconds", .number, default: .number(0.5), range: 0.04...10)]
                           + ColorMatchStage.parameters)
    }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let stored = try await context.store.verifiedLocations(of: (invocation["clips"]?.list ?? []).compactMap(\.artifact))
        let clips = try stored.enumerated().map { index, file in
            let link = context.scratch.appendingPathComponent("clip\(index).mp4")
            try FileManager.default.linkItem(at: file, to: link)
            return link
        }
        var outputs: [String: Value] = [:]
        var corrections: [ColorCorrection?] = []
        if invocation["color_match"]?.string == "anchor" {
            let matched = try await ColorMatchStage.measure(clips, invocation: invocation, context: context)
            corrections = matched.corrections
            outputs["drift"] = matched.report
        }
        let output = context.scratch.appendingPathComponent("joined.mp4")
        let transition: Concatenation.Transition = invocation["transition"]?.string == "crossfade"
            ? .crossfade(seconds: invocation["transition_seconds"]?.number ?? 0.5) : .none
        let method: Concatenation.Method = invocation["reencode"]?.bool == true ? .reencode : .automatic
        _ = try await MediaThread.run { [corrections] in
            try Concatenation.join(clips, to: output, method: method, transition: transition, corrections: corrections) { done, total in
                context.progress(Double(done) / Double(total), "clip \(done)/\(total)")
            }
        }
        outputs["video"] = .artifact(try await context.store.put(file: output, type: .video))
        return outputs
    }
}

/// `color-match`: clips measured against an anchor colour (`anchor`, else the first clip's
/// first frame); each clip that drifted past `color_tolerance` (ΔE) is corrected and
/// re-encoded, the others pass through as they are (the same bytes, so a join can still
/// stream-copy them). `seedance.chain` with `color_match: anchor` ends in one of these.
public struct ColorMatchStage: Stage {
    public let kind = "color-match"
    public init() {}

    static let tolerance = ParameterSpec("color_tolerance", .number, default: .number(3), range: 0...100)
    /// What `concat` takes to match colour as it joins.
    static let parameters = [
        ParameterSpec("color_match", .string, default: .string("none"), allowed: [.string("none"), .string("anchor")]), tolerance,
    ]

    public var signature: StageSignature {
        StageSignature(inputs: [Port("clips", .list(.video)), Port("color_anchor", .image, required: false)],
                       outputs: [Port("clips", .list(.video)), Port("drift", .json)],
                       parameters: [Self.tolerance])
    }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let artifacts = (invocation["clips"]?.list ?? []).compactMap(\.artifact)
        let clips = try await context.store.verifiedLocations(of: artifacts)
        let matched = try await Self.measure(clips, invocation: invocation, context: context)
        var outputs: [Value] = []
        for (index, artifact) in artifacts.enumerated() {
            guard let correction = matched.corrections[index] else {
                outputs.append(.artifact(artifact))
                continue
            }
            context.progress(Double(index) / Double(artifacts.count), "correcting the colour of clip \(index + 1)")
            let file = context.scratch.appendingPathComponent("clip\(index + 1).mp4")
            _ = try await MediaThread.run { [clip = clips[index]] in
                try Concatenation.join([clip], to: file, method: .reencode, corrections: [correction])
            }
            outputs.append(.artifact(try await context.store.put(file: file, type: .video)))
        }
        return ["clips": .list(outputs), "drift": matched.report]
    }

    /// Every clip's drift against the anchor and, past the tolerance, its correction.
    static func measure(_ clips: [URL], invocation: StageInvocation, context: StageContext) async throws
        -> (corrections: [ColorCorrection?], report: Value)
    {
        let tolerance = invocation["color_tolerance"]?.number ?? 3
        let anchorImage: URL? = if let anchor = invocation["color_anchor"]?.artifact {
            try await context.store.verifiedLocation(of: anchor)
        } else { nil }
        context.progress(0, "measuring colour drift")
        let measured = try await MediaThread.run {
            let anchor = try anchorImage.map(ColorMatch.statistics(ofImage:)) ?? ColorMatch.statistics(ofFirstFrame: clips[0])
            return try clips.map { try ColorMatch.plan(ColorMatch.statistics(ofClip: $0), anchor: anchor, tolerance: tolerance) }
        }
        var shots: [Value] = []
        for (index, entry) in measured.enumerated() {
            let drift = entry.drift
            if drift.corrected {
                context.logger.info("clip \(index + 1): colour drift ΔE \(String(format: "%.1f", drift.before)) → \(String(format: "%.1f", drift.after))")
            }
            shots.append(.object(["clip": .number(Double(index + 1)), "before": .number((drift.before * 100).rounded() / 100),
                                  "after": .number((drift.after * 100).rounded() / 100), "corrected": .bool(drift.corrected)]))
        }
        let report = Value.object(["tolerance": .number(tolerance), "anchor": .string(anchorImage == nil ? "first frame" : "color_anchor"),
                                   "clips": .list(shots)])
        return (measured.map(\.correction), report)
    }
}

/// `soundtrack`: music over the whole film, looped or cut to its length, faded in and out,
/// ducked under the clips' own sound (or replacing it, `clips: drop`), then brought to a
/// loudness target under a true-peak ceiling. FFmpeg's libavfilter mixes; only the audio is
/// re-encoded. `report` says what was done: the loudness before and after, how long the
/// music ducked, how often it plays, the filter graph.
public struct SoundtrackStage: Stage {
    public let kind = "soundtrack"
    public init() {}
    public var signature: StageSignature {
        let defaults = SoundtrackSettings()
        return StageSignature(
            inputs: [Port("video", .video), Port("music", .audio)],
            outputs: [Port("video", .video), Port("report", .json)],
            parameters: [ParameterSpec("fade_in", .number, default: .number(defaults.fadeIn), range: 0...60),
                         ParameterSpec("fade_out", .number, default: .number(defaults.fadeOut), range: 0...60),
                         ParameterSpec("duck_db", .number, default: .number(defaults.duckDB), range: 0...60),
                         ParameterSpec("threshold", .number, default: .number(defaults.threshold), range: -90...0),
                         ParameterSpec("attack", .number, default: .number(defaults.attack), range: 0.001...9),
                         ParameterSpec("release", .number, default: .number(defaults.release), range: 0.001...9),
                         ParameterSpec("clip_gain_db", .number, default: .number(defaults.clipGainDB), range: -60...24),
                         ParameterSpec("clips", .string, default: .string("mix"),
                                       allowed: SoundtrackSettings.ClipSound.allCases.map { .string($0.rawValue) }),
                         ParameterSpec("target", .number, default: .number(-14), range: -70 ... -5),
                         ParameterSpec("true_peak", .number, default: .number(defaults.truePeak), range: -20...0)])
    }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let film = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        let music = try await context.store.verifiedLocation(of: invocation["music"]!.artifact!)
        let defaults = SoundtrackSettings()
        func number(_ name: String, _ fallback: Double) -> Double { invocation[name]?.number ?? fallback }
        let settings = SoundtrackSettings(
            fadeIn: number("fade_in", defaults.fadeIn), fadeOut: number("fade_out", defaults.fadeOut),
            duckDB: number("duck_db", defaults.duckDB), threshold: number("threshold", defaults.threshold),
            attack: number("attack", defaults.attack), release: number("release", defaults.release),
            clipGainDB: number("clip_gain_db", defaults.clipGainDB),
            clips: invocation["clips"]?.string.flatMap(SoundtrackSettings.ClipSound.init(rawValue:)) ?? .mix,
            target: number("target", -14), truePeak: number("true_peak", defaults.truePeak))
        let output = context.scratch.appendingPathComponent("soundtrack.mp4")
        context.progress(0, "mixing the music")
        let result = try await MediaThread.run { try Soundtrack.lay(music, over: film, to: output, settings: settings) }
        if let after = result.normalization?.after.integratedLoudness {
            context.logger.info("soundtrack: \(String(format: "%.1f", after)) LUFS, music ducked for \(String(format: "%.1f", result.duckedSeconds)) s of \(String(format: "%.1f", result.duration)) s")
        }
        return ["video": .artifact(try await context.store.put(file: output, type: .video)), "report": try Value(encoding: result)]
    }
}

/// `probe`: what a video holds, as JSON.
public struct ProbeStage: Stage {
    public let kind = "probe"
    public init() {}
    public var signature: StageSignature { StageSignature(inputs: [Port("video", .video)], outputs: [Port("info", .json)]) }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let video = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        var info = try await MediaThread.run { try MediaInfo.probe(video) }
        info.path = invocation["video"]!.artifact!.digest
        return ["info": try Value(encoding: info)]
    }
}

/// `audio-check`: fails the run (or warns) when the audio is missing, silent or out of range.
public struct AudioCheckStage: Stage {
    public let kind = "audio-check"
    public init() {}
    public var signature: StageSignature {
        StageSignature(inputs: [Port("video", .video)], outputs: [Port("report", .json)],
                       parameters: [ParameterSpec("min_loudness", .number), ParameterSpec("max_loudness", .number),
                                    ParameterSpec("silence_threshold", .number, default: .number(-60)),
                                    ParameterSpec("on_problem", .string, default: .string("fail"),
                                                  allowed: [.string("fail"), .string("warn")])])
    }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let video = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        let threshold = invocation["silence_threshold"]?.number ?? -60
        let levels = try await MediaThread.run { try AudioLevels.analyze(video, options: .init(silenceThreshold: threshold)) }
        var problems: [String] = []
        if !levels.hasAudio { problems.append("no audio track") }
        else if levels.isSilent { problems.append("the audio is silent") }
        else if let loudness = levels.integratedLoudness {
            if let floor = invocation["min_loudness"]?.number, loudness < floor {
                problems.append(String(format: "loudness %.1f LUFS is under %.1f", loudness, floor))
            }
            if let ceiling = invocation["max_loudness"]?.number, loudness > ceiling {
                problems.append(String(format: "loudness %.1f LUFS is over %.1f", loudness, ceiling))
            }
        }
        if !problems.isEmpty && invocation["on_problem"]?.string != "warn" {
            throw StageError(.checkFailed, "audio check: " + problems.joined(separator: "; "))
        }
        for problem in problems { context.logger.warning("audio check: \(problem)") }
        var report = try Value(encoding: levels).object ?? [:]
        report["problems"] = .list(problems.map { .string($0) })
        return ["report": .object(report)]
    }
}

/// The stages seedpipe ships with.
public enum BuiltinStages {
    /// Every built-in stage and macro. Generation stages take their client from the run's
    /// services (``SeedanceService``), so one registry serves planning and running.
    public static func registry(prices: PriceBook = PriceBook()) -> StageRegistry {
        var registry = StageRegistry([
            GenerateStage(prices: prices), LastFrameStage(), ThumbnailStage(), ConcatStage(),
            ProbeStage(), AudioCheckStage(), TemplateStage(), SeamStage(), SoundtrackStage(), ColorMatchStage(),
        ])
        registry.register(ChainMacro())
        registry.register(StoryboardMacro())
        registry.fileCheck = checkKind
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
        } catch {
            return "cannot be read as media (FFmpeg does not recognise it)"
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
