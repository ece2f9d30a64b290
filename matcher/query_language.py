"""A cheap, deterministic guess of the language of a short query (a job title, a skill, a
counsellor's note), used to pick the fusion weight per query language
(:func:`matcher.similarity.lexical_weight_for`).

:func:`guess_language` answers ``"vi"``, ``"de"``, ``"en"`` or ``None`` (not known):

* ``"vi"``: a mark only Vietnamese uses (horn ``ơ ư``, breve ``ă``, hook above ``ả``, dot below
  ``ạ``, ``đ``, or two marks on one vowel ``ấ``); or, without diacritics ("cong nhan may",
  "cn may", "lx") or mixed with foreign words ("lái xe container"), at least half the words are
  Vietnamese words of the vocabulary or counsellors' abbreviations, and either two of them or
  every word has the shape of a Vietnamese syllable;
* ``"de"``: ``ä ö ü ß``, a German function word (``und``, ``für``, ``im``, ``der``...), a
  German title ending (``-erin``, ``-istin``, ``-kraft``, ``-mann``, ``-iker``, ``(in)``,
  ``-In``...) or letter group (``sch``, ``tz``, ``pf``, ``fach``, ``elektro``...) - German
  titles without any of these (``Koch``, ``Konditor``) are read as English;
* ``"en"``: any other text in plain ASCII Latin letters;
* ``None``: other scripts or other Latin diacritics (``é``, ``ñ``), or no letters at all.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from matcher.text import ABBREVIATIONS, fold
from matcher.vocabulary import is_vietnamese_syllable, vietnamese_words

__all__ = ["LANGUAGES", "guess_language"]

#: The answers of :func:`guess_language` other than ``None``.
LANGUAGES = ("vi", "de", "en")

# combining marks only Vietnamese puts on Latin letters: breve (ă), horn (ơ ư), hook above, dot below
_VI_MARKS = frozenset("\u0306\u031b\u0309\u0323")
_MARKS_ANY = frozenset("\u0300\u0301\u0302\u0303\u0306\u031b\u0309\u0323")
_DE_LETTERS = frozenset("äöüß")
_DE_WORDS = frozenset(
    "und für der das des den dem im zur zum mit von vom bei aus oder ohne sowie "
    "einer eines fachkraft kaufmann kauffrau".split()
)
_DE_ENDINGS = ("erin", "erinnen", "istin", "entin", "antin", "eurin", "ogin", "login", "afin", "beamtin",
               "beamter", "beamte", "kraft", "mann", "frau", "meister", "meisterin", "arbeiter", "helfer",
               "leiter", "ung", "keit", "heit", "schaft", "schaftler", "techniker", "iker", "ingenieur",
               "logie", "loge", "arzt", "lehrer", "fahrer", "berater", "bauer", "wirt", "fachkraft")
# letter groups of German words that English job titles hardly have
_DE_INFIXES = ("sch", "tz", "pf", "wirtschaft", "fach", "werk", "zahn", "bearbeit", "technik", "elektro",
               "spezial", "ingenieur", "arzt", "kraft", "holz")
# English words with those letter groups
_EN_INFIXES = re.compile(r"school|sched|schol|schem|disch|pretz|blitz|quartz|waltz|chintz|pfizer")
_DE_CAPITAL_IN = re.compile(r"[a-zäöü](?:In|Innen)\b")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _vi_words() -> frozenset[str]:
    words = set(vietnamese_words()) | set(ABBREVIATIONS)
    for expansion in ABBREVIATIONS.values():
        words.update(fold(expansion).split())
    return frozenset(w for key in words for w in key.split())


def _has_vietnamese_marks(text: str) -> bool:
    if "đ" in text or "Đ" in text:
        return True
    marks_on_letter = 0
    for ch in unicodedata.normalize("NFD", text):
        if ch in _VI_MARKS:
            return True
        if ch in _MARKS_ANY:
            marks_on_letter += 1
            if marks_on_letter >= 2:  # ấ ề ổ: a circumflex and a tone on one vowel
                return True
        elif not unicodedata.combining(ch):
            marks_on_letter = 0
    return False


@functools.lru_cache(maxsize=100_000)
def guess_language(text: str | None) -> str | None:
    """``"vi"``, ``"de"``, ``"en"`` or ``None`` for ``text`` (see the module docstring).

    >>> [guess_language(t) for t in ("Công nhân may", "cong nhan may", "Köchin", "Welder", "Soldador/a")]
    ['vi', 'vi', 'de', 'en', 'en']
    """
    if not text:
        return None
    raw = unicodedata.normalize("NFC", text)
    words = _WORD.findall(raw.casefold())
    if not words:
        return None
    if _has_vietnamese_marks(raw):
        return "vi"
    if any(ch in _DE_LETTERS for w in words for ch in w):
        return "de"
    folded = [fold(w) for w in words]
    vi_words = _vi_words()
    n_vi = sum(w in vi_words for w in folded)
    if 2 * n_vi >= len(folded) and (n_vi >= 2 or all(is_vietnamese_syllable(w) or w in ABBREVIATIONS
                                                      for w in folded)):
        return "vi"
    low = raw.casefold()
    if any(w in _DE_WORDS for w in words) or any(w.endswith(_DE_ENDINGS) and len(w) > 7 for w in words) \
            or any(part in w for w in words if not _EN_INFIXES.search(w) for part in _DE_INFIXES) \
            or "(in)" in low or "/in" in low or "/-in" in low or _DE_CAPITAL_IN.search(raw):
        return "de"
    if all(w.isascii() for w in words):
        return "en"
    return None
