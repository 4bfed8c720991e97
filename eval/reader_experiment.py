"""Measure the reader generator (eval/reader.py) against quotes (extractive) on an eval set.

    python -m eval.reader_experiment --set demo [--limit N] [--model FILE]
    python -m eval.reader_experiment --set maint-guide

One pass per set: the extractive answers through the service as `qa eval` asks them,
then the reader over the same retrieval, in two variants from one model call per question:
- `reader+gate`: the service's calibrated abstention first, then the model's choice;
- `reader`: the model's choice alone decides whether to abstain;
- `extractive+veto`: the extractive answer, unless the model chose no unit (then an abstention).
The bundled model runs in its own llama.cpp server (started here, stopped at the end).
Summaries and each question's choice go to eval/reports/reader/<set>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from eval.corpora import prepare_eval
from eval.dataset import DEFAULT_SET, EvalItem, load_set
from eval.harness import InProcess, run
from eval.metrics import summarise
from eval.reader import MAX_UNITS, ReaderGenerator
from eval.report import format_table
from index.text.language import detect_language
from qa.answer import Answer
from qa.generation import local_llm
from qa.generation.llm import build_llm
from qa.phrases import phrase
from qa.pipeline.citations import citations_for
from qa.pipeline.evidence import select_evidence
from qa.pipeline.synthesis import number_passages
from qa.service import QAService
from qa.settings import REPO_ROOT, Settings


class ReaderTarget:
    """Answers with the reader over the service's retrieval; each question reaches the model once,
    and both variants are served from that one call."""

    def __init__(self, service: QAService, reader: ReaderGenerator, variant: str, cache: dict):
        self.service, self.reader, self.variant, self.cache = service, reader, variant, cache

    def ask(self, question: str, history: Sequence[dict] = ()) -> Answer:
        record = self.cache.get(question) or self._read(question)
        self.cache[question] = record
        language = record["language"]
        if self.variant == "veto":  # quotes as today, unless the model found no unit that answers
            quotes = record["extractive"]
            if quotes.abstained or record["choice"]:
                return quotes
            return Answer(question=question, answer=phrase(language, "abstain"), language=language,
                          abstained=True, generator="reader-veto")
        abstained = not record["text"] or (self.variant == "gated" and record["gate"])
        text = phrase(language, "abstain") if abstained else record["text"]
        return Answer(question=question, answer=text, language=language, abstained=abstained, generator="reader",
                      citations=[] if abstained else citations_for(text, record["passages"]))

    def _read(self, question: str) -> dict:
        started = time.perf_counter()
        service = self.service
        language = detect_language(question)
        scored = service.evidence(question, service.settings.top_k)
        gate = service.pipeline.abstention.abstains(question, language, scored)
        passages = number_passages(select_evidence(scored, MAX_UNITS, margin=math.inf))
        retrieval_ms = (time.perf_counter() - started) * 1000
        text = "".join(self.reader.stream(question, language, passages))
        model_ms = (time.perf_counter() - started) * 1000 - retrieval_ms
        return {"extractive": service.ask(question, generator="extractive"), "language": language,
                "gate": gate, "text": text,
                "passages": passages, "choice": self.reader.last_choice,
                "retrieval_ms": retrieval_ms, "model_ms": model_ms}

    def search(self, question: str, top_k: int) -> list[str]:
        return [hit.text for hit in self.service.search(question, top_k)]


VARIANTS = ("reader+gate", "reader", "extractive+veto")
MODEL_START_S = 300
MODEL_TIMEOUT_S, MODEL_MAX_TOKENS = 120, 24  # the reply is a short list of unit numbers


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    base = Settings(_env_file=None, generator="extractive", data_dir=args.data_dir, rate_limit_per_minute=0)
    if args.set == "demo":
        eval_set, settings = DEFAULT_SET, base
    else:
        eval_set, settings = prepare_eval(Path(args.set), base)
    items = load_set(eval_set)[:: args.every][: args.limit]
    service = QAService.from_settings(settings)
    if args.set == "demo":
        service.index_folder(settings.corpus_dir)
    try:
        results, cache = _answer(items, service, args.model or local_llm.assemble(base.models_dir), args.threads)
    finally:
        service.close()
    _charge_waits(results, cache)
    summaries = {name: summarise(r) for name, r in results.items()}
    load = os.getloadavg()
    for name, summary in summaries.items():
        print(f"\n== {name} on {args.set} ({len(items)} questions; load average {load[0]:.2f}) ==")
        print(format_table(summary))
    report = {"set": args.set, "questions": len(items), "load_average": load, "summaries": summaries,
              "items": _choices(results, cache)}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.set}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"\nReport: {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="demo", help="demo, or a corpus name from eval/corpora.py")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--every", type=int, default=1, help="only every Nth question (a sample of the set)")
    parser.add_argument("--model", type=Path, help="the GGUF file (default: assembled under the data dir)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / ".qa" / "reader-experiment",
                        help="where the demo corpus is indexed")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "eval" / "reports" / "reader")
    return parser


def _answer(items: list[EvalItem], service: QAService, model: Path, threads: int) -> tuple[dict, dict]:
    """Each variant's results, and the reader's record per question; the model server loads
    while the extractive answers are measured."""
    server = local_llm.LocalLLMServer(lambda: model, threads).start()
    try:
        results = {"extractive": run(items, InProcess(service, "extractive"), service.judge)}
        print(f"extractive done ({len(items)} questions)", file=sys.stderr, flush=True)
        if not server.wait_ready(MODEL_START_S):
            raise SystemExit(f"the model server did not start: {server.not_ready()}")
        llm = build_llm(local_llm.MODEL_FILE, server.url, None, timeout=MODEL_TIMEOUT_S, max_tokens=MODEL_MAX_TOKENS,
                        context_window=local_llm.CONTEXT_WINDOW)
        reader, cache = ReaderGenerator(llm), {}
        progress = lambda done, total: print(f"reader {done}/{total}", file=sys.stderr, flush=True)
        results["reader+gate"] = run(items, ReaderTarget(service, reader, "gated", cache), service.judge,
                                     progress=progress)
        results["reader"] = run(items, ReaderTarget(service, reader, "alone", cache), service.judge)
        results["extractive+veto"] = run(items, ReaderTarget(service, reader, "veto", cache), service.judge)
    finally:
        server.stop()
    return results, cache


def _charge_waits(results: dict, cache: dict) -> None:
    """Each reader variant's latency is what its user waits: retrieval, then the model if asked."""
    for variant in VARIANTS:
        for result in results[variant]:
            record = cache[result.item.question]
            waited = record["retrieval_ms"] + (0 if variant != "reader" and record["gate"] else record["model_ms"])
            result.latency_ms = round(waited, 1)


def _choices(results: dict, cache: dict) -> list[dict]:
    """Per question: how the extractive answer and the reader fared, and what the model chose."""
    return [{"id": r.item.id, "lang": r.item.lang, "answerable": r.item.answerable,
             "extractive_correct": e.correct, "extractive_abstained": e.answer.abstained,
             "reader_correct": r.correct, "gate": cache[r.item.question]["gate"],
             "choice": cache[r.item.question]["choice"],
             "model_ms": round(cache[r.item.question]["model_ms"], 1), "reader_answer": r.answer.answer}
            for e, r in zip(results["extractive"], results["reader"])]


if __name__ == "__main__":
    sys.exit(main())
