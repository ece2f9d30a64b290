"""The store per app and one database session per request (closed at teardown)."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from data.store import Store


def get_store(app: Flask | None = None) -> Store:
    return (app or current_app).extensions["matcher.store"]


def get_session() -> Session:
    """The request's session, opened on first use and closed at the end of the request."""
    if "db_session" not in g:
        g.db_session = get_store().new_session()
    return g.db_session


def settings(app: Flask | None = None) -> dict:
    return (app or current_app).config["MATCHER"]


def today(app: Flask | None = None) -> dt.date:
    """The date the gates use: the ``today`` setting when set, else the real date."""
    from data.settings import gate_date

    return gate_date(settings(app))


def init_app(app: Flask, store: Store) -> None:
    app.extensions["matcher.store"] = store

    @app.teardown_appcontext
    def _close_session(_exc):
        s = g.pop("db_session", None)
        if s is not None:
            # close() rolls back what was not committed (the engine keeps no ORM object: it
            # holds snapshots, models.snapshots).
            s.close()
