"""The evaluation report opens in headless Chromium and shows every table with its plot."""

import json

import pytest

from evaluation.report import write_report

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def run(name, rows):
    return {"benchmark": name, "model": "hashing-384", "date": "2026-11-26", "rows": rows}


@pytest.mark.browser
def test_report_renders_tables_and_plots_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    files = []
    for name, metric in (("talentclef", "map"), ("melo-deu", "mrr"), ("onet", "acc@1")):
        rows = [
            {"system": s, "subset": sub, metric: v, "n": 10}
            for s, base in (("engine", 0.5), ("lexical", 0.4), ("raw-model", 0.45))
            for sub, v in (("a", base), ("b", base - 0.1))
        ]
        f = tmp_path / f"{name}.json"
        f.write_text(json.dumps(run(name, rows)))
        files.append(f)
    out = write_report(files, tmp_path / "report.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(out.as_uri())
        tables = page.locator("table").count()
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
        )
        text = page.inner_text("body")
        browser.close()
    assert tables == 3
    assert images == [True, True, True]
    for name in ("talentclef", "melo-deu", "onet"):
        assert name in text
    assert "engine" in text and "lexical" in text
    assert errors == []
