"""Documents -> chunks that follow their sections, and the evidence units each chunk holds.

A chunk never straddles two sections: the splitter runs section by section, and each
chunk carries its heading path and, for PDFs, its pages.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

import numpy as np
from llama_index.core import Document
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from index.loaders import SECTION_SEPARATOR, Block, SourceDocument
from index.store.chroma import Sentence, chunk_id, sentence_id, version_prefix
from index.text.sentences import sections


def chunk_bounds(document: SourceDocument, splitter: NodeParser) -> list[tuple[int, int]]:
    """(start, end) of each chunk, cut section by section so that none straddles two."""
    bounds = []
    for section in sections(document.blocks):
        start, end = section[0].start, section[-1].end
        parsed = splitter.get_nodes_from_documents([Document(text=document.text[start:end])])
        bounds.extend((start + n.start_char_idx, start + n.end_char_idx) for n in parsed)
    return bounds


def chunk_nodes(document: SourceDocument, bounds: list[tuple[int, int]], spans: list[tuple[int, int]],
                chunking: str) -> list[TextNode]:
    """The chunks of one document version, as llama-index nodes with their offsets, section and pages."""
    prefix = version_prefix(document.doc_id, document.content_hash)
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    block_starts = [b.start for b in document.blocks]
    nodes = []
    for index, (start, end) in enumerate(bounds):
        first, last = bisect_right(ends, start), bisect_left(starts, end) - 1  # sentences overlapping the chunk
        blocks = document.blocks[max(bisect_right(block_starts, start) - 1, 0) : bisect_left(block_starts, end)]
        nodes.append(
            TextNode(
                id_=chunk_id(prefix, index),
                text=document.text[start:end],
                start_char_idx=start,
                end_char_idx=end,
                metadata={
                    "doc_id": document.doc_id,
                    "source": document.source,
                    "title": document.title,
                    "date": document.date or "",
                    "language": document.language,
                    "content_hash": document.content_hash,
                    "chunking": chunking,
                    "chunk_index": index,
                    "n_chunks": len(bounds),
                    "n_sentences": len(spans),
                    "sentence_first": first if first <= last else 0,
                    "sentence_last": last if first <= last else -1,
                    "start": start,
                    "end": end,
                    **_structure_metadata([b for b in blocks if b.end > start]),
                },
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=document.doc_id)},
            )
        )
    return nodes


def _structure_metadata(covered: Sequence[Block]) -> dict[str, str | int]:
    """The heading path of a chunk, given the blocks it covers, and for PDFs its first and last page.

    A chunk lies inside one section; headings with nothing under them may open it,
    so the path is that of its last block, the most specific.
    """
    pages = [b.page for b in covered if b.page is not None]
    return {
        "section": SECTION_SEPARATOR.join(covered[-1].section) if covered else "",
        **({"page": min(pages), "page_end": max(pages)} if pages else {}),
    }


def sentence_records(document: SourceDocument, nodes: list[TextNode], spans: list[tuple[int, int]],
                     vectors: np.ndarray) -> list[Sentence]:
    """The sentences of one document version, each tied to the (first) chunk holding it."""
    prefix = version_prefix(document.doc_id, document.content_hash)
    owner = {}
    for node in reversed(nodes):  # a sentence in two overlapping chunks belongs to the first
        for j in range(node.metadata["sentence_first"], node.metadata["sentence_last"] + 1):
            owner[j] = node.metadata["chunk_index"]
    return [
        Sentence(sentence_id(prefix, j), document.doc_id, j, s, e, document.text[s:e], vectors[j], owner.get(j, 0))
        for j, (s, e) in enumerate(spans)
    ]


def in_context(sentences: list[str]) -> list[str]:
    """Each sentence preceded by the one before it, the text its vector is built from.

    "Il s’agit de l’ancienne directrice de la technologie" only means something
    next to "OpenAI a choisi Mira Murati": with its predecessor, a sentence's
    vector keeps the referents of its pronouns.
    """
    return [f"{previous} {sentence}" if previous else sentence
            for previous, sentence in zip(["", *sentences], sentences)]
