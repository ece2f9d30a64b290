"""Each role's main path in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

The app runs in a thread on a free loopback port (werkzeug ``make_server``), with CSRF on and
the same seeded records as the other web tests. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import re
import threading

import pytest

from web.views.db import get_store
from webtesting import PASSWORDS, make_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _closed_before_sent(app):
    """The app with every answer read whole and its body closed before werkzeug writes it: when
    Chromium drops a connection halfway (a favicon request cut short by the next navigation),
    werkzeug's test server never closes the file it was sending, and the ResourceWarning that
    follows at garbage collection failed an unrelated test (seen once in CI, on PostgreSQL)."""

    def wsgi(environ, start_response):
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return [body]

    return wsgi


@pytest.fixture
def server(db_url, tmp_path):
    from werkzeug.serving import make_server

    app = make_app(db_url, tmp_path)
    srv = make_server("127.0.0.1", 0, _closed_before_sent(app), threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=10)
    srv.server_close()
    get_store(app).dispose()


@pytest.fixture
def page(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="vi-VN")
        pg = context.new_page()
        pg.set_default_timeout(20000)
        problems: list[str] = []
        # 401/409/422/429 are answers the pages give on purpose (a form shown again with its
        # errors); anything else logged as an error (404, CSP violation, script error) is a bug.
        expected = re.compile(r"Failed to load resource: the server responded with a status of (401|409|422|429)")
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" and not expected.match(m.text) else None)
        pg.on("pageerror", lambda e: problems.append(str(e)))
        pg.base = server  # type: ignore[attr-defined]
        pg.problems = problems  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()
    # No Content-Security-Policy violation or script error on any page visited.
    assert problems == []


def sign_in(page, username: str) -> None:
    page.goto(page.base + "/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    with page.expect_navigation():  # the next step must not race the sign-in's redirect
        page.click("form.narrow button[type=submit]")


def test_counsellor_finds_a_worker_opens_matches_and_shortlists(page):
    sign_in(page, "counsellor")
    assert page.url.endswith("/counsellor/workers")
    page.fill("#q", "nguyen van duc")
    page.click("form.search button[type=submit]")
    page.click("#workers >> text=Nguyễn Văn Đức")
    assert page.url.endswith("/counsellor/workers/W-CONSENT")
    page.click("#open-matches")
    assert "/counsellor/workers/W-CONSENT/matches" in page.url
    assert page.locator("#match-ORD-A1").is_visible()
    assert page.locator("#match-ORD-BX").count() == 0  # the brokerage order is never offered
    assert "môi giới" in page.locator("#blocked").inner_text()
    page.locator("#match-ORD-A2 button.shortlist").click()
    assert page.url.split("#")[0].endswith("/counsellor/workers/W-CONSENT")
    assert "Đã đưa" in page.locator(".flash").inner_text()
    row = page.locator("#applications tr", has_text="ORD-A2")
    assert "Trong danh sách ngắn" in row.inner_text()


def test_recruiter_posts_an_illegal_order_then_a_legal_one(page):
    sign_in(page, "reca")
    assert page.url.endswith("/recruiter/orders")
    page.click("#post-order")
    values = {
        "#f-title": "Công nhân may công nghiệp",
        "#f-country": "TW",
        "#f-positions": "6",
        "#f-monthly_wage": "30000",
        "#f-wage_currency": "TWD",
        "#f-contract_months": "36",
        "#f-service_fee_vnd": "120.000.000",  # four times the cap for 36 months
        "#f-approval_no": "M-12/2026/DOLAB",
        "#f-approval_date": "2026-02-15",
        "#f-deadline": "2026-06-01",
    }
    for selector, value in values.items():
        page.fill(selector, value)
    page.click("#save-order")
    box = page.locator("#order-blocked")
    assert box.is_visible()
    assert "CHƯA được lưu" in box.inner_text() and "dịch vụ" in box.inner_text()
    assert page.input_value("#f-title") == "Công nhân may công nghiệp"  # nothing typed is lost
    page.fill("#f-service_fee_vnd", "20.000.000")
    page.click("#save-order")
    assert re.search(r"/recruiter/orders/O\d+$", page.url)
    assert "Đã lưu đơn hàng" in page.locator(".flash").first.inner_text()
    assert page.locator("#order-blocked").count() == 0
    page.goto(page.base + "/recruiter/orders")
    assert "Công nhân may công nghiệp" in page.locator("#orders").inner_text()


def test_admin_revokes_a_licence_and_its_orders_leave_every_ranking(page):
    sign_in(page, "admin")
    page.goto(page.base + "/counsellor/workers/W-CONSENT/matches?top=100")
    assert page.locator("#match-ORD-A1").count() == 1 and page.locator("#match-ORD-A2").count() == 1
    page.goto(page.base + "/admin/recruiters")
    page.click("text=REC-A")
    page.select_option("#status", "revoked")
    page.fill("#effective_date", "2026-03-01")
    page.fill("#reason", "Quyết định thu hồi giấy phép số 21/QĐ-BNV")
    page.once("dialog", lambda d: d.accept())  # "Đình chỉ hoặc thu hồi giấy phép?"
    page.click("#status-form button[type=submit]")
    assert page.locator("#licence-status").inner_text() == "Bị thu hồi"
    # Gone from the worker's ranking, listed among the blocked with the reason ...
    page.goto(page.base + "/counsellor/workers/W-CONSENT/matches?top=100")
    assert page.locator("#match-ORD-A1").count() == 0 and page.locator("#match-ORD-A2").count() == 0
    assert "thu hồi" in page.locator("#blocked").inner_text()
    # ... from the order's own candidate list, and from the blocked-orders page.
    page.goto(page.base + "/counsellor/orders/ORD-A2")
    assert page.locator("#order-blocked").is_visible() and page.locator("article.match").count() == 0
    page.goto(page.base + "/counsellor/blocked")
    assert page.locator("#blocked-ORD-A1").count() == 1 and page.locator("#blocked-ORD-A2").count() == 1
    # The API agrees (same browser session).
    data = page.request.get(page.base + "/api/workers/W-CONSENT/matches?top=100").json()
    assert not {"ORD-A1", "ORD-A2"} & {m["item_id"] for m in data["matches"]}
    assert {"ORD-A1", "ORD-A2"} <= {b["item_id"] for b in data["blocked"]}


def test_admin_verifies_the_genuine_enterprise_and_its_orders_return(page, db_url):
    """A look-alike with the same licence number holds both out; verifying the genuine one in
    the admin UI releases its orders in the next ranking, without a restart (issue 13)."""
    from data.store import Store
    from models import Recruiter

    st = Store(db_url)
    with st.session() as s:
        s.add(Recruiter(recruiter_id="REC-X", name="Cong ty CP Nhan luc Quoc te An Binh", licence_no="101/LDTBXH-GP",
                        status="active", markets=["JP"], website="anbinh-jobs.com", extra={}))
    st.dispose()
    sign_in(page, "admin")
    page.goto(page.base + "/counsellor/workers/W-CONSENT/matches?top=100")
    assert page.locator("#match-ORD-A1").count() == 0
    assert "trùng" in page.locator("#blocked").inner_text()
    page.goto(page.base + "/admin/recruiters")
    assert "Cần xác minh giấy phép" in page.locator("#licence-queue").inner_text()
    page.click("#verify-REC-A")
    assert page.locator("#licence-queue >> text=REC-A").count() == 0
    page.goto(page.base + "/counsellor/workers/W-CONSENT/matches?top=100")
    assert page.locator("#match-ORD-A1").count() == 1


def test_counsellor_rejects_a_pair_and_it_leaves_ranking_summary_and_allocation(page):
    """"Không đạt" is a fact: the pair leaves the ranking, the summary and the allocation until
    it is reopened (issue 13)."""
    sign_in(page, "counsellor")
    page.goto(page.base + "/counsellor/workers/W-CONSENT/summary")
    title = "Thợ hàn kết cấu thép"
    assert title in page.locator("table").first.inner_text()
    page.goto(page.base + "/counsellor/workers/W-CONSENT")
    page.select_option("#to-1", "rejected")
    page.once("dialog", lambda d: d.accept())  # ending an application asks first
    page.click("#app-1 button[type=submit]")
    page.goto(page.base + "/counsellor/workers/W-CONSENT/matches?top=100")
    assert page.locator("#match-ORD-A1").count() == 0
    assert "không đạt" in page.locator("#ineligible").inner_text()
    page.goto(page.base + "/counsellor/workers/W-CONSENT/summary")
    assert title not in page.locator("table").first.inner_text()
    page.goto(page.base + "/counsellor/allocation")
    page.fill("#size", "60")
    page.click("button:has-text('Tính phân bổ')")
    assert page.locator("input[name=pair]").count() > 0
    assert page.locator("input[name=pair][value='W-CONSENT|ORD-A1']").count() == 0
    page.goto(page.base + "/counsellor/workers/W-CONSENT")
    page.click("#reopen-1")
    page.goto(page.base + "/counsellor/workers/W-CONSENT/matches?top=100")
    assert page.locator("#match-ORD-A1").count() == 1


def test_counsellor_adds_a_note_and_sees_it_on_the_timeline(page):
    sign_in(page, "counsellor")
    page.goto(page.base + "/counsellor/workers/W-CONSENT")
    page.select_option("#note-kind", "zalo")
    page.fill("#note-body", "Nhắn Zalo: hẹn nộp hộ chiếu tuần sau")
    page.fill("#note-follow-up", "2026-03-09")
    page.click("#add-note")
    assert page.url.endswith("/counsellor/workers/W-CONSENT#timeline")
    entry = page.locator("#timeline-entries li", has_text="Nhắn Zalo: hẹn nộp hộ chiếu tuần sau")
    assert entry.count() == 1
    assert "Tin nhắn Zalo" in entry.inner_text() and "09/03/2026" in entry.inner_text()


def test_destructive_buttons_ask_first_and_a_no_changes_nothing(page):
    """Erasing a worker asks for a second thought (issue 18): "Hủy" keeps the worker, "OK"
    erases; moving an application to "Không đạt" asks too, a plain move does not."""
    sign_in(page, "counsellor")
    page.goto(page.base + "/privacy/workers/W-PRIVATE")
    page.fill("input[name=confirm]", "W-PRIVATE")
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("#erase")
    assert asked and "Không thể hoàn tác" in asked[0]
    assert page.url.endswith("/privacy/workers/W-PRIVATE")
    page.once("dialog", lambda d: d.accept())
    page.click("#erase")
    page.wait_for_url("**/counsellor/workers")
    page.fill("#q", "W-PRIVATE")
    page.click("form.search button[type=submit]")
    assert page.locator("#workers >> text=Hoàng Thị Mai").count() == 0
    # a move that ends nothing is not asked about; "Không đạt" is, and "Hủy" leaves the stage
    page.goto(page.base + "/counsellor/workers/W-CONSENT")
    page.select_option("#to-1", "rejected")
    page.once("dialog", lambda d: d.dismiss())
    page.click("#app-1 button[type=submit]")
    assert page.locator("#app-1 .badge").inner_text() == "Đã giới thiệu cho doanh nghiệp"
    page.on("dialog", lambda d: pytest.fail(f"unexpected question: {d.message}"))
    page.select_option("#to-1", "interviewed")
    page.click("#app-1 button[type=submit]")
    assert page.locator("#app-1 .badge").inner_text() == "Đã phỏng vấn"


def test_disabling_a_user_asks_first(page):
    """"Vô hiệu hóa" asks (issue 18): "Hủy" leaves the account active, "OK" disables it; the
    administrator's own row offers no such button."""
    sign_in(page, "admin")
    page.goto(page.base + "/admin/users")
    row = page.locator("tr", has=page.locator("td", has_text=re.compile(r"^recb$")))
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.locator("button.danger").click()
    assert asked and asked[0].startswith("Vô hiệu hóa tài khoản recb?")
    assert "Hoạt động" in row.inner_text()
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        row.locator("button.danger").click()
    assert "Vô hiệu" in row.inner_text() and row.locator("button.danger").count() == 0
    assert page.locator("#self-row").count() == 1
    mine = page.locator("tr", has=page.locator("#self-row"))
    assert mine.locator("button").count() == 0


