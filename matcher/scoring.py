"""Named features -> one score, with each feature's contribution.

Every feature lies in [0, 1]. The score is the weighted mean of the features, so the
contributions (weight x value / sum of weights) add up exactly to the score and the UI can say
why a match ranks where it does. Weights live in versioned JSON files under ``models/resources/weights``.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

log = logging.getLogger(__name__)

FEATURES = (
    "occupation_similarity",
    "experience_fit",
    "language_fit",
    "country_preference",
    "sector_preference",
    "wage_fit",
    "fee_fit",
    "date_fit",
)

FEATURE_LABELS = {
    "occupation_similarity": ("Nghề và kỹ năng phù hợp", "Occupation and skills"),
    "experience_fit": ("Kinh nghiệm", "Experience"),
    "language_fit": ("Trình độ ngoại ngữ", "Language level"),
    "country_preference": ("Nước mong muốn", "Preferred country"),
    "sector_preference": ("Ngành mong muốn", "Preferred sector"),
    "wage_fit": ("Mức lương so với mong muốn", "Wage vs the worker's minimum"),
    "fee_fit": ("Chi phí so với khả năng chi trả", "Fees vs what the worker can pay"),
    "date_fit": ("Thời gian sẵn sàng", "Availability vs departure"),
}


class WeightsError(ValueError):
    """A weights file is missing, malformed or names an unknown feature."""


@dataclass(frozen=True)
class Weights:
    version: int
    values: Mapping[str, float]
    source: str = ""

    @property
    def total(self) -> float:
        return float(sum(self.values.values()))

    def to_json(self) -> str:
        return json.dumps(
            {"version": self.version, "source": self.source, "weights": dict(self.values)},
            indent=2,
            ensure_ascii=False,
        )


def _weights_dir() -> Path:
    return Path(str(resources.files("models") / "resources" / "weights"))


def weights_files() -> list[Path]:
    return sorted(_weights_dir().glob("scoring-v*.json"), key=lambda p: int(p.stem.split("-v")[1]))


def parse_weights(text: str, origin: str = "weights") -> Weights:
    try:
        doc = json.loads(text)
        values = {str(k): float(v) for k, v in doc["weights"].items()}
        version = int(doc["version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise WeightsError(f"{origin}: expected {{'version': int, 'weights': {{feature: number}}}} ({exc})") from None
    unknown = set(values) - set(FEATURES)
    if unknown:
        raise WeightsError(f"{origin}: unknown features {sorted(unknown)}; known: {list(FEATURES)}")
    if any(v < 0 for v in values.values()) or sum(values.values()) <= 0:
        raise WeightsError(f"{origin}: weights must be non-negative with a positive sum; got {values}")
    values = {f: values.get(f, 0.0) for f in FEATURES}
    return Weights(version=version, values=values, source=str(doc.get("source", "")))


PACKAGED_DEFAULT = "scoring-v1"  # the fallback; the version in use is a setting (web/weights.py)


def load_weights(path: str | Path | None = None) -> Weights:
    """The packaged default weights (``scoring-v1``, never merely the newest file), or the file at
    ``path``."""
    p = Path(path) if path is not None else _weights_dir() / f"{PACKAGED_DEFAULT}.json"
    return parse_weights(p.read_text(encoding="utf-8"), origin=str(p))


@dataclass
class Scored:
    score: float
    features: dict[str, float]
    contributions: dict[str, float] = field(default_factory=dict)


def combine(features: Mapping[str, float], weights: Weights) -> Scored:
    """Weighted mean of the features with per-feature contributions summing to the score."""
    total = weights.total
    contributions = {f: weights.values[f] * float(features.get(f, 0.0)) / total for f in FEATURES}
    return Scored(score=float(sum(contributions.values())), features=dict(features), contributions=contributions)


# ---- feature functions (pure, each returns a value in [0, 1]) ---------------------------


def calibrate(similarity: float, mean: float, std: float) -> float:
    """Map a raw similarity onto [0, 1] by its z-score against background pairs.

    Embedding cosines of one model sit in a narrow band (0.78-0.95 for multilingual-e5-small),
    so a fixed threshold would be wrong for another model: a logistic of the z-score is not.
    """
    z = (similarity - mean) / (std if std > 1e-9 else 1e-9)
    return 1.0 / (1.0 + math.exp(-(z - 1.5)))


def country_preference(country: str, preferred: Sequence[str]) -> float:
    """1.0 for the first choice, decreasing by rank; 0.1 if the worker listed others only."""
    prefs = [c.strip().upper() for c in preferred or [] if c and c.strip()]
    if not prefs:
        return 0.5
    if country.upper() in prefs:
        return max(0.4, 1.0 - 0.2 * prefs.index(country.upper()))
    return 0.1


def wage_fit(wage_vnd: float | None, min_wage_vnd: float | None) -> float:
    """1.0 at or above the worker's minimum, falling with the shortfall; 0.5 when unknown."""
    if wage_vnd is None or not min_wage_vnd:
        return 0.5 if wage_vnd is None else 0.8
    ratio = wage_vnd / min_wage_vnd
    if ratio >= 1:
        return min(1.0, 0.85 + 0.15 * min(1.0, ratio - 1))
    return max(0.0, 0.85 * (ratio - 0.5) / 0.5)


