#!/usr/bin/env python3
"""seedpipe plugin `title-card` (protocol 1): a title card PNG (gradient background, the
title in big block letters, an accent bar, an optional subtitle) that a pipeline can give
Seedance as the first frame.

Its bytes become part of a paid generation's cache key, so the output is deterministic:
integer arithmetic only, no timestamps or other metadata, a fixed zlib level. Standard
library only. Reads one JSON request on stdin, writes JSON lines on stdout, free text on
stderr, exits 0 on success and 1 on error.
"""

import json
import math
import os
import re
import struct
import sys
import traceback
import unicodedata
import zlib

KIND = "title-card"
OUTPUT = "title.png"

# Layout, as fractions (numerator, denominator) so all arithmetic stays in integers.
TEXT_AREA = (4, 5)       # text lines fit in 80% of the width
TITLE_HEIGHT = (1, 3)    # the title's letters are at most a third of the height
BLOCK_HEIGHT = (4, 5)    # title, bar and subtitle together fit in 80% of the height
BOTTOM_SHADE = (11, 20)  # the gradient's bottom colour: 55% of the background

# A 5x7 bitmap font: 7 rows of 5 columns per glyph, "#" = ink. Glyphs are 5 columns wide
# and 1 column apart.
GLYPH_WIDTH, GLYPH_HEIGHT, GLYPH_ADVANCE = 5, 7, 6
FONT = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    " ": (".....", ".....", ".....", ".....", ".....", ".....", "....."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    ";": (".....", ".##..", ".##..", ".....", ".##..", "..#..", ".#..."),
    "!": ("..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
    "'": ("..#..", "..#..", ".#...", ".....", ".....", ".....", "....."),
    '"': (".#.#.", ".#.#.", ".#.#.", ".....", ".....", ".....", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    "&": (".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#"),
    "/": (".....", "....#", "...#.", "..#..", ".#...", "#....", "....."),
    "(": ("...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."),
    ")": (".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."),
    "#": (".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."),
}
# Typographic forms drawn as their plain cousins.
SUBSTITUTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
               "\u2212": "-", "\u00a0": " "}


class PluginError(Exception):
    """A problem to report on an `error` line (exit status 1)."""


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- parameters

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def color_parameter(parameters, name, default):
    value = parameters.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str) or not HEX_COLOR.fullmatch(value.strip()):
        raise PluginError(f"{name}: {json.dumps(value)} is not a colour; expected the form \"#rrggbb\" "
                          f"(six hex digits, e.g. \"{default}\")")
    value = value.strip()
    return bytes(int(value[i:i + 2], 16) for i in (1, 3, 5))


def integer_parameter(parameters, name, default, low, high):
    value = parameters.get(name, default)
    if value is None:
        value = default
    if (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
            or value != int(value)):
        raise PluginError(f"{name}: {json.dumps(value)} is not a whole number; "
                          f"allowed: a whole number from {low} to {high} (default {default})")
    value = int(value)
    if not low <= value <= high:
        raise PluginError(f"{name}: {value} is out of range; allowed: a whole number from {low} to {high}")
    return value


def text_parameter(parameters, name, required):
    value = parameters.get(name)
    if value is None:
        if required:
            raise PluginError(f"{name}: missing; give the card's {name} as text")
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value)) if value == int(value) else repr(value)  # `title: 2024` in YAML
    if not isinstance(value, str):
        raise PluginError(f"{name}: expected text, got {json.dumps(value)}")
    value = " ".join(value.split())
    if required and not value:
        raise PluginError(f"{name}: the {name} is blank; give the card's {name} as text")
    return value


def drawable(text):
    """The text as the font draws it (uppercase), and the characters it could not draw."""
    shown, missing = [], []
    for original in text:
        for ch in SUBSTITUTES.get(original, original).upper():  # "ß".upper() is "SS"
            if ch not in FONT:
                # An accented letter is drawn as its base letter: é -> E.
                base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).upper()
                ch = base if base in FONT and base != " " else None
            if ch is None:
                if original not in missing:
                    missing.append(original)
                ch = "?"
            shown.append(ch)
    return "".join(shown), missing


# ---------------------------------------------------------------- drawing

def text_width(count, scale):
    return (count * GLYPH_ADVANCE - 1) * scale if count else 0


def spans(text):
    """For each of the font's 7 rows, the ink runs across the whole text as
    (first column, end column) in font pixels."""
    rows = []
    for row in range(GLYPH_HEIGHT):
        runs = []
        for index, ch in enumerate(text):
            pattern = FONT[ch][row]
            base = index * GLYPH_ADVANCE
            column = 0
            while column < GLYPH_WIDTH:
                if pattern[column] == "#":
                    start = column
                    while column < GLYPH_WIDTH and pattern[column] == "#":
                        column += 1
                    if runs and runs[-1][1] == base + start:
                        runs[-1] = (runs[-1][0], base + column)
                    else:
                        runs.append((base + start, base + column))
                else:
                    column += 1
        rows.append(runs)
    return rows


def ratio(value, fraction):
    return value * fraction[0] // fraction[1]


def layout(title, subtitle, width, height):
    """Scales and positions: a dict, or a PluginError when the text cannot fit."""
    area = ratio(width, TEXT_AREA)
    for name, text in (("title", title), ("subtitle", subtitle)):
        if text and text_width(len(text), 1) > area:
            most = (area + 1) // GLYPH_ADVANCE
            raise PluginError(f"{name}: {len(text)} characters do not fit a {width}-pixel-wide card even at the "
                              f"smallest size; at most {most} fit: shorten the {name} or raise width "
                              f"(up to 3840)")

    title_scale = max(1, min(area // (len(title) * GLYPH_ADVANCE - 1),
                             ratio(height, TITLE_HEIGHT) // GLYPH_HEIGHT))
    while True:
        subtitle_scale = 0
        if subtitle:
            subtitle_scale = max(1, title_scale // 2)
            while subtitle_scale > 1 and text_width(len(subtitle), subtitle_scale) > area:
                subtitle_scale -= 1
        gap = max(1, title_scale)
        bar = max(2, title_scale // 3)
        block = GLYPH_HEIGHT * title_scale + gap + bar
        if subtitle:
            block += gap + GLYPH_HEIGHT * subtitle_scale
        if block <= ratio(height, BLOCK_HEIGHT) or title_scale == 1:
            break
        title_scale -= 1
    if block > height:
        raise PluginError(f"title: the text does not fit a {height}-pixel-high card; raise height")

    top = (height - block) // 2
    title_w = text_width(len(title), title_scale)
    placed = {
        "title": (title, title_scale, (width - title_w) // 2, top),
        "bar": ((width - title_w) // 2, title_w, top + GLYPH_HEIGHT * title_scale + gap, bar),
    }
    if subtitle:
        subtitle_w = text_width(len(subtitle), subtitle_scale)
        placed["subtitle"] = (subtitle, subtitle_scale, (width - subtitle_w) // 2,
                              top + GLYPH_HEIGHT * title_scale + gap + bar + gap)
    return placed


def render(width, height, background, accent, foreground, placed):
    """The raw PNG scanlines (filter byte 0 + RGB) as one bytes object."""
    last = max(1, height - 1)
    bottom = bytes(ratio(c, BOTTOM_SHADE) for c in background)
    # Per-row strokes: row -> list of (x, end, colour)
    strokes = {}
    for key in ("title", "subtitle"):
        if key not in placed:
            continue
        text, scale, left, top = placed[key]
        for font_row, runs in enumerate(spans(text)):
            pieces = [(left + a * scale, left + b * scale, foreground) for a, b in runs]
            if pieces:
                for y in range(top + font_row * scale, top + (font_row + 1) * scale):
                    strokes.setdefault(y, []).extend(pieces)
    bar_left, bar_width, bar_top, bar_height = placed["bar"]
    for y in range(bar_top, bar_top + bar_height):
        strokes.setdefault(y, []).append((bar_left, bar_left + bar_width, accent))

    rows = []
    previous_shade, previous_row = None, None
    for y in range(height):
        # Rounded linear blend from the background (top) to its darker shade (bottom).
        shade = bytes((t * (last - y) + b * y + last // 2) // last for t, b in zip(background, bottom))
        if shade != previous_shade:
            previous_shade, previous_row = shade, b"\x00" + shade * width
        ink = strokes.get(y)
        if ink is None:
            rows.append(previous_row)
            continue
        row = bytearray(previous_row)
        for x0, x1, colour in ink:
            x0, x1 = max(0, x0), min(width, x1)
            if x1 > x0:
                row[1 + 3 * x0:1 + 3 * x1] = colour * (x1 - x0)
        rows.append(bytes(row))
    return b"".join(rows)


def png(width, height, scanlines):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, filter 0, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines, 9))
            + chunk(b"IEND", b""))


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
    if not isinstance(parameters, dict):
        raise PluginError("the request's `parameters` must be a JSON object")
    output_folder = request.get("output_folder")
    if not isinstance(output_folder, str) or not output_folder:
        raise PluginError("the request names no `output_folder`")

    title, title_missing = drawable(text_parameter(parameters, "title", required=True))
    subtitle, subtitle_missing = drawable(text_parameter(parameters, "subtitle", required=False))
    width = integer_parameter(parameters, "width", 1280, 64, 3840)
    height = integer_parameter(parameters, "height", 720, 64, 3840)
    background = color_parameter(parameters, "background", "#101820")
    accent = color_parameter(parameters, "accent", "#f2aa4c")
    foreground = color_parameter(parameters, "foreground", "#ffffff")
    for name, missing in (("title", title_missing), ("subtitle", subtitle_missing)):
        if missing:
            emit({"type": "log", "level": "warning",
                  "message": f"{name}: the font has no {' '.join(missing)}; drawn as ?"})

    placed = layout(title, subtitle, width, height)
    emit({"type": "progress", "fraction": 0.1, "message": f"rendering {width}x{height}"})
    data = png(width, height, render(width, height, background, accent, foreground, placed))
    os.makedirs(output_folder, exist_ok=True)
    with open(os.path.join(output_folder, OUTPUT), "wb") as handle:
        handle.write(data)
    emit({"type": "log", "level": "debug",
          "message": f"title at scale {placed['title'][1]}"
                     + (f", subtitle at scale {placed['subtitle'][1]}" if "subtitle" in placed else "")
                     + f"; {len(data)} bytes (zlib {zlib.ZLIB_RUNTIME_VERSION})"})
    emit({"type": "progress", "fraction": 1.0, "message": "done"})
    emit({"type": "result", "outputs": {"image": OUTPUT}})


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
        print(f"title-card: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: say so on both channels
        traceback.print_exc(file=sys.stderr)
        emit({"type": "error", "message": f"internal error: {type(error).__name__}: {error}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
