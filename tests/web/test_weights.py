"""Versioned scoring weights (issue 15): ``matcher weights fit`` writes a new version into the
instance folder, the ``scoring_weights`` setting names the version in use (never the newest
file), an administrator switches versions on the admin page (audited, effective at the next
ranking without a restart), and a bad version name gets a clear message."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from data.settings import SettingsError
from matcher.scoring import FEATURES, Weights, WeightsError, load_weights, weights_files
from models import Application, AuditEvent
from web import create_app
from web.cli import main
from web.views.db import get_store
from web.views.engine import get_engine
from web.services.weights import find_version, in_use, list_versions, next_fitted, use_version, weights_in_use, write_fitted
from webtesting import TODAY, csrf_of, make_app

ONLY_COUNTRY = {f: (1.0 if f == "country_preference" else 0.0) for f in FEATURES}


def _fit(instance, values=ONLY_COUNTRY):
    name, n = next_fitted(instance)
    path = write_fitted(instance, Weights(version=n, values=values, source="test"),
                        {"n_train": 21, "n_test": 9, "auc_before": 0.61, "auc_after": 0.7}, based_on="scoring-v1")
    assert path.stem == name
    return name


def test_the_packaged_default_is_v1_and_a_fitted_version_lives_in_the_instance(tmp_path):
    packaged = sorted(p.name for p in weights_files())
    assert load_weights().version == 1
    name = _fit(tmp_path)
    assert name == "fitted-v2" and (tmp_path / "weights" / "fitted-v2.json").is_file()
    assert sorted(p.name for p in weights_files()) == packaged  # nothing written into the package
    versions = {v.name: v for v in list_versions(tmp_path)}
    assert versions["scoring-v1"].origin == "packaged" and versions["fitted-v2"].origin == "fitted"
    assert versions["fitted-v2"].recorded["metrics"] == {"auc_before": 0.61, "auc_after": 0.7}
    assert versions["fitted-v2"].recorded["outcomes"] == 30
    # the newest file is not taken by itself: the setting decides
    settings = {"instance_path": str(tmp_path), "scoring_weights": "scoring-v1"}
    assert weights_in_use(settings).version == 1
    assert weights_in_use({**settings, "scoring_weights": "fitted-v2"}).values["country_preference"] == 1.0
    assert _fit(tmp_path) == "fitted-v3"


@pytest.mark.parametrize("name", ["scoring-v99", "fitted-v7", "newest", "../config", "fitted-v2/../x", ""])
def test_bad_version_names_are_refused_naming_the_versions(tmp_path, name):
    _fit(tmp_path)
    with pytest.raises(WeightsError) as err:
        find_version(name, tmp_path)
    msg = str(err.value)
    assert msg.index("Không có bộ trọng số") < msg.index("No scoring weights named")
    assert "scoring-v1" in msg and "fitted-v2" in msg


def test_a_broken_fitted_file_is_named(tmp_path):
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "fitted-v2.json").write_text('{"version": 2, "weights": {"nope": 1}}')
    assert [v.name for v in list_versions(tmp_path)] == ["scoring-v1"]
    with pytest.raises(WeightsError, match="unknown features"):
        find_version("fitted-v2", tmp_path)


def test_a_bad_setting_stops_the_start(db_url, tmp_path):
    with pytest.raises(SettingsError, match="scoring_weights.*No scoring weights named 'scoring-v9'"):
        create_app({"TESTING": True, "database_url": db_url, "encoder": "hashing", "secret_key": "k",
                    "instance_path": str(tmp_path), "scoring_weights": "scoring-v9"})


def test_use_version_records_who_and_wins_over_the_setting(tmp_path):
    _fit(tmp_path)
    settings = {"instance_path": str(tmp_path), "scoring_weights": "scoring-v1"}
    assert use_version(settings, "fitted-v2", by="lan") == ("scoring-v1", "fitted-v2")
    chosen = in_use(settings)
    assert (chosen.name, chosen.chosen_by) == ("fitted-v2", "lan") and chosen.chosen_at.endswith("Z")
    with pytest.raises(WeightsError):
        use_version(settings, "fitted-v5", by="lan")
    assert in_use(settings).name == "fitted-v2"  # a refused switch changes nothing


def test_admin_switches_versions_audited_and_the_next_ranking_uses_them(app, client, auth):
    instance = app.instance_path
    name = _fit(instance)
    holder = get_engine(app)
    with app.app_context(), get_store(app).session() as s:
        assert holder.get(s).weights_.version == 1
    auth.login("admin")
    page = client.get("/admin/weights").get_data(as_text=True)
    assert "scoring-v1" in page and name in page and "đang dùng" in page and "0,610 → 0,700" in page
    bad = client.post("/admin/weights/use", data={"name": "fitted-v9", "csrf_token": csrf_of(page)})
    assert bad.status_code == 422 and "Không có bộ trọng số" in bad.get_data(as_text=True)
    ok = client.post("/admin/weights/use", data={"name": name, "csrf_token": csrf_of(page)})
    assert ok.status_code == 302
    with app.app_context(), get_store(app).session() as s:
        engine = holder.get(s)
        assert engine.weights_.values == ONLY_COUNTRY  # no restart, no rebuild
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "weights_use"))
        assert (event.username, event.entity, event.entity_id) == ("admin", "scoring_weights", name)
        assert event.detail["previous"] == "scoring-v1"
        worker = engine.workers_["W-CONSENT"]
        ranking = engine.rank_orders(worker, top_k=5, today=TODAY)
        for m in ranking.matches:  # every score is the country feature alone now
            assert m.score == pytest.approx(m.features["country_preference"])
    page = client.get("/admin/weights").get_data(as_text=True)
    back = client.post("/admin/weights/use", data={"name": "scoring-v1", "csrf_token": csrf_of(page)})
    assert back.status_code == 302  # the rollback
    with app.app_context(), get_store(app).session() as s:
        assert holder.get(s).weights_.version == 1


def test_cli_fit_writes_a_new_version_into_the_instance_and_use_switches(db_url, tmp_path, capsys):
    app = make_app(db_url, tmp_path)
    inst = tmp_path / "instance"
    try:
        with app.app_context(), get_store(app).session() as s:
            engine = get_engine(app).get(s)
            seeded = {tuple(r) for r in s.execute(select(Application.worker_id, Application.order_id))}
            n = 0
            for wid in sorted(engine.workers_):
                for i, m in enumerate(engine.rank_orders(engine.workers_[wid], top_k=3, today=TODAY).matches):
                    if (wid, m.item_id) in seeded:
                        continue
                    stage = "selected" if i == 0 else "rejected"  # the best-ranked one is chosen
                    s.add(Application(worker_id=wid, order_id=m.item_id, stage=stage))
                    n += 1
        assert n >= 30
    finally:
        get_store(app).dispose()
    (inst / "config.json").write_text(json.dumps({"database_url": db_url, "encoder": "hashing",
                                                  "today": TODAY.isoformat(), "secret_key": "k"}))
    packaged = sorted(p.name for p in weights_files())
    assert main(["--instance", str(inst), "weights", "fit"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {inst / 'weights' / 'fitted-v2.json'}" in out
    assert sorted(p.name for p in weights_files()) == packaged
    fitted = find_version("fitted-v2", inst)
    assert fitted.recorded["based_on"] == "scoring-v1" and fitted.weights.total == pytest.approx(1.0, abs=1e-3)
    assert main(["--instance", str(inst), "weights", "list"]) == 0
    listed = capsys.readouterr().out
    assert "* scoring-v1" in listed and "  fitted-v2" in listed
    assert main(["--instance", str(inst), "weights", "use", "fitted-v9"]) == 1
    assert "No scoring weights named 'fitted-v9'" in capsys.readouterr().err
    assert main(["--instance", str(inst), "weights", "use", "fitted-v2", "--user", "lan"]) == 0
    assert main(["--instance", str(inst), "weights", "show"]) == 0
    assert capsys.readouterr().out.count("fitted-v2") >= 2
