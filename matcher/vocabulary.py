"""The overseas-work vocabulary: occupations and skills in vi/en/ja/ko/de/zh with counsellors' spellings.

The table is packaged reference data, ``models/resources/vocabulary.tsv`` (how it was written and how the
engine uses it: ``models/resources/VOCABULARY.md``). This module reads it and offers:

- :meth:`Vocabulary.lookup` - the concepts named in a text, diacritics- and case-insensitive,
  on whole phrases only (token boundaries; Chinese, Japanese and Korean characters count as
  one token each, so ``溶接`` is found inside ``溶接工``);
- :meth:`Vocabulary.expand` - a short or abbreviated entry with the Vietnamese and English
  names of its concepts appended (``"tho han"`` -> ``"tho han (thợ hàn; welder)"``), so the
  multilingual model and the character n-grams both see a full name; idempotent;
- :meth:`Vocabulary.training_pairs` - ``(term, English name)`` pairs for fine-tuning.

Matching rules, chosen so that folding diacritics away cannot invent a match:

- a phrase of two or more tokens matches wherever its folded tokens occur (longest phrase
  first, left to right, without overlaps: ``hàn MIG/MAG`` is one phrase, not ``hàn`` + more);
- a single Latin token that could be a Vietnamese syllable once folded (``han``, ``tien``,
  ``may``) is ambiguous: ``hàn`` (weld) and ``hạn`` (term), ``tiện`` (lathe) and ``tiền``
  (money), ``may`` (sew) and ``máy`` (machine). Written with its diacritics in the table it
  matches the same spelling anywhere; written without them it matches only a whole entry
  (a skill list item ``"han"`` means welding);
- a few phrases (``Hàn Quốc``, ``đi Hàn``...) are blockers: they consume their tokens and
  name no concept, so a market is not read as a trade.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Iterable, Iterator

from matcher.text import fold, nfc, prepare

__all__ = [
    "COLUMNS",
    "LANGUAGES",
    "LONG_FIELDS",
    "SHORT_WORDS",
    "Concept",
    "Vocabulary",
    "display_name",
    "occupation_name",
    "expand",
    "is_vietnamese_syllable",
    "lookup",
    "related",
    "trade_groups",
    "training_pairs",
    "vietnamese_words",
]

COLUMNS = ("concept", "vi", "en", "ja", "ko", "de", "zh", "abbrev", "isco")
LANGUAGES = ("vi", "en", "ja", "ko", "de", "zh")
# An entry of at most this many words (folded, whitespace-separated; a run of CJK characters
# is one word) is "short": it gets the Vietnamese and English names of its concepts appended.
SHORT_WORDS = 6
# What a longer text gets appended: the measured choice (models/resources/VOCABULARY.md) is nothing.
LONG_FIELDS: tuple[str, ...] = ()

_CJK = "\u3005\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
# The shape of a Vietnamese syllable without its marks: onset, vowels, final.
_VI_SYLLABLE = re.compile(r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]+(?:ng|nh|ch|[cmnptiyou])?$")
# Phrases that name no concept but contain a trade's word once folded: markets and languages.
_BLOCKERS = (
    "Hàn Quốc", "Đại Hàn", "người Hàn", "đi Hàn", "sang Hàn", "thị trường Hàn",
    "bảo vệ môi trường", "bảo vệ quyền lợi",
)
_MAX_ROUNDS = 5


@dataclass(frozen=True)
class Concept:
    """One occupation or skill: a stable key, its names, counsellors' spellings, ISCO-08 code."""

    key: str
    vi: str
    en: str
    ja: str = ""
    ko: str = ""
    de: str = ""
    zh: str = ""
    abbrev: tuple[str, ...] = ()
    isco: str = ""

    def names(self) -> tuple[str, ...]:
        """The non-empty names in the six languages (vi, en, ja, ko, de, zh)."""
        return tuple(n for n in (getattr(self, lang) for lang in LANGUAGES) if n)

    def phrases(self) -> tuple[str, ...]:
        """Every surface form the concept is recognised by: its names, then its spellings."""
        return self.names() + self.abbrev


