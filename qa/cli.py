"""The `qa` command: index a folder and ask a question; the layers above add their own commands.

`qa serve` (ui/) and `qa eval`, `qa bench` (eval/) are registered as entry points in the
"qa.commands" group (pyproject.toml), so this module never imports the layers built on it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path

from qa.settings import Settings

COMMANDS_GROUP = "qa.commands"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qa", description="Grounded question answering over your documents.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="index a folder (incremental)")
    index.add_argument("path", nargs="?", type=Path, help="folder to index (default: the demo corpus)")
    index.set_defaults(run=_index)

    ask = commands.add_parser("ask", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole answer object")
    ask.add_argument("--top-k", type=int)
    ask.add_argument("--generator", help="auto, extractive or llm")
    ask.set_defaults(run=_ask)

    for command in sorted(entry_points(group=COMMANDS_GROUP), key=lambda point: point.name):
        command.load()(commands)

    args = parser.parse_args(argv)
    from qa.container import stay_offline

    stay_offline()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "httpx", "chromadb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.run(args, Settings())
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every failure the user can act on ends here, as one line
        from index.store.errors import StoreError
        from qa.validation import InvalidRequest

        if isinstance(exc, (InvalidRequest, StoreError, NotADirectoryError, OSError, ValueError)):
            print(f"qa: error: {exc}", file=sys.stderr)
            return 2
        raise


def _index(args, settings: Settings) -> int:
    from tqdm import tqdm

    from qa.container import build_index

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


def service_for(generator: str | None, settings: Settings):
    """The service a one-off command needs: no model is started for an answer in quotes, which is
    what `auto` gives unless a model server is configured."""
    from qa.service import QAService

    if settings.generator_for(generator) == "extractive":
        settings = settings.model_copy(update={"generator": "extractive"})
    service = QAService.from_settings(settings)
    service.wait_until_ready()
    return service


def _ask(args, settings: Settings) -> int:
    service = service_for(args.generator, settings)
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


if __name__ == "__main__":
    sys.exit(main())
