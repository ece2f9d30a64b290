"""A server takes in changes made by another process (a second gunicorn worker, an import on the
command line) row by row: the engine is not rebuilt, only the changed rows are read, and the next
ranking and training-needs page show the change. ``engine_refresh = rebuild`` rebuilds instead."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from models import Application, LanguageCertificate, Worker
from web.views.db import get_store
from web.views.engine import get_engine
from webtesting import make_app, worker

JSON = {"Accept": "application/json"}


def _ranked(client, order_id: str) -> set[str]:
    r = client.get(f"/api/orders/{order_id}/matches?top=50", headers=JSON)
    assert r.status_code == 200, r.get_data(as_text=True)
    return {m["item_id"] for m in r.get_json()["matches"]}


def _other_process(app):
    """A session of its own, as another process would write (the app's engine is not told)."""
    return get_store(app).session()


@pytest.mark.parametrize("mode", ["incremental", "rebuild"])
def test_a_worker_added_and_removed_elsewhere_shows_in_the_next_ranking(db_url, tmp_path, mode):
    app = make_app(db_url, tmp_path, engine_refresh=mode)
    client = app.test_client()
    from webtesting import AuthActions

    AuthActions(client).as_user("counsellor")
    before = _ranked(client, "ORD-A1")
    holder = get_engine(app)
    assert holder.builds == 1 and "W-NEW" not in before
    with _other_process(app) as s:
        s.add(Worker(worker_id="W-NEW", full_name="Nông Văn Mới", **worker(national_id="004098009999")))
    assert "W-NEW" in _ranked(client, "ORD-A1")
    with _other_process(app) as s:
        s.execute(delete(Application).where(Application.worker_id == "W-NEW"))
        s.execute(delete(LanguageCertificate).where(LanguageCertificate.worker_id == "W-NEW"))
        s.execute(delete(Worker).where(Worker.worker_id == "W-NEW"))
    assert "W-NEW" not in _ranked(client, "ORD-A1")
    if mode == "incremental":
        assert holder.builds == 1 and holder.caught_up == 2
    else:
        assert holder.builds == 3 and holder.caught_up == 0
    get_store(app).dispose()


def test_an_edit_elsewhere_moves_the_training_needs_without_a_rebuild(db_url, tmp_path):
    app = make_app(db_url, tmp_path)
    client = app.test_client()
    from webtesting import AuthActions

    AuthActions(client).as_user("counsellor")
    assert client.get("/intel/needs").status_code == 200
    holder = get_engine(app)
    with app.app_context():
        from web.views.db import get_session

        needs_before = holder.training_needs(get_session()).to_dict()
    with _other_process(app) as s:  # ten workers leave the pool
        for w in s.query(Worker).filter(Worker.active.is_not(False)).order_by(Worker.worker_id).limit(10):
            w.active = False
    with app.app_context():
        from web.views.db import get_session

        needs_after = holder.training_needs(get_session()).to_dict()
    assert needs_after["active_workers"] == needs_before["active_workers"] - 10
    assert holder.builds == 1 and holder.caught_up >= 1
    get_store(app).dispose()


def test_the_warm_up_builds_the_engine_and_todays_training_needs(app):
    from web import warm_engine

    warm_engine(app)
    holder = get_engine(app)
    assert holder.builds == 1 and holder.needs is not None
    client = app.test_client()
    from webtesting import AuthActions

    AuthActions(client).as_user("counsellor")
    cells = dict(holder.needs._cells)
    assert cells  # every active worker's pairs were read at the warm-up
    assert client.get("/intel/needs").status_code == 200
    assert holder.builds == 1 and holder.needs._cells.keys() == cells.keys()
