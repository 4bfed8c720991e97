"""`qa eval` and `qa bench`: measuring the service, registered into the `qa` command (pyproject.toml)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa.settings import Settings


def register_eval(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("eval", help="measure grounding on an evaluation set")
    evaluate.add_argument("--set", dest="eval_set", type=Path,
                          help="JSON Lines eval set, or a corpus name from eval/corpora.py (fetched and indexed apart) "
                          "(default: eval/sets/demo.jsonl)")
    evaluate.add_argument("--generator", help="auto, extractive or llm")
    evaluate.add_argument("--url", help="evaluate a running server (POST /v1/ask) instead of in-process")
    evaluate.add_argument("--out", type=Path, default=Path("eval/reports/latest"), help="folder for the reports")
    evaluate.add_argument("--gate", action="store_true", help="exit 1 when a metric is under its threshold")
    evaluate.add_argument("--conversation", action="store_true",
                          help="ask the set as one conversation, each question after the ones before it")
    evaluate.set_defaults(run=run_eval)


def register_bench(commands: argparse._SubParsersAction) -> None:
    bench = commands.add_parser("bench", help="measure speed and retrieval quality on this machine")
    bench.add_argument("--out", type=Path, default=Path("eval/reports/bench"),
                       help="folder for bench.json and the chart")
    bench.add_argument("--skip", nargs="*", default=[],
                       help="sections to leave out: quality indexing latency server scale")
    bench.set_defaults(run=run_bench)


def run_eval(args, settings: Settings) -> int:
    from tqdm import tqdm

    from eval import gate
    from eval.corpora import CORPORA, prepare_eval
    from eval.dataset import load_set
    from eval.harness import InProcess, OverHttp, run
    from eval.metrics import summarise
    from eval.report import format_table, write_reports
    from qa.cli import service_for
    from qa.container import build_judge

    eval_set, settings = prepare_eval(args.eval_set, settings, index=not args.url)
    items = load_set(eval_set)
    if args.url:
        target = OverHttp(args.url, args.generator, settings.api_key)
        judge = build_judge(settings)
    else:
        service = service_for(args.generator, settings)
        target = InProcess(service, args.generator)
        judge = service.judge
    bar = tqdm(total=len(items), unit="question", desc="evaluating", file=sys.stderr, disable=None)
    try:
        results = run(items, target, judge, progress=lambda done, total: bar.update(1), conversation=args.conversation)
    finally:
        bar.close()
        if not args.url:
            service.close()
    summary = summarise(results)
    generator = results[0].answer.generator
    meta = {"set": str(eval_set), "generator": generator, "target": args.url or "in-process", "questions": len(items),
            "conversation": args.conversation}
    print(format_table(summary))
    paths = write_reports(results, summary, args.out, meta)
    print("\nReports: " + ", ".join(str(p) for p in paths.values()))
    set_name = str(args.eval_set) if str(args.eval_set) in CORPORA else Path(eval_set).stem
    failures = gate.check(summary, generator, set_name) if args.gate else []
    for failure in failures:
        print(f"below threshold: {failure}", file=sys.stderr)
    return 1 if failures else 0


def run_bench(args, settings: Settings) -> int:
    from eval.bench.runner import CHART_FILE, FIGURES_FILE, run
    from eval.bench.table import table

    figures = run(settings.corpus_dir, args.out, tuple(args.skip))
    print()
    print(table(figures))
    chart = f", chart: {args.out / CHART_FILE}" if "scale" in figures else ""
    print(f"\nFigures: {args.out / FIGURES_FILE}{chart}")
    return 0
