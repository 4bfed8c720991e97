"""The `qa` command: answers, JSON, and clear errors with a non-zero exit.

The command runs in this process, as the `qa` script calls it (`qa.cli.main`), on the test
index and answering with quotes: what is tested here is the command, not the model
(system/test_llm.py tests that), nor the process around it (system/test_indexing_faults.py and
test_under_load.py run `qa` as child processes, killed included).
"""

import json
import subprocess

import pytest

from qa.cli import main, service_for


@pytest.fixture
def qa(monkeypatch, capsys):
    """`qa(*args, settings=...)`: the command's exit status and what it printed, on the index `settings` name."""

    def run(*args, settings) -> subprocess.CompletedProcess:
        monkeypatch.setenv("QA_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("QA_EMBEDDING_CACHE", str(settings.embedding_cache_path))
        monkeypatch.setenv("QA_GENERATOR", "extractive")
        capsys.readouterr()
        status = main(list(args))
        printed = capsys.readouterr()
        return subprocess.CompletedProcess(["qa", *args], status, printed.out, printed.err)

    return run


def test_ask_prints_the_answer_and_its_sources(qa, demo_settings, demo_service):
    result = qa("ask", "Combien d’employés ont signé la lettre ?", settings=demo_settings)
    assert result.returncode == 0, result.stderr
    assert "505" in result.stdout and "[1]" in result.stdout


def test_ask_json_prints_the_answer_object(qa, demo_settings, demo_service):
    result = qa("ask", "--json", "How many employees signed the letter?", settings=demo_settings)
    answer = json.loads(result.stdout)
    assert answer["language"] == "en" and answer["citations"]


@pytest.mark.parametrize("generator", ["extractive", None])
def test_a_question_answered_in_quotes_does_not_start_the_local_model(demo_service, demo_settings, generator):
    """Asked for quotes, or by `auto` with no model server configured (auto answers in quotes then)."""
    settings = demo_settings.model_copy(update={"generator": "auto", "local_llm": True, "openai_api_key": None,
                                                "openai_base_url": None})
    service = service_for(generator, settings)
    try:
        assert service.generators.local_server is None and set(service.generators.available) == {"extractive"}
        assert "505" in service.ask("How many employees signed the letter?").answer
    finally:
        service.close()


def test_an_empty_question_is_an_error(qa, demo_settings, demo_service):
    result = qa("ask", "  ", settings=demo_settings)
    assert result.returncode == 2
    assert "qa: error: the question is empty" in result.stderr


def test_indexing_a_missing_folder_is_an_error(qa, make_settings, tmp_path):
    result = qa("index", str(tmp_path / "nowhere"), settings=make_settings())
    assert result.returncode == 2
    assert "not a folder" in result.stderr


def test_evaluating_a_server_that_is_not_there_is_an_error(qa, make_settings):
    result = qa("eval", "--url", "http://127.0.0.1:9", settings=make_settings())
    assert result.returncode == 2
    assert "qa: error: cannot reach http://127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr
