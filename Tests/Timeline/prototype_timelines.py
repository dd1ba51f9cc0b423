#!/usr/bin/env python3
"""Hand-built (string templates, no OTIO writer) sample timelines.

Prototype of the Swift exporter: every file is produced by plain string
formatting, so each emitter below can be ported 1:1.

Timeline model (all times in frames at 24 fps):
  video/audio cut list per variant: list of (shot, src_in, dur) in track order
  plus one transition (in_offset=6, out_offset=6) at every interior cut for
  the "fades" variant.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
MEDIA = os.path.join(HERE, "media")
RATE = 24
SHOT_LEN = 120
MUSIC_LEN = 96
XF = 12                      # crossfade length
HALF = XF // 2               # in_offset == out_offset == 6
CAPTIONS = ["Shot 1: dawn", "Shot 2: midday", "Shot 3: dusk"]


def shot_path(k):
    return os.path.join(MEDIA, f"shot-{k}.mp4")


MUSIC_PATH = os.path.join(MEDIA, "music.m4a")


def file_url(path):
    return "file://" + path  # paths here have no characters needing %-escapes


# ---------------------------------------------------------------- model
def build_model(fades):
    """Return dict with the *cut-point* representation (OTIO's model):
    clips = [(k, src_in, dur, rec_in)], transitions between all neighbours
    if fades.  Visible range of clip = cut range extended by HALF on each
    side that has a transition."""
    clips = []
    rec = 0
    for k in (1, 2, 3):
        if not fades:
            src_in, dur = 0, SHOT_LEN
        else:
            head = HALF if k > 1 else 0          # media used before the cut
            tail = HALF if k < 3 else 0          # media used after the cut
            src_in, dur = head, SHOT_LEN - head - tail
        clips.append((k, src_in, dur, rec))
        rec += dur
    film = rec
    # music loop covering the whole film, last one trimmed
    music = []
    t = 0
    while t < film:
        d = min(MUSIC_LEN, film - t)
        music.append((0, d, t))                  # (src_in, dur, rec_in)
        t += d
    # captions: one per shot, in that clip's media time (src), 115 frames
    # for cuts; for fades they start at the cut-in point and last 100 frames
    markers = []
    for (k, src_in, dur, rec_in) in clips:
        mdur = 115 if not fades else 100
        markers.append((k, src_in, mdur, CAPTIONS[k - 1]))   # media-time start
    return dict(clips=clips, film=film, music=music, markers=markers,
                fades=fades)


# ---------------------------------------------------------------- OTIO JSON
def rt(v):
    return ('{"OTIO_SCHEMA": "RationalTime.1", "rate": %.1f, "value": %.1f}'
            % (RATE, v))


def tr(start, dur):
    return ('{"OTIO_SCHEMA": "TimeRange.1", "start_time": %s, "duration": %s}'
            % (rt(start), rt(dur)))


def otio_ext_ref(path, length):
    return ('{"OTIO_SCHEMA": "ExternalReference.1", "metadata": {}, '
            '"name": "%s", "available_range": %s, '
            '"available_image_bounds": null, "target_url": "%s"}'
            % (os.path.basename(path), tr(0, length), file_url(path)))


def otio_marker(name, start, dur):
    return ('{"OTIO_SCHEMA": "Marker.2", "metadata": {}, "name": "%s", '
            '"color": "YELLOW", "marked_range": %s, "comment": "%s"}'
            % (name, tr(start, dur), name))


def otio_clip(name, path, length, src_in, dur, markers=()):
    return ('{"OTIO_SCHEMA": "Clip.2", "metadata": {}, "name": "%s", '
            '"source_range": %s, "effects": [], "markers": [%s], '
            '"enabled": true, "color": null, '
            '"media_references": {"DEFAULT_MEDIA": %s}, '
            '"active_media_reference_key": "DEFAULT_MEDIA"}'
            % (name, tr(src_in, dur), ", ".join(markers),
               otio_ext_ref(path, length)))


def otio_transition():
    return ('{"OTIO_SCHEMA": "Transition.1", "metadata": {}, '
            '"name": "Cross Dissolve", "transition_type": "SMPTE_Dissolve", '
            '"in_offset": %s, "out_offset": %s}' % (rt(HALF), rt(HALF)))


def otio_track(name, kind, children):
    return ('{"OTIO_SCHEMA": "Track.1", "metadata": {}, "name": "%s", '
            '"source_range": null, "effects": [], "markers": [], '
            '"enabled": true, "color": null, "kind": "%s", '
            '"children": [\n      %s\n    ]}'
            % (name, kind, ",\n      ".join(children)))


def make_otio(m, title):
    vid, aud = [], []
    for i, (k, src_in, dur, rec_in) in enumerate(m["clips"]):
        if i > 0 and m["fades"]:
            vid.append(otio_transition())
            aud.append(otio_transition())
        mk = [otio_marker(n, s, d) for (kk, s, d, n) in m["markers"] if kk == k]
        vid.append(otio_clip(f"shot-{k}", shot_path(k), SHOT_LEN, src_in, dur, mk))
        aud.append(otio_clip(f"shot-{k}", shot_path(k), SHOT_LEN, src_in, dur))
    mus = [otio_clip("music", MUSIC_PATH, MUSIC_LEN, s, d)
           for (s, d, rec) in m["music"]]
    tracks = [otio_track("V1", "Video", vid), otio_track("A1", "Audio", aud),
              otio_track("A2", "Audio", mus)]
    return ('{"OTIO_SCHEMA": "Timeline.1", "metadata": {}, "name": "%s",\n'
            ' "global_start_time": %s,\n'
            ' "tracks": {"OTIO_SCHEMA": "Stack.1", "metadata": {}, '
            '"name": "tracks", "source_range": null, "effects": [], '
            '"markers": [], "enabled": true, "color": null, "children": [\n'
            '    %s\n ]}}\n' % (title, rt(0), ",\n    ".join(tracks)))


# ---------------------------------------------------------------- FCPXML
def ft(frames):
    """FCPXML time: rational seconds, always 'N/24s' (or '0s')."""
    return "0s" if frames == 0 else f"{frames}/{RATE}s"


def make_fcpxml(m, title):
    I = "    "
    res = [f'{I*2}<format id="r1" name="FFVideoFormat720p24" '
           f'frameDuration="100/2400s" width="1280" height="720" '
           f'colorSpace="1-1-1 (Rec. 709)"/>']
    for k in (1, 2, 3):
        res.append(f'{I*2}<asset id="r{k+1}" name="shot-{k}" '
                   f'src="{file_url(shot_path(k))}" start="0s" '
                   f'duration="{ft(SHOT_LEN)}" hasVideo="1" format="r1" '
                   f'videoSources="1" hasAudio="1" audioSources="1" '
                   f'audioChannels="2" audioRate="48000"/>')
    res.append(f'{I*2}<asset id="r5" name="music" src="{file_url(MUSIC_PATH)}" '
               f'start="0s" duration="{ft(MUSIC_LEN)}" hasAudio="1" '
               f'audioSources="1" audioChannels="2" audioRate="48000"/>')
    if m["fades"]:
        res.append(f'{I*2}<effect id="r6" name="Cross Dissolve" '
                   f'uid="FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"/>')
        res.append(f'{I*2}<effect id="r7" name="Audio Crossfade" '
                   f'uid="FFAudioTransition"/>')

    def transition(d, rec_cut, video):
        # centred on the cut: offset = cut - 6 frames, duration 12 frames
        filt = (f'<filter-video ref="r6" name="Cross Dissolve"/>' if video
                else f'<filter-audio ref="r7" name="Audio Crossfade"/>')
        return (f'{I*d}<transition name="{"Cross Dissolve" if video else "Audio Crossfade"}" '
                f'offset="{ft(rec_cut - HALF)}" duration="{ft(XF)}">\n'
                f'{I*(d+1)}{filt}\n{I*d}</transition>')

    # connected storylines, hung off the first spine clip (offset 0, start 0)
    d = 6
    a_items = []
    for i, (k, src_in, dur, rec_in) in enumerate(m["clips"]):
        if i > 0 and m["fades"]:
            a_items.append(transition(d + 1, rec_in, video=False))
        a_items.append(
            f'{I*(d+1)}<clip name="shot-{k} audio" offset="{ft(rec_in)}" '
            f'start="{ft(src_in)}" duration="{ft(dur)}">\n'
            f'{I*(d+2)}<audio ref="r{k+1}" offset="0s" start="0s" '
            f'duration="{ft(SHOT_LEN)}" role="dialogue"/>\n'
            f'{I*(d+1)}</clip>')
    audio_spine = (f'{I*d}<spine lane="-1" offset="0s">\n'
                   + "\n".join(a_items) + f'\n{I*d}</spine>')
    # NOT <asset-clip ref="r5">: the reader decides audio-ness of an
    # asset-clip with `if asset and ...` on an Element, which is False for an
    # element without children, so the lane would come back as kind Video.
    mus_items = [f'{I*(d+1)}<clip name="music" offset="{ft(rec)}" '
                 f'start="{ft(s)}" duration="{ft(dd)}">\n'
                 f'{I*(d+2)}<audio ref="r5" offset="0s" start="0s" '
                 f'duration="{ft(MUSIC_LEN)}" role="music"/>\n'
                 f'{I*(d+1)}</clip>' for (s, dd, rec) in m["music"]]
    music_spine = (f'{I*d}<spine lane="-2" offset="0s">\n'
                   + "\n".join(mus_items) + f'\n{I*d}</spine>')

    spine = []
    for i, (k, src_in, dur, rec_in) in enumerate(m["clips"]):
        if i > 0 and m["fades"]:
            spine.append(transition(5, rec_in, video=True))
        kids = []
        if i == 0:
            kids += [audio_spine, music_spine]
        for (kk, s, mdur, name) in m["markers"]:
            if kk == k:   # marker start = clip-local (= asset) time
                kids.append(f'{I*6}<marker start="{ft(s)}" '
                            f'duration="{ft(mdur)}" value="{name}"/>')
        spine.append(f'{I*5}<asset-clip ref="r{k+1}" name="shot-{k}" '
                     f'offset="{ft(rec_in)}" start="{ft(src_in)}" '
                     f'duration="{ft(dur)}" srcEnable="video" tcFormat="NDF">\n'
                     + "\n".join(kids) + f'\n{I*5}</asset-clip>')

    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<!DOCTYPE fcpxml>\n'
            f'<fcpxml version="1.8">\n'
            f'{I}<resources>\n' + "\n".join(res) + f'\n{I}</resources>\n'
            f'{I}<event name="{title}">\n'
            f'{I*2}<project name="{title}">\n'
            f'{I*3}<sequence format="r1" duration="{ft(m["film"])}" '
            f'tcStart="0s" tcFormat="NDF" audioLayout="stereo" audioRate="48k">\n'
            f'{I*4}<spine>\n' + "\n".join(spine) + f'\n{I*4}</spine>\n'
            f'{I*3}</sequence>\n{I*2}</project>\n{I}</event>\n</fcpxml>\n')


# ---------------------------------------------------------------- CMX3600
REC_START = 3600 * RATE      # record timecode starts at 01:00:00:00


def tc(frames):
    f = frames % RATE
    s = frames // RATE
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}"


def edl_line(num, reel, chan, src_in, src_out, rec_in, rec_out, diss=None):
    # fixed columns like Avid/OTIO: "NNN  REEL---- CHAN- C        ..."
    edit = "C       " if diss is None else f"D {diss:03d}   "
    return (f"{num:03d}  {reel:<8} {chan:<5} {edit} "
            f"{tc(src_in)} {tc(src_out)} {tc(REC_START + rec_in)} "
            f"{tc(REC_START + rec_out)}")


def make_edl(m, title):
    clips = m["clips"]
    fades = m["fades"]
    # EDL representation of a dissolve: B-side event starts at the START of
    # the dissolve (record) and uses D frames of handle before the cut; the
    # A-side event ends at the start of the dissolve.
    # visible (film) range and media in-point of every shot
    vis = []
    for i, (k, src_in, dur, rec_in) in enumerate(clips):
        head = HALF if (fades and i > 0) else 0
        tail = HALF if (fades and i < len(clips) - 1) else 0
        vis.append((k, src_in - head, rec_in - head, dur + head + tail))
    # EDL event of shot i: record [vis_start_i, vis_start_{i+1}) (the A side
    # is cut where the next dissolve STARTS), last one runs to its visible end
    ev = []   # (rec_in, order, lines)
    for i, (k, v_src, v_rec, v_len) in enumerate(vis):
        e_len = (vis[i + 1][2] - v_rec) if i + 1 < len(vis) else v_len
        reel = f"SHOT{k}"
        lines = []
        if fades and i > 0:
            pk, p_src, p_rec, _ = vis[i - 1]
            a_out = p_src + (v_rec - p_rec)        # A side source out
            # zero-length cut line of the A side at the dissolve start
            lines.append(edl_line(0, f"SHOT{pk}", "B", a_out, a_out, v_rec, v_rec))
            lines.append(edl_line(0, reel, "B", v_src, v_src + e_len,
                                  v_rec, v_rec + e_len, diss=XF))
            lines.append(f"* FROM CLIP NAME:  shot-{pk}")
            lines.append(f"* FROM CLIP: {shot_path(pk)}")
            lines.append(f"* TO CLIP NAME:  shot-{k}")
            # the reader ignores "* TO CLIP:"; the LAST of FROM CLIP/FROM FILE/
            # OTIO REFERENCE <word> wins, so the B side path goes last:
            lines.append(f"* OTIO REFERENCE TO: {shot_path(k)}")
        else:
            lines.append(edl_line(0, reel, "B", v_src, v_src + e_len,
                                  v_rec, v_rec + e_len))
            lines.append(f"* FROM CLIP NAME:  shot-{k}")
            lines.append(f"* FROM CLIP: {shot_path(k)}")
        src_in, rec_in = clips[i][1], clips[i][3]
        for (kk, s, mdur, name) in m["markers"]:
            if kk == k:   # LOC uses RECORD timecode (Avid convention)
                lines.append(f"* LOC: {tc(REC_START + rec_in + s - src_in)} YELLOW  {name}")
        ev.append((v_rec, 0, lines))
    for (s, d, rec) in m["music"]:
        ev.append((rec, 1, [None, s, d, rec]))
    ev.sort(key=lambda e: (e[0], e[1]))
    out = [f"TITLE: {title}", "FCM: NON-DROP FRAME", ""]
    n = 0
    for rec, kind, payload in ev:
        n += 1
        if kind == 0:
            # renumber (events are interleaved with music)
            lines = []
            for ln in payload:
                if ln[:3].isdigit():
                    ln = f"{n:03d}" + ln[3:]
                lines.append(ln)
            out += lines
        else:
            _, s, d, r = payload
            out.append(edl_line(n, "MUSIC", "A2", s, s + d, r, r + d))
            out.append("* FROM CLIP NAME:  music")
            out.append(f"* FROM CLIP: {MUSIC_PATH}")
    return "\n".join(out) + "\n"


def main():
    for fades, tag in ((False, "cuts"), (True, "fades")):
        m = build_model(fades)
        title = f"otio-proto {tag}"
        for fname, text in ((f"otio-{tag}.otio", make_otio(m, title)),
                            (f"fcpxml-{tag}.fcpxml", make_fcpxml(m, title)),
                            (f"edl-{tag}.edl", make_edl(m, title))):
            with open(os.path.join(HERE, fname), "w") as f:
                f.write(text)
            print("wrote", fname)


if __name__ == "__main__":
    main()
