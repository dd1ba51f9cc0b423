import Foundation
import Pipeline

/// The files an editor opens: a ``FilmTimeline`` written as OpenTimelineIO JSON (`otio`),
/// Final Cut Pro XML 1.8 (`fcpxml`, also read by Resolve and Premiere) or a CMX 3600 EDL
/// (`edl`). Each keeps what its readers take back (checked with OpenTimelineIO's adapters):
///
/// - OTIO keeps everything: crossfades are transitions centred on their cut, the clips'
///   source ranges leaving the handles the transitions use.
/// - FCPXML has the shots back to back at their cut points with `<transition>`s centred on
///   the cuts; the clips' sound and the music are lanes below the first shot; captions are
///   markers on the shots.
/// - The EDL has one event per shot (picture and sound 1, `B`), dissolves as `D` events, the
///   music on `A2`, media paths in `* FROM CLIP:` comments and captions as `* LOC:` lines.
public enum TimelineFormat: String, Sendable, CaseIterable {
    case otio, fcpxml, edl

    /// The timeline in this format.
    public func text(_ timeline: FilmTimeline) throws -> String {
        switch self {
        case .otio: try OTIOWriter(timeline: timeline).text()
        case .fcpxml: FCPXMLWriter(timeline: timeline).text()
        case .edl: EDLWriter(timeline: timeline).text()
        }
    }

    public var fileExtension: String { rawValue }
}

// MARK: - OpenTimelineIO JSON

private struct OTIOWriter {
    let timeline: FilmTimeline
    var rate: Double { Double(timeline.rate) }

    func text() throws -> String {
        var video: [Value] = []
        var sound: [Value] = []
        for index in timeline.shots.indices {
            if index > 0, timeline.overlapFrames > 0 {
                video.append(transition("Cross Dissolve"))
                sound.append(transition("Audio Crossfade"))
            }
            let shot = timeline.shots[index]
            let cut = timeline.cut(index)
            let markers = timeline.markers.filter { timeline.shot(at: $0.filmStart) == index }.map { marker in
                schema("Marker.2", ["name": .string(marker.text), "comment": .string(marker.text), "color": .string("YELLOW"),
                                    "marked_range": range(cut.sourceIn + marker.filmStart - cut.start, marker.frames)])
            }
            video.append(clip(shot.name, media: shot.media, mediaFrames: shot.mediaFrames, sourceIn: cut.sourceIn,
                              frames: cut.frames, markers: markers))
            sound.append(clip(shot.name, media: shot.media, mediaFrames: shot.mediaFrames, sourceIn: cut.sourceIn, frames: cut.frames))
        }
        var tracks = [track("V1", kind: "Video", video)]
        if timeline.clipAudio { tracks.append(track("A1", kind: "Audio", sound)) }
        if let music = timeline.music {
            tracks.append(track("A2", kind: "Audio", music.cues.map {
                clip(music.name, media: music.media, mediaFrames: music.mediaFrames, sourceIn: $0.sourceIn, frames: $0.frames)
            }))
        }
        let stack = schema("Stack.1", ["name": .string("tracks"), "source_range": .null, "effects": .list([]),
                                       "markers": .list([]), "enabled": .bool(true), "color": .null, "children": .list(tracks)])
        let root = schema("Timeline.1", ["name": .string(timeline.name), "global_start_time": time(0), "tracks": stack])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(root), as: UTF8.self) + "\n"
    }

    func schema(_ name: String, _ fields: [String: Value]) -> Value {
        .object(fields.merging(["OTIO_SCHEMA": .string(name), "metadata": .object([:])]) { field, _ in field })
    }

    func time(_ frames: Int) -> Value {
        schema("RationalTime.1", ["rate": .number(rate), "value": .number(Double(frames))]).droppingMetadata
    }

    func range(_ start: Int, _ frames: Int) -> Value {
        schema("TimeRange.1", ["start_time": time(start), "duration": time(frames)]).droppingMetadata
    }

    func transition(_ name: String) -> Value {
        schema("Transition.1", ["name": .string(name), "transition_type": .string("SMPTE_Dissolve"),
                                "in_offset": time(timeline.overlapBefore), "out_offset": time(timeline.overlapAfter)])
    }

    func clip(_ name: String, media: URL, mediaFrames: Int, sourceIn: Int, frames: Int, markers: [Value] = []) -> Value {
        let reference = schema("ExternalReference.1", ["name": .string(media.lastPathComponent), "target_url": .string(media.absoluteString),
                                                       "available_range": range(0, mediaFrames), "available_image_bounds": .null])
        return schema("Clip.2", ["name": .string(name), "source_range": range(sourceIn, frames), "effects": .list([]),
                                 "markers": .list(markers), "enabled": .bool(true), "color": .null,
                                 "media_references": .object(["DEFAULT_MEDIA": reference]),
                                 "active_media_reference_key": .string("DEFAULT_MEDIA")])
    }

    func track(_ name: String, kind: String, _ children: [Value]) -> Value {
        schema("Track.1", ["name": .string(name), "kind": .string(kind), "source_range": .null, "effects": .list([]),
                           "markers": .list([]), "enabled": .bool(true), "color": .null, "children": .list(children)])
    }
}

