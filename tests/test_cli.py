"""The `qa` command: answers, JSON, and clear errors with a non-zero exit."""

import json
import os
import subprocess
import sys


def qa(*args, settings):
    """`qa` in a subprocess on the test index, quoting: what is tested here is the command, not the
    model (tests/test_llm.py tests that), and `auto` would copy, hash and start the 1.1 GB model."""
    env = {**os.environ, "QA_DATA_DIR": str(settings.data_dir),
           "QA_EMBEDDING_CACHE": str(settings.embedding_cache_path), "QA_GENERATOR": "extractive"}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_ask_prints_the_answer_and_its_sources(demo_service, demo_settings):
    result = qa("ask", "Combien d’employés ont signé la lettre ?", settings=demo_settings)
    assert result.returncode == 0, result.stderr
    assert "505" in result.stdout and "[1]" in result.stdout


def test_ask_json_prints_the_answer_object(demo_service, demo_settings):
    result = qa("ask", "--json", "How many employees signed the letter?", settings=demo_settings)
    answer = json.loads(result.stdout)
    assert answer["language"] == "en" and answer["citations"]


def test_an_extractive_question_does_not_start_the_local_model(demo_service, demo_settings):
    from qa.cli import service_for

    service = service_for("extractive", demo_settings.model_copy(update={"generator": "auto", "local_llm": True}))
    try:
        assert service.generators.local_server is None and set(service.generators.available) == {"extractive"}
        assert "505" in service.ask("How many employees signed the letter?").answer
    finally:
        service.close()


def test_an_empty_question_is_an_error(demo_service, demo_settings):
    result = qa("ask", "  ", settings=demo_settings)
    assert result.returncode == 2
    assert "qa: error: the question is empty" in result.stderr


def test_indexing_a_missing_folder_is_an_error(make_settings, tmp_path):
    result = qa("index", str(tmp_path / "nowhere"), settings=make_settings())
    assert result.returncode == 2
    assert "not a folder" in result.stderr


def test_evaluating_a_server_that_is_not_there_is_an_error(make_settings):
    result = qa("eval", "--url", "http://127.0.0.1:9", settings=make_settings())
    assert result.returncode == 2
    assert "qa: error: cannot reach http://127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr
