"""No HTTP 500 on bad input (issue 14, item 7): every GET route of the app, as staff and as a
recruiter, with every query parameter the product reads set to hostile values, answers with a
status below 500; so do the deeply nested JSON body and a JSON body that is not an object."""

from __future__ import annotations

import re

import pytest

from web.services.accounts import issue_token
from web.views.db import get_store

from test_access import ARGS

# Every query parameter name read by a view (checked against the source below, so a new one
# cannot be forgotten), plus a few that a caller may invent.
PARAMS = (
    "page", "top", "q", "from", "to", "date_from", "date_to", "country", "programme", "status",
    "legality", "lang", "limit", "offset", "next", "user", "action", "entity", "entity_id", "day",
    "ineligible", "ineligible_page", "size", "min_priority_share", "priority_share", "market", "kind",
)
BAD_VALUES = (
    "99999999999999999999",
    "-1",
    "0",
    "9999-12-31",
    "0001-01-01",
    "2026-13-45",
    "NaN",
    "1e309",
    "' OR 1=1 --",
    "\x00",
    "%",
    "x" * 3000,
    "ÁNH Đ",
)


def _read_params() -> set[str]:
    """Query parameter names read by the views: ``request.args.get("x")`` and ``args.get("x")``."""
    from pathlib import Path

    names = set()
    for f in Path(__file__).resolve().parents[2].joinpath("web").rglob("*.py"):
        text = f.read_text(encoding="utf-8")
        names |= set(re.findall(r"""(?:request\.args|\bargs)\.get\(\s*["']([a-z_]+)["']""", text))
        names |= set(re.findall(r"""_int_arg\(\s*["']([a-z_]+)["']""", text))
    return names


def test_every_query_parameter_read_by_a_view_is_fuzzed():
    missing = _read_params() - set(PARAMS)
    assert not missing, f"add these query parameters to PARAMS: {sorted(missing)}"


def _get_urls(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        values = {a: ARGS.get(a, "x") for a in rule.arguments}
        values = {k: ("1" if v.startswith("{") else v) for k, v in values.items()}
        urls.append(rule.build(values, append_unknown=False)[1] if hasattr(rule, "build") else rule.rule)
    return sorted(set(urls))


@pytest.mark.parametrize("who", ["admin", "reca"])
def test_no_route_answers_500_to_hostile_query_parameters(app, who):
    with get_store(app).session() as s:
        token = issue_token(s, who)
    from webtesting import AuthActions

    client = app.test_client()
    AuthActions(client).as_user(who)
    failures = []
    urls = _get_urls(app)
    assert any(u.startswith("/api/") for u in urls) and any(u.startswith("/counsellor/") for u in urls)
    for url in urls:
        headers = {"Authorization": f"Bearer {token}"} if url.startswith("/api/") else {}
        for value in BAD_VALUES:
            try:  # the testing app propagates exceptions instead of answering 500
                status = client.get(url, query_string={p: value for p in PARAMS}, headers=headers).status_code
            except Exception as exc:  # noqa: BLE001 - each one is a failure to report
                status = f"{type(exc).__name__}: {str(exc)[:80]}"
            if not isinstance(status, int) or status >= 500:
                failures.append((url, value[:20], status))
    assert not failures, failures


def test_deeply_nested_json_is_refused_with_400(app):
    with get_store(app).session() as s:
        token = issue_token(s, "reca")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/orders", data=deep, headers=headers)
    assert response.status_code == 400
    assert "nested too deeply" in str(response.get_json())
    for body in ("[]", '"title"', "null", "{", '{"title": ' + "[" * 5000 + "]" * 5000 + "}"):
        response = client.post("/api/orders", data=body, headers=headers)
        assert 400 <= response.status_code < 500, (body[:20], response.status_code)


def test_a_nul_character_is_refused_with_400(app):
    from webtesting import AuthActions

    client = app.test_client()
    AuthActions(client).as_user("counsellor")
    response = client.get("/counsellor/orders", query_string={"q": "a\x00b"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert client.get("/counsellor/orders", query_string={"q": "ab"}).status_code == 200


def test_an_id_past_the_database_integer_is_404_on_every_route(app_no_csrf):
    """``<int:...>`` ids too large for a database INTEGER (PostgreSQL raised an overflow: 500)."""
    from webtesting import AuthActions

    client = app_no_csrf.test_client()
    AuthActions(client).as_user("admin")
    rules = [r for r in app_no_csrf.url_map.iter_rules() if "<int:" in r.rule]
    assert len(rules) >= 4
    for rule in rules:
        arg = next(a for a in rule.arguments if f"<int:{a}>" in rule.rule)
        url = rule.rule.replace(f"<int:{arg}>", "99999999999999999999")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method, data={"active": "false", "password": "x", "stage": "sent"})
            assert response.status_code == 404, (method, url, response.status_code)
