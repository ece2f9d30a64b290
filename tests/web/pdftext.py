"""The text of a PDF that Chromium printed (Skia's PDF writer), for tests: no PDF library needed.

Skia writes every object uncompressed in the file body, content streams Flate-compressed, and
each font with a ToUnicode CMap; text is shown with ``Tj``/``TJ`` on hex strings of glyph codes.
This reads exactly that (not any PDF): objects, inflated streams, the CMaps (``bfchar`` and
``bfrange``), then every text-showing operator in the order it appears. Words come out in
reading order, runs separated by a space at each ``ET``; compare without whitespace.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*)\r?\nendstream", re.S)
_TEXT_OP = re.compile(rb"/([\w.+-]+)\s+[\d.]+\s+Tf|\[(.*?)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|(ET)", re.S)


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    out = {}
    for m in _OBJ.finditer(data):
        body = m.group(2)
        found = _STREAM.search(body)
        if found is None:
            out[int(m.group(1))] = (body, None)
            continue
        head, stream = body[:found.start()], found.group(1)
        out[int(m.group(1))] = (head, zlib.decompress(stream) if b"FlateDecode" in head else stream)
    return out


def _cmap(stream: bytes) -> tuple[int, dict[int, str]]:
    """(bytes per code, code -> text) of a ToUnicode CMap."""
    text = stream.decode("latin-1")
    space = re.search(r"begincodespacerange\s*<([0-9A-Fa-f]+)>", text)
    width = len(space.group(1)) // 2 if space else 2
    table: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be", errors="replace")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                table[code] = chr(first + i)
    return width, table


def pdf_text(data: bytes) -> str:
    """Every piece of text the PDF shows, NFKC-normalised (CJK fonts map some glyphs to
    compatibility characters)."""
    objects = _objects(data)
    fonts: dict[str, tuple[int, dict[int, str]]] = {}
    for head, _ in objects.values():
        for entries in re.findall(rb"/Font\s*<<(.*?)>>", head, re.S):
            for name, ref in re.findall(rb"/([\w.+-]+)\s+(\d+) 0 R", entries):
                font = objects.get(int(ref), (b"", None))[0]
                to_unicode = re.search(rb"/ToUnicode\s+(\d+) 0 R", font)
                if to_unicode and objects.get(int(to_unicode.group(1)), (b"", None))[1] is not None:
                    fonts[name.decode()] = _cmap(objects[int(to_unicode.group(1))][1])
    out: list[str] = []
    for head, stream in objects.values():
        if stream is None or b"Tf" not in stream:
            continue
        width, table = 1, {}
        for op in _TEXT_OP.finditer(stream):
            if op.group(1):
                width, table = fonts.get(op.group(1).decode(), (1, {}))
            elif op.group(4):
                out.append(" ")
            else:
                strings = re.findall(rb"<([0-9A-Fa-f]*)>", op.group(2)) if op.group(2) is not None else [op.group(3)]
                for hexed in strings:
                    raw = bytes.fromhex(hexed.decode())
                    out.append("".join(table.get(int.from_bytes(raw[i:i + width], "big"), "")
                                       for i in range(0, len(raw), width)))
    return unicodedata.normalize("NFKC", "".join(out))
