"""Building the engine from the store: one function shared by the web app and the CLI.

The saved vector cache in the instance folder (``data.vectorfile``) is used when it is sound
and of the configured encoder; anything else is re-encoded from the database, and the cache is
written back, so a lost or corrupt index heals itself at the next start without a manual step.
The saved faiss indexes are used as they are when they hold exactly the current ids and vectors
(a restart with unchanged data trains and fills no index); otherwise they are built and saved.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from data.repo import enterprise_returns, exchange_rates, pair_outcomes, snapshot
from data.vectorfile import index_dir, index_files, load_vectors_or_empty, save_vectors
from matcher.encoder import load_encoder
from matcher.outcomes import Outcomes
from matcher.ranker import Engine

log = logging.getLogger(__name__)


def load_outcomes(s: Session) -> Outcomes:
    """The recorded outcomes (closed pairs, workers abroad, enterprises' early returns) as the
    engine takes them."""
    closed, departed = pair_outcomes(s)
    return Outcomes(closed, frozenset(departed), enterprise_returns(s))


from web.services.weights import weights_in_use  # noqa: E402


def build_engine(s: Session, settings: dict[str, Any], day: dt.date, save_cache: bool = True) -> Engine:
    """Snapshot the store, fit the engine (reusing saved vectors), and save the vectors back."""
    encoder = load_encoder(
        settings["encoder"],
        cache_dir=settings.get("model_cache") or None,
        threads=settings.get("encoder_threads") or None,
    )
    folder = index_dir(settings["instance_path"])
    cache = load_vectors_or_empty(folder, encoder.name)
    recruiters, orders, workers = snapshot(s)
    engine = Engine(
        encoder,
        exact_threshold=int(settings.get("exact_index_threshold") or 20000),
        vector_cache=cache,
        saved_indexes=index_files(folder) if cache else None,  # mapped: workers share them
        weights=weights_in_use(settings),
    ).fit(recruiters, orders, workers, today=day, rates=exchange_rates(s))
    engine.set_outcomes(load_outcomes(s))
    # rebuilt, or read from an older version's file that cannot be mapped: saved (again)
    rebuilt = (engine.index_names_ - engine.reused_indexes_) | (engine.reused_indexes_ - engine.mapped_indexes_)
    if save_cache and (len(engine.vectors_) != len(cache) or rebuilt):
        try:
            save_vectors(folder, encoder.name, engine.vectors_, engine.index_blobs())
        except OSError as exc:  # a read-only instance folder must not stop the service
            log.warning("could not save the vector cache to %s: %s", folder, exc)
    return engine
