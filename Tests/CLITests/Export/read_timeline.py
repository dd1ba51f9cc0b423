#!/usr/bin/env python3
"""The referee for `seedpipe export`: reads a timeline back with OpenTimelineIO and prints,
as JSON, where every clip is in the film (in frames), what it references, the audio tracks
and the markers. The Swift test compares that with the film itself.

    read_timeline.py FILE ADAPTER RATE      (ADAPTER: otio_json, fcpx_xml or cmx_3600)

A clip's place in the film (every format):
    cut    = track.range_of_child_at_index(i)       # cut-point range, in track time
    in_off = track[i-1].in_offset  if track[i-1] is a Transition, else 0
    start  = cut.start_time - in_off                # first film frame showing the clip
    length = clip.visible_range().duration
The fcpx_xml reader drops <transition>s, so for FCPXML the transitions are read from the
file itself (each centred on the cut it overlaps). A marker's film frame is
cut.start + (marker start - clip's trimmed start); the EDL reader keeps the raw record
timecode of a LOC instead (from 01:00:00:00) and no duration.
"""
import json
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

import opentimelineio as otio

_KEEP = []  # the fcpx_xml reader's collection must outlive its timeline (0.18.1 can crash otherwise)


def frames(t, rate):
    v = t.rescaled_to(rate).value if t.rate else t.value
    if abs(v - round(v)) > 1e-6:
        raise SystemExit(f"not a whole frame: {t}")
    return int(round(v))


def url_path(url):
    if url and url.startswith("file://"):
        from urllib.parse import unquote
        return unquote(url[len("file://"):])
    return url


def load(path, adapter, rate):
    kw = {"rate": rate} if adapter == "cmx_3600" else {}
    obj = otio.adapters.read_from_file(path, adapter_name=adapter, **kw)
    if isinstance(obj, otio.schema.SerializableCollection):
        _KEEP.append(obj)
        obj = [c for c in obj if isinstance(c, otio.schema.Timeline)][0]
    return obj


def entries(track, rate):
    out = []
    for i, child in enumerate(track):
        if not isinstance(child, otio.schema.Clip):
            continue
        cut = track.range_of_child_at_index(i)
        prev = track[i - 1] if i > 0 else None
        in_off = frames(prev.in_offset, rate) if isinstance(prev, otio.schema.Transition) else 0
        out.append(dict(clip=child, cut_start=frames(cut.start_time, rate), cut_frames=frames(cut.duration, rate),
                        start=frames(cut.start_time, rate) - in_off,
                        frames=frames(child.visible_range().duration, rate)))
    return out


def frac(text):
    text = text.rstrip("s")
    return Fraction(text) if text else Fraction(0)


def fcpxml_visible(path, ents, rate):
    spine = ET.parse(path).getroot().find(".//sequence/spine")
    trans = [(round(frac(t.get("offset")) * rate), round(frac(t.get("duration")) * rate)) for t in spine.findall("transition")]
    for e in ents:
        a, b = e["cut_start"], e["cut_start"] + e["cut_frames"]
        for (o, d) in trans:
            if o + d // 2 == e["cut_start"]:
                a = o
            if o + d // 2 == e["cut_start"] + e["cut_frames"]:
                b = o + d
        e["start"], e["frames"] = a, b - a
    return len(trans)


def main():
    path, adapter, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tl = load(path, adapter, rate)
    video = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    audio = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio]
    if len(video) != 1:
        raise SystemExit(f"expected one video track, found {[t.name for t in tl.tracks]}")
    vt = video[0]
    ents = entries(vt, rate)
    transitions = sum(isinstance(c, otio.schema.Transition) for c in vt)
    if adapter == "fcpx_xml":
        transitions = fcpxml_visible(path, ents, rate)
    markers = []
    for e in ents:
        clip = e["clip"]
        for mk in clip.markers:
            if adapter == "cmx_3600":
                start = frames(mk.marked_range.start_time, rate) - 3600 * rate
            else:
                start = e["cut_start"] + frames(mk.marked_range.start_time, rate) - frames(clip.trimmed_range().start_time, rate)
            markers.append(dict(start=start, frames=frames(mk.marked_range.duration, rate), name=mk.name))

    def described(e):
        return dict(name=e["clip"].name, url=url_path(e["clip"].media_reference.target_url), start=e["start"], frames=e["frames"],
                    source_in=frames(e["clip"].trimmed_range().start_time, rate))

    audio_tracks = []
    for t in audio:
        ae = entries(t, rate)
        audio_tracks.append([dict(name=e["clip"].name, url=url_path(e["clip"].media_reference.target_url),
                                  cut_start=e["cut_start"], cut_frames=e["cut_frames"],
                                  source_in=frames(e["clip"].trimmed_range().start_time, rate)) for e in ae])
    print(json.dumps(dict(name=tl.name, frames=frames(vt.duration(), rate), transitions=transitions,
                          video=[described(e) for e in ents], audio=audio_tracks, markers=markers)))


if __name__ == "__main__":
    main()
