"""Web verbs of the ``matcher`` command: serve, demo, user add, user token, user password.

``matcher serve`` runs werkzeug's development server (threaded). For production use a WSGI
server, e.g. ``gunicorn -w 4 -b 127.0.0.1:8000 "web:create_app()"`` with the settings in
``MATCHER_*`` environment variables or ``instance/config.json``.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from web.cli.common import EXIT_FAILED, EXIT_OK, UsageError, mask_url, open_store, settings_from

DEMO_USERS = (("admin", "admin"), ("counsellor", "counsellor"), ("recruiter", "recruiter"))


def _app(args, **overrides):
    from web import create_app

    config = dict(overrides)
    if getattr(args, "instance", None):
        config["instance_path"] = args.instance
    return create_app(config)


def _run(app, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    print(f"serving on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


# ---- serve -------------------------------------------------------------------------------


def register_serve(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the web interface (development server; production: gunicorn \"web:create_app()\")",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    app = _app(args)
    _run(app, args.host, args.port)
    return EXIT_OK


# ---- demo --------------------------------------------------------------------------------


def register_demo(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="fresh demo database with synthetic data and demo users, then serve it",
        description="Creates (or empties) a separate demo database, fills it with synthetic "
        "workers, orders and enterprises, creates the users admin, counsellor and recruiter with "
        "random passwords (printed once) and serves the app in demo mode.",
    )
    p.add_argument("--database-url", default=None,
                   help="database to (re)create; default: demo.sqlite in the instance folder. "
                        "Everything in it is deleted.")
    p.add_argument("--seed", type=int, default=1244, help="random seed of the synthetic data")
    p.add_argument("--workers", type=int, default=None, help="number of workers (generator default)")
    p.add_argument("--orders", type=int, default=None, help="number of orders (generator default)")
    p.add_argument("--recruiters", type=int, default=None, help="number of enterprises (generator default)")
    p.add_argument("--encoder", default=None, help="encoder spec for the demo (e.g. hashing for a fast start)")
    p.add_argument("--history-years", type=int, default=3,
                   help="years of synthetic history (past orders, applications, departures, classes); 0: none")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--no-serve", action="store_true", help="prepare the database and users, do not serve")
    p.set_defaults(func=cmd_demo)


def _demo_recruiter(s, today):
    """The enterprise the demo recruiter user belongs to: active, with the most open orders."""
    from sqlalchemy import func, select

    from models import JobOrder, Recruiter

    rows = s.execute(
        select(Recruiter, func.count(JobOrder.order_id))
        .join(JobOrder, JobOrder.recruiter_id == Recruiter.recruiter_id)
        .where(JobOrder.status == "open")
        .group_by(Recruiter.recruiter_id)
        .order_by(func.count(JobOrder.order_id).desc(), Recruiter.recruiter_id)
    ).all()
    for r, _n in rows:
        if r.status_on(today) == "active":
            return r
    return rows[0][0] if rows else s.scalars(select(Recruiter).order_by(Recruiter.recruiter_id)).first()


def cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from data.settings import gate_date
    from data.store import Store
    from data.synthetic import generate, save
    from web.services.accounts import create_user

    settings = settings_from(args)
    url = args.database_url or f"sqlite:///{Path(settings['instance_path']).resolve() / 'demo.sqlite'}"
    today = gate_date(settings)
    sizes = {k: v for k, v in (("workers", args.workers), ("orders", args.orders), ("recruiters", args.recruiters)) if v}
    store = Store(url)
    try:
        store.reset()
        data = generate(seed=args.seed, today=today, **sizes)
        past = None
        if args.history_years > 0:  # built before saving: completed classes raise the profiles
            from data import history

            past = history.build(data, seed=args.seed, years=args.history_years, today=today)
        with store.session() as s:
            save(s, data)
            if past is not None:
                history.save(s, past)
        passwords = {}
        with store.session() as s:
            recruiter = _demo_recruiter(s, today)
            for name, role in DEMO_USERS:
                password = secrets.token_urlsafe(9)
                create_user(s, name, password, role, recruiter.recruiter_id if role == "recruiter" else None,
                            full_name={"admin": "Quản trị viên", "counsellor": "Tư vấn viên",
                                       "recruiter": recruiter.name}[role])
                passwords[name] = password
        print(f"demo database: {mask_url(url)}")
        print(f"loaded {len(data.recruiters)} enterprises, {len(data.orders)} job orders "
              f"({len(data.truth.illegal)} deliberately illegal), {len(data.workers)} workers")
        if past is not None:
            gone = sum(1 for a in past.applications if a.stage == "departed")
            print(f"history of {args.history_years} years: {len(past.orders)} past orders, {len(past.applications)} "
                  f"applications ({gone} departed), {len(past.courses)} training classes")
        print("demo users (the passwords are shown only now):")
        for name, role in DEMO_USERS:
            extra = f"  enterprise {recruiter.recruiter_id} ({recruiter.name})" if role == "recruiter" else ""
            print(f"  {name:<11} {passwords[name]}  role {role}{extra}")
    finally:
        store.dispose()
    if args.no_serve:
        return EXIT_OK
    overrides = {"demo": True, "database_url": url}
    if args.encoder:
        overrides["encoder"] = args.encoder
    from web.cli.model import prepare_in_child

    prepare_in_child(args, overrides.get("encoder") or settings["encoder"])
    app = _app(args, **overrides)
    # Build the match index before the first request (encoding every profile and order takes a
    # minute or two with the real model on two cores; it is saved and reused at the next start).
    print("building the match index (progress below; saved in the instance folder for next time)...")
    from web import warm_engine

    warm_engine(app)
    _run(app, args.host, args.port)
    return EXIT_OK


# ---- user --------------------------------------------------------------------------------


def register_user(subparsers) -> None:
    p = subparsers.add_parser("user", help="manage users: add, token, password")
    sub = p.add_subparsers(dest="user_command", metavar="ACTION")
    sub.required = True
    add = sub.add_parser("add", help="add a user; the password is read from standard input")
    add.add_argument("name", help="user name (no spaces)")
    add.add_argument("--role", required=True, choices=("admin", "counsellor", "recruiter"))
    add.add_argument("--recruiter", default=None, help="enterprise id (recruiter role only)")
    add.add_argument("--full-name", default=None, help="display name")
    add.set_defaults(func=cmd_user_add)
    tok = sub.add_parser("token", help="issue a new personal API token (printed once; replaces the old one)")
    tok.add_argument("name", help="user name")
    tok.set_defaults(func=cmd_user_token)
    pw = sub.add_parser("password", help="set a new password (read from standard input, checked by the password "
                                         "policy); the user must change it at the next sign-in and every open "
                                         "session of theirs ends")
    pw.add_argument("name", help="user name")
    pw.set_defaults(func=cmd_user_password)


def _read_password() -> str:
    if sys.stdin.isatty():  # pragma: no cover - interactive
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UsageError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user_add(args: argparse.Namespace) -> int:
    from web.services.accounts import AuthError, create_user

    password = _read_password()
    store = open_store(args)
    try:
        store.init_schema()
        with store.session() as s:
            try:
                user = create_user(s, args.name, password, args.role, args.recruiter, args.full_name)
            except AuthError as exc:
                print(f"matcher user add: error: {exc}", file=sys.stderr)
                return EXIT_FAILED
            from data.repo import audit

            audit(s, None, "create", "user", str(user.id), name=user.username, role=user.role, via="cli")
    finally:
        store.dispose()
    print(f"user {args.name} added (role {args.role})")
    return EXIT_OK


def cmd_user_token(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from models import User
    from models.formatting import format_datetime
    from web.services.accounts import AuthError, issue_token

    days = settings_from(args)["token_lifetime_days"]
    store = open_store(args)
    try:
        with store.session() as s:
            try:
                token = issue_token(s, args.name, lifetime_days=days)
            except AuthError as exc:
                print(f"matcher user token: error: {exc}", file=sys.stderr)
                return EXIT_FAILED
            from data.repo import audit

            expires = s.scalar(select(User.api_token_expires_at).where(User.username == args.name))
            audit(s, None, "token", "user", args.name, via="cli", expires_at=expires.isoformat() + "Z")
    finally:
        store.dispose()
    print(token)
    print(f"(shown only once; send it as 'Authorization: Bearer <token>'; valid {days} days, "
          f"until {format_datetime(expires, 'en')})", file=sys.stderr)
    return EXIT_OK


def cmd_user_password(args: argparse.Namespace) -> int:
    """The administrator's reset from the command line (e.g. when no administrator can sign in)."""
    from sqlalchemy import select

    from models import User
    from web.services.accounts import AuthError, reset_user_password

    password = _read_password()
    store = open_store(args)
    try:
        store.init_schema()
        with store.session() as s:
            user = s.scalar(select(User).where(User.username == args.name))
            try:
                if user is None:
                    raise AuthError(f"Không có tài khoản tên {args.name!r}.", f"No user named {args.name!r}.")
                ended = reset_user_password(s, user, password)
            except AuthError as exc:
                print(f"matcher user password: error: {exc}", file=sys.stderr)
                return EXIT_FAILED
            from data.repo import audit

            audit(s, None, "password_reset", "user", str(user.id), name=user.username, sessions_ended=ended, via="cli")
    finally:
        store.dispose()
    print(f"password of {args.name} set; it must be changed at the next sign-in ({ended} open sessions ended)")
    return EXIT_OK


WEB_COMMANDS = [register_serve, register_demo, register_user]
