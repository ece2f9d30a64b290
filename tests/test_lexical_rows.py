"""matcher.similarity.LexicalRows under a long random series of changes: its scores and rows
always equal those of a matrix built afresh from the current rows (through the tail, the fold
into the main matrix, the compaction and the inverted index)."""

from __future__ import annotations

import random

import numpy as np
from scipy import sparse

from matcher.similarity import LexicalRows

VOCAB = 40


def _row(rng: random.Random):
    dense = np.zeros((1, VOCAB))
    for t in rng.sample(range(VOCAB), rng.randint(1, 6)):
        dense[0, t] = rng.random()
    return sparse.csr_matrix(dense)


def test_scores_and_rows_follow_every_change():
    rng = random.Random(5)
    current = {f"id{i}": _row(rng) for i in range(300)}
    ids = list(current)
    lex = LexicalRows(sparse.vstack([current[i] for i in ids], format="csr"), ids)
    for step in range(6000):  # two folds of the tail, one compaction
        r = rng.random()
        if r < 0.45:  # change or add
            id_ = rng.choice(list(current)) if rng.random() < 0.7 else f"new{step}"
            current[id_] = _row(rng)
            lex.put(id_, current[id_])
        elif r < 0.6 and len(current) > 50:
            id_ = rng.choice(list(current))
            del current[id_]
            lex.drop(id_)
        if step % 37 == 0:
            live = sorted(current)
            asked = rng.sample(live, min(len(live), rng.randint(1, 80)))
            q = _row(rng)
            expected = np.asarray((sparse.vstack([current[i] for i in asked]) @ q.T).toarray()).ravel()
            assert np.allclose(lex.scores(asked, q), expected)
            assert np.allclose(lex.scores(asked, q), expected)  # the remembered positions, same answer
            assert abs(lex.rows(asked) - sparse.vstack([current[i] for i in asked])).max() == 0
            assert len(lex) == len(current)


def test_positions_are_not_remembered_across_a_change():
    a, b = sparse.csr_matrix(np.eye(3)[[0]]), sparse.csr_matrix(np.eye(3)[[1]])
    lex = LexicalRows(sparse.vstack([a, b], format="csr"), ["a", "b"])
    asked = ["a", "b"]
    assert lex.scores(asked, a).tolist() == [1.0, 0.0]
    lex.put("a", b)  # a's row now equals b's
    assert lex.scores(asked, a).tolist() == [0.0, 0.0]
    assert lex.scores(asked, b).tolist() == [1.0, 1.0]
