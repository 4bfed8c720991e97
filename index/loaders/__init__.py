"""Turn a file into the stored text, its blocks, and the metadata citations need.

Each format has its module (text.py: plain text and Markdown, html.py, pdf.py,
office.py: .docx, .odt, .epub); all of them return a `Structured` whose text is
what offsets refer to and whose blocks (heading, paragraph, list item, table
row, code line) delimit evidence units and sections.  A file we cannot read
raises `DocumentError` with a one-line reason for the indexing summary, and a code for
the readers that say it in their own words.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from index.loaders.html import html_structure
from index.loaders.metadata import find_date, first_sentence_title
from index.loaders.office import docx_structure, epub_structure, odt_structure
from index.loaders.pdf import pdf_structure
from index.loaders.structure import SECTION_SEPARATOR, Block, DocumentError
from index.loaders.text import decode_text, markdown_structure, plain_structure
from index.loaders.uploads import safe_filename, sniff_suffix
from index.text.language import DOCUMENT_LANGUAGE, Language, detect_language

__all__ = [
    "SECTION_SEPARATOR", "SUPPORTED_SUFFIXES", "Block", "DocumentError", "SourceDocument",
    "content_hash", "doc_id_for", "load_document", "safe_filename", "sniff_suffix",
]

_BINARY_LOADERS = {".pdf": pdf_structure, ".docx": docx_structure, ".odt": odt_structure, ".epub": epub_structure}
_TEXT_LOADERS = {".txt": plain_structure, ".md": markdown_structure, ".html": html_structure, ".htm": html_structure}
SUPPORTED_SUFFIXES = tuple(_TEXT_LOADERS) + tuple(_BINARY_LOADERS)
LANGUAGE_SAMPLE_CHARS = 20_000  # enough to tell a document's language; a whole book would cost seconds
REASON_CHARS = 120  # of a parsing library's message, in the one-line reason for a damaged file


@dataclass(frozen=True)
class SourceDocument:
    doc_id: str
    source: str
    text: str
    title: str
    date: str | None
    language: Language
    content_hash: str
    blocks: tuple[Block, ...] = ()  # in text order; none means one paragraph per line


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def doc_id_for(path: Path, root: Path) -> str:
    """The file name without extension, relative to the indexed folder."""
    return path.relative_to(root).with_suffix("").as_posix()


def load_document(path: Path, root: Path, data: bytes | None = None) -> SourceDocument:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise DocumentError(f"unsupported file type '{suffix or path.name}' (supported: {supported})",
                            "unsupported_type", suffix=suffix or path.name)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentError(f"unreadable: {exc.strerror or exc}") from exc
    if not data.strip():
        raise DocumentError("empty file", "empty")
    try:
        if suffix in _BINARY_LOADERS:
            parsed = _BINARY_LOADERS[suffix](data)
        else:
            parsed = _TEXT_LOADERS[suffix](decode_text(data))
    except DocumentError:
        raise
    except Exception as exc:  # each parsing library has its own errors for a damaged file: one line, not a crash
        reason = " ".join(str(exc).split())[:REASON_CHARS]
        raise DocumentError(f"damaged {suffix} file ({exc.__class__.__name__}: {reason})", "damaged",
                            suffix=suffix) from exc
    if not parsed.text.strip():
        raise DocumentError("no text found in the file", "no_text")
    return SourceDocument(
        doc_id=doc_id_for(path, root),
        source=str(path),
        text=parsed.text,
        title=parsed.title or first_sentence_title(parsed.text),
        date=find_date(parsed.text),
        language=detect_language(parsed.text[:LANGUAGE_SAMPLE_CHARS], default=DOCUMENT_LANGUAGE),
        content_hash=content_hash(data),
        blocks=parsed.blocks,
    )
