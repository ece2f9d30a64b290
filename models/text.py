"""The project's one diacritics folding, in the leaf package so every layer can use it.

``matcher.text`` (the engine), ``data`` (search, import vocabularies) and ``models`` (closed
vocabularies such as the ethnic groups) all compare Vietnamese text through :func:`fold`:
``fold("Thợ  hàn (TIG)") == fold("tho han tig")``. ``matcher.text`` re-exports it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["contains_words", "fold", "nfc", "strip_marks"]

# đ/Đ are letters of their own, not d + a combining mark: NFD leaves them alone.
_D_PAIRS = (("đ", "d"), ("Đ", "D"), ("ð", "d"), ("Ð", "D"))
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# the combining marks of the Combining Diacritical Marks block (U+034F, a joiner, does not
# combine), and text made only of Latin letters (below U+0250 and U+1E00-U+1EFF) and those marks
_MARKS = "".join(chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c)))
_LATIN_MARKS = re.compile(f"[{_MARKS}]")
_LATIN_ONLY = re.compile(f"[\u0000-\u024f\u1e00-\u1eff{_MARKS}]+")


def nfc(s: str | None) -> str:
    """The text in Unicode NFC (composed) form; ``None`` becomes ``""``."""
    return unicodedata.normalize("NFC", s or "")


def _map_d(s: str) -> str:
    """đ/Đ (and ð/Ð) to d/D (``str.replace`` per letter present: ``translate`` with a mapping
    costs about 15 µs on a long text)."""
    for a, b in _D_PAIRS:
        if a in s:
            s = s.replace(a, b)
    return s


def strip_marks(s: str) -> str:
    """Remove the combining marks of Latin letters (Vietnamese tones and vowel marks), map đ to d.

    Marks on other scripts are kept: a Japanese dakuten (が = か + U+3099) changes the word.
    Case is kept.
    """
    if s.isascii():
        return s
    decomposed = unicodedata.normalize("NFD", _map_d(s))
    if _LATIN_ONLY.fullmatch(decomposed) and not unicodedata.combining(decomposed[0]):
        # Latin letters and their marks only (Vietnamese), none leading: drop every mark at once
        return unicodedata.normalize("NFC", _LATIN_MARKS.sub("", decomposed))
    return _strip_marks_each(decomposed)


#: the code points that may be combining characters: planes 0 and 1 and plane 14's tags and
#: variation selectors (the other planes hold ideographs and private use; a test checks that
#: this Python's Unicode database has no combining character outside these)
_COMBINING_PLANES = (range(0x20000), range(0xE0000, 0xE1000))


@functools.cache
def _marks_after_latin() -> re.Pattern:
    """A Latin letter followed by its run of combining characters (any block: the planes that
    hold combining characters are scanned once, at the first text that needs it)."""
    ranges: list[list[int]] = []
    for c in (c for plane in _COMBINING_PLANES for c in plane):
        if unicodedata.combining(chr(c)):
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
    marks = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"([\u0000-\u024f\u1e00-\u1eff])[{marks}]+")


def _strip_marks_each(decomposed: str) -> str:
    """The general path of :func:`strip_marks` on NFD text with đ already mapped: every run of
    combining characters that follows a Latin letter is dropped, the others are kept."""
    return unicodedata.normalize("NFC", _marks_after_latin().sub(r"\1", decomposed))


@functools.lru_cache(maxsize=200_000)
def fold(s: str | None) -> str:
    """Case-, diacritics- and punctuation-insensitive form of a text.

    NFC, ``đ`` -> ``d``, combining marks removed, case folded, every run of punctuation or
    whitespace replaced by one space, trimmed. Idempotent: ``fold(fold(s)) == fold(s)``.

    >>> fold("Thợ  hàn (TIG)") == fold("tho han tig")
    True
    """
    if not s:
        return ""
    folded = strip_marks(nfc(s)).casefold()
    # casefold may produce new characters with marks (rare: e.g. "İ" -> "i̇"); strip again so
    # the function stays idempotent.
    folded = strip_marks(folded)
    return _NON_WORD.sub(" ", folded).strip()


def contains_words(text: str | None, query: str | None) -> bool:
    """Whether every word of ``query`` is a whole word of ``text``, both folded (:func:`fold`):
    ``contains_words("Ánh Khánh", "anh")`` is true, ``contains_words("Khánh", "anh")`` false.
    An empty query matches everything."""
    hay = f" {fold(text)} "
    return all(f" {w} " in hay for w in fold(query).split())
