"""Background jobs: long work off the request path, with its progress in the ``jobs`` table.

A job is a row (kind, JSON-able arguments, status ``queued`` -> ``running`` -> ``done`` or
``failed``, progress ``done`` of ``total`` with a message in Vietnamese and English, the result or
the error) and a registered function of its kind (:func:`job`), which receives a
:class:`JobContext` whose ``progress`` writes to the row at most every ``PROGRESS_EVERY`` seconds.
The function returns a JSON-able result: a file it wrote under ``INSTANCE/jobs`` (mode 600:
reports hold personal data), or a summary.

Where it runs is the setting ``job_backend``:

- ``thread`` (default): a small pool of threads of the process that enqueued it (the embedded,
  one-machine case on SQLite);
- ``rq``: RQ over Redis (``redis_url``); ``matcher jobs worker`` runs :func:`run_job`, which opens
  its own store from the settings handed over with the job (database URL included), so the worker
  may run on another machine that reaches the same database;
- ``inline``: at once, in the caller (tests, debugging).

No job is lost: a function that raises marks its job failed with a readable message; a job whose
process died is marked failed by :func:`fail_stale` (at start-up and whenever the job pages are
read): a running job's heartbeat stops, a queued job of the thread backend lost its process.
No Flask here: the pages, the ``matcher`` command and the RQ worker share these functions.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import or_, select, update

from data.store import Store
from models import Job
from models.entities import utcnow

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "done", "failed")
PROGRESS_EVERY = 0.5  # seconds between two progress writes of one job
HEARTBEAT_EVERY = 20.0  # seconds between two heartbeats of a running job
STALE_AFTER = dt.timedelta(minutes=2)  # a running job silent this long lost its process
RESULT_LIFETIME = dt.timedelta(hours=24)  # result files (personal data) are deleted after this
THREADS = 2  # worker threads of the thread backend
QUEUE = "matcher"  # the RQ queue's name
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERROR_CHARS = 2000


class JobError(ValueError):
    """A job cannot be enqueued (unknown kind, arguments that are not JSON)."""


@dataclass
class JobContext:
    """What a job function gets: its store and settings, its arguments, and ``progress``."""

    store: Store
    settings: dict[str, Any]
    job_id: int
    args: dict[str, Any]
    progress: "Progress"
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def instance_path(self) -> Path:
        return Path(self.settings["instance_path"])

    def write_result(self, filename: str, data: bytes, mimetype: str = XLSX) -> dict[str, Any]:
        """Write the job's file (mode 600) under ``INSTANCE/jobs``; the result that names it."""
        path = result_dir(self.instance_path) / f"{self.job_id}-{_safe_name(filename)}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return {"file": f"jobs/{path.name}", "filename": filename, "mimetype": mimetype, "bytes": len(data)}


JobFunction = Callable[[JobContext], dict[str, Any]]
KINDS: dict[str, JobFunction] = {}


def job(kind: str) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn`` as the function of jobs of ``kind``."""

    def register(fn: JobFunction) -> JobFunction:
        KINDS[kind] = fn
        return fn

    return register


def _safe_name(filename: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name)[:120] or "result"


def result_dir(instance_path: str | os.PathLike) -> Path:
    from web.services.uploads import private_dir

    return private_dir(instance_path, "jobs")


def result_path(instance_path: str | os.PathLike, job_row: Job) -> Path | None:
    """The job's result file when it has one and it is still there."""
    rel = (job_row.result or {}).get("file")
    if not rel or job_row.status != "done":
        return None
    path = result_dir(instance_path) / Path(rel).name
    return path if path.is_file() else None


# ----------------------------------------------------------------------------- progress


class Progress:
    """``progress(done, total, vi, en)``: written to the job's row at most every
    ``PROGRESS_EVERY`` seconds (the last call is always written by :meth:`flush`)."""

    def __init__(self, store: Store, job_id: int, every: float | None = None):
        self.store, self.job_id = store, job_id
        self.every = PROGRESS_EVERY if every is None else every
        self._last = 0.0
        self._pending: dict[str, Any] | None = None
        self.writes = 0

    def __call__(self, done: int, total: int | None = None, vi: str | None = None, en: str | None = None) -> None:
        values: dict[str, Any] = {"progress_done": int(done)}
        if total is not None:
            values["progress_total"] = int(total)
        if vi is not None or en is not None:
            values["message_vi"], values["message_en"] = (vi or en or "")[:300], (en or vi or "")[:300]
        self._pending = {**(self._pending or {}), **values}
        if time.monotonic() - self._last >= self.every:
            self.flush()

    def flush(self) -> None:
        if self._pending is None:
            return
        values, self._pending = self._pending, None
        values["heartbeat_at"] = utcnow()
        with self.store.session() as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(**values))
        self._last = time.monotonic()
        self.writes += 1


