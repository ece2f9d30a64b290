"""An HTML page gathering benchmark runs: one table and one bar plot per benchmark.

``python -m evaluation report RUN1.json RUN2.json ... --out report.html`` (or ``--out DIR``,
which writes ``DIR/report.html`` and, when no run files are given, reads ``DIR/*.json``).
The page is self-contained: plots are inline PNG (matplotlib, Agg backend), no external assets.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

METRIC_ORDER = ("map", "mrr", "ndcg@10", "ndcg@5", "acc@1", "p@5", "recall@1", "recall@5", "recall@10",
                "kendall_tau")
_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f0f0f0} td.l{text-align:left}
tr.ref td{color:#666;font-style:italic}
img{max-width:100%;border:1px solid #eee}
"""


def load_runs(paths: Sequence[Path]) -> list[dict]:
    runs = []
    for p in paths:
        data = json.loads(Path(p).read_text(encoding="utf-8"))
        if not {"benchmark", "rows"} <= set(data):
            raise ValueError(f"{p}: not a benchmark run (needs 'benchmark' and 'rows').")
        data["_file"] = str(p)
        runs.append(data)
    return runs


def _metrics(rows: list[dict]) -> list[str]:
    keys = {k for r in rows for k in r if k not in ("system", "subset", "n", "run")}
    return [m for m in METRIC_ORDER if m in keys] + sorted(keys - set(METRIC_ORDER))


def _is_reference(system: str) -> bool:
    return ":" in system or system == "inter-annotator"


def _rows_of(runs: list[dict]) -> list[dict]:
    multi = len(runs) > 1
    out = []
    for run in runs:
        tag = f"{run.get('model', '?')} {run.get('date', '')}"
        seen_refs = set()
        for r in run["rows"]:
            if _is_reference(r["system"]) and multi:
                key = (r["system"], r["subset"])
                if key in seen_refs:
                    continue
                seen_refs.add(key)
            out.append({**r, "run": tag})
    if multi:  # keep one copy of the reference rows across runs
        uniq, seen = [], set()
        for r in out:
            key = (r["system"], r["subset"]) if _is_reference(r["system"]) else None
            if key and key in seen:
                continue
            if key:
                seen.add(key)
            uniq.append(r)
        out = uniq
    return out


ABLATION_COLUMNS = (("lexical", None, "lexical"), ("dense", "base", "raw-model"), ("hybrid", "base", "engine"),
                    ("fine-tuned", "tuned", "raw-model"), ("fine-tuned hybrid", "tuned", "engine"))


def _is_tuned(run: dict) -> bool:
    return "+lora" in str(run.get("model", ""))


def _adapter(run: dict) -> str:
    """The adapter a tuned run names in its ``model`` ("...+lora:e5-jobs-lora-v3+onnx-int8" ->
    "e5-jobs-lora-v3"; "" when it names none)."""
    rest = str(run.get("model", "")).split("+lora", 1)[-1]
    return rest[1:].split("+", 1)[0] if rest.startswith(":") else ""


def ablation(runs: list[dict]) -> list[dict]:
    """The issue-8 ablation of one benchmark from a base-model run and a fine-tuned run.

    One row per subset with the headline metric (the first of METRIC_ORDER the runs report):
    lexical, dense (raw base model), hybrid (engine, base), fine-tuned (raw tuned model),
    fine-tuned hybrid (engine, tuned). Empty unless both a base and a tuned run are given. The
    tuned run is the last one of the first adapter given; each other adapter's last run adds a
    column ``fine-tuned hybrid (<adapter>)`` with its engine rows (:func:`ablation_columns`).
    """
    base = [r for r in runs if not _is_tuned(r)]
    tuned = [r for r in runs if _is_tuned(r)]
    if not base or not tuned:
        return []
    main = _adapter(tuned[0])
    kinds = {"base": base[-1], "tuned": [r for r in tuned if _adapter(r) == main][-1]}
    others = {_adapter(r): r for r in tuned if _adapter(r) != main}
    measured = [r for run in [*kinds.values(), *others.values()] for r in run["rows"]
                if not _is_reference(r["system"])]
    metrics = _metrics(measured)
    if not metrics:
        return []
    metric = metrics[0]
    out = []
    for subset in dict.fromkeys(r["subset"] for r in measured):
        row = {"subset": subset, "metric": metric}
        for col, kind, system in ABLATION_COLUMNS:
            for k in ([kind] if kind else ["tuned", "base"]):
                hit = [r.get(metric) for r in kinds[k]["rows"] if r["system"] == system and r["subset"] == subset]
                if hit and isinstance(hit[0], int | float):
                    row[col] = hit[0]
                    break
        for name, run in others.items():
            hit = [r.get(metric) for r in run["rows"] if r["system"] == "engine" and r["subset"] == subset]
            if hit and isinstance(hit[0], int | float):
                row[f"fine-tuned hybrid ({name})"] = hit[0]
        if any(k not in ("subset", "metric") for k in row):
            out.append(row)
    return out


