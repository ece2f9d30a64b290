"""Start: how soon a restarted service answers, from the saved state and without it.

Everything runs as subprocesses, as a user meets it (evaluation never imports web): ``matcher
demo --no-serve`` fills a fresh SQLite demo database in a temporary instance folder, ``matcher user
token counsellor`` issues an API token, and ``matcher index rebuild`` leaves the saved state a
first start leaves. Then, for each state of the instance folder:

* ``engine`` (saved state kept, the normal restart) and ``no-saved-state`` (``index/`` deleted
  first, the baseline: everything encoded and fitted again);
* ``matcher serve`` is started and timed until its first answer (``GET /api/workers``, which
  needs no engine) and until its first matches (``GET /api/workers/<id>/matches``, which builds
  the engine); then stopped;
* ``matcher match --worker ID`` is timed as a process, from start to exit.

The default encoder of the settings is used (``--quick``: the hashing encoder, for the CI smoke
run), so the figures are those of the README's demo.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from evaluation.perf import section
from evaluation.perf.webload import HOST, REPO, _free_port, _get, _matcher_cmd, _stop_server, instance_env

log = logging.getLogger(__name__)


def _serve(env: dict, folder: Path, port: int, token: str, worker_id: str | None, timeout: float) -> dict:
    """Start ``matcher serve``; seconds to its first answer and to its first matches."""
    log_path = folder / f"serve-{port}.log"
    t0 = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen([*_matcher_cmd(), "--instance", str(folder), "serve", "--host", HOST, "--port",
                                 str(port)], cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                status, body = _get(port, "/api/workers?limit=20", token, timeout=timeout)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("matcher serve did not start: "
                                       + log_path.read_text(errors="replace")[-2000:]) from None
                time.sleep(0.05)
        first_answer = time.perf_counter() - t0
        if status != 200:
            raise RuntimeError(f"GET /api/workers answered {status}: {body[:300]!r}")
        items = json.loads(body)["items"]
        wid = worker_id or items[0]["worker_id"]
        status, body = _get(port, f"/api/workers/{wid}/matches?top=10", token, timeout=timeout)
        if status != 200:
            raise RuntimeError(f"GET /api/workers/{wid}/matches answered {status}: {body[:300]!r}")
        first_matches = time.perf_counter() - t0
        return {"worker_id": wid, "serve_first_answer_s": first_answer, "serve_first_matches_s": first_matches,
                "matches": len(json.loads(body)["matches"])}
    finally:
        _stop_server(proc)


def _match_cli(env: dict, folder: Path, worker_id: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([*_matcher_cmd(), "--instance", str(folder), "match", "--worker", worker_id], cwd=REPO, env=env,
                   check=True, capture_output=True, text=True, timeout=900)
    return time.perf_counter() - t0


def run(quick: bool = False, progress: bool = True, *, encoder: str | None = None, timeout: float = 900.0) -> dict:
    encoder = encoder or ("hashing" if quick else None)  # None: the settings' default encoder
    notes = [f"encoder: {encoder or 'the default of the settings'}; SQLite demo database (2,000 workers, "
             "300 orders, 3 years of history); development server (matcher serve), one process."]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="perf-start-") as tmp:
        folder = Path(tmp)
        db = folder / "demo.sqlite"
        env = instance_env(folder, db, encoder)
        t0 = time.perf_counter()
        subprocess.run([*_matcher_cmd(), "--instance", str(folder), "demo", "--no-serve", "--database-url",
                        f"sqlite:///{db}"], cwd=REPO, env=env, check=True, capture_output=True, text=True,
                       timeout=timeout)
        demo_s = time.perf_counter() - t0
        t0 = time.perf_counter()  # the saved state: encoded and fitted once, as the first start leaves it
        subprocess.run([*_matcher_cmd(), "--instance", str(folder), "index", "rebuild"], cwd=REPO, env=env,
                       check=True, capture_output=True, text=True, timeout=timeout)
        rebuild_s = time.perf_counter() - t0
        out = subprocess.run([*_matcher_cmd(), "--instance", str(folder), "user", "token", "counsellor"], cwd=REPO,
                             env=env, check=True, capture_output=True, text=True, timeout=120).stdout
        token = next(w for w in reversed(out.split()) if len(w) >= 32)
        index = folder / "index"
        worker_id = None
        for system in ("engine", "no-saved-state"):
            if system == "no-saved-state":
                shutil.rmtree(index, ignore_errors=True)
            served = _serve(env, folder, _free_port(), token, worker_id, timeout)
            worker_id = served["worker_id"]
            if system == "no-saved-state":
                shutil.rmtree(index, ignore_errors=True)  # the server saved it again
            match_s = _match_cli(env, folder, worker_id)
            rows.append({"system": system, **served, "match_cli_s": match_s,
                         "saved_files": sorted(p.name for p in index.glob("*")) if index.exists() else []})
            if progress:
                log.info("start %s: first answer %.1f s, first matches %.1f s, matcher match %.1f s", system,
                         served["serve_first_answer_s"], served["serve_first_matches_s"], match_s)
    params = {"encoder": encoder or "default", "demo_setup_s": round(demo_s, 1),
              "index_rebuild_s": round(rebuild_s, 1)}
    return section(rows, params, notes)