def _heartbeat(store: Store, job_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_EVERY):
        try:
            with store.session() as s:
                s.execute(update(Job).where(Job.id == job_id, Job.status == "running").values(heartbeat_at=utcnow()))
        except Exception:  # noqa: BLE001 - a missed heartbeat only risks a stale mark later
            log.warning("job %d: heartbeat not written", job_id, exc_info=True)


# ----------------------------------------------------------------------------- running


def _readable(exc: BaseException) -> str:
    """A failure as a person reads it: the message, else the kind of error."""
    text = str(exc).strip() or type(exc).__name__
    return text[:ERROR_CHARS]


def execute(store: Store, settings: dict[str, Any], job_id: int, **extras: Any) -> str:
    """Run job ``job_id`` here and now (any backend ends here); its final status.

    The row is claimed (``queued`` -> ``running``) in one UPDATE, so a job handed twice runs
    once. Whatever the function raises is stored as the job's error."""
    with store.session() as s:
        claimed = s.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=utcnow(), heartbeat_at=utcnow(), worker=worker_name(),
                    message_vi="Đang bắt đầu", message_en="Starting")
        ).rowcount
        row = s.get(Job, job_id)
        if not claimed or row is None:
            log.warning("job %d is not queued (status %s): not run", job_id, row.status if row else "missing")
            return row.status if row else "missing"
        kind, args = row.kind, dict(row.args or {})
    progress = Progress(store, job_id)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(store, job_id, stop), daemon=True, name=f"job-{job_id}-heartbeat")
    beat.start()
    try:
        fn = KINDS.get(kind)
        if fn is None:
            raise JobError(f"unknown job kind {kind!r}")
        result = fn(JobContext(store, settings, job_id, args, progress, dict(extras)))
        progress.flush()
        values = {"status": "done", "result": json.loads(json.dumps(result or {}, default=str))}
        with store.session() as s:
            total = s.scalar(select(Job.progress_total).where(Job.id == job_id)) or 1
        values.update(progress_done=total, progress_total=total)
    except Exception as exc:  # noqa: BLE001 - stored on the job, never lost
        log.exception("job %d (%s) failed", job_id, kind)
        progress._pending = None
        values = {"status": "failed", "error": _readable(exc)}
    finally:
        stop.set()
    with store.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), heartbeat_at=utcnow(), **values))
    return values["status"]


def worker_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings an RQ worker needs to run a job like this process would: all but the
    secret key (which never travels through Redis), the instance folder made absolute (the
    worker writes the job's file there: on several machines it is a shared folder)."""
    out = {k: v for k, v in settings.items() if k != "secret_key"}
    out["instance_path"] = str(Path(settings["instance_path"]).resolve())
    return out


def run_job(job_id: int, settings: dict[str, Any]) -> str:
    """The RQ entry point: open the store of ``settings["database_url"]`` (validated again by
    ``load_settings``) and run the job there."""
    from data.settings import load_settings

    given = dict(settings)
    resolved = load_settings(given.pop("instance_path", None), given, environ={})
    store = Store(resolved["database_url"])
    try:
        return execute(store, resolved, job_id)
    finally:
        store.dispose()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="matcher-job")
        return _POOL


def _run_in_thread(store: Store, settings: dict[str, Any], job_id: int,
                   after: Callable[[str], None] | None, extras: dict[str, Any]) -> str:
    status = execute(store, settings, job_id, **extras)
    if after is not None:
        try:
            after(status)
        except Exception:  # noqa: BLE001 - the job itself is done
            log.exception("job %d: the follow-up in the web process failed", job_id)
    return status


def rq_queue(settings: dict[str, Any]):
    """The RQ queue of ``redis_url``."""
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(settings["redis_url"]))


