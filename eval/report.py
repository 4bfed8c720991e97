"""Reports a person can read: a terminal table, JSON, Markdown and a chart."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from eval.metrics import GROUPS, ItemResult

# Metrics shown, in order; latency is reported but not charted (different scale).
RATES = (
    "hit@1", "hit@5", "mrr", "correctness", "citation_support", "citation_recall",
    "citation_precision", "abstention_precision", "abstention_recall", "false_abstention", "language_match",
)
LATENCIES = ("latency_p50_ms", "latency_p95_ms")


def _cell(value) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) and value <= 1.0 else f"{value:g}"


def format_table(summary: dict) -> str:
    rows = [("metric", *GROUPS)]
    for metric in ("questions", "answerable", *RATES, *LATENCIES):
        rows.append((metric, *(_cell(summary[g][metric]) for g in GROUPS)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(summary: dict) -> str:
    lines = ["| metric | " + " | ".join(GROUPS) + " |", "|---|" + "---:|" * len(GROUPS)]
    for metric in ("questions", "answerable", *RATES, *LATENCIES):
        lines.append(f"| {metric} | " + " | ".join(_cell(summary[g][metric]) for g in GROUPS) + " |")
    return "\n".join(lines)


def write_reports(results: list[ItemResult], summary: dict, out_dir: Path, meta: dict) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "markdown": out_dir / "report.md", "chart": out_dir / "metrics.png"}
    paths["json"].write_text(json.dumps({"meta": meta, "summary": summary, "items": [_item(r) for r in results]},
                                        ensure_ascii=False, indent=2))
    paths["markdown"].write_text(_markdown(results, summary, meta))
    _chart(summary, paths["chart"], meta)
    return paths


def _item(result: ItemResult) -> dict:
    answer = result.answer
    return {
        "id": result.item.id,
        "lang": result.item.lang,
        "question": result.item.question,
        "answerable": result.item.answerable,
        "must": result.item.must,
        "answer": answer.answer,
        "abstained": answer.abstained,
        "generator": answer.generator,
        "notice": answer.notice,
        "correct": result.correct,
        "citations_ok": result.citations_ok,
        "first_hit": result.first_hit,
        "language_ok": result.language_ok,
        "latency_ms": result.latency_ms,
        "failed": result.failed,
        "citations": [{"n": c.n, "doc_id": c.doc_id, "text": c.text} for c in answer.citations],
        "statements": [asdict(s) for s in result.statements],
    }


def _markdown(results: list[ItemResult], summary: dict, meta: dict) -> str:
    lines = [
        "# Grounding evaluation",
        "",
        "- " + "\n- ".join(f"**{k}**: {v}" for k, v in meta.items()),
        "",
        markdown_table(summary),
        "",
        "![metrics per language](metrics.png)",
        "",
    ]
    failed = [r for r in results if r.failed]
    lines.append(f"## Failed questions ({len(failed)})")
    for r in failed:
        why = "should have abstained" if not r.item.answerable else (
            "abstained" if r.answer.abstained
            else "missing key facts" if not r.correct
            else "facts not in cited passages")
        lines += ["", f"### {r.item.id} ({r.item.lang}): {r.item.question}", "",
                  f"- **why**: {why}; key facts: `{'`, `'.join(r.item.must) or '—'}`",
                  (f"- **retrieval**: first supporting passage at rank "
                   f"{r.first_hit + 1 if r.first_hit is not None else '—'}"),
                  "", "> " + r.answer.answer.replace("\n", "\n> ")]
        for c in r.answer.citations:
            lines += ["", f"[{c.n}] `{c.doc_id}`: " + c.text.replace("\n", " ")[:600]]
    return "\n".join(lines) + "\n"


def _chart(summary: dict, path: Path, meta: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = [m for m in RATES if any(summary[g][m] is not None for g in GROUPS)]
    x = np.arange(len(metrics))
    fig, ax = plt.subplots(figsize=(12, 4.5))
    for i, group in enumerate(GROUPS):
        values = [summary[group][m] or 0.0 for m in metrics]
        bars = ax.bar(x + (i - 1) * 0.27, values, 0.27, label=group)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=6, padding=1)
    ax.set_xticks(x, metrics, rotation=30, ha="right")
    ax.set_ylim(0, 1.22)
    ax.set_ylabel("share")
    ax.set_title(f"Grounding metrics per language — generator: {meta.get('generator', '?')}")
    ax.legend(loc="upper center", ncol=len(GROUPS), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