def test_printed_summary_keeps_every_section_on_at_most_two_a4_pages(page):
    """The print preview (Chromium's PDF) of the summary: nothing is cut off (every match row,
    the applications and the fee-safety note are laid out, none clipped) on one or two pages,
    and the PDF's own text holds every section (read back with tests/web/pdftext.py)."""
    import re as _re

    sign_in(page, "counsellor")
    page.goto(page.base + "/counsellor/workers/W-CONSENT/summary")
    page.emulate_media(media="print")
    rows = page.locator(".summary-page table tbody tr")
    assert rows.count() >= 5
    box = page.locator(".summary-page").bounding_box()
    for target in [rows.nth(i) for i in range(rows.count())] + [page.locator(".fee-note"), page.locator(".summary-page ul").last]:
        b = target.bounding_box()
        assert b is not None and b["height"] > 0
        assert b["y"] + b["height"] <= box["y"] + box["height"] + 1  # inside the box, which is not clipped
    overflow = page.evaluate("getComputedStyle(document.querySelector('.summary-page')).overflow")
    assert overflow == "visible"
    pdf = page.pdf(format="A4", print_background=False)
    pages = len(_re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert 1 <= pages <= 2, pages
    # The PDF itself holds every section: the heading, each line of the profile, the matches
    # table (every row's job and enterprise), the applications and the fee-safety note.
    from pdftext import pdf_text

    printed = _re.sub(r"\s+", "", pdf_text(pdf))
    sections = page.evaluate("""() => {
        const root = document.querySelector('.summary-page');
        const text = sel => [...root.querySelectorAll(sel)].filter(e => e.offsetParent !== null || getComputedStyle(e).display !== 'none').map(e => e.innerText);
        return {heading: text('h1'), subheadings: text('h2'), profile: text('dl dt, dl dd'),
                jobs: text('table tbody td:nth-child(2)'), enterprises: text('table tbody td:nth-child(4)'),
                applications: text('ul li'), note: text('.fee-note'), printed_only: text('.print-only')};
    }""")
    assert len(sections["subheadings"]) >= 2 and len(sections["jobs"]) >= 5 and sections["applications"]
    assert sections["note"] and sections["printed_only"] and len(sections["profile"]) >= 10
    missing = [(kind, text) for kind, texts in sections.items() for text in texts
               if _re.sub(r"\s+", "", text) not in printed]
    assert missing == []


def test_counsellor_opens_a_class_enrols_and_records_a_result(page):
    """Training records (issue 17): a class, an enrolment, a result that raises the profile."""
    sign_in(page, "counsellor")
    page.goto(page.base + "/training/")
    page.fill("#f-name", "Tiếng Nhật N3 – khóa 1")
    page.select_option("#f-language", "ja")
    page.fill("#f-target_level", "JLPT N3")
    page.select_option("#f-tier", "advanced")
    page.fill("#f-start_date", "2025-10-01")
    page.fill("#f-end_date", "2026-02-27")
    page.click("#course-form button[type=submit]")
    assert "Tiếng Nhật N3 – khóa 1" in page.locator("h1").inner_text()
    page.fill("#worker_ids", "W-CONSENT")
    page.click("#enrol-form button[type=submit]")
    row = page.locator("#enrolment-W-CONSENT")
    assert row.count() == 1
    row.locator("select").select_option("completed")
    row.locator("input[name^=certificate]").fill("JLPT N3 (2026-02)")
    row.locator("input[name^=completed_on]").fill("27/02/2026")
    page.click("#save-results")
    assert "Đã ghi kết quả cho 1 người" in page.content()
    page.goto(page.base + "/counsellor/workers/W-CONSENT")
    assert "JLPT N3 (02/2026)" in page.content()  # its test date as the page writes dates


def test_a_worker_registers_and_a_counsellor_accepts_from_the_queue(page):
    """Self-registration reaches the review queue and becomes a profile (issue 17)."""
    page.goto(page.base + "/auth/login")
    page.click("#self-register a")
    page.fill("#full_name", "Lương Thị Hoa")
    page.fill("#birth_date", "15/08/2001")
    page.select_option("#gender", "female")
    page.fill("#commune", "Xã Hà Quảng")
    page.fill("#phone", "0912 345 678")
    page.check("input[name=preferred_countries][value=JP]")
    page.check("#consent")
    page.click("#register-form button[type=submit]")
    assert page.locator("#registered").count() == 1
    sign_in(page, "counsellor")
    page.goto(page.base + "/counsellor/registrations")
    row = page.locator("#registrations tr", has_text="Lương Thị Hoa")
    assert row.count() == 1
    row.locator("button[id^=accept-]").click()
    assert "/edit" in page.url and page.locator("#f-full_name").input_value() == "Lương Thị Hoa"


def test_the_recruiter_records_an_interview_result(page):
    """The enterprise records the interview on its own page; the counsellor's board shows it."""
    sign_in(page, "reca")
    page.goto(page.base + "/recruiter/orders/ORD-A1")
    form = page.locator("#result-W-CONSENT")
    form.locator("select").select_option("interviewed")
    form.locator("input[name=note]").fill("đạt phỏng vấn vòng 1")
    form.locator("button[type=submit]").click()
    assert "Đã ghi kết quả" in page.content()
    with page.expect_navigation():
        page.click("form[action$='/auth/logout'] button")
    sign_in(page, "counsellor")
    page.goto(page.base + "/counsellor/orders/ORD-A1/board")
    assert page.locator("#col-interviewed #card-W-CONSENT").count() == 1


def test_chart_labels_are_readable_and_never_cut(page):
    """Every bar label at 100% zoom is at least 11 px and inside its drawing (issue 18)."""
    sign_in(page, "counsellor")
    checked = 0
    for path in ("/dashboard/", "/intel/trends?from=2025-01-01&to=2026-03-02", "/intel/needs"):
        page.goto(page.base + path)
        found = page.evaluate("""() => [...document.querySelectorAll('svg.bars')].flatMap(svg => {
            const vb = svg.viewBox.baseVal, scale = svg.getBoundingClientRect().width / vb.width;
            return [...svg.querySelectorAll('text')].map(t => {
                const b = t.getBBox();
                return {px: parseFloat(t.getAttribute('font-size')) * scale, left: b.x, right: b.x + b.width, width: vb.width,
                        text: t.textContent};
            });
        })""")
        for label in found:
            assert label["px"] >= 11, (path, label)
            assert label["left"] >= -0.5 and label["right"] <= label["width"] + 0.5, (path, label)
        checked += len(found)
    assert checked > 0


# What a reader of the page sees first, in Chromium: scripts, the other language's second lines,
# hints naming what may be typed, a code's small print beside its name and form controls removed.
VISIBLE_TEXT = """(other) => {
    const root = document.body.cloneNode(true);
    root.querySelectorAll(`script, style, [lang=${other}], .second, .hint, small.code, input, textarea, select`)
        .forEach(e => e.remove());
    return root.textContent.replace(/\\s+/g, ' ');
}"""
# Text cut by its box: an element that clips (overflow hidden or clip, or an ellipsis) and whose
# text is wider than the box.
CUT_TEXT = """() => [...document.querySelectorAll('body *')].filter(e => {
    const st = getComputedStyle(e);
    const clips = ['hidden', 'clip'].includes(st.overflowX) || st.textOverflow === 'ellipsis';
    return clips && e.textContent.trim() && e.scrollWidth > e.clientWidth + 1;
}).map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 60))"""
VI_FORMATS = {
    "an ISO date": re.compile(r"(?<![\w/-])\d{4}-\d{2}-\d{2}(?![\w-])"),
    "the ₫ sign (money reads 12.500.000 đ)": re.compile("₫"),
    "a decimal point (1,5 in Vietnamese)": re.compile(r"(?<![\w.,])\d+\.\d{1,2}(?![\w.,])"),
    "a thousands comma (2.924 in Vietnamese)": re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\w,])"),
}
EN_FORMATS = {
    "a dd/mm/yyyy date (Mar 2, 2026 in English)": re.compile(r"(?<![\w/])\d{1,2}/\d{1,2}/\d{4}(?![\w/])"),
    "an ISO date": re.compile(r"(?<![\w/(-])\d{4}-\d{2}-\d{2}(?![\w-])"),
    "a thousands dot (2,924 in English)": re.compile(r"(?<![\w.,])\d{1,3}(?:\.\d{3})+(?![\w.])"),
    "a decimal comma (1.5 in English)": re.compile(r"(?<![\w.,])\d+,\d{1,2}(?![\w,])"),
}