def ablation_columns(rows: list[dict]) -> list[str]:
    """The columns of :func:`ablation` rows: the five fixed ones, then one per other adapter."""
    cols = [c for c, _, _ in ABLATION_COLUMNS]
    return cols + list(dict.fromkeys(k for r in rows for k in r if k not in ("subset", "metric") and k not in cols))


def ablation_plot_png(by_benchmark: dict[str, list[dict]], title: str = "Ablation: lexical, dense, hybrid, fine-tuned") -> bytes:
    """One panel per benchmark: the :func:`ablation` rows as grouped bars (one bar per column)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    items = [(b, rows) for b, rows in by_benchmark.items() if rows]
    if not items:
        raise ValueError("no ablation rows: give a base-model run and a fine-tuned (+lora) run of a benchmark.")
    cols = ablation_columns([r for _, rows in items for r in rows])
    fig, axes = plt.subplots(len(items), 1, figsize=(10, 2.8 * len(items)), squeeze=False)
    cmap = plt.get_cmap("tab10")
    width = 0.8 / len(cols)
    for ax, (bench, rows) in zip(axes[:, 0], items):
        x = np.arange(len(rows))
        for j, col in enumerate(cols):
            vals = [r.get(col, np.nan) for r in rows]
            ax.bar(x + j * width - 0.4 + width / 2, vals, width, label=col, color=cmap(j))
        ax.set_xticks(x)
        ax.set_xticklabels([r["subset"] for r in rows], fontsize=8, rotation=15)
        ax.set_ylabel(rows[0]["metric"])
        ax.set_title(bench, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _ablation_html(rows: list[dict]) -> str:
    cols = ablation_columns(rows)
    out = ['<table class="ablation">', "<tr><th>subset</th><th>metric</th>"
           + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"]
    for r in rows:
        vals = [r[c] for c in cols if c in r]
        best = max(vals) if vals else None
        cells = []
        for c in cols:
            v = r.get(c)
            txt = f"{v:.4f}" if isinstance(v, int | float) else ""
            cells.append(f"<td><b>{txt}</b></td>" if v is not None and v == best else f"<td>{txt}</td>")
        out.append(f'<tr><td class="l">{html.escape(str(r["subset"]))}</td><td class="l">{html.escape(r["metric"])}</td>'
                   + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def bar_plot_png(rows: list[dict], title: str) -> bytes:
    """Grouped bars: one panel per metric, subsets on the x axis, one bar per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = _metrics(rows) or ["(none)"]
    labels = list(dict.fromkeys(f"{r['system']}" + (f" [{r['run']}]" if r.get("_multi") else "") for r in rows))
    subsets = list(dict.fromkeys(r["subset"] for r in rows))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(max(8, 1.2 * len(subsets) + 4), 2.6 * len(metrics)),
                             squeeze=False)
    cmap = plt.get_cmap("tab20")
    for ax, metric in zip(axes[:, 0], metrics):
        width = 0.8 / max(1, len(labels))
        for j, label in enumerate(labels):
            vals = []
            for s in subsets:
                v = [r.get(metric) for r in rows if r["subset"] == s and r["system"] == label.split(" [")[0]]
                v = [x for x in v if isinstance(x, int | float)]
                vals.append(v[0] if v else np.nan)
            if all(np.isnan(vals)):
                continue
            ax.bar(np.arange(len(subsets)) + j * width - 0.4 + width / 2, vals, width, label=label,
                   color=cmap(j % 20), hatch="//" if _is_reference(label) else None)
        ax.set_ylabel(metric)
        ax.set_xticks(np.arange(len(subsets)))
        ax.set_xticklabels(subsets, fontsize=8, rotation=15)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_title(title)
    handles, names = axes[0, 0].get_legend_handles_labels()
    for ax in axes[1:, 0]:
        for h, n in zip(*ax.get_legend_handles_labels()):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _table(rows: list[dict], multi: bool) -> str:
    metrics = _metrics(rows)
    head = ["subset", "system"] + (["run"] if multi else []) + ["n"] + metrics
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        cls = ' class="ref"' if _is_reference(r["system"]) else ""
        cells = [f'<td class="l">{html.escape(str(r["subset"]))}</td>', f'<td class="l">{html.escape(r["system"])}</td>']
        if multi:
            cells.append(f'<td class="l">{html.escape(r.get("run", ""))}</td>')
        cells.append(f"<td>{html.escape(str(r.get('n', '')))}</td>")
        for m in metrics:
            v = r.get(m)
            cells.append(f"<td>{v:.4f}</td>" if isinstance(v, int | float) else "<td></td>")
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _by_benchmark(runs: list[dict]) -> dict[str, list[dict]]:
    """Runs grouped by benchmark name, in first-seen order."""
    out: dict[str, list[dict]] = {}
    for run in runs:
        out.setdefault(run["benchmark"], []).append(run)
    return out


