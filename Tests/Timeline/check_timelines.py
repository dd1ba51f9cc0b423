#!/usr/bin/env python3
"""Read every sample back with OpenTimelineIO and assert the expectations.

Film position of a clip (all formats):
    cut     = track.range_of_child_at_index(i)          # cut-point range, in track time
    in_off  = track[i-1].in_offset   if track[i-1] is a Transition else 0
    start   = cut.start_time - in_off                   # first film frame showing the clip
    length  = clip.visible_range().duration             # = cut.duration + in_off + next.out_offset
(clip.visible_range() itself is in the clip's MEDIA time, not film time.)

Marker film position (markers live on clips, in the clip's media time):
    start = cut.start_time + (marker.marked_range.start_time - clip.trimmed_range().start_time)
except EDL, where the adapter stores the raw LOC timecode (record TC) unconverted.
"""
import os
import sys
import xml.etree.ElementTree as ET

import opentimelineio as otio

HERE = os.path.dirname(os.path.abspath(__file__))
MEDIA = os.path.join(HERE, "media")
RATE = 24
EDL_REC_START = 3600 * RATE  # 01:00:00:00

EXPECT = {
    "cuts": dict(
        film=360,
        video=[(0, 120), (120, 120), (240, 120)],          # visible film ranges
        cuts=[(0, 120), (120, 120), (240, 120)],           # OTIO cut-point ranges
        music=[(0, 96), (96, 96), (192, 96), (288, 72)],
        markers=[(0, 115, "Shot 1: dawn"), (120, 115, "Shot 2: midday"),
                 (240, 115, "Shot 3: dusk")],
    ),
    "fades": dict(
        film=336,
        video=[(0, 120), (108, 120), (216, 120)],
        cuts=[(0, 114), (114, 108), (222, 114)],           # 6/6 around each cut
        music=[(0, 96), (96, 96), (192, 96), (288, 48)],
        markers=[(0, 100, "Shot 1: dawn"), (114, 100, "Shot 2: midday"),
                 (222, 100, "Shot 3: dusk")],
    ),
}
# EDL keeps dissolves as in_offset=0 / out_offset=12 (transition starts at the
# B-side record-in), so its cut-point ranges differ from OTIO's 6/6 form:
EDL_CUTS = {"cuts": EXPECT["cuts"]["cuts"],
            "fades": [(0, 108), (108, 108), (216, 120)]}

FILES = [
    ("otio-cuts.otio", "otio_json", "cuts"),
    ("otio-fades.otio", "otio_json", "fades"),
    ("fcpxml-cuts.fcpxml", "fcpx_xml", "cuts"),
    ("fcpxml-fades.fcpxml", "fcpx_xml", "fades"),
    ("edl-cuts.edl", "cmx_3600", "cuts"),
    ("edl-fades.edl", "cmx_3600", "fades"),
]


def f(t):
    """RationalTime -> integer frames at 24 fps (asserting it is integral)."""
    v = t.rescaled_to(RATE).value if t.rate else t.value
    assert abs(v - round(v)) < 1e-9, t
    return int(round(v))


def norm_url(url):
    return url[len("file://"):] if url and url.startswith("file://") else url


def load(path, adapter):
    kw = {"rate": RATE} if adapter == "cmx_3600" else {}
    obj = otio.adapters.read_from_file(path, adapter_name=adapter, **kw)
    if isinstance(obj, otio.schema.SerializableCollection):
        # fcpx_xml returns a SerializableCollection for <event>/<library>.
        # Keep the collection alive: dropping the last Python reference to it
        # while holding only the child Timeline can segfault (seen in 0.18.1).
        _KEEP.append(obj)
        obj = [c for c in obj if isinstance(c, otio.schema.Timeline)][0]
    assert isinstance(obj, otio.schema.Timeline), type(obj)
    return obj


_KEEP = []


def entries(track):
    """[(clip, cut_start, cut_dur, film_start, visible_dur, in_off, out_off)]"""
    out = []
    for i, child in enumerate(track):
        if not isinstance(child, otio.schema.Clip):
            continue
        cut = track.range_of_child_at_index(i)
        prev = track[i - 1] if i > 0 else None
        nxt = track[i + 1] if i + 1 < len(track) else None
        in_off = f(prev.in_offset) if isinstance(prev, otio.schema.Transition) else 0
        out_off = f(nxt.out_offset) if isinstance(nxt, otio.schema.Transition) else 0
        vis = f(child.visible_range().duration)
        assert vis == f(cut.duration) + in_off + out_off
        out.append((child, f(cut.start_time), f(cut.duration),
                    f(cut.start_time) - in_off, vis, in_off, out_off))
    return out


def fcpxml_visible(path, cuts):
    """The fcpx_xml reader ignores <transition>; recover the visible ranges
    from the file: a transition is centred on the cut it overlaps."""
    root = ET.parse(path).getroot()
    spine = root.find(".//sequence/spine")
    trans = [(round(frac(t.get("offset")) * RATE), round(frac(t.get("duration")) * RATE))
             for t in spine.findall("transition")]
    vis = []
    for (s, d) in cuts:
        a = s
        b = s + d
        for (o, dd) in trans:
            c = o + dd // 2
            if c == s:
                a = o            # incoming: starts at transition start
            if c == s + d:
                b = o + dd       # outgoing: lasts until transition end
        vis.append((a, b - a))
    return vis, trans