def _format_problems(text: str, rules: dict) -> list[str]:
    return [f"{what}: …{text[max(0, m.start() - 40):m.end() + 15]}…"
            for what, pattern in rules.items() for m in pattern.finditer(text)]


@pytest.mark.parametrize("user", ["admin", "reca"])
def test_vietnamese_pages_in_chromium_show_names_and_vietnamese_formats_and_cut_no_text(page, user):
    """Done when (issue 18): in Chromium, every page of the walk shows no FORMAT.md code and no
    English word of the law (tests/web/test_no_raw_codes.py's list), dates dd/mm/yyyy and numbers
    1.234,5 (no ISO date, no ₫, no decimal point, no thousands comma) and no text cut by its box;
    the same pages in the English UI use English formats."""
    from test_no_raw_codes import PAGES, RAW

    sign_in(page, user)
    page.goto(page.base + "/counsellor/workers" if user == "admin" else page.base + "/recruiter/orders")
    problems: list[str] = []
    seen_vi_date = seen_en_date = False
    for url in PAGES[user]:
        joiner = "&" if "?" in url else "?"  # the language asked on each page, not left to the session
        page.goto(page.base + url + joiner + "lang=vi")
        text = page.evaluate(VISIBLE_TEXT, "en")
        problems += [f"{url}: raw code {m.group(0)!r}: …{text[max(0, m.start() - 40):m.end() + 15]}…"
                     for m in RAW.finditer(text)]
        problems += [f"{url}: {p}" for p in _format_problems(text, VI_FORMATS)]
        problems += [f"{url}: cut {c}" for c in page.evaluate(CUT_TEXT)]
        seen_vi_date = seen_vi_date or bool(re.search(r"\b\d{2}/\d{2}/\d{4}\b", text))
        page.goto(page.base + url + joiner + "lang=en")
        english = page.evaluate(VISIBLE_TEXT, "vi")
        problems += [f"{url} (English): {p}" for p in _format_problems(english, EN_FORMATS)]
        seen_en_date = seen_en_date or bool(re.search(r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}\b", english))
    assert problems == [], "\n".join(problems)
    assert seen_vi_date and seen_en_date  # the walk did meet dates: 02/03/2026, then Mar 2, 2026


def test_japanese_korean_and_chinese_titles_are_drawn_with_real_glyphs(page, db_url):
    """Issue 18: CJK order titles rendered as boxes on a machine without CJK fonts. .ci/setup
    installs fonts-noto-cjk; printed to PDF, the titles are text in an embedded CJK font (a box,
    the .notdef glyph, maps to no character)."""
    from data.store import Store
    from models import JobOrder
    from pdftext import pdf_text

    titles = {"ORD-A1": "介護職員 東京都", "ORD-A2": "용접공 울산", "ORD-BX": "電子廠作業員 桃園"}
    st = Store(db_url)
    with st.session() as s:
        for oid, title in titles.items():
            s.get(JobOrder, oid).title = title
        s.commit()
    st.dispose()
    sign_in(page, "counsellor")
    page.goto(page.base + "/counsellor/workers/W-CONSENT/matches?top=100")  # ORD-A1, ORD-A2 and the blocked ORD-BX
    pdf = page.pdf(format="A4")
    text = re.sub(r"\s+", "", pdf_text(pdf))
    assert all(t.replace(" ", "") in text for t in titles.values()), text
    assert re.search(rb"/FontName\s*/[A-Z]{6}\+NotoSansCJK", pdf)  # embedded from fonts-noto-cjk


def test_a_workers_matches_page_stays_short_with_many_blocked_orders(page, db_url):
    """Issue 18: a worker's matches page was 22,000 px tall. Ten matches (the default), each
    one's score table folded, and a blocked list of 40 orders folded: the page is a few screens,
    and opening the blocked list shows every order."""
    from data.store import Store
    from models import JobOrder
    from webtesting import legal_order

    st = Store(db_url)
    with st.session() as s:
        for i in range(40):
            s.add(JobOrder(order_id=f"ORD-BAD{i:02d}", recruiter_id="REC-B", approval_no=f"BAD{i}/2026/DOLAB",
                           **legal_order(title="Thợ hàn (thu phí môi giới)", brokerage_fee_vnd=10_000_000)))
        s.commit()
    st.dispose()
    sign_in(page, "counsellor")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(page.base + "/counsellor/workers/W-CONSENT/matches")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 9000, height
    assert page.locator("#blocked-section tr", has_text="ORD-BAD39").is_visible() is False
    page.click("#blocked-section > summary")
    assert page.locator("#blocked-section tr", has_text="ORD-BAD39").is_visible()


def test_counsellor_moves_workers_on_the_board_and_records_the_return(page, tmp_path):
    """The pipeline board moves a worker through selection to departure; the worker's page then
    records the return; a document with its scan is kept (issue 17)."""
    sign_in(page, "counsellor")
    page.goto(page.base + "/counsellor/orders/ORD-A1/board")
    for stage in ("interviewed", "selected", "departed"):
        page.check("#card-W-CONSENT input[name=aid]")
        page.select_option("#board-to", stage)
        with page.expect_navigation():
            page.click("#board-move")
        assert page.locator(f"#col-{stage} #card-W-CONSENT").count() == 1
    assert "còn 4" in page.locator("#capacity").inner_text()
    page.goto(page.base + "/counsellor/workers/W-CONSENT")
    form = page.locator("form[id^=after-]")
    form.locator("input[name=contract_end]").fill("01/03/2029")
    form.locator("input[name=reintegration]").fill("Sẽ giới thiệu Công ty May Cao Bằng khi về")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "Đã ghi thông tin sau xuất cảnh" in page.content()
    scan = tmp_path / "ho-chieu.pdf"
    scan.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.select_option("#doc-kind", "passport")
    page.fill("#doc-number", "C1234567")
    page.fill("#doc-expires", "01/04/2026")
    page.set_input_files("#doc-file", str(scan))
    with page.expect_navigation():
        page.click("#save-document")
    assert "C1234567" in page.locator("#document-list").inner_text()
