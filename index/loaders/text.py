"""Plain text and Markdown.

A plain text file is stored as it is, so offsets point into the file itself;
each non-blank line is a block.  Markdown is rendered to HTML by markdown-it-py
(CommonMark plus tables) and read like any page: headings, lists, tables and
code fences become blocks, and the stored text no longer holds `#`, `*` or `|`.
"""

from __future__ import annotations

import codecs
import re

from index.loaders.html import html_structure
from index.loaders.structure import Block, DocumentError, Structured

_LINE = re.compile(r"[^\n]+")
BINARY_CHECK_BYTES = 8192  # a NUL byte this early means a binary file, not text


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252/Latin-1; newlines made "\\n"."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:BINARY_CHECK_BYTES]:
        raise DocumentError("binary file, not text", "not_text")
    else:
        text = _decode_8bit(data)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _decode_8bit(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def plain_structure(text: str) -> Structured:
    """The file's own text; each non-blank line is a paragraph block, trimmed."""
    blocks = []
    for line in _LINE.finditer(text):
        content = line.group()
        if content.strip():
            start = line.start() + len(content) - len(content.lstrip())
            blocks.append(Block(start, line.start() + len(content.rstrip()), "paragraph"))
    return Structured(text, tuple(blocks))


def markdown_structure(text: str) -> Structured:
    from markdown_it import MarkdownIt

    return html_structure(MarkdownIt("commonmark").enable("table").render(text))