def _tokens(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(raw, folded) tokens: raw keeps diacritics (NFC, case-folded), folded drops them."""
    raw, folded = [], []
    for tok in _TOKEN.findall(nfc(text).casefold()):
        f = fold(tok)
        if f:
            raw.append(unicodedata.normalize("NFC", tok))
            folded.append(f)
    return tuple(raw), tuple(folded)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True)
class _Entry:
    concept: int | None  # None: a blocker
    mode: str  # "any" (folded, anywhere), "exact" (single token, diacritics as written), "whole"
    raw: str


class Vocabulary:
    """The parsed table with a phrase index. Use :meth:`load` for the packaged one."""

    def __init__(self, concepts: Iterable[Concept]):
        self.concepts: tuple[Concept, ...] = tuple(concepts)
        self.by_key = {c.key: c for c in self.concepts}
        if len(self.by_key) != len(self.concepts):
            raise ValueError("vocabulary: duplicated concept keys")
        self._index: dict[tuple[str, ...], list[_Entry]] = {}
        for text in _BLOCKERS:
            self._add(text, None)
        for i, c in enumerate(self.concepts):
            for phrase in c.phrases():
                self._add(phrase, i)
        # the longest phrase starting with each token: most tokens start none and are skipped
        self._longest: dict[str, int] = {}
        for k in self._index:
            self._longest[k[0]] = max(self._longest.get(k[0], 0), len(k))
        self._name_tokens: dict[str, tuple[str, ...]] = {}

    # -- construction -------------------------------------------------------------------------
    def _add(self, phrase: str, concept: int | None) -> None:
        raw, folded = _tokens(phrase)
        if not folded:
            return
        if len(folded) == 1:
            tok = folded[0]
            if _IS_CJK.fullmatch(tok):
                return  # one CJK character is too ambiguous
            if _VI_SYLLABLE.match(tok):
                mode = "exact" if raw[0] != tok else "whole"
            else:
                mode = "any"
        else:
            mode = "any"
        entries = self._index.setdefault(folded, [])
        if not any(e.concept == concept and e.mode == mode and e.raw == raw[0] for e in entries):
            entries.append(_Entry(concept, mode, raw[0]))

    @classmethod
    def from_tsv(cls, text: str) -> Vocabulary:
        """Parse the TSV text (header ``COLUMNS``; ``abbrev`` is ``;``-separated)."""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        header = lines[0].split("\t")
        if tuple(header) != COLUMNS:
            raise ValueError(f"vocabulary: header must be {COLUMNS}, got {tuple(header)}")
        concepts = []
        for n, line in enumerate(lines[1:], start=2):
            cells = [nfc(c).strip() for c in line.split("\t")]
            if len(cells) != len(COLUMNS):
                raise ValueError(f"vocabulary line {n}: {len(cells)} columns, expected {len(COLUMNS)}")
            row = dict(zip(COLUMNS, cells))
            if not (row["concept"] and row["vi"] and row["en"]):
                raise ValueError(f"vocabulary line {n}: concept, vi and en are required")
            abbrev = tuple(a for a in (p.strip() for p in row["abbrev"].split(";")) if a)
            concepts.append(Concept(
                key=row["concept"], vi=row["vi"], en=row["en"], ja=row["ja"], ko=row["ko"],
                de=row["de"], zh=row["zh"], abbrev=abbrev, isco=row["isco"],
            ))
        return cls(concepts)

    @classmethod
    def load(cls) -> Vocabulary:
        """The packaged vocabulary (``models/resources/vocabulary.tsv``), parsed once per process."""
        return _packaged()

    # -- lookup -------------------------------------------------------------------------------
    def _scan(self, text: str) -> list[int]:
        raw, folded = _tokens(text)
        n = len(folded)
        found: list[int] = []
        i = 0
        while i < n:
            step = 1
            for length in range(min(self._longest.get(folded[i], 0), n - i), 0, -1):
                entries = self._index.get(folded[i : i + length])
                if not entries:
                    continue
                whole = i == 0 and length == n
                ok = [
                    e for e in entries
                    if e.mode == "any" or whole or (e.mode == "exact" and raw[i] == e.raw)
                ]
                if ok:
                    found += [e.concept for e in ok if e.concept is not None]
                    step = length
                    break
            i += step
        return found

    def lookup(self, text: str | None) -> list[Concept]:
        """The concepts named in ``text``, in order of appearance, each once.

        The text is read as written and with counsellors' abbreviations expanded
        (``matcher.text.prepare``), so ``"đd đa khoa"`` and ``"dieu duong"`` both find the nurse.
        """
        if not text or not text.strip():
            return []
        ids = self._scan(text)
        prepared = prepare(text)
        if prepared != " ".join(nfc(text).split()):  # an abbreviation was expanded
            ids += self._scan(prepared)
        return [self.concepts[i] for i in dict.fromkeys(ids)]

    # -- expansion ----------------------------------------------------------------------------
    def expand(self, text: str | None, *, short_words: int = SHORT_WORDS,
               long_fields: tuple[str, ...] = LONG_FIELDS) -> str:
        """``text`` with the names of its concepts appended in parentheses, if any is missing.

        A short entry (at most ``short_words`` words) gets the Vietnamese and English names,
        a longer one the ``long_fields`` names (none by default: the text stays as it is).
        Names already in the text as written (diacritics included, case ignored) are not
        repeated; concepts named by the appended names are
        expanded too, so that ``expand(expand(x)) == expand(x)``. ``None`` gives ``""``.
        """
        if text is None:
            return ""
        base = text.strip()
        if not base:
            return text
        fields = ("vi", "en") if len(fold(base).split()) <= short_words else tuple(long_fields)
        if not fields:
            return text
        added: list[str] = []
        current = base
        for _ in range(_MAX_ROUNDS):
            # compared with diacritics: "tho han" still gets "thợ hàn", which the model reads better
            have = _tokens(current)[0]
            new: list[str] = []
            for concept in self.lookup(current):
                for field in fields:
                    name = getattr(concept, field)
                    if name and name not in new and not _contains(have, self._raw_tokens(name)):
                        new.append(name)
            if not new:
                break
            added += new
            current = f"{base} ({'; '.join(added)})"
        return current if added else text

    def _raw_tokens(self, name: str) -> tuple[str, ...]:
        toks = self._name_tokens.get(name)
        if toks is None:
            toks = self._name_tokens[name] = _tokens(name)[0]
        return toks

    # -- training data ------------------------------------------------------------------------
    def training_pairs(self, include_abbrev: bool = True) -> Iterator[tuple[str, str]]:
        """``(term, English name)`` pairs: every other-language name (vi, ja, ko, de, zh) and,
        with ``include_abbrev``, every spelling that differs from the English name once folded."""
        for c in self.concepts:
            seen = {fold(c.en)}
            terms = [getattr(c, lang) for lang in LANGUAGES if lang != "en"]
            if include_abbrev:
                terms += list(c.abbrev)
            for term in terms:
                key = fold(term)
                if term and key not in seen:
                    seen.add(key)
                    yield term, c.en

    def __len__(self) -> int:
        return len(self.concepts)


@functools.lru_cache(maxsize=1)
def _packaged() -> Vocabulary:
    text = resources.files("models").joinpath("resources", "vocabulary.tsv").read_text(encoding="utf-8")
    return Vocabulary.from_tsv(text)


@functools.lru_cache(maxsize=100_000)
def _expand_cached(text: str) -> str:
    return _packaged().expand(text)


def lookup(text: str | None) -> list[Concept]:
    """:meth:`Vocabulary.lookup` on the packaged vocabulary."""
    return _packaged().lookup(text)


def expand(text: str | None) -> str:
    """:meth:`Vocabulary.expand` on the packaged vocabulary with the default settings (cached)."""
    if text is None:
        return ""
    return _expand_cached(text)


def is_vietnamese_syllable(token: str) -> bool:
    """Whether a folded token (no case, no marks) has the shape of a Vietnamese syllable."""
    return bool(_VI_SYLLABLE.match(token))


@functools.lru_cache(maxsize=1)
def vietnamese_words() -> frozenset[str]:
    """Folded words of the packaged vocabulary's Vietnamese names that have the shape of a
    Vietnamese syllable (``cong``, ``nhan``, ``han``...), less every word of its English names
    (loan words such as ``taxi``, ``container``)."""
    vi: set[str] = set()
    en: set[str] = set()
    for c in _packaged().concepts:
        vi.update(t for t in _tokens(c.vi)[1] if _VI_SYLLABLE.match(t))
        en.update(_tokens(c.en)[1])
    return frozenset(vi - en)


def training_pairs(include_abbrev: bool = True) -> Iterator[tuple[str, str]]:
    """:meth:`Vocabulary.training_pairs` of the packaged vocabulary."""
    return _packaged().training_pairs(include_abbrev)


# Trade groups (``trade_groups``): a concept belongs to its domain (the key before the first
# dot: ``welding``, ``agri``...) and to its ISCO-08 minor group (first three digits). Generic
# skills and languages name no trade; the ``misc`` domain holds unrelated trades side by side,
# so there each concept is a group of its own.
_NO_TRADE_DOMAINS = frozenset({"skill", "lang"})
_ONE_CONCEPT_DOMAINS = frozenset({"misc"})


@functools.lru_cache(maxsize=100_000)
def trade_groups(text: str | None) -> frozenset[str]:
    """The trade groups of the concepts the packaged vocabulary finds in ``text``."""
    out: set[str] = set()
    for c in _packaged().lookup(text):
        domain = c.key.split(".", 1)[0]
        if domain in _NO_TRADE_DOMAINS:
            continue
        out.add(c.key if domain in _ONE_CONCEPT_DOMAINS else domain)
        if len(c.isco) >= 3:
            out.add(f"isco:{c.isco[:3]}")
    return frozenset(out)


def related(occupation: str | None, order_texts: Iterable[str | None]) -> bool | None:
    """Whether the vocabulary says an occupation is related to an order (named by its title and
    skills): True when they share a trade group, False when both name trades and none is
    shared, None when the vocabulary knows no trade on one side (the encoder must decide)."""
    return related_groups(trade_groups(occupation), order_trade_groups(order_texts))


def order_trade_groups(order_texts: Iterable[str | None]) -> frozenset[str]:
    """The trade groups of an order's texts (title and skills) together; the engine keeps them
    per order, as the titles of 100,000 orders outgrow :func:`trade_groups`' cache."""
    return frozenset().union(*(trade_groups(t) for t in order_texts))


def related_groups(mine: frozenset[str], theirs: frozenset[str]) -> bool | None:
    """:func:`related` on trade groups already found."""
    if not mine or not theirs:
        return None
    return bool(mine & theirs)


def occupation_name(text: str | None) -> str | None:
    """The Vietnamese name of the first trade the vocabulary finds in ``text`` (an order title:
    "溶接 Thợ hàn bán tự động CO2" -> "thợ hàn"), ``None`` when it names none. What the statistics
    group by, so that orders for the same trade add up whatever their titles say."""
    trades = [c for c in _packaged().lookup(text) if c.key.split(".", 1)[0] not in _NO_TRADE_DOMAINS and c.vi]
    # "misc" also holds programme words ("thực tập sinh", "kỹ năng đặc định"): a real trade first
    best = next((c for c in trades if not c.key.startswith("misc.")), trades[0] if trades else None)
    return best.vi if best is not None else None


def display_name(text: str) -> str:
    """``text`` as the vocabulary writes it, with its diacritics: the spelling of one of its
    concepts that folds to ``text`` ("lam ruong" -> "làm ruộng"), else the Vietnamese name of
    the first concept named ("cn han" -> "thợ hàn"), else ``text`` itself."""
    found = _packaged().lookup(text)
    want = fold(text)
    for c in found:
        for phrase in c.phrases():
            if fold(phrase) == want and phrase != fold(phrase):
                return phrase
    return found[0].vi if found and found[0].vi else text
