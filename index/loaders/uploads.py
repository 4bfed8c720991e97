"""What an uploaded file really is, and a safe name to store it under."""

from __future__ import annotations

import re
import unicodedata

from index.loaders.office import zip_kind
from index.loaders.structure import DocumentError
from index.loaders.text import decode_text

_BINARY_SIGNATURES = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"MZ", b"\x00\x00\x01\x00",
)
_ZIP_FORMATS = (".docx", ".odt", ".epub")
_TEXT_FORMATS = (".txt", ".md", ".html", ".htm")
TEXT_SNIFF_BYTES = 65_536  # how much of a claimed text file must decode as text
MAX_STEM_CHARS = 100  # of a stored file name, before its suffix


def sniff_suffix(data: bytes, claimed: str) -> str | None:
    """The supported type the content really is, given the name's claim; None if it is not.

    Upload names are not trusted: a PDF must start like a PDF, a .docx must be a
    ZIP holding a Word document (not any ZIP), text must be text.
    """
    claimed = claimed.lower()
    if claimed == ".pdf":
        return ".pdf" if data.startswith(b"%PDF-") else None
    if claimed in _ZIP_FORMATS:
        return claimed if zip_kind(data) == claimed else None
    if claimed not in _TEXT_FORMATS or data.startswith((b"%PDF-", *_BINARY_SIGNATURES)):
        return None
    try:
        text = decode_text(data[:TEXT_SNIFF_BYTES])
    except DocumentError:
        return None
    if claimed in (".html", ".htm"):
        looks_like_html = re.search(r"<\s*(html|head|body|p|div|h[1-6]|title|!doctype)\b", text, re.IGNORECASE)
        return claimed if looks_like_html else None
    return claimed


def safe_filename(name: str) -> str:
    """A plain file name from whatever a client sent: no folders, no odd characters."""
    name = (name or "").encode("utf-8", "replace").decode("utf-8")  # lone surrogates from a hostile client
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name))[-1]
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:MAX_STEM_CHARS].strip(" .") or "document"
    return f"{stem}.{suffix.lower()}" if suffix else stem
