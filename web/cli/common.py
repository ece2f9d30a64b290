"""What every verb module of the ``matcher`` command shares: exit codes, the usage error, the
settings and the store. The package ``web.cli`` builds the parser from the verb modules; they
import only this module, never the package, so there is no import circle."""

from __future__ import annotations

import argparse
import sys
from typing import Any


EXIT_OK = 0


EXIT_FAILED = 1


EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """Settings (``data.settings.load_settings``) honouring the global ``--instance``."""
    from data.settings import load_settings

    return load_settings(getattr(args, "instance", None))


def open_store(args: argparse.Namespace):
    """A :class:`data.store.Store` for the configured database URL."""
    from data.store import Store

    return Store(settings_from(args)["database_url"])


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy understands: show nothing secret
        return url.split("@", 1)[-1] if "@" in url else url


def require_schema(store) -> bool:
    from sqlalchemy import inspect

    if not inspect(store.engine).has_table("workers"):
        print(
            f"error: the database {mask_url(store.url)} has no tables yet; run `matcher init` first",
            file=sys.stderr,
        )
        return False
    return True
