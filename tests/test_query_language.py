"""The guess of a query's language that picks the fusion weight per query language."""

import pytest

from matcher.query_language import LANGUAGES, guess_language


@pytest.mark.parametrize("text", [
    "Công nhân may công nghiệp", "Thợ hàn", "kỹ sư cơ khí", "Điều dưỡng", "hộ lý",  # diacritics
    "cong nhan may cong nghiep", "tho han", "ky su co khi", "dieu duong",  # typed without them
    "cn may", "lx", "CN MAY 3 nam kn", "ldpt",  # counsellors' abbreviations
    "CÔNG NHÂN MAY", "Co\u0302ng nha\u0302n may",  # upper case; NFD as macOS writes it
])
def test_vietnamese_is_recognised_with_and_without_diacritics(text):
    assert guess_language(text) == "vi"


@pytest.mark.parametrize("text", [
    "Köchin", "Schweißer", "Offizier im Truppendienst", "Ingenieur für Maschinenbau",
    "Elektroniker/in", "Erzieher (m/w/d) und Kinderpfleger", "Pflegefachkraft", "Bürokaufmann",
    "Werkstattschlosser", "Juristin", "Sportjournalistin", "FeuerwehrinstruktorIn", "Astrophysiker",
])
def test_german_is_recognised(text):
    assert guess_language(text) == "de"


@pytest.mark.parametrize("text", [
    "Welder", "Sewing machine operator", "school psychologist", "die casting supervisor",
    "fur cleaner", "Software developer", "nurse", "striker out", "exhaust machine operator",
])
def test_english_is_english_not_german_or_vietnamese(text):
    assert guess_language(text) == "en"


@pytest.mark.parametrize("text", [None, "", "  ", "123", "---", "溶接工", "용접공", "soudeur qualifié", "Técnico"])
def test_unknown_is_none(text):
    assert guess_language(text) is None


def test_answers_are_from_the_declared_languages():
    answers = {guess_language(t) for t in ("thợ hàn", "Köchin", "welder", "溶接")}
    assert answers == set(LANGUAGES) | {None}


@pytest.mark.parametrize("text", ["lái xe container; lx FC; lái xe khách", "Lái xe giao hàng (delivery driver) – Dubai"])
def test_vietnamese_mixed_with_foreign_words_is_vietnamese(text):
    assert guess_language(text) == "vi"
