"""The demo set, run through the harness on the shared demo index, meets the thresholds kept in the repo."""

import pytest

from eval import gate
from eval.dataset import DEFAULT_SET, load_set
from eval.harness import InProcess, run
from eval.metrics import summarise
from eval.report import write_reports


@pytest.mark.slow
def test_the_extractive_generator_passes_the_gate(demo_service, tmp_path):
    results = run(load_set(DEFAULT_SET), InProcess(demo_service, "extractive"), demo_service.judge)
    summary = summarise(results)
    paths = write_reports(results, summary, tmp_path, {"generator": "extractive"})
    assert all(p.exists() and p.stat().st_size > 0 for p in paths.values())
    assert gate.check(summary, "extractive") == []
