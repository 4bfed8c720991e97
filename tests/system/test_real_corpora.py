"""The gate on real manuals: each Debian corpus of eval/corpora.py, fetched (cached) and indexed,
answers its eval set at or above its recorded thresholds, and every quote of every answer is
made of whole evidence units (a sentence, list item, table row or code line).

A corpus that cannot be fetched fails the test with apt's reason: it is not a pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eval import gate
from eval.corpora import CORPORA, prepare_eval
from eval.dataset import load_set
from eval.harness import InProcess, run
from eval.metrics import fragmentary_quotes, summarise
from index.loaders import load_document
from index.text.sentences import unit_spans
from qa.pipeline.support.scorer import SupportScorer
from qa.service import QAService

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", list(CORPORA))
def test_each_real_corpus_passes_its_gate_with_whole_unit_quotes(name, make_settings):
    set_path, settings = prepare_eval(Path(name), make_settings(generator="extractive"))
    service = QAService.from_settings(settings)
    try:
        results = run(load_set(set_path), InProcess(service, "extractive"), SupportScorer(service.parts.embed_model))
        units = {}
        for document in service.documents():
            loaded = load_document(Path(document.source), Path(document.source).parent)
            units[document.doc_id] = unit_spans(loaded.text, loaded.blocks)
        fragments = {r.item.question: f for r in results if (f := fragmentary_quotes(r.answer, units))}
        assert fragments == {}
        assert gate.check(summarise(results), "extractive", name) == []
    finally:
        service.close()
