"""The HTTP API, exercised over real HTTP on loopback."""

import httpx
import pytest

from qa.api.app import create_app
from tests.helpers import serving


@pytest.fixture(scope="module")
def api(demo_service):
    with serving(create_app(demo_service)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def test_health_reports_documents_and_chunks(api):
    response = api.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["documents"] == 5 and body["chunks"] > 5


def test_ask_in_french_answers_505_with_a_citation_that_holds_it(api):
    response = api.post("/v1/ask", json={"question": "Combien d’employés ont signé la lettre ?"})
    assert response.status_code == 200
    answer = response.json()
    assert "505" in answer["answer"] and answer["language"] == "fr" and answer["abstained"] is False
    assert any("505" in c["text"] for c in answer["citations"])
    assert set(answer) >= {"answer", "language", "abstained", "citations", "generator", "timings_ms"}
    assert set(answer["citations"][0]) >= {"n", "doc_id", "source", "title", "text", "start", "end", "score"}


def test_ask_in_english_is_framed_in_english(api):
    answer = api.post("/v1/ask", json={"question": "How many employees signed the letter?", "top_k": 5}).json()
    assert answer["language"] == "en" and "505" in answer["answer"]


def test_search_returns_ranked_passages(api):
    hits = api.post("/v1/search", json={"question": "Qui est Emmett Shear ?", "top_k": 3}).json()["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert any("Shear" in h["text"] for h in hits)


def test_an_unanswerable_question_abstains(api):
    answer = api.post("/v1/ask", json={"question": "Quelle est la recette de la tarte tatin ?"}).json()
    assert answer["abstained"] is True and answer["citations"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"question": ""},
        {"question": "   \n\t"},
        {"question": "a" * 2001},
        {"question": 123},
        {"question": ["Qui ?"]},
        {"question": "Qui ?", "top_k": "5"},
        {"question": "Qui ?", "top_k": 0},
        {"question": "Qui ?", "top_k": 1000},
        {"question": "Qui ?", "generator": "oracle"},
        {"question": "Qui ?", "unexpected": True},
        {},
        [],
        "Qui ?",
    ],
)
def test_bad_requests_get_a_4xx_with_a_json_error(api, body):
    response = api.post("/v1/ask", json=body)
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert error["code"] and error["message"]


@pytest.mark.parametrize(
    "raw",
    [b'{"question": "Qui \\ud800 est Shear ?"}', b'{"question": "\\udfff"}', b'{"question": "Qui\\u0000 est Shear ?"}'],
    ids=["lone-high-surrogate", "lone-low-surrogate", "nul"],
)
def test_text_that_is_not_clean_unicode_gets_a_422(api, raw):
    response = api.post("/v1/ask", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] in ("invalid_text", "invalid_request")


@pytest.mark.parametrize("question", ["مَن هو إيميت شير؟", "Qui est Emmett Shear ? 🤖🔥", "\u202eQui est Shear ?"])
def test_right_to_left_and_emoji_questions_are_answered(api, question):
    response = api.post("/v1/ask", json={"question": question})
    assert response.status_code == 200 and response.json()["answer"]


def test_a_one_megabyte_question_is_refused_before_it_is_read(api):
    response = api.post("/v1/ask", json={"question": "a" * 1_000_000})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_malformed_json_and_wrong_content_type_get_a_4xx(api):
    for response in (
        api.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"}),
        api.post("/v1/ask", content=b"question=Qui", headers={"content-type": "application/x-www-form-urlencoded"}),
    ):
        assert 400 <= response.status_code < 500
        assert response.json()["error"]["code"]


def test_unknown_routes_get_a_json_404(api):
    response = api.get("/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_server_keeps_answering_after_bad_requests(api):
    api.post("/v1/ask", content=b"\x00\xff", headers={"content-type": "application/json"})
    assert api.post("/v1/ask", json={"question": "Qui est Emmett Shear ?"}).status_code == 200
