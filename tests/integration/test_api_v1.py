"""The full HTTP API over real loopback HTTP: streaming, the OpenAI-compatible
endpoints (through the official `openai` client), documents, auth and limits."""

from pathlib import Path

import httpx
import pytest

from qa.api.app import create_app
from qa.service import QAService
from tests.helpers import serving, sse_events


@pytest.fixture(scope="module")
def own_service(indexed_copy):
    """A service with its own index, because these tests add and remove documents."""
    service = QAService.from_settings(indexed_copy("api-index", rate_limit_per_minute=0))
    yield service
    service.close()


@pytest.fixture(scope="module")
def url(own_service):
    with serving(create_app(own_service)) as base_url:
        yield base_url


def test_ask_stream_sends_deltas_then_citations_then_the_answer(url):
    with httpx.stream("POST", f"{url}/v1/ask/stream", json={"question": "Combien d’employés ont signé la lettre ?"},
                      timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(sse_events(response))
    names = [name for name, _ in events]
    assert names[0] == "delta" and names[-2:] == ["citations", "done"]
    assert set(names[:-2]) == {"delta"}
    answer = events[-1][1]
    assert "".join(data["text"] for name, data in events if name == "delta") == answer["answer"]
    assert events[-2][1]["citations"] == answer["citations"] and "505" in answer["answer"]


def test_ask_stream_refuses_a_bad_request_with_a_json_error(url):
    response = httpx.post(f"{url}/v1/ask/stream", json={"question": " "}, timeout=30)
    assert response.status_code == 422 and "question" in response.json()["error"]["message"]


def test_the_openai_client_gets_a_cited_answer(url):
    from openai import OpenAI

    client = OpenAI(base_url=f"{url}/v1", api_key="unused")
    assert "grounded-qa" in [m.id for m in client.models.list()]
    completion = client.chat.completions.create(
        model="grounded-qa", messages=[{"role": "user", "content": "How many employees signed the letter?"}])
    assert "505" in completion.choices[0].message.content
    assert any("505" in c["text"] for c in completion.model_extra["citations"])


def test_the_openai_client_streams_with_citations_in_the_last_chunk(url):
    from openai import OpenAI

    client = OpenAI(base_url=f"{url}/v1", api_key="unused")
    stream = client.chat.completions.create(
        model="grounded-qa-extractive", stream=True,
        messages=[{"role": "system", "content": "ignored"}, {"role": "user", "content": "Qui est Emmett Shear ?"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Shear" in text and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"]


FOLLOW_UP = [
    {"role": "user", "content": "Quel poste occupait Mira Murati chez OpenAI ?"},
    {"role": "assistant", "content": "Elle était directrice de la technologie."},
]


def test_a_follow_up_is_made_standalone_before_retrieval(url):
    follow_up = {"question": "Et qui l’a remplacée ?", "history": FOLLOW_UP}
    answer = httpx.post(f"{url}/v1/ask", json=follow_up, timeout=60).json()
    assert "Mira Murati" in answer["standalone_question"]
    assert "Murati" in answer["answer"]  # without the history, nothing says who "she" is


def test_chat_messages_become_the_conversation(url):
    body = {"model": "grounded-qa", "messages": [*FOLLOW_UP, {"role": "user", "content": "Et qui l’a remplacée ?"}]}
    completion = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60).json()
    assert "Murati" in completion["choices"][0]["message"]["content"]


def test_an_unknown_model_is_a_404(url):
    request = {"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}
    response = httpx.post(f"{url}/v1/chat/completions", json=request)
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"


def test_documents_can_be_uploaded_asked_about_and_deleted(url, own_service):
    note = "Le club de voile de Valcourt a été fondé en 1987 par Jeanne Martin. Il compte 240 membres.".encode()
    response = httpx.post(f"{url}/v1/documents", files=[("files", ("voile.txt", note, "text/plain"))], timeout=120)
    assert response.status_code == 200, response.text
    assert response.json()["documents"] == [{"filename": "voile.txt", "doc_id": "voile", "chunks": 1}]
    listed = httpx.get(f"{url}/v1/documents").json()["documents"]
    assert "voile" in [d["doc_id"] for d in listed] and len(listed) == 6

    question = {"question": "Qui a fondé le club de voile de Valcourt ?"}
    answer = httpx.post(f"{url}/v1/ask", json=question, timeout=60).json()
    assert "Jeanne Martin" in answer["answer"] and answer["citations"][0]["doc_id"] == "voile"

    assert httpx.delete(f"{url}/v1/documents/voile").status_code == 204
    assert "voile" not in [d["doc_id"] for d in httpx.get(f"{url}/v1/documents").json()["documents"]]
    assert not (own_service.settings.uploads_dir / "voile.txt").exists()
    missing = httpx.delete(f"{url}/v1/documents/voile")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("fausse.pdf", b"Ceci n'est pas un PDF, juste du texte.", "not_what_it_claims"),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(200), "not_what_it_claims"),
        ("vide.md", b"", "empty"),
        ("programme.exe", b"MZ\x90\x00", "unsupported_type"),
    ],
)
def test_uploads_are_sniffed_not_trusted_by_name(url, name, data, code):
    files = [("files", (name, data, "application/octet-stream"))]
    response = httpx.post(f"{url}/v1/documents", files=files, timeout=60)
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "upload_rejected" and error["message"].startswith(f"{name}: ")
    assert [(f["filename"], f["code"]) for f in error["files"]] == [(name, code)]
    assert error["message"] == f"{name}: {error['files'][0]['message']}"


