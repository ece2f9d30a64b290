"""The JSON API fuzzed from its own OpenAPI document by schemathesis, over loopback, per role.

The app (seeded as in ``webtesting``) is served by werkzeug on 127.0.0.1 in a thread; every
operation of ``/api/openapi.json`` is called with generated parameters and bodies (valid and
invalid) by an administrator, a counsellor and a recruiter, each with a personal API token
(``Authorization: Bearer``). Every response must be below 500 and match the status codes,
content type and schema the document declares. Bounded: ``MAX_EXAMPLES`` cases per operation
and role; the counts are printed in the terminal summary.
"""

from __future__ import annotations

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

from web.services.accounts import issue_token
from web.views.db import get_store
from web.views.openapi import document
from webtesting import make_app

import os

MAX_EXAMPLES = int(os.environ.get("MATCHER_FUZZ_EXAMPLES", "8"))  # more for a longer local fuzz
ROLES = {"admin": "admin", "counsellor": "counsellor", "recruiter": "reca"}

schema = schemathesis.openapi.from_dict(document())


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        with get_store(app).session() as s:
            self.tokens = {role: issue_token(s, name) for role, name in ROLES.items()}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(10)
        get_store(self.app).dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import os

    tmp = tmp_path_factory.mktemp("schemathesis")
    url = os.environ.get("MATCHER_TEST_DATABASE_URL", "") or f"sqlite:///{tmp / 'test.sqlite'}"
    # the fuzzer's wrong-token probes all come from one address; the throttle (429, documented)
    # is tested in test_throttle.py, here it would only stop the later operations being fuzzed
    with LiveServer(make_app(url, tmp, token_failure_rate_limit="100000 per minute")) as server:
        yield server


def test_the_served_document_is_the_one_fuzzed(live):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{live.url}/api/openapi.json", timeout=10) as r:
        assert json.load(r) == json.loads(json.dumps(document()))


@pytest.mark.parametrize("role", sorted(ROLES))
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_conforms_to_its_document(live, fuzz_count, role, case):
    fuzz_count(f"schemathesis {role}")
    # every check, with no exclusion: a schema-valid body is accepted (2xx) or meets a state the
    # document names (401, 403, 404, 409); an invalid one is refused
    case.call_and_validate(base_url=live.url, headers={"Authorization": f"Bearer {live.tokens[role]}"}, timeout=60)


def test_unknown_api_paths_are_json_404_and_wrong_methods_405(live):
    import urllib.error
    import urllib.request

    def call(method, path):
        req = urllib.request.Request(live.url + path, method=method,
                                     headers={"Authorization": f"Bearer {live.tokens['admin']}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers)

    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        status, headers = call(method, "/api/no/such/thing")
        assert (status, headers["Content-Type"]) == (404, "application/json")
    status, headers = call("PUT", "/api/workers")
    assert status == 405 and set(headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
