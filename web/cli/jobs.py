"""``matcher jobs``: the background jobs (web.services.jobs) from the command line.

``matcher jobs worker`` runs an RQ worker on the queue of the setting ``redis_url`` (for
``job_backend = rq``, on this or any machine that reaches the same database and Redis);
``matcher jobs list`` prints the newest jobs and marks failed those whose process died.
"""

from __future__ import annotations

import argparse

from web.cli.common import EXIT_FAILED, EXIT_OK, open_store, require_schema, settings_from


def register_jobs(subparsers) -> None:
    p = subparsers.add_parser("jobs", help="background jobs: run the RQ worker, list the jobs")
    sub = p.add_subparsers(dest="jobs_command", required=True)
    w = sub.add_parser("worker", help="run an RQ worker for the jobs (setting job_backend = rq)")
    w.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    w.set_defaults(func=cmd_worker)
    ls = sub.add_parser("list", help="the newest jobs with their status and progress")
    ls.add_argument("--limit", type=int, default=20)
    ls.set_defaults(func=cmd_list)


def cmd_worker(args: argparse.Namespace) -> int:
    from rq import Worker

    from web.services.jobs import rq_queue

    settings = settings_from(args)
    queue = rq_queue(settings)
    print(f"RQ worker on queue {queue.name!r} at {settings['redis_url']} (burst: {bool(args.burst)})")
    Worker([queue], connection=queue.connection).work(burst=args.burst)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from models import Job
    from web.services.jobs import fail_stale

    store = open_store(args)
    try:
        if not require_schema(store):
            return EXIT_FAILED
        stale = fail_stale(store)
        with store.session() as s:
            rows = s.scalars(select(Job).order_by(Job.id.desc()).limit(args.limit)).all()
            for j in rows:
                steps = f"{j.progress_done}/{j.progress_total}" if j.progress_total else "-"
                print(f"{j.id}\t{j.kind}\t{j.status}\t{steps}\t{j.created_at:%Y-%m-%d %H:%M}\t{j.error or ''}")
    finally:
        store.dispose()
    if stale:
        print(f"marked failed (their process stopped): {', '.join(map(str, stale))}")
    return EXIT_OK


JOBS_COMMANDS = [register_jobs]