def frac(s):
    from fractions import Fraction
    s = s.rstrip("s")
    return Fraction(s) if s else Fraction(0)


def check(fname, adapter, variant):
    exp = EXPECT[variant]
    path = os.path.join(HERE, fname)
    tl = load(path, adapter)
    print(f"=== {fname}  (adapter {adapter}, timeline {tl.name!r})")
    vtracks = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    atracks = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert len(vtracks) == 1, [t.name for t in tl.tracks]
    vt = vtracks[0]
    ents = entries(vt)
    ntrans = sum(isinstance(c, otio.schema.Transition) for c in vt)
    print(f"  video track {vt.name!r}: {len(ents)} clips, {ntrans} transitions,"
          f" track duration {f(vt.duration())}")

    # (a) film start / duration
    got_cuts = [(e[1], e[2]) for e in ents]
    got_vis = [(e[3], e[4]) for e in ents]
    if adapter == "fcpx_xml":
        assert ntrans == 0
        assert got_cuts == exp["cuts"], got_cuts
        got_vis, trans = fcpxml_visible(path, got_cuts)
        print(f"  (fcpx_xml drops transitions; <transition> elements in file: {trans})")
    elif adapter == "cmx_3600":
        assert got_cuts == EDL_CUTS[variant], got_cuts
    else:
        assert got_cuts == exp["cuts"], got_cuts
    for e, (vs, vd) in zip(ents, got_vis):
        clip = e[0]
        print(f"  {clip.name:14} cut [{e[1]:3},{e[1]+e[2]:3}) in/out_off {e[5]}/{e[6]}"
              f"  -> film start {vs:3} dur {vd:3}  src_in {f(clip.trimmed_range().start_time)}"
              f"  url {clip.media_reference.target_url}")
    assert got_vis == exp["video"], got_vis
    assert f(vt.duration()) == exp["film"]

    # (b) target_url
    for k, e in enumerate(ents, 1):
        url = e[0].media_reference.target_url
        assert norm_url(url) == os.path.join(MEDIA, f"shot-{k}.mp4"), url
        assert os.path.exists(norm_url(url))

    # (c) audio tracks
    assert len(atracks) == 2, [t.name for t in atracks]
    dial = [t for t in atracks if "shot-" in
            (t.find_clips()[0].media_reference.target_url or "")]
    mus = [t for t in atracks if "music" in
           (t.find_clips()[0].media_reference.target_url or "")]
    assert len(dial) == 1 and len(mus) == 1
    d_ents = entries(dial[0])
    print(f"  audio track {dial[0].name!r}: " + ", ".join(
        f"{os.path.basename(e[0].media_reference.target_url)} film [{e[3]},{e[3]+e[4]})"
        for e in d_ents))
    assert [os.path.basename(norm_url(e[0].media_reference.target_url)) for e in d_ents] \
        == ["shot-1.mp4", "shot-2.mp4", "shot-3.mp4"]
    assert [(e[1], e[2]) for e in d_ents] == got_cuts     # same placement as video
    if adapter != "fcpx_xml":
        assert [(e[3], e[4]) for e in d_ents] == exp["video"]
    m_ents = entries(mus[0])
    print(f"  audio track {mus[0].name!r}: " + ", ".join(
        f"music [{e[1]},{e[1]+e[2]}) src_in {f(e[0].trimmed_range().start_time)}"
        for e in m_ents))
    assert [(e[1], e[2]) for e in m_ents] == exp["music"]
    for e in m_ents:
        assert norm_url(e[0].media_reference.target_url) == os.path.join(MEDIA, "music.m4a")
        assert f(e[0].trimmed_range().start_time) == 0

    # (d) markers
    got_m = []
    for e in ents:
        clip, cut_start = e[0], e[1]
        for mk in clip.markers:
            if adapter == "cmx_3600":
                start = f(mk.marked_range.start_time) - EDL_REC_START  # raw record TC
            else:
                start = cut_start + f(mk.marked_range.start_time) - \
                    f(clip.trimmed_range().start_time)
            dur = f(mk.marked_range.duration)
            got_m.append((start, dur, mk.name))
            print(f"  marker on {clip.name}: {mk.name!r} raw start "
                  f"{f(mk.marked_range.start_time)} dur {dur} color {mk.color}"
                  f" -> film [{start},{start+dur})")
    if adapter == "cmx_3600":
        # LOC carries no duration: the adapter always gives duration 0
        assert got_m == [(s, 0, n) for (s, d, n) in exp["markers"]], got_m
    else:
        assert got_m == exp["markers"], got_m
    print("  OK")


def main():
    for fname, adapter, variant in FILES:
        check(fname, adapter, variant)
    print("ALL CHECKS PASSED")


if __name__ == "__main__":
    sys.exit(main())