def test_an_upload_with_a_file_over_the_limit_is_a_413_naming_each_file_s_code(url, own_service):
    too_big = b"a" * (own_service.settings.max_upload_bytes + 1)
    files = [("files", ("enorme.txt", too_big, "text/plain")), ("files", ("vide.md", b"", "text/markdown"))]
    response = httpx.post(f"{url}/v1/documents", files=files, timeout=120)
    assert response.status_code == 413
    problems = response.json()["error"]["files"]
    assert [(p["filename"], p["code"]) for p in problems] == [("enorme.txt", "too_large"), ("vide.md", "empty")]
    assert "20 MB upload limit" in problems[0]["message"]


def test_an_upload_that_indexes_some_files_lists_the_others_with_their_code(url):
    note = "La bibliothèque de Valcourt ouvre le samedi matin.".encode()
    files = [("files", ("horaires.txt", note, "text/plain")), ("files", ("programme.exe", b"MZ", "application/x"))]
    response = httpx.post(f"{url}/v1/documents", files=files, timeout=120)
    assert response.status_code == 200, response.text
    assert [d["doc_id"] for d in response.json()["documents"]] == ["horaires"]
    assert [(e["filename"], e["code"]) for e in response.json()["errors"]] == [("programme.exe", "unsupported_type")]
    assert httpx.delete(f"{url}/v1/documents/horaires").status_code == 204


def test_the_spec_documents_each_file_s_code_in_a_rejected_upload(url):
    spec = httpx.get(f"{url}/openapi.json").json()
    responses = spec["paths"]["/v1/documents"]["post"]["responses"]
    for status in ("413", "415"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("/UploadRejected")
    problem = spec["components"]["schemas"]["UploadProblem"]
    assert {"filename", "code", "message"} <= set(problem["required"])


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../../évasion.txt", "évasion.txt"),
        ("/etc/cron.d/évasion.txt", "évasion.txt"),
        ("C:\\Windows\\System32\\évasion.txt", "évasion.txt"),
        ("\u202eévasion\u0000.txt", "_évasion_00.txt"),  # right-to-left override; NUL travels as %00
        ("ｅｖａｓｉｏｎ／..／..／x.txt", "x.txt"),  # full-width slashes fold to '/'
    ],
)
def test_upload_names_cannot_leave_the_uploads_folder(url, own_service, sent, stored):
    data_dir = own_service.settings.data_dir.resolve()
    files_before = set(data_dir.parent.rglob("*"))
    body = "Texte évadé sur la voile, écrit par Jeanne Martin.".encode()
    response = httpx.post(f"{url}/v1/documents", files=[("files", (sent, body, "text/plain"))], timeout=120)
    assert response.status_code == 200, response.text
    written = {p for p in set(data_dir.parent.rglob("*")) - files_before if p.suffix == ".txt"}
    assert written == {own_service.settings.uploads_dir.resolve() / stored}
    assert not Path("/etc/cron.d/évasion.txt").exists()
    doc_id = response.json()["documents"][0]["doc_id"]
    assert httpx.delete(f"{url}/v1/documents/{doc_id}").status_code == 204
    assert not (own_service.settings.uploads_dir / stored).exists()


def test_oversize_bodies_get_a_413(url, own_service):
    limit = own_service.settings.max_json_bytes
    response = httpx.post(f"{url}/v1/ask", content=b'{"question": "' + b"a" * (limit + 10) + b'"}',
                          headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_cors_is_closed_by_default(url):
    response = httpx.options(f"{url}/v1/ask", headers={"Origin": "https://elsewhere.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture
def guarded_url(make_settings, demo_service):
    """The demo index behind an API key, a tight rate limit and one allowed origin."""
    settings = make_settings(data_dir=demo_service.settings.data_dir, api_key="s3cret", rate_limit_per_minute=60,
                             rate_limit_burst=5, cors_origins=["https://app.example"])
    service = QAService.from_settings(settings)
    with serving(create_app(service)) as base_url:
        yield base_url


def test_with_an_api_key_every_v1_route_needs_it(guarded_url):
    assert httpx.get(f"{guarded_url}/openapi.json").status_code == 401
    spec = httpx.get(f"{guarded_url}/openapi.json", headers={"Authorization": "Bearer s3cret"}).json()
    routes = [(method, path) for path, item in spec["paths"].items() for method in item if path.startswith("/v1")]
    assert len(routes) >= 8
    for method, path in routes:
        concrete = path.replace("{doc_id}", "anything")
        response = httpx.request(method.upper(), f"{guarded_url}{concrete}", json={})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthorized"
        wrong = httpx.request(method.upper(), f"{guarded_url}{concrete}", headers={"Authorization": "Bearer nope"},
                              json={})
        assert wrong.status_code == 401
    assert httpx.get(f"{guarded_url}/healthz").status_code == 200
    ok = httpx.get(f"{guarded_url}/v1/documents", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_a_client_over_its_rate_gets_429_with_retry_after(guarded_url):
    headers = {"Authorization": "Bearer s3cret"}
    statuses = [httpx.get(f"{guarded_url}/v1/models", headers=headers).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and 429 in statuses
    limited = httpx.get(f"{guarded_url}/v1/models", headers=headers)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert httpx.get(f"{guarded_url}/healthz").status_code == 200


def test_a_configured_origin_is_allowed(guarded_url):
    response = httpx.options(f"{guarded_url}/v1/ask", headers={"Origin": "https://app.example",
                                                              "Access-Control-Request-Method": "POST"})
    assert response.headers.get("access-control-allow-origin") == "https://app.example"