def enqueue(store: Store, settings: dict[str, Any], kind: str, args: dict[str, Any] | None = None,
            user_id: int | None = None, *, after: Callable[[str], None] | None = None,
            message: tuple[str, str] = ("Đang chờ chạy", "Waiting to run"), **extras: Any):
    """Create a job of ``kind`` and hand it to the configured backend; its id.

    ``after(status)`` runs in the enqueuing process once the job ended, on the thread and
    inline backends only (e.g. to drop the web process's engine after an import): an RQ worker
    elsewhere cannot call back, and the web process then catches up as with any other change.
    ``extras`` go to the function in-process only (thread and inline)."""
    if kind not in KINDS:
        raise JobError(f"unknown job kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}")
    try:
        args = json.loads(json.dumps(args or {}))
    except (TypeError, ValueError) as exc:
        raise JobError(f"the arguments of a {kind} job must be JSON: {exc}") from None
    backend = settings.get("job_backend") or "thread"
    with store.session() as s:
        row = Job(kind=kind, status="queued", args=args, created_by=user_id, backend=backend,
                  worker=worker_name() if backend == "thread" else None,
                  message_vi=message[0], message_en=message[1], progress_done=0, progress_total=0)
        s.add(row)
        s.flush()
        job_id = row.id
    if backend == "inline":
        _run_in_thread(store, settings, job_id, after, extras)
    elif backend == "thread":
        _pool().submit(_run_in_thread, store, settings, job_id, after, extras)
    else:
        try:
            rq_queue(settings).enqueue(run_job, job_id, worker_settings(settings), job_timeout=6 * 3600,
                                       result_ttl=3600, failure_ttl=24 * 3600)
        except Exception as exc:  # noqa: BLE001 - Redis down: the job fails visibly, it is not lost
            _fail(store, job_id, f"could not hand the job to Redis at {settings.get('redis_url')}: {_readable(exc)}")
    return job_id


def _fail(store: Store, job_id: int, error: str) -> None:
    with store.session() as s:
        s.execute(update(Job).where(Job.id == job_id, Job.status.in_(("queued", "running")))
                  .values(status="failed", error=error[:ERROR_CHARS], finished_at=utcnow()))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


STALE_ERROR = "the process running this job stopped before it ended (restart, crash or lost worker); start it again"


def fail_stale(store: Store, now: dt.datetime | None = None) -> list[int]:
    """Mark failed the jobs whose process died; their ids.

    - ``running`` with no heartbeat for ``STALE_AFTER``, or run by a process of this machine
      that no longer exists (a restart finds its own dead jobs at once);
    - ``queued`` on the thread backend by a process of this machine that no longer exists."""
    now = now or utcnow()
    failed: list[int] = []
    host = socket.gethostname()
    with store.session() as s:
        rows = s.scalars(select(Job).where(or_(
            Job.status == "running",
            (Job.status == "queued") & (Job.backend == "thread"),
        ))).all()
        for row in rows:
            where, _, pid = (row.worker or "").rpartition(":")
            gone = where == host and pid.isdigit() and not _process_alive(int(pid))
            if row.status == "running":
                seen = row.heartbeat_at or row.started_at or row.created_at
                stale = gone or seen < now - STALE_AFTER
            else:
                stale = gone
            if stale:
                row.status, row.error, row.finished_at = "failed", STALE_ERROR, now
                failed.append(row.id)
    if failed:
        log.warning("jobs %s marked failed: their process stopped", failed)
    return failed


def remove_old_results(store: Store, instance_path: str | os.PathLike,
                       now: dt.datetime | None = None) -> list[int]:
    """Delete the result files of jobs finished more than ``RESULT_LIFETIME`` ago (reports hold
    personal data: they do not linger), and the files no job names; the ids of the jobs."""
    now = now or utcnow()
    removed: list[int] = []
    folder = result_dir(instance_path)
    with store.session() as s:
        rows = s.scalars(select(Job).where(Job.status == "done", Job.finished_at < now - RESULT_LIFETIME)).all()
        for row in rows:
            if (row.result or {}).get("file"):
                (folder / Path(row.result["file"]).name).unlink(missing_ok=True)
                row.result = {**row.result, "file": None, "expired": True}
                removed.append(row.id)
    return removed