private extension Value {
    /// RationalTime and TimeRange are value types in OTIO: no metadata.
    var droppingMetadata: Value {
        guard case .object(var fields) = self else { return self }
        fields["metadata"] = nil
        return .object(fields)
    }
}

// MARK: - FCPXML 1.8

private struct FCPXMLWriter {
    let timeline: FilmTimeline

    /// Rational seconds at the film's rate: `N/24s`, or `0s`.
    func time(_ frames: Int) -> String { frames == 0 ? "0s" : "\(frames)/\(timeline.rate)s" }

    func text() -> String {
        let t = timeline
        var resources = [#"<format id="r1" name="FFVideoFormat\#(t.height)p\#(t.rate)" frameDuration="1/\#(t.rate)s" width="\#(t.width)" height="\#(t.height)"/>"#]
        for (index, shot) in t.shots.enumerated() {
            resources.append(#"<asset id="r\#(index + 2)" name="\#(xml(shot.name))" src="\#(xml(shot.media.absoluteString))" start="0s" duration="\#(time(shot.mediaFrames))" hasVideo="1" format="r1" videoSources="1""#
                             + (shot.hasAudio ? #" hasAudio="1" audioSources="1" audioChannels="2" audioRate="48000""# : "") + "/>")
        }
        let musicID = "r\(t.shots.count + 2)"
        if let music = t.music {
            resources.append(#"<asset id="\#(musicID)" name="\#(xml(music.name))" src="\#(xml(music.media.absoluteString))" start="0s" duration="\#(time(music.mediaFrames))" hasAudio="1" audioSources="1" audioChannels="2" audioRate="48000"/>"#)
        }
        let fades = t.overlapFrames > 0
        if fades {
            resources.append(#"<effect id="rv" name="Cross Dissolve" uid="FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"/>"#)
            resources.append(#"<effect id="ra" name="Audio Crossfade" uid="FFAudioTransition"/>"#)
        }

        func transition(at cut: Int, video: Bool, indent: String) -> String {
            let name = video ? "Cross Dissolve" : "Audio Crossfade"
            let filter = video ? #"<filter-video ref="rv" name="Cross Dissolve"/>"# : #"<filter-audio ref="ra" name="Audio Crossfade"/>"#
            return "\(indent)<transition name=\"\(name)\" offset=\"\(time(cut - t.overlapBefore))\" duration=\"\(time(t.overlapFrames))\">\n"
                + "\(indent)    \(filter)\n\(indent)</transition>"
        }

        // Lanes below the first shot, at its offset 0: the clips' sound, then the music.
        let laneIndent = String(repeating: " ", count: 24)
        var lanes: [String] = []
        if t.clipAudio {
            var items: [String] = []
            for index in t.shots.indices where t.shots[index].hasAudio {
                let cut = t.cut(index)
                if index > 0, fades { items.append(transition(at: cut.start, video: false, indent: laneIndent + "    ")) }
                items.append(audioClip("\(t.shots[index].name) audio", ref: "r\(index + 2)", offset: cut.start, start: cut.sourceIn,
                                       frames: cut.frames, mediaFrames: t.shots[index].mediaFrames, role: "dialogue", indent: laneIndent + "    "))
            }
            lanes.append("\(laneIndent)<spine lane=\"-1\" offset=\"0s\">\n" + items.joined(separator: "\n") + "\n\(laneIndent)</spine>")
        }
        if let music = t.music {
            let items = music.cues.map {
                audioClip(music.name, ref: musicID, offset: $0.filmStart, start: $0.sourceIn, frames: $0.frames,
                          mediaFrames: music.mediaFrames, role: "music", indent: laneIndent + "    ")
            }
            lanes.append("\(laneIndent)<spine lane=\"-\(lanes.count + 1)\" offset=\"0s\">\n" + items.joined(separator: "\n") + "\n\(laneIndent)</spine>")
        }

        let clipIndent = String(repeating: " ", count: 20)
        var spine: [String] = []
        for (index, shot) in t.shots.enumerated() {
            let cut = t.cut(index)
            if index > 0, fades { spine.append(transition(at: cut.start, video: true, indent: clipIndent)) }
            var children = index == 0 ? lanes : []
            for marker in t.markers where t.shot(at: marker.filmStart) == index {
                children.append("\(laneIndent)<marker start=\"\(time(cut.sourceIn + marker.filmStart - cut.start))\" duration=\"\(time(marker.frames))\" value=\"\(xml(marker.text))\"/>")
            }
            spine.append("\(clipIndent)<asset-clip ref=\"r\(index + 2)\" name=\"\(xml(shot.name))\" offset=\"\(time(cut.start))\" start=\"\(time(cut.sourceIn))\" duration=\"\(time(cut.frames))\" srcEnable=\"video\" tcFormat=\"NDF\">\n"
                         + children.map { $0 + "\n" }.joined() + "\(clipIndent)</asset-clip>")
        }
        let name = xml(t.name)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE fcpxml>
            <fcpxml version="1.8">
                <resources>
            \(resources.map { "        " + $0 }.joined(separator: "\n"))
                </resources>
                <event name="\(name)">
                    <project name="\(name)">
                        <sequence format="r1" duration="\(time(t.frames))" tcStart="0s" tcFormat="NDF" audioLayout="stereo" audioRate="48k">
                            <spine>
            \(spine.joined(separator: "\n"))
                            </spine>
                        </sequence>
                    </project>
                </event>
            </fcpxml>

            """
    }

    /// An audio-only clip as the readers take it: `<clip>` holding an `<audio>` (an audio-only
    /// `<asset-clip>` reads back as video).
    func audioClip(_ name: String, ref: String, offset: Int, start: Int, frames: Int, mediaFrames: Int, role: String, indent: String) -> String {
        "\(indent)<clip name=\"\(xml(name))\" offset=\"\(time(offset))\" start=\"\(time(start))\" duration=\"\(time(frames))\">\n"
            + "\(indent)    <audio ref=\"\(ref)\" offset=\"0s\" start=\"0s\" duration=\"\(time(mediaFrames))\" role=\"\(role)\"/>\n"
            + "\(indent)</clip>"
    }

    func xml(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\n", "\r", "\t": escaped += " "
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

// MARK: - CMX 3600

private struct EDLWriter {
    let timeline: FilmTimeline
    /// Record timecode starts at 01:00:00:00, as editors expect.
    var recordStart: Int { 3600 * timeline.rate }

    func timecode(_ frames: Int) -> String {
        let rate = timeline.rate
        let seconds = frames / rate
        return String(format: "%02d:%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60, frames % rate)
    }

    func event(_ reel: String, _ channels: String, dissolve: Int? = nil, source: Int, frames: Int, record: Int) -> String {
        let edit = dissolve.map { String(format: "D %03d   ", $0) } ?? "C       "
        return "\(reel.padding(toLength: 8, withPad: " ", startingAt: 0)) \(channels.padding(toLength: 5, withPad: " ", startingAt: 0)) \(edit) "
            + "\(timecode(source)) \(timecode(source + frames)) \(timecode(recordStart + record)) \(timecode(recordStart + record + frames))"
    }

    /// A comment's text on one line (EDL comments end at the line).
    func line(_ text: String) -> String { text.components(separatedBy: .newlines).joined(separator: " ") }

    func text() -> String {
        let t = timeline
        let channels = t.clipAudio ? "B" : "V"
        // Each shot's event runs from where it first shows to where the next one starts
        // (the A side of a dissolve is cut where the dissolve begins); events are numbered
        // in record order, the music's among them.
        var events: [(record: Int, order: Int, lines: [String])] = []
        for (index, shot) in t.shots.enumerated() {
            let next = index + 1 < t.shots.count ? t.shots[index + 1].filmStart : shot.filmStart + shot.frames
            let frames = next - shot.filmStart
            let reel = "SHOT\(index + 1)"
            var lines: [String] = []
            if index > 0, t.overlapFrames > 0 {
                let previous = t.shots[index - 1]
                let out = shot.filmStart - previous.filmStart
                lines.append(event("SHOT\(index)", channels, source: out, frames: 0, record: shot.filmStart))
                lines.append(event(reel, channels, dissolve: t.overlapFrames, source: 0, frames: frames, record: shot.filmStart))
                lines.append("* FROM CLIP NAME:  \(line(previous.name))")
                lines.append("* FROM CLIP: \(line(previous.media.path))")
                lines.append("* TO CLIP NAME:  \(line(shot.name))")
                // Readers take the media path from the last FROM CLIP / OTIO REFERENCE line.
                lines.append("* OTIO REFERENCE TO: \(line(shot.media.path))")
            } else {
                lines.append(event(reel, channels, source: 0, frames: frames, record: shot.filmStart))
                lines.append("* FROM CLIP NAME:  \(line(shot.name))")
                lines.append("* FROM CLIP: \(line(shot.media.path))")
            }
            for marker in t.markers where (shot.filmStart..<(shot.filmStart + frames)).contains(marker.filmStart) {
                lines.append("* LOC: \(timecode(recordStart + marker.filmStart)) YELLOW  \(line(marker.text))")
            }
            events.append((shot.filmStart, 0, lines))
        }
        if let music = t.music {
            for cue in music.cues {
                events.append((cue.filmStart, 1, [event("MUSIC", "A2", source: cue.sourceIn, frames: cue.frames, record: cue.filmStart),
                                                  "* FROM CLIP NAME:  \(line(music.name))", "* FROM CLIP: \(line(music.media.path))"]))
            }
        }
        events.sort { ($0.record, $0.order) < ($1.record, $1.order) }
        var out = ["TITLE: \(line(t.name))", "FCM: NON-DROP FRAME", ""]
        for (number, event) in events.enumerated() {
            let label = String(format: "%03d  ", number + 1)
            out += event.lines.map { $0.hasPrefix("*") ? $0 : label + $0 }
        }
        return out.joined(separator: "\n") + "\n"
    }
}
