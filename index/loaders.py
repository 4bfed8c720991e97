"""Turn a file into plain text plus the metadata citations need.

Each loader returns the text that offsets refer to; a file we cannot read raises
`DocumentError` with a one-line reason for the indexing summary.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from index.language import Language, detect_language

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
TITLE_MAX_CHARS = 90
PDF_MAX_PAGES = 2_000  # past this, text extraction time and memory are not worth a document


class DocumentError(Exception):
    """A file that cannot be indexed; the message says why, in one line."""


@dataclass(frozen=True)
class SourceDocument:
    doc_id: str
    source: str
    text: str
    title: str
    date: str | None
    language: Language
    content_hash: str


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def doc_id_for(path: Path, root: Path) -> str:
    """The file name without extension, relative to the indexed folder."""
    return path.relative_to(root).with_suffix("").as_posix()


def load_document(path: Path, root: Path, data: bytes | None = None) -> SourceDocument:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"unsupported file type '{suffix or path.name}' (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentError(f"unreadable: {exc.strerror or exc}") from exc
    if not data.strip():
        raise DocumentError("empty file")
    if suffix == ".pdf":
        text, title = _pdf_text(data)
    else:
        raw = decode_text(data)
        if suffix in (".html", ".htm"):
            text, title = _html_text(raw)
        elif suffix == ".md":
            text, title = raw, _markdown_title(raw)
        else:
            text, title = raw, None
    text = _normalise_newlines(text)
    if not text.strip():
        raise DocumentError("no text found in the file")
    return SourceDocument(
        doc_id=doc_id_for(path, root),
        source=str(path),
        text=text,
        title=title or first_sentence_title(text),
        date=find_date(text),
        language=detect_language(text[:20_000], default="fr"),
        content_hash=content_hash(data),
    )


_BINARY_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"MZ", b"\x00\x00\x01\x00")


def sniff_suffix(data: bytes, claimed: str) -> str | None:
    """The supported type the content really is, given the name's claim; None if it is not.

    Upload names are not trusted: a PDF must start like a PDF, text must be text.
    """
    claimed = claimed.lower()
    head = data[:8192]
    if head.startswith(b"%PDF-"):
        return ".pdf" if claimed == ".pdf" else None
    if claimed == ".pdf" or head.startswith(_BINARY_SIGNATURES):
        return None
    try:
        text = decode_text(data[:65536])
    except DocumentError:
        return None
    if claimed in (".html", ".htm"):
        return claimed if re.search(r"<\s*(html|head|body|p|div|h[1-6]|title|!doctype)\b", text, re.IGNORECASE) else None
    return claimed if claimed in SUPPORTED_SUFFIXES else None


def safe_filename(name: str) -> str:
    """A plain file name from whatever a client sent: no folders, no odd characters."""
    import unicodedata

    name = (name or "").encode("utf-8", "replace").decode("utf-8")  # lone surrogates from a hostile client
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name))[-1]
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:100].strip(" .") or "document"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252/Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _html_text(raw: str) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(["script", "style", "noscript", "template", "head", "svg"]):
        tag.decompose()
    if not title and (h1 := soup.find("h1")):
        title = h1.get_text(" ", strip=True)
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line), title or None


def _markdown_title(raw: str) -> str | None:
    match = re.search(r"^#{1,3}\s+(.+?)\s*#*\s*$", raw, re.MULTILINE)
    return match.group(1) if match else None


def _pdf_text(data: bytes) -> tuple[str, str | None]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError("encrypted PDF")
        if len(reader.pages) > PDF_MAX_PAGES:
            raise DocumentError(f"PDF has {len(reader.pages)} pages; the limit is {PDF_MAX_PAGES}")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata or {}).get("/Title")
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"malformed PDF ({exc.__class__.__name__})") from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise DocumentError("PDF has no text layer that can be read (scanned images, or content too large to inflate)")
    return text, str(title).strip() if title else None


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


_LEADING_DATE_STAMP = re.compile(r"^\s*(?:date\s*:?\s*)?(?:19|20)\d{2}-\d{2}(?:-\d{2})?\s*[-–—:]?\s*", re.IGNORECASE)


def first_sentence_title(text: str) -> str:
    """A title for files that have none: the first sentence, cut at a word."""
    from index.sentences import sentence_spans

    body = _LEADING_DATE_STAMP.sub("", text, count=1)
    spans = sentence_spans(body[:2000])
    first = body[spans[0][0] : spans[0][1]] if spans else body.strip()
    first = first.rstrip(" .")
    if len(first) <= TITLE_MAX_CHARS:
        return first
    return first[:TITLE_MAX_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-–—") + "…"


_MONTHS = {
    **{m: i for i, m in enumerate(
        ["janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout",
         "septembre", "octobre", "novembre", "decembre"], start=1)},
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"], start=1)},
}
_MONTH_NAMES = "|".join(_MONTHS) + "|février|août|décembre"
_DATE_PATTERNS = (
    # 21/11/2023
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b"), ("d", "m", "y")),
    # 2023-11-21 or 2023-11
    (re.compile(r"\b((?:19|20)\d{2})-(\d{2})(?:-(\d{2}))?\b"), ("y", "m", "d")),
    # 20 novembre 2023, 1er décembre 2023, 20 November 2023
    (re.compile(rf"\b(\d{{1,2}})(?:er)?\s+({_MONTH_NAMES})\s+((?:19|20)\d{{2}})\b", re.IGNORECASE), ("d", "M", "y")),
    # November 20, 2023
    (re.compile(rf"\b({_MONTH_NAMES})\s+(\d{{1,2}}),\s+((?:19|20)\d{{2}})\b", re.IGNORECASE), ("M", "d", "y")),
)


def find_date(text: str) -> str | None:
    """The first date the text states, as ISO 8601 (YYYY-MM-DD or YYYY-MM)."""
    from index.language import fold

    best: tuple[int, str] | None = None
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text[:5000]):
            parts = dict(zip(order, match.groups()))
            month = int(parts["m"]) if "m" in parts else _MONTHS.get(fold(parts["M"]))
            if not month or not 1 <= month <= 12:
                continue
            day = int(parts["d"]) if parts.get("d") else None
            if day is not None and not 1 <= day <= 31:
                continue
            iso = f"{parts['y']}-{month:02d}" + (f"-{day:02d}" if day else "")
            if best is None or match.start() < best[0]:
                best = (match.start(), iso)
            break
    return best[1] if best else None
