"""Scoring: weights files, contributions adding up, feature functions."""

import json

import numpy as np
import pytest

from matcher import scoring


def test_packaged_weights_load_and_cover_every_feature():
    w = scoring.load_weights()
    assert w.version >= 1
    assert set(w.values) == set(scoring.FEATURES)
    assert w.total > 0


def test_contributions_sum_to_score():
    w = scoring.load_weights()
    feats = {f: (i + 1) / 10 for i, f in enumerate(scoring.FEATURES)}
    s = scoring.combine(feats, w)
    assert sum(s.contributions.values()) == pytest.approx(s.score)
    assert 0 <= s.score <= 1


@pytest.mark.parametrize(
    "text, match",
    [
        ("{}", "expected"),
        ('{"version": 1, "weights": {"nonsense": 1}}', "unknown features"),
        ('{"version": 1, "weights": {"wage_fit": -1}}', "non-negative"),
    ],
)
def test_bad_weights_files_are_refused(text, match):
    with pytest.raises(scoring.WeightsError, match=match):
        scoring.parse_weights(text)


def test_feature_functions():
    assert scoring.country_preference("JP", ["JP", "KR"]) == 1.0
    assert scoring.country_preference("KR", ["JP", "KR"]) == pytest.approx(0.8)
    assert scoring.country_preference("DE", ["JP"]) == pytest.approx(0.1)
    assert scoring.country_preference("DE", []) == 0.5
    assert scoring.wage_fit(20e6, 10e6) == 1.0
    assert scoring.wage_fit(5e6, 10e6) == 0.0
    assert scoring.fee_fit(0, 0) == 1.0
    assert scoring.fee_fit(30e6, 20e6) == pytest.approx(0.5)
    assert scoring.experience_fit(1, 2) == 0.5
    assert scoring.date_fit(2) == 0.5
    assert scoring.calibrate(0.9, 0.8, 0.05) > scoring.calibrate(0.85, 0.8, 0.05)


def test_fit_weights_recovers_the_informative_feature():
    rng = np.random.default_rng(0)
    X = rng.random((400, len(scoring.FEATURES)))
    informative = scoring.FEATURES.index("language_fit")
    y = (X[:, informative] + 0.1 * rng.standard_normal(400) > 0.5).astype(int)
    w, report = scoring.fit_weights(X, y, version=99)
    assert max(w.values, key=w.values.get) == "language_fit"
    assert report["auc_after"] > report["auc_before"]
    assert json.loads(w.to_json())["version"] == 99


def test_related_experience_counts_related_entries_in_full():
    entries = [("lam ruong", 6.0, False, 5.0),  # the vocabulary says unrelated: z does not matter
               ("tho han", 1.5, True, -3.0),    # the vocabulary says related: z does not matter
               ("viec khac", 2.0, None, 0.4),   # unknown to the vocabulary: z above the threshold
               ("viec nua", 9.0, None, -0.1),   # unknown, z below
               ("tho han", 0.0, True, 9.0)]     # no years
    total, best = scoring.related_experience(entries, threshold=0.0)
    assert total == 3.5 and best == ("viec khac", 2.0)
    assert scoring.related_experience([], 0.0) == (0.0, None)
    assert scoring.related_experience(entries[:1]) == (0.0, None)