def render(runs: list[dict]) -> str:
    """The whole page as a string."""
    by_bench = _by_benchmark(runs)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Benchmark report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Benchmark report</h1>",
             "<p>Systems: <b>engine</b> = hybrid dense + character TF-IDF (matcher.similarity); <b>lexical</b> = "
             "char_wb TF-IDF 2-4 over folded text; <b>raw-model</b> = the encoder on raw text. Rows in grey "
             "italics are figures copied from BASELINES.md or publications, not measured in this run. When a benchmark "
             "has a base-model run and a fine-tuned (+lora) run, an ablation table compares lexical, dense, hybrid, "
             "fine-tuned and fine-tuned hybrid.</p>",
             "<ul>" + "".join(f'<li><a href="#{html.escape(b)}">{html.escape(b)}</a></li>' for b in by_bench) + "</ul>"]
    for bench, bruns in by_bench.items():
        multi = len(bruns) > 1
        rows = _rows_of(bruns)
        meta = "; ".join(f"{html.escape(r.get('model', '?'))}, {html.escape(r.get('date', '?'))} "
                         f"({html.escape(Path(r['_file']).name) if '_file' in r else ''})" for r in bruns)
        png = base64.b64encode(bar_plot_png(rows, bench)).decode("ascii")
        parts += [f'<h2 id="{html.escape(bench)}">{html.escape(bench)}</h2>', f"<p>Runs: {meta}</p>"]
        abl = ablation(bruns)
        if abl:
            parts += ["<h3>Ablation (best in bold)</h3>", _ablation_html(abl)]
        parts += [_table(rows, multi),
                  f'<img alt="{html.escape(bench)} bar plot" src="data:image/png;base64,{png}">']
    parts.append("</body></html>")
    return "\n".join(parts)


def markdown(runs: list[dict], measured_only: bool = False) -> str:
    """The same tables as Markdown (used to write evaluation/RESULTS.md)."""
    by_bench = _by_benchmark(runs)
    out = []
    for bench, bruns in by_bench.items():
        rows = [r for r in _rows_of(bruns) if not (measured_only and _is_reference(r["system"]))]
        metrics = _metrics(rows)
        abl = ablation(bruns)
        if abl:
            cols = ablation_columns(abl)
            out += [f"### {bench}: ablation", "", "| subset | metric | " + " | ".join(cols) + " |",
                    "|---|---|" + "---|" * len(cols)]
            for r in abl:
                out.append(f"| {r['subset']} | {r['metric']} | "
                           + " | ".join(f"{r[c]:.3f}" if c in r else "" for c in cols) + " |")
            out.append("")
        out += [f"### {bench}", "", "| subset | system | n | " + " | ".join(metrics) + " |",
                "|---|---|---|" + "---|" * len(metrics)]
        for r in rows:
            vals = [f"{r[m]:.3f}" if isinstance(r.get(m), int | float) else "" for m in metrics]
            out.append(f"| {r['subset']} | {r['system']} | {r.get('n', '')} | " + " | ".join(vals) + " |")
        out.append("")
    return "\n".join(out)


def _targets(run_files: Sequence[Path], out: Path) -> tuple[list[Path], Path]:
    """The run files to read and the HTML path to write (``out`` may be a directory: its
    report.html, and its *.json when no run file is given)."""
    out = Path(out)
    files = list(run_files)
    if out.suffix.lower() != ".html":
        out.mkdir(parents=True, exist_ok=True)
        if not files:
            files = sorted(out.glob("*.json"))
        out = out / "report.html"
    if not files:
        raise ValueError("report needs at least one run JSON file.")
    out.parent.mkdir(parents=True, exist_ok=True)
    return files, out


def write_report(run_files: Sequence[Path], out: Path) -> Path:
    files, out = _targets(run_files, out)
    out.write_text(render(load_runs(files)), encoding="utf-8")
    return out


def _run(args) -> int:
    files, path = _targets(args.runs, args.out)
    runs = load_runs(files)
    path.write_text(render(runs), encoding="utf-8")
    print(f"wrote {path}")
    if args.ablation_png:
        by_bench = _by_benchmark(runs)
        Path(args.ablation_png).write_bytes(ablation_plot_png({b: ablation(r) for b, r in by_bench.items()}))
        print(f"wrote {args.ablation_png}")
    if args.markdown:
        Path(args.markdown).write_text(markdown(runs), encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="HTML page with a table and a bar plot per benchmark")
    p.add_argument("runs", nargs="*", type=Path, help="benchmark JSON files (default: OUT_DIR/*.json)")
    p.add_argument("--out", type=Path, required=True, help="report.html, or a directory to write report.html into")
    p.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    p.add_argument("--ablation-png", type=Path,
                   help="also plot the ablation (benchmarks with a base and a fine-tuned run) as one PNG here")
    p.set_defaults(func=_run)
