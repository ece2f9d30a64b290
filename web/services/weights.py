"""Versions of the scoring weights: the packaged ones (``models/resources/weights/scoring-vN.json``,
read-only, ``scoring-v1`` the fallback) and the fitted ones that ``matcher weights fit`` writes
into the instance folder (``<instance>/weights/fitted-vN.json``, never into the installed package).

The version in use is the ``scoring_weights`` setting, unless an administrator chose another in
the admin page or with ``matcher weights use`` (``<instance>/weights/in-use.json``, written
atomically; every process reads it before ranking, so a switch needs no restart). Nothing ever
takes the newest file by itself. No Flask here: the admin view and the CLI call these functions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from matcher.scoring import PACKAGED_DEFAULT, Weights, WeightsError, parse_weights, weights_files

FITTED_PREFIX = "fitted-v"
CHOICE_FILE = "in-use.json"
_NAME = re.compile(r"^(scoring|fitted)-v(\d{1,6})$")


@dataclass(frozen=True)
class WeightsVersion:
    name: str
    origin: str  # "packaged" or "fitted"
    path: Path
    weights: Weights
    recorded: dict = field(default_factory=dict)  # fitted_at, outcomes, metrics when written by fit


def weights_folder(instance_path: str | os.PathLike) -> Path:
    return Path(instance_path) / "weights"


def _read(path: Path, origin: str) -> WeightsVersion:
    text = path.read_text(encoding="utf-8")
    weights = parse_weights(text, origin=str(path))
    doc = json.loads(text)
    recorded = {k: doc[k] for k in ("fitted_at", "outcomes", "metrics", "based_on") if k in doc}
    return WeightsVersion(path.stem, origin, path, weights, recorded)


def list_versions(instance_path: str | os.PathLike) -> list[WeightsVersion]:
    """Every version, packaged first, each group by number; a broken fitted file is skipped
    (it is named by :func:`load_version` when chosen)."""
    out = [_read(p, "packaged") for p in weights_files()]
    folder = weights_folder(instance_path)
    fitted = sorted(folder.glob(f"{FITTED_PREFIX}*.json"), key=lambda p: int(p.stem[len(FITTED_PREFIX):] or 0)
                    if p.stem[len(FITTED_PREFIX):].isdigit() else -1)
    for p in fitted:
        if _NAME.match(p.stem):
            try:
                out.append(_read(p, "fitted"))
            except (WeightsError, OSError, ValueError):
                continue
    return out


def _unknown(name: str, instance_path) -> WeightsError:
    known = ", ".join(v.name for v in list_versions(instance_path))
    return WeightsError(
        f"Không có bộ trọng số tên {name!r}; các phiên bản có: {known}. / "
        f"No scoring weights named {name!r}; the versions are: {known}."
    )


def find_version(name: str, instance_path: str | os.PathLike) -> WeightsVersion:
    """The version called ``name`` (``scoring-v1``, ``fitted-v2``); WeightsError naming the
    versions that exist when there is none, or saying what is wrong with its file."""
    name = (name or "").strip()
    m = _NAME.match(name)
    if not m:
        raise _unknown(name, instance_path)
    if m.group(1) == "scoring":
        path = weights_files()[0].with_name(f"{name}.json")
        origin = "packaged"
    else:
        path = weights_folder(instance_path) / f"{name}.json"
        origin = "fitted"
    if not path.is_file():
        raise _unknown(name, instance_path)
    return _read(path, origin)


@dataclass(frozen=True)
class InUse:
    name: str
    chosen_by: str | None = None  # None: the setting decides
    chosen_at: str | None = None


def in_use(settings: dict) -> InUse:
    """The version in use: the administrator's choice if one is recorded, else the setting."""
    path = weights_folder(settings["instance_path"]) / CHOICE_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return InUse(str(doc["name"]), doc.get("by"), doc.get("at"))
    except FileNotFoundError:
        return InUse(settings.get("scoring_weights") or PACKAGED_DEFAULT)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WeightsError(f"{path}: không đọc được ({exc}); xóa tệp để dùng thiết lập scoring_weights. / "
                           f"{path}: unreadable ({exc}); delete it to use the scoring_weights setting.") from None


def weights_in_use(settings: dict) -> Weights:
    return find_version(in_use(settings).name, settings["instance_path"]).weights


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def use_version(settings: dict, name: str, by: str) -> tuple[str, str]:
    """Choose ``name`` for every later ranking; returns (previous, new). WeightsError if unknown."""
    version = find_version(name, settings["instance_path"])
    previous = in_use(settings).name
    doc = {"name": version.name, "by": by, "at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    _write_atomically(weights_folder(settings["instance_path"]) / CHOICE_FILE, json.dumps(doc, ensure_ascii=False) + "\n")
    return previous, version.name


def next_fitted(instance_path: str | os.PathLike) -> tuple[str, int]:
    """Name and number of the next fitted version: above every packaged and fitted number."""
    n = max((v.weights.version for v in list_versions(instance_path)), default=0) + 1
    return f"{FITTED_PREFIX}{n}", n


def write_fitted(instance_path: str | os.PathLike, weights: Weights, report: dict, based_on: str) -> Path:
    """Write a fitted version into the instance folder (never over an existing file)."""
    name = f"{FITTED_PREFIX}{weights.version}"
    path = weights_folder(instance_path) / f"{name}.json"
    if path.exists():
        raise WeightsError(f"{path} đã có. / {path} already exists.")
    doc = json.loads(weights.to_json())
    doc.update({
        "fitted_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "based_on": based_on,
        "outcomes": report.get("n_train", 0) + report.get("n_test", 0),
        "metrics": {k: report[k] for k in ("auc_before", "auc_after") if k in report},
    })
    _write_atomically(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return path
