"""The `qa` command: index a folder, ask a question, serve the API and chat."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from qa.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qa", description="Grounded question answering over your documents.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="index a folder (incremental)")
    index.add_argument("path", nargs="?", type=Path, help="folder to index (default: the demo corpus)")

    ask = commands.add_parser("ask", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole answer object")
    ask.add_argument("--top-k", type=int)
    ask.add_argument("--generator", help="auto, extractive or llm")

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

    bench = commands.add_parser("bench", help="measure speed and retrieval quality on this machine")
    bench.add_argument("--out", type=Path, default=Path("eval/reports/bench"),
                       help="folder for bench.json and the chart")
    bench.add_argument("--skip", nargs="*", default=[],
                       help="sections to leave out: quality indexing latency server scale")

    serve = commands.add_parser("serve", help="serve the HTTP API and the chat")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)

    args = parser.parse_args(argv)
    from qa.components import stay_offline

    stay_offline()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "httpx", "chromadb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings()
        command = {"index": _index, "ask": _ask, "eval": _eval, "bench": _bench, "serve": _serve}[args.command]
        return command(args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every failure the user can act on ends here, as one line
        from eval.harness import TargetError
        from index.store import StoreError
        from qa.service import InvalidRequest

        if isinstance(exc, (InvalidRequest, StoreError, TargetError, NotADirectoryError, OSError, ValueError)):
            print(f"qa: error: {exc}", file=sys.stderr)
            return 2
        raise


def _index(args, settings: Settings) -> int:
    from tqdm import tqdm

    from qa.components import build_index

    folder = args.path or settings.corpus_dir
    parts = build_index(settings)
    bar = tqdm(total=0, unit="chunk", desc="embedding", file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    report = parts.indexer.index_folder(folder, progress)
    bar.close()
    print(report.summary(str(folder)))
    return 0


def _service_for(generator: str | None, settings: Settings):
    """The service a one-off command needs: no model is started for an extractive answer."""
    from qa.service import QAService

    if generator == "extractive":
        settings = settings.model_copy(update={"generator": "extractive"})
    service = QAService.from_settings(settings)
    service.wait_until_ready()
    return service


def _ask(args, settings: Settings) -> int:
    service = _service_for(args.generator, settings)
    try:
        answer = service.ask(args.question, top_k=args.top_k, generator=args.generator)
    finally:
        service.close()
    if answer.notice:
        print(f"note: {answer.notice}", file=sys.stderr)
    if args.json:
        print(json.dumps(answer.model_dump(), ensure_ascii=False, indent=2))
        return 0
    print(answer.answer)
    for citation in answer.citations:
        print(f"\n[{citation.n}] {citation.title} ({citation.doc_id}, chars {citation.start}-{citation.end})")
        print("    " + citation.text.replace("\n", " ")[:400])
    return 0


def _eval(args, settings: Settings) -> int:
    from tqdm import tqdm

    from eval import gate
    from eval.corpora import CORPORA, prepare_eval
    from eval.dataset import load_set
    from eval.harness import InProcess, OverHttp, run
    from eval.metrics import summarise
    from eval.report import format_table, write_reports
    from index.embedders import E5Embedding
    from qa.support import SupportScorer

    eval_set, settings = prepare_eval(args.eval_set, settings, index=not args.url)
    items = load_set(eval_set)
    if args.url:
        target = OverHttp(args.url, args.generator, settings.api_key)
        judge = SupportScorer(E5Embedding())
    else:
        service = _service_for(args.generator, settings)
        target = InProcess(service, args.generator)
        judge = SupportScorer(service.parts.embed_model)
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


def _bench(args, settings: Settings) -> int:
    from eval.bench import run, table

    figures = run(settings.corpus_dir, args.out, tuple(args.skip))
    print()
    print(table(figures))
    chart = f", chart: {args.out / 'latency_vs_size.png'}" if "scale" in figures else ""
    print(f"\nFigures: {args.out / 'bench.json'}{chart}")
    return 0


def _serve(args, settings: Settings) -> int:
    import uvicorn

    from qa.api import create_app
    from qa.service import QAService
    from ui.app import mount

    host = args.host or settings.host
    port = args.port or settings.port
    service = QAService.from_settings(settings)
    app = mount(create_app(service), service)
    print(f"Serving the chat on http://{host}:{port}/ and the API on http://{host}:{port}/v1 (docs: /docs)", flush=True)
    try:
        # Forwarded addresses are the app's to trust (QA_TRUSTED_PROXIES), not uvicorn's.
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