def wait(store: Store, job_id: int, timeout: float = 60.0, every: float = 0.05) -> Job:
    """The job once it ended (done or failed), polling its row; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        with store.session() as s:
            row = s.get(Job, job_id)
            if row is None:
                raise LookupError(f"no job {job_id}")
            if row.status in ("done", "failed"):
                return row
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {row.status} after {timeout:.0f} s")
        time.sleep(every)


def visible_jobs(store_session, user_id: int, admin: bool, limit: int = 100) -> list[Job]:
    """The newest jobs a user may see: their own; every job for an administrator."""
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if not admin:
        stmt = stmt.where(Job.created_by == user_id)
    return list(store_session.scalars(stmt))


def job_for(store_session, job_id: int, user_id: int, admin: bool) -> Job | None:
    """Job ``job_id`` when this user may see it (its creator, or an administrator), else None."""
    row = store_session.get(Job, job_id)
    if row is None or (not admin and row.created_by != user_id):
        return None
    return row


# ----------------------------------------------------------------------------- the kinds


def _day(ctx: JobContext) -> dt.date:
    from data.settings import gate_date

    return dt.date.fromisoformat(ctx.args["day"]) if ctx.args.get("day") else gate_date(ctx.settings)


@job("period_report")
def period_report_job(ctx: JobContext) -> dict[str, Any]:
    """The period report's workbook (``/intel/report.xlsx``'s file) for ``start``..``end``."""
    from web.services import reports, stats

    period = stats.Period(dt.date.fromisoformat(ctx.args["start"]), dt.date.fromisoformat(ctx.args["end"]))
    ctx.progress(0, 3, "Đang tính số liệu của kỳ báo cáo", "Computing the period's figures")
    with ctx.store.session() as s:
        r = reports.period_report(s, period)
    ctx.progress(1, 3, "Đang viết bảng tính", "Writing the workbook")
    data = reports.workbook_bytes(reports.period_workbook(r))
    ctx.progress(2, 3, "Đang lưu tệp", "Saving the file")
    return ctx.write_result(f"bao-cao-{period.start.isoformat()}-{period.end.isoformat()}.xlsx", data)


@job("training_needs")
def training_needs_job(ctx: JobContext) -> dict[str, Any]:
    """The training-needs workbook (``/intel/needs.xlsx``'s file) of the gate date, computed
    from the store (no engine: the needs need no encoder)."""
    from web.services import reports

    day = _day(ctx)
    ctx.progress(0, 3, "Đang tính nhu cầu đào tạo", "Computing the training needs")
    with ctx.store.session() as s:
        result = reports.training_needs(s, day)
        ids = {wid for n in result.needs for wid in n.pairs}
        workers = {w.worker_id: w for w in reports.load_workers(s, ids)}
    ctx.progress(1, 3, "Đang viết bảng tính", "Writing the workbook")
    data = reports.workbook_bytes(reports.needs_workbook(result, workers))
    ctx.progress(2, 3, "Đang lưu tệp", "Saving the file")
    out = ctx.write_result(f"training-needs-{day.isoformat()}.xlsx", data)
    out["workers"] = len(workers)
    return out


@job("import")
def import_job(ctx: JobContext) -> dict[str, Any]:
    """A previewed upload stored all or nothing (``data.importers.import_file``); the input file
    (``INSTANCE/jobs/input-*``) is deleted whatever happens."""
    from data.importers import import_file

    a = ctx.args
    path = result_dir(ctx.instance_path) / Path(a["input"]).name
    try:
        if not path.is_file():
            raise JobError(f"the uploaded file {path} is not in this machine's instance folder: the RQ "
                           "workers must share the web app's instance folder (its jobs/ subfolder); upload it again")
        data = path.read_bytes()
        rows = int(a.get("rows") or 0)
        ctx.progress(0, rows, f"Đang kiểm tra và lưu {rows} dòng", f"Checking and storing {rows} rows")
        with ctx.store.session() as s:
            report = import_file(s, a["kind"], data, partial=bool(a.get("partial")), user=a.get("user"),
                                 filename=a.get("name"), max_cells=int(a.get("max_cells") or ctx.settings["max_xlsx_cells"]))
            s.commit()
        ctx.progress(rows, rows)
        return {"report": report.as_dict()}
    finally:
        path.unlink(missing_ok=True)


def save_import_input(instance_path: str | os.PathLike, token: str, ext: str, data: bytes) -> str:
    """Keep an upload for an import job (mode 600, under ``INSTANCE/jobs``, out of reach of the
    one-hour clean-up of previews); the name the job's arguments give."""
    name = f"input-{_safe_name(token)}{ext}"
    path = result_dir(instance_path) / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return name


@job("engine_index")
def engine_index_job(ctx: JobContext) -> dict[str, Any]:
    """Build the match engine from the store and save its vectors and indexes in the instance
    folder (``web.services.building.build_engine``): the next engine of any process loads them."""
    from web.services.building import build_engine

    ctx.progress(0, 1, "Đang dựng chỉ mục (mã hóa các văn bản đã đổi)", "Building the index (encoding changed texts)")
    with ctx.store.session() as s:
        engine = build_engine(s, ctx.settings, _day(ctx))
    return {"orders": len(engine.orders_), "workers": len(engine.workers_), "vectors": len(engine.vectors_),
            "reused_indexes": sorted(engine.reused_indexes_)}
