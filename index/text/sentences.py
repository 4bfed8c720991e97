"""Sentence boundaries that respect French typography, evidence units, and the chunker built on them.

NLTK's punkt (bundled with llama-index) does the heavy lifting; on top of it we fix
what press text in French needs: an ellipsis « … » ends a sentence, a closing « » »
belongs to the sentence it closes, and scraped text often glues sentences together
without a space ("la lettre.Les employés").  Every sentence is an exact character
span of the source, so citations can point back to it.

A document's structure comes first: sentences are split inside prose blocks only,
while a heading, list item, table row or code line is one unit as it stands, so
evidence is never a fragment cut at markup.  Chunks are cut inside sections, so
none straddles two.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.utils import globals_helper
from nltk.tokenize import PunktTokenizer

from index.loaders.structure import Block
from index.text.language import NLTK_LOCK

# A sentence end glued to the next sentence: "lettre.Les", "ensemble.« Nous".
_GLUED_END = re.compile(r"(?<=[a-zà-ÿ0-9%)\]»”\"'])[.!?…]+[»”\"]?(?=[«“\"]?[A-ZÀ-Ý][a-zà-ÿ])")
# An ellipsis followed by a new sentence: "il est parti… Le lendemain".
_ELLIPSIS_END = re.compile(r"(?:…|\.\.\.)[»”\"]?(?=\s+[«“\"]?[A-ZÀ-Ý])")
# Quotes that punkt leaves on the wrong side of a boundary.
_LEADING_CLOSERS = re.compile(r"[»”]+")
_TRAILING_OPENERS = re.compile(r"\s*[«“]+$")
# A piece that cannot start a sentence: lowercase, or a dash then lowercase.
_CONTINUATION = re.compile(r"(?:[-–—]\s*)?[a-zà-ÿ]")
_PARAGRAPH = re.compile(r"[^\n]+")
# Secondary split for over-long sentences: every character belongs to a piece, so
# chunks stay exact substrings of the source (the library default drops some).
PHRASE_REGEX = r"[^,;:.!?…]+[,;:.!?…]*|[,;:.!?…]+"


@lru_cache(maxsize=1)
def _punkt():
    with NLTK_LOCK:  # see index.text.language: nltk's first loads are not thread-safe
        _ = globals_helper.stopwords  # puts llama-index's bundled NLTK data on nltk's path
        return PunktTokenizer("french")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of each sentence, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    for paragraph in _PARAGRAPH.finditer(text):
        base = paragraph.start()
        pieces: list[tuple[int, int]] = []
        for start, end in _punkt().span_tokenize(paragraph.group()):
            pieces.extend(_refine(text, base + start, base + end))
        spans.extend(_merge_continuations(text, pieces))
    return _move_stray_quotes(text, spans)


def unit_spans(text: str, blocks: Sequence[Block]) -> list[tuple[int, int]]:
    """Evidence units in text order: the sentences of each prose block, every other block whole.

    Without blocks, every line is a prose block.
    """
    if not blocks:
        return sentence_spans(text)
    spans: list[tuple[int, int]] = []
    for block in blocks:
        if block.kind == "paragraph":
            spans.extend((block.start + a, block.start + b) for a, b in sentence_spans(text[block.start : block.end]))
        elif content := text[block.start : block.end].strip():
            start = text.index(content, block.start)
            spans.append((start, start + len(content)))
    return spans


def sections(blocks: Sequence[Block]) -> list[list[Block]]:
    """Runs of blocks under the same heading path, in order; what chunks must not straddle.

    A run of headings with nothing under them ("Chapitre 6" right before "6.1 …")
    joins the section that follows, rather than making a chunk of its own.
    """
    runs: list[list[Block]] = []
    for block in blocks:
        if runs and (runs[-1][-1].section == block.section or all(b.kind == "heading" for b in runs[-1])):
            runs[-1].append(block)
        else:
            runs.append([block])
    return runs


def _refine(text: str, start: int, end: int) -> list[tuple[int, int]]:
    piece = text[start:end]
    cuts = sorted({m.end() for m in _GLUED_END.finditer(piece)} | {m.end() for m in _ELLIPSIS_END.finditer(piece)})
    bounds = [0, *[c for c in cuts if 0 < c < len(piece)], len(piece)]
    out = []
    for a, b in pairwise(bounds):
        segment = piece[a:b]
        lead = len(segment) - len(segment.lstrip())
        trail = len(segment) - len(segment.rstrip())
        if segment.strip():
            out.append((start + a + lead, start + b - trail))
    return out


def _merge_continuations(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Rejoin a sentence cut after an inner « ! » or « ? » ("tout de même ! - d'OpenAI ont…")."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and _CONTINUATION.match(text, start, end):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _move_stray_quotes(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Give « to the sentence it opens and » to the sentence it closes."""
    fixed: list[tuple[int, int]] = []
    carried_opener: int | None = None
    for start, end in spans:
        if carried_opener is not None:
            start, carried_opener = carried_opener, None
        opener = _TRAILING_OPENERS.search(text, start, end)
        if opener and opener.start() > start:
            carried_opener = opener.start() + len(opener.group()) - len(opener.group().lstrip())
            end = opener.start()
        closers = _LEADING_CLOSERS.match(text, start, end)
        if closers and fixed:
            prev_start, _ = fixed[-1]
            fixed[-1] = (prev_start, closers.end())
            start = closers.end()
            while start < end and text[start].isspace():
                start += 1
        if start < end:
            fixed.append((start, end))
    return fixed


def split_into_sentence_pieces(text: str) -> list[str]:
    """Sentences as consecutive pieces that concatenate back to `text` exactly.

    This is the form llama-index's SentenceSplitter wants from its tokenizer.
    """
    starts = [start for start, _ in sentence_spans(text)]
    if not starts:
        return [text]
    starts[0] = 0
    ends = starts[1:] + [len(text)]
    return [text[a:b] for a, b in zip(starts, ends)]


def make_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    """llama-index's SentenceSplitter, tuned for French sentences and exact offsets."""
    return SentenceSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        paragraph_separator="\n\n",
        chunking_tokenizer_fn=split_into_sentence_pieces,
        secondary_chunking_regex=PHRASE_REGEX,
        include_metadata=False,
        include_prev_next_rel=False,
    )
