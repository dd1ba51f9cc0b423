#!/usr/bin/env python3
"""seedpipe plugin `captions` (protocol 1): SRT and WebVTT subtitles for a film joined
from clips, one cue per clip, timed from the clip durations seedpipe hands over.

Standard library only. Reads one JSON request on stdin, writes JSON lines on stdout
(progress, log, error, result), free text on stderr, exits 0 on success and 1 on error.
"""

import json
import math
import os
import sys
import traceback
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

KIND = "captions"
ELLIPSIS = "\u2026"  # …
ARROW = "\u2192"  # →


class PluginError(Exception):
    """A problem to report on an `error` line (exit status 1)."""


def emit(obj):
    """One JSON object per line on stdout (ASCII-escaped, so the locale never matters)."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def progress(fraction, message):
    emit({"type": "progress", "fraction": fraction, "message": message})


def log(level, message):
    emit({"type": "log", "level": level, "message": message})


# ---------------------------------------------------------------- parameters

def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number_parameter(parameters, name, default, low, high):
    value = parameters.get(name, default)
    if value is None:
        value = default
    if not is_number(value):
        raise PluginError(f"{name}: {json.dumps(value)} is not a number; "
                          f"allowed: a number from {low} to {high} (default {default})")
    if not low <= value <= high:
        raise PluginError(f"{name}: {value} is out of range; allowed: a number from {low} to {high}")
    return value


def integer_parameter(parameters, name, default, low, high):
    value = parameters.get(name, default)
    if value is None:
        value = default
    if not is_number(value) or value != int(value):
        raise PluginError(f"{name}: {json.dumps(value)} is not a whole number; "
                          f"allowed: a whole number from {low} to {high} (default {default})")
    value = int(value)
    if not low <= value <= high:
        raise PluginError(f"{name}: {value} is out of range; allowed: a whole number from {low} to {high}")
    return value


def text_list(value, name):
    """A list of strings, or a PluginError naming `name` and the first bad item (1-based)."""
    if not isinstance(value, list):
        raise PluginError(f"{name}: expected a list of texts, one per clip, got {type_name(value)}")
    texts = []
    for index, item in enumerate(value, start=1):
        if is_number(item):
            # YAML reads `lines: [Intro, 2024]` as a string and a number: take the number as written.
            item = str(int(item)) if item == int(item) else repr(item)
        if not isinstance(item, str):
            raise PluginError(f"{name}: item {index} is {type_name(item)}; every item must be a text (string)")
        texts.append(item)
    return texts


def type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


# ---------------------------------------------------------------- text

def clean(text):
    """Control characters out, whitespace (newlines too) collapsed, "-->" made harmless."""
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    text = " ".join(text.split())
    return text.replace("-->", ARROW)


def wrap(text, width):
    """Greedy wrap at spaces to lines of at most `width` characters; a word longer than
    a whole line is split."""
    lines = []
    current = ""
    for word in text.split(" "):
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not word:
            continue
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def fit(text, width, max_lines):
    """The cue's lines: wrapped to `width`, at most `max_lines`, the last ending in "…"
    when text was cut."""
    lines = wrap(text, width)
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    last = kept[-1]
    if len(last) + 1 > width:  # a full line: drop its last word (or cut a single long one)
        cut = last[:width - 1]
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
        last = cut
    trimmed = last.rstrip(" ,;:.-\u2013\u2014")
    kept[-1] = (trimmed or last) + ELLIPSIS
    return kept


def vtt_escape(line):
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- timing

def to_decimal(value):
    # str() of a float is its shortest repr, i.e. the number as written in the JSON.
    return Decimal(str(value))


def milliseconds(seconds):
    return int((seconds * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def timestamp(ms, separator):
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def format_seconds(ms):
    text = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
    return text or "0"


# ---------------------------------------------------------------- the run

def run(request):
    if not isinstance(request, dict):
        raise PluginError("the request is not a JSON object")
    if request.get("protocol", 1) != 1:
        raise PluginError(f"this plugin speaks protocol 1; the request is protocol {request.get('protocol')!r}")
    kind = request.get("kind", KIND)
    if kind != KIND:
        raise PluginError(f"unknown stage kind {kind!r}; this plugin offers `{KIND}`")
    parameters = request.get("parameters") or {}
    inputs = request.get("inputs") or {}
    if not isinstance(parameters, dict) or not isinstance(inputs, dict):
        raise PluginError("the request's `parameters` and `inputs` must be JSON objects")
    output_folder = request.get("output_folder")
    if not isinstance(output_folder, str) or not output_folder:
        raise PluginError("the request names no `output_folder`")

    # Clips and their durations.
    clips = inputs.get("clips")
    if clips is None:
        raise PluginError("clips: no clips given; connect a list of videos, e.g. clips: \"${shots.clips}\"")
    if not isinstance(clips, list):
        raise PluginError(f"clips: expected a list of videos, got {type_name(clips)}")
    if not clips:
        raise PluginError("clips: the list is empty; give at least one clip")
    durations = []
    for index, clip in enumerate(clips, start=1):
        if not isinstance(clip, dict):
            raise PluginError(f"clips: clip {index} is {type_name(clip)}, not a video object")
        duration = clip.get("duration")
        name = os.path.basename(str(clip.get("path", ""))) or f"clip {index}"
        if not is_number(duration) or duration <= 0:
            raise PluginError(f"clips: clip {index} ({name}) has no usable duration "
                              f"({json.dumps(duration)}); a duration above 0 seconds is needed")
        durations.append(to_decimal(duration))
    count = len(durations)

    transition = number_parameter(parameters, "transition_seconds", 0, 0, 5)
    max_chars = integer_parameter(parameters, "max_chars", 42, 16, 120)
    max_lines = integer_parameter(parameters, "max_lines", 2, 1, 4)

    # A crossfade only happens between clips, so with one clip it changes nothing.
    shortest = min(durations)
    if count > 1 and to_decimal(transition) >= shortest:
        which = durations.index(shortest) + 1
        raise PluginError(f"transition_seconds: {transition} is not shorter than every clip "
                          f"(clip {which} lasts {shortest} s); allowed: 0 up to less than {shortest}")

    # The text: `lines` replaces the prompts when given (an empty list counts as not given).
    lines = parameters.get("lines")
    prompts = inputs.get("prompts")
    if lines is not None and lines != []:
        texts, source = text_list(lines, "lines"), "lines"
    elif prompts is not None:
        texts, source = text_list(prompts, "prompts"), "prompts"
    else:
        raise PluginError("lines: no text for the captions; give `lines:` (a list of texts, one per clip) "
                          "or connect `prompts:` (the shots' prompts)")
    if len(texts) != count:
        raise PluginError(f"{source}: {len(texts)} text{'s' if len(texts) != 1 else ''} for "
                          f"{count} clip{'s' if count != 1 else ''}; give exactly one text per clip")

    cleaned = []
    for index, text in enumerate(texts, start=1):
        text = clean(text)
        if not text:
            raise PluginError(f"{source}: the text for clip {index} is blank; every clip needs a non-empty text")
        cleaned.append(text)

    progress(0.2, f"timing {count} cue{'s' if count != 1 else ''}")

    # Where each clip starts in the joined film: every join overlaps by the transition.
    overlap = to_decimal(transition)
    starts = []
    position = Decimal(0)
    for duration in durations:
        starts.append(position)
        position += duration - overlap
    end_of_film = starts[-1] + durations[-1]
    bounds = [milliseconds(s) for s in starts] + [milliseconds(end_of_film)]

    srt = []
    vtt = ["WEBVTT\n\n"]
    for index, text in enumerate(cleaned):
        start_ms, end_ms = bounds[index], bounds[index + 1]
        cue_lines = fit(text, max_chars, max_lines)
        srt.append(f"{index + 1}\n{timestamp(start_ms, ',')} --> {timestamp(end_ms, ',')}\n"
                   + "\n".join(cue_lines) + "\n\n")
        vtt.append(f"{timestamp(start_ms, '.')} --> {timestamp(end_ms, '.')}\n"
                   + "\n".join(vtt_escape(line) for line in cue_lines) + "\n\n")

    progress(0.7, "writing captions.srt and captions.vtt")
    os.makedirs(output_folder, exist_ok=True)
    for name, parts in (("captions.srt", srt), ("captions.vtt", vtt)):
        with open(os.path.join(output_folder, name), "w", encoding="utf-8", newline="\n") as handle:
            handle.write("".join(parts))

    log("info", f"{count} cue{'s' if count != 1 else ''}, {format_seconds(bounds[-1])} s")
    progress(1.0, "done")
    emit({"type": "result", "outputs": {"srt": "captions.srt", "vtt": "captions.vtt"}})


def main():
    try:
        raw = sys.stdin.buffer.read()
        try:
            request = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise PluginError(f"the request on stdin is not valid JSON ({error})")
        run(request)
    except PluginError as error:
        emit({"type": "error", "message": str(error)})
        print(f"captions: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: say so on both channels
        traceback.print_exc(file=sys.stderr)
        emit({"type": "error", "message": f"internal error: {type(error).__name__}: {error}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