def fee_fit(cost_vnd: float, max_fee_vnd: float | None) -> float:
    """1.0 when the worker can pay the fees (or there are none), falling to 0 at twice the budget."""
    if cost_vnd <= 0:
        return 1.0
    if max_fee_vnd is None:
        return 0.6
    if cost_vnd <= max_fee_vnd:
        return 1.0
    if max_fee_vnd <= 0:
        return 0.0
    return max(0.0, 1.0 - (cost_vnd - max_fee_vnd) / max_fee_vnd)


# An experience entry the vocabulary cannot judge (``matcher.vocabulary.related`` is None)
# counts as related when its similarity z-score to the order reaches this: the threshold that
# best reproduces the vocabulary's own verdicts on the judged set's occupations and orders
# (``python -m evaluation.experience_threshold``: z >= 0, balanced accuracy 0.69 on 4,352 pairs;
# the encoder alone separates trades poorly, which is why the vocabulary decides first).
EXPERIENCE_Z_THRESHOLD = 0.0


def related_experience(entries: Sequence[tuple[str, float, bool | None, float]],
                       threshold: float = EXPERIENCE_Z_THRESHOLD) -> tuple[float, tuple[str, float] | None]:
    """Years of related experience and the related occupation with the most years.

    ``entries``: (occupation, years, the vocabulary's verdict, similarity z-score). The
    vocabulary decides when it knows both sides; otherwise the z-score against ``threshold``.
    Related entries count in full and unrelated ones not at all, so the total is the sum of the
    years of the occupations it names (the explanation's figure and its main occupation agree).
    """
    total, best = 0.0, None
    for occupation, years, verdict, z in entries:
        if years <= 0 or not (verdict if verdict is not None else z >= threshold):
            continue
        total += years
        if best is None or years > best[1]:
            best = (occupation, years)
    return total, best


def experience_fit(relevant_years: float, min_years: float | None) -> float:
    """Relevant years against the order's minimum (or against 3 years when it sets none)."""
    need = float(min_years) if min_years else 0.0
    if need > 0:
        return float(min(1.0, relevant_years / need))
    return float(min(1.0, 0.4 + 0.2 * relevant_years))


def date_fit(available_months_late: float) -> float:
    """1.0 when the worker is available by the departure date, losing 0.25 per month late."""
    return float(max(0.0, 1.0 - 0.25 * max(0.0, available_months_late)))


LANGUAGE_FEATURE = {"none_required": 0.9, "ok": 1.0, "gap": 0.45, "fail": 0.0}


def fit_weights(X: np.ndarray, y: np.ndarray, version: int, seed: int = 0,
                current: Weights | None = None) -> tuple[Weights, dict]:
    """Learn weights from recorded outcomes with a logistic regression.

    ``X`` holds the features (columns in FEATURES order), ``y`` 1 for selected/departed and 0
    for rejected/withdrawn. Returns the new weights and a report with the held-out ROC AUC of
    the current weights (``current``, the packaged default when None) and the new ones. Negative coefficients are clipped to 0 (a feature may not
    count against a match), then scaled to sum to 1.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=int)
    if X.ndim != 2 or X.shape[1] != len(FEATURES):
        raise ValueError(f"X must have {len(FEATURES)} columns ({', '.join(FEATURES)}); got shape {X.shape}")
    if len(set(y.tolist())) < 2 or len(y) < 20:
        raise ValueError(
            f"need at least 20 outcomes of both kinds (selected/departed and rejected/withdrawn); got {len(y)}"
        )
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    current = current or load_weights()
    w_cur = np.array([current.values[f] for f in FEATURES])
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(X_tr, y_tr)
    coef = np.clip(model.coef_[0], 0, None)
    if coef.sum() <= 0:
        coef = w_cur.copy()
    coef = coef / coef.sum()
    report = {
        "n_train": int(len(y_tr)),
        "n_test": int(len(y_te)),
        "auc_before": float(roc_auc_score(y_te, X_te @ w_cur)),
        "auc_after": float(roc_auc_score(y_te, X_te @ coef)),
    }
    weights = Weights(
        version=version,
        values={f: round(float(c), 4) for f, c in zip(FEATURES, coef)},
        source=f"logistic regression on {len(y)} recorded outcomes; held-out AUC "
        f"{report['auc_before']:.3f} -> {report['auc_after']:.3f}",
    )
    return weights, report
