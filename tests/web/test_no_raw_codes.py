"""The Vietnamese pages and workbooks show names, not FORMAT.md's codes or English words of the
law (issue 18: "TW là nước mong muốn thứ 1", "[Circular 46/2022/TT-BTC]", "view_candidates",
workbooks with "TW", "general", "male", "ssw 559"). English second lines, hints that say a code
may be typed, and the small print of a code beside its name are left out of the scan."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

CODES = ("JP", "KR", "TW", "DE", "titp", "ssw", "esd", "eps", "seasonal", "general", "nursing", "male", "female",
         "upper_secondary", "lower_secondary", "vocational", "college", "university", "shortlisted", "suggested",
         "interviewed", "selected", "departed", "rejected", "withdrawn", "returned_trainee", "titp_stage3",
         "high_skill", "near_poor", "poor", "active", "revoked", "suspended", "open", "closed", "draft", "login",
         "view", "view_list", "view_candidates", "Circular", "Decree", "Law", "Art", "App", "exact-lp")
RAW = re.compile(r"(?<![\w/=\"'.-])(" + "|".join(map(re.escape, CODES)) + r")(?![\w/=\"'-])")

PAGES = {
    "admin": ["/counsellor/workers", "/counsellor/workers/W-CONSENT", "/counsellor/workers/W-CONSENT/matches?top=100",
              "/counsellor/workers/W-CONSENT/summary", "/counsellor/orders", "/counsellor/orders/ORD-A1",
              "/counsellor/orders/ORD-A2", "/counsellor/blocked", "/admin/audit", "/admin/recruiters",
              "/admin/recruiters/REC-A", "/admin/users", "/dashboard/", "/intel/needs", "/intel/trends", "/intel/report",
              "/counsellor/workers/W-CONSENT/edit", "/privacy/workers/W-CONSENT", "/counsellor/workers/new",
              "/training/", "/counsellor/registrations", "/counsellor/todo", "/counsellor/orders/ORD-A1/board"],
    "reca": ["/recruiter/orders", "/recruiter/orders/ORD-A1"],
}


def visible_vietnamese(html: str) -> str:
    """The text a Vietnamese reader sees first: no scripts, no English second lines, no hints
    naming the codes one may type, no code shown as small print beside its name."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    html = re.sub(r'<(small|span|p|div)[^>]*(lang="en"|class="second"|class="hint")[^>]*>.*?</\1>', "", html, flags=re.S)
    html = re.sub(r'<small class="code">.*?</small>', "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " | ", html)


def _hits(text: str) -> list[str]:
    return sorted({text[max(0, m.start() - 50):m.end() + 20] for m in RAW.finditer(text)})


@pytest.mark.parametrize("user", sorted(PAGES))
def test_vietnamese_pages_show_no_raw_codes(auth, client, user):
    auth.login(user)
    client.get("/counsellor/workers")  # something on the audit page
    for url in PAGES[user]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _hits(visible_vietnamese(response.get_data(as_text=True))) == [], url


def test_the_scan_sees_a_raw_code():
    assert _hits(visible_vietnamese("<p>TW là nước mong muốn thứ 1</p>")) != []
    assert _hits(visible_vietnamese('<p>Đài Loan<br><small class="second" lang="en">Taiwan (TW)</small></p>')) == []


@pytest.mark.parametrize("url", ["/intel/report.xlsx?from=2026-01-01&to=2026-03-02", "/intel/needs.xlsx"])
def test_workbooks_name_countries_programmes_and_genders(auth, client, url):
    auth.login("admin")
    response = client.get(url)
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str) and re.fullmatch(r"(JP|KR|TW|DE|titp|ssw|general|male|female)( \d+)?(, .*)?", value):
                    bad.append((ws.title, value))
    assert bad == []
