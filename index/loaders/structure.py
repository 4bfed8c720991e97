"""What every loader returns: the stored text, and the blocks it is made of.

A block is one structural unit of the source (a heading, a paragraph, a list item,
a table row, a line of code), written on its own line of the stored text, with the
path of headings it sits under and, for PDFs, its page.  Offsets are exact by
construction: the text is assembled here, block by block.  Sentences are split
inside blocks, chunks inside sections, so no quote or chunk is ever cut at markup
or straddles two sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["heading", "paragraph", "item", "row", "code"]
SECTION_SEPARATOR = " › "
MAX_COLUMNS = 64  # a table cell claiming to span more columns than this is not data


class DocumentError(Exception):
    """A file that cannot be indexed; the message says why in one line, and `code` with its `facts`
    (a suffix, a limit) say it as data, for a reader to put in its own words.

    `code` defaults to "unreadable": a loader that failed without knowing why.
    """

    def __init__(self, message: str, code: str = "unreadable", **facts: str | int):
        super().__init__(message)
        self.code, self.facts = code, facts


@dataclass(frozen=True)
class Block:
    start: int
    end: int
    kind: BlockKind
    section: tuple[str, ...] = ()  # the headings above the block; a heading's own path ends with itself
    page: int | None = None  # 1-based, for PDFs


@dataclass(frozen=True)
class Structured:
    """A loader's result: the stored text, its blocks in order, and the title the file gives itself."""

    text: str
    blocks: tuple[Block, ...]
    title: str | None = None


def one_line(text: str) -> str:
    """Inline content as it reads: markup newlines and runs of spaces become one space."""
    return " ".join(text.split())


class TextBuilder:
    """Assembles the stored text one block per line, recording each block's span and heading path."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._headings: list[tuple[int, str]] = []
        self.blocks: list[Block] = []

    def build(self, title: str | None = None) -> Structured:
        return Structured("".join(self._parts), tuple(self.blocks), one_line(title or "") or None)

    def heading(self, level: int, text: str, page: int | None = None) -> None:
        """A heading of `level` (1 = top) closes every open section of that level or deeper."""
        text = one_line(text)
        if not text:
            return
        while self._headings and self._headings[-1][0] >= level:
            self._headings.pop()
        self._headings.append((level, text))
        self._append("heading", text, page, separator="\n\n")

    def add(self, kind: BlockKind, text: str, page: int | None = None) -> None:
        """A block of body text; a code block is added one line at a time, indentation kept."""
        text = text.rstrip() if kind == "code" else one_line(text)
        if text.strip():
            self._append(kind, text, page, separator="\n")

    def row(self, cells: list[str], header: list[str], page: int | None = None) -> None:
        """A table row as one line, each cell named by its column header: "paquet: cups | port: 631"."""
        cells = [one_line(c) for c in cells]
        names = [one_line(h) for h in header] + [""] * (len(cells) - len(header))
        pairs = [f"{name}: {cell}" if name and name != cell else cell for name, cell in zip(names, cells) if cell]
        self.add("row", " | ".join(pairs), page)

    def _append(self, kind: BlockKind, text: str, page: int | None, separator: str) -> None:
        if self._size:
            self._parts.append(separator)
            self._size += len(separator)
        start = self._size
        self._parts.append(text)
        self._size += len(text)
        self.blocks.append(Block(start, self._size, kind, tuple(title for _, title in self._headings), page))
