"""One spelling convention for the Vietnamese the product writes (issue 18: "Xoá" stood beside
"hóa"/"khóa"). The codebase writes the tone mark the older way, on the first vowel of "oa",
"oe" and "uy" when no consonant follows: "hóa", "khóa", "xóa", "hòa", "khỏe", "hủy", "thủy",
"tùy" (never "hoá", "xoá", "hoà", "khoẻ", "huỷ", "thuỷ", "tuỳ"). "qu" + "y" is not that family
("quý", "quỹ" are written one way by everyone). This scans the templates, the vocabulary names
(models/labels.py and the other tables), the engine's sentences and the data files shipped."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("web", "models", "matcher", "data")
TEXT_FILES = {".py", ".html", ".js", ".css", ".tsv", ".json", ".md", ".txt"}

_LETTER = r"[^\W\d_]"
# the other convention: the mark on the second vowel of a syllable that ends there
NEW_STYLE = re.compile(rf"(?<!{_LETTER}){_LETTER}*?(?:o[áàảãạ]|o[éèẻẽẹ]|(?<![qQ])u[ýỳỷỹỵ])(?!{_LETTER})", re.I)
OLD_STYLE = re.compile(rf"(?<!{_LETTER}){_LETTER}*?(?:[óòỏõọ]a|[óòỏõọ]e|(?<![qQ])[úùủũụ]y)(?!{_LETTER})", re.I)


def shipped_files() -> list[Path]:
    return sorted(p for d in SHIPPED for p in (ROOT / d).rglob("*")
                  if p.is_file() and p.suffix in TEXT_FILES and "__pycache__" not in p.parts)


def spellings(text: str, pattern: re.Pattern) -> set[str]:
    return {m.group(0).lower() for m in pattern.finditer(unicodedata.normalize("NFC", text))}


def test_the_scan_tells_the_two_conventions_apart():
    assert spellings("Xoá vĩnh viễn; hoà giải; huỷ; tuỳ chọn; khoẻ", NEW_STYLE) == {"xoá", "hoà", "huỷ", "tuỳ", "khoẻ"}
    assert spellings("Xóa vĩnh viễn; hòa giải; hủy; tùy chọn; khỏe", NEW_STYLE) == set()
    assert spellings("quý, quỹ, hoàn, thuyền, khoảng, toán", NEW_STYLE) == set()
    assert spellings("Vô hiệu hóa, khóa", OLD_STYLE) == {"hóa", "khóa"}


def test_no_shipped_text_uses_the_other_convention():
    files = shipped_files()
    assert any(p.suffix == ".html" for p in files) and ROOT / "models" / "labels.py" in files
    found = {str(p.relative_to(ROOT)): sorted(words) for p in files
             if (words := spellings(p.read_text(encoding="utf-8", errors="ignore"), NEW_STYLE))}
    assert found == {}, "write these with the mark on the first vowel (hóa, xóa, hủy)"


def test_the_convention_kept_is_the_one_in_use():
    old = sum(len(OLD_STYLE.findall(p.read_text(encoding="utf-8", errors="ignore"))) for p in shipped_files())
    assert old > 50  # "hóa", "khóa", "xóa", "hủy"...: the codebase's own habit
