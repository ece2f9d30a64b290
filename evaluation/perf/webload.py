"""Load test of the matches API (``GET /api/workers/<id>/matches?top=10``) and of the staff order
matches (``GET /api/orders/<id>/matches?top=10`` as the counsellor) on loopback.

Everything runs as subprocesses (evaluation never imports web): ``matcher demo --no-serve``
fills a fresh SQLite demo database in a temporary instance folder, ``matcher user token
counsellor`` issues an API token, and ``gunicorn -w 2 "web:create_app()"`` serves it on
127.0.0.1, once per encoder (``--web-encoders``: the hashing test double, fast to start, and
the serving default on ONNX Runtime; the query path does not encode, every text is encoded when
the engine is built), the rows side by side. After a warm-up (each gunicorn worker builds its
engine on its first request) the load comes from ``wrk`` (Debian package; a Lua script rotates
over the worker or order ids, adds the bearer token and reports p95 and errors) when it is
installed, and from a
small Python client (threads with keep-alive ``http.client`` connections) always, as a
cross-check and as the fallback. Load is bounded: a fixed number of connections for a fixed
time, only to 127.0.0.1. Any error (connection, timeout, non-2xx status) fails the section.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from evaluation.perf import percentiles_ms, section

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
TODAY = "2026-11-26"

_WRK_LUA = r"""
local ids = {%(ids)s}
local token = "%(token)s"
local counter = 0
request = function()
  counter = counter + 1
  local id = ids[(counter %% #ids) + 1]
  return wrk.format("GET", "%(prefix)s" .. id .. "%(suffix)s",
                    {["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "mean_us": %%f, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def instance_env(folder: Path, db: Path, encoder: str | None = None) -> dict[str, str]:
    """The environment of a subprocess of the command line or the server on a throw-away
    instance: its folder, a SQLite database, the fixed day, a fresh secret key, this checkout
    first on the path, and ``encoder`` (else the settings' default, whatever the caller's is)."""
    env = {**os.environ, "MATCHER_INSTANCE_PATH": str(folder), "MATCHER_DATABASE_URL": f"sqlite:///{db}",
           "MATCHER_TODAY": TODAY, "MATCHER_SECRET_KEY": secrets.token_hex(32),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("MATCHER_ENCODER", None)
    if encoder:
        env["MATCHER_ENCODER"] = encoder
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _matcher_cmd() -> list[str]:
    # The console script next to this interpreter (a venv's bin/ need not be on PATH), else PATH.
    beside = Path(sys.executable).with_name("matcher")
    exe = str(beside) if beside.exists() else shutil.which("matcher")
    return [exe] if exe else [sys.executable, "-m", "web.cli"]


def _get(port: int, path: str, token: str, timeout: float = 30.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def python_load(port: int, token: str, ids: list[str], concurrency: int, seconds: float,
                timeout: float = 30.0, path: str = "/api/workers/{}/matches?top=10") -> dict:
    """``concurrency`` threads, each with one keep-alive connection (reopened if the server closes
    it), sending requests for ``seconds``. Returns counts, latency percentiles and errors."""
    stop = time.perf_counter() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = [0]

    def worker(_: int) -> None:
        conn = None
        while time.perf_counter() < stop:
            with lock:
                counter[0] += 1
                wid = ids[counter[0] % len(ids)]
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
                conn.request("GET", path.format(wid),
                              headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
                resp = conn.getresponse()
                resp.read()
                ok = 200 <= resp.status < 300
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                ok = False
                resp = None
                if conn is not None:
                    conn.close()
                conn = None
                key = type(exc).__name__
                with lock:
                    errors[key] = errors.get(key, 0) + 1
            dt_ = time.perf_counter() - t0
            with lock:
                if ok:
                    latencies.append(dt_)
                elif resp is not None:
                    errors[f"status_{resp.status}"] = errors.get(f"status_{resp.status}", 0) + 1
        if conn is not None:
            conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"ok": len(latencies), "errors": sum(errors.values()), "error_kinds": errors, "seconds": elapsed,
            **percentiles_ms(latencies)}


def wrk_load(port: int, token: str, ids: list[str], concurrency: int, seconds: float, folder: Path,
             path: str = "/api/workers/{}/matches?top=10") -> dict:
    script = folder / "matches.lua"
    prefix, suffix = path.split("{}")
    script.write_text(_WRK_LUA % {"ids": ", ".join(json.dumps(i) for i in ids), "token": token,
                                  "prefix": prefix, "suffix": suffix}, encoding="utf-8")
    cmd = ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{max(1, int(round(seconds)))}s",
           "--timeout", "30s", "-s", str(script), f"http://{HOST}:{port}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("{")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-1000:]} {proc.stderr[-1000:]}")
    r = json.loads(line)
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {"ok": r["requests"] - errors, "errors": errors, "seconds": r["duration_us"] / 1e6,
            "error_kinds": {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]},
            "p50_ms": r["p50_us"] / 1000, "p95_ms": r["p95_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "mean_ms": r["mean_us"] / 1000, "requests": r["requests"]}


# Each gunicorn worker builds its engine before it takes a request (``web.warm_engine``): a warm-up
# by requests alone may leave one worker cold (a busy sync worker accepts nothing, so the other
# takes them all) and let it build during the measurement, which a slow encoder then dominates.
_GUNICORN_CONF = """
def post_worker_init(worker):
    from web import warm_engine
    warm_engine(worker.wsgi)
"""


def _start_server(env: dict, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    conf = log_path.with_name("gunicorn_conf.py")
    conf.write_text(_GUNICORN_CONF, encoding="utf-8")
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(conf), "-w", str(workers), "-b", f"{HOST}:{port}",
           "--timeout", "600", "web:create_app()"]
    with open(log_path, "w", encoding="utf-8") as fh:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # our own session: the gunicorn master and its workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


#: what is loaded: (name in the rows, path with {} for the id, which ids)
ENDPOINTS = (
    ("worker matches", "/api/workers/{}/matches?top=10", "workers"),
    ("staff order matches", "/api/orders/{}/matches?top=10", "orders"),
)
#: the encoders ``--web-encoders`` may name: the test double, and the serving default (the
#: ``encoder`` setting's default, on ONNX Runtime once ``matcher model convert`` built its file)
ENCODERS = ("hashing", "default")


def _serve_and_load(folder: Path, encoder: str, seconds: float, concurrency: tuple[int, ...],
                    gunicorn_workers: int, use_wrk: bool) -> tuple[list[dict], dict]:
    """Fill a demo database with ``encoder``, serve it with gunicorn and load every endpoint."""
    db = folder / "demo.sqlite"
    env = instance_env(folder, db)
    demo = [*_matcher_cmd(), "--instance", str(folder), "demo", "--no-serve", "--database-url", f"sqlite:///{db}"]
    if encoder != "default":
        env["MATCHER_ENCODER"] = encoder
        demo += ["--encoder", encoder]
    t0 = time.perf_counter()
    subprocess.run(demo, cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=900)
    out = subprocess.run([*_matcher_cmd(), "--instance", str(folder), "user", "token", "counsellor"], cwd=REPO,
                         env=env, check=True, capture_output=True, text=True, timeout=120).stdout
    token = next(w for w in reversed(out.split()) if len(w) >= 32)
    setup_s = time.perf_counter() - t0
    port = _free_port()
    proc = _start_server(env, port, gunicorn_workers, folder / "gunicorn.log")
    rows: list[dict] = []
    try:
        deadline = time.time() + 900  # both workers build their engines before they answer
        while True:
            try:
                status, body = _get(port, "/api/workers?limit=500", token, timeout=900)
                if status == 200:
                    break
                raise RuntimeError(f"GET /api/workers answered {status}: {body[:300]!r}")
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("gunicorn did not start: "
                                       + (folder / "gunicorn.log").read_text(errors="replace")[-2000:]) from None
                time.sleep(0.5)
        ids = {"workers": [w["worker_id"] for w in json.loads(body)["items"]]}
        status, body = _get(port, "/api/orders?status=open", token, timeout=300)
        if status != 200:
            raise RuntimeError(f"GET /api/orders answered {status}: {body[:300]!r}")
        # the legal open orders: a blocked one answers at once with its reasons and no ranking
        ids["orders"] = [o["order_id"] for o in json.loads(body)["items"] if not o["blocked"]]
        # Warm-up: each gunicorn worker builds its engine on its first matches request (slow on a
        # busy machine): a few rounds of one request per worker, with a long timeout.
        t0 = time.perf_counter()
        for _ in range(3):
            warm = python_load(port, token, ids["workers"], gunicorn_workers, 0.5, timeout=600)
            if warm["errors"]:
                raise RuntimeError(f"warm-up errors: {warm['error_kinds']}")
        warm_s = time.perf_counter() - t0
        for endpoint, path, kind in ENDPOINTS:
            for c in concurrency:
                results = []
                load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
                if use_wrk:
                    results.append(("wrk", wrk_load(port, token, ids[kind], c, seconds, folder, path=path)))
                results.append(("python-client", python_load(port, token, ids[kind], c, seconds, path=path)))
                # one response's size, as the client receives it
                status, body = _get(port, path.format(ids[kind][0]), token)
                for tool, r in results:
                    total = r["ok"] + r["errors"]
                    rows.append({"system": "engine-gunicorn", "endpoint": endpoint, "encoder": encoder,
                                 "tool": tool, "concurrency": c, "seconds": r["seconds"], "requests": total,
                                 "requests_per_s": total / r["seconds"] if r["seconds"] else float("nan"),
                                 "p50_ms": r["p50_ms"], "p95_ms": r["p95_ms"], "p99_ms": r["p99_ms"],
                                 "errors": r["errors"], "error_kinds": r.get("error_kinds", {}),
                                 "response_kb": len(body) / 1024, "load_1min": load_before})
    finally:
        _stop_server(proc)
    info = {"setup_s": round(setup_s, 1), "warmup_s": round(warm_s, 1),
            "worker_ids": len(ids["workers"]), "order_ids": len(ids["orders"])}
    return rows, info


def run(quick: bool = False, progress: bool = True, *, seconds: float | None = None,
        concurrency: tuple[int, ...] | None = None, gunicorn_workers: int = 2, use_wrk: bool | None = None,
        encoders: tuple[str, ...] | None = None) -> dict:
    """Load both endpoints (:data:`ENDPOINTS`) with each of ``encoders`` (:data:`ENCODERS`;
    default: hashing in ``--quick``, else hashing and the serving default), rows side by side."""
    seconds = seconds or (3.0 if quick else 20.0)
    concurrency = concurrency or ((4,) if quick else (1, 4, 8))
    encoders = tuple(encoders or (("hashing",) if quick else ENCODERS))
    unknown = [e for e in encoders if e not in ENCODERS]
    if unknown:
        raise ValueError(f"The web section's encoders must be among {', '.join(ENCODERS)}. Got {unknown!r} instead.")
    use_wrk = shutil.which("wrk") is not None if use_wrk is None else use_wrk
    notes = ["Server: gunicorn (sync workers) -w %d \"web:create_app()\" on 127.0.0.1, SQLite demo database "
             "(2,000 workers, 300 orders). Encoders: %s ('default': the encoder setting's default, on ONNX "
             "Runtime when its file is built; queries do not encode, every text is encoded when the engine "
             "is built). Endpoints: %s, ids rotated (the staff order matches over the legal open orders, "
             "as the counsellor). Each request also writes an audit row (the API records views). "
             "load_1min: the machine's 1-minute load average as each run started."
             % (gunicorn_workers, ", ".join(encoders), "; ".join(f"{n} {p}" for n, p, _ in ENDPOINTS))]
    if not use_wrk:
        notes.append("wrk not installed (apt-get install wrk): load from the Python client only.")
    rows: list[dict] = []
    params: dict = {"seconds_per_run": seconds, "concurrency": list(concurrency),
                    "gunicorn_workers": gunicorn_workers, "encoders": list(encoders)}
    for encoder in encoders:
        with tempfile.TemporaryDirectory(prefix="perf-web-") as tmp:
            enc_rows, info = _serve_and_load(Path(tmp), encoder, seconds, concurrency, gunicorn_workers, use_wrk)
        rows += enc_rows
        params[encoder] = info
    errors = sum(r["errors"] for r in rows)
    notes.append(f"errors over all runs: {errors} (asserted to be 0)")
    sec = section(rows, params, notes)
    if errors:
        sec["error"] = f"{errors} failed requests under load"
    return sec
