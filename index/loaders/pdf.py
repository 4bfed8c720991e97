"""PDF text as blocks, with pypdfium2 (PDFium, the engine of Chrome's viewer).

PDFium keeps the spaces between words and a sensible reading order where pypdf
glues words together ("écrirelejournaldesortie") and takes fifteen times longer.
On top of its text lines this module restores what a reader sees:

- running headers, footers and page numbers are dropped: lines at the top or
  bottom of a page that repeat, digits aside, on the neighbouring pages;
- lines are joined into paragraphs where the layout says a paragraph goes on
  (no short line before, no larger gap, no bullet, same font), across pages too;
- words hyphenated at a line end are joined, keeping the hyphen only when the
  document itself writes the word with one ("fonts-crosextra-carlito");
- headings come from the PDF's outline (bookmarks), matched to the lines they
  title, so blocks carry their heading path; every block knows its page.
"""

from __future__ import annotations

import ctypes
import difflib
import re
import statistics
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

from index.loaders.structure import DocumentError, Structured, TextBuilder

PDF_MAX_PAGES = 2_000  # past this, text extraction time and memory are not worth a document
# Decoded page content past this is a decompression bomb, not a document (a 2,000-page
# manual holds well under 100 MB); checked before PDFium, which would inflate it all.
PDF_MAX_INFLATED_BYTES = 256 * 2**20
SOFT_HYPHEN = "\ufffe"  # how PDFium marks a hyphen that the typesetter added at a line end
_BULLET = re.compile(r"(?:[•◦▪▫‣⁃●○■□►▸–—*·-]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")
_PAGE_NUMBER = re.compile(r"[\W\d_]*\d[\W\d_]*|[ivxlcdm]+", re.IGNORECASE)
_DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*\w+$")  # "1.2 Installation . . . . . 12"
_NOT_ALNUM = re.compile(r"[\W_]+")  # accents, once decomposed, are not alphanumeric either
_SENTENCE_END = re.compile(r"[.!?:;…»”)]$")
_SOFT_BREAK = re.compile(rf"(?<![\w-])([\w-]*)\s*{SOFT_HYPHEN}\s*(\w+(?:-\w+)*|)")  # right: a whole compound
_HARD_BREAK = re.compile(r"(?<![\w-])([\w-]*\w)-\n(\w+(?:-\w+)*|)")
EDGE_LINES = 2  # lines at each end of a page that may be running headers or footers
NEIGHBOUR_PAGES = 2  # a running header repeats on at least one page this close
FURNITURE_SIMILARITY = 0.5  # difflib ratio, digits aside: "CHAPITRE 1. … 1.5. QUELLES…" vs "… 1.7. COMMENT…"
HEADING_NUMBER_CHARS = 15  # a heading line may prefix its outline title with this much numbering ("Chapitre 12")
MAX_TITLE_LINES = 3  # an outline title may be typeset over this many lines
OUTLINE_DEPTH = 6  # bookmark levels that become headings (1-6, as in HTML)
BASELINE_TOLERANCE = 3.0  # points: a running header sits this close to the same height on every page
# A line starts a new paragraph when its font size differs by more than FONT_SIZE_TOLERANCE points,
# when it sits more than PARAGRAPH_GAP line spacings below the previous line, or when the previous
# line stops short of the right margin by more than SHORT_LINE_SHARE of the width it could fill.
FONT_SIZE_TOLERANCE = 0.5
PARAGRAPH_GAP = 1.5
SHORT_LINE_SHARE = 0.1
INFLATE_PIECE_BYTES = 1 << 16  # compressed bytes fed to the inflater at a time
INFLATE_STEP_BYTES = 1 << 20  # inflated bytes per step: a bomb is counted, never held whole
FIXED_PITCH_FLAG = 1  # PDF font descriptor flag 1: FixedPitch


@dataclass
class _Line:
    text: str
    page: int  # 1-based
    left: float
    right: float
    baseline: float  # of its first character
    last_baseline: float  # of its last: PDFium puts the two halves of a hyphenated word on one line
    size: float
    fixed_pitch: bool

    @cached_property
    def shape(self) -> str:
        """The text with its numbers blanked: what a running header keeps from page to page."""
        return re.sub(r"\d+", "#", self.text)


def pdf_structure(data: bytes) -> Structured:
    """The blocks of a PDF's text layer, and its title from the document information."""
    import pypdfium2 as pdfium

    _refuse_inflation_bombs(data)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise DocumentError("encrypted PDF", "encrypted") from exc
        raise DocumentError(f"malformed PDF ({exc})", "damaged", suffix=".pdf") from exc
    try:
        if len(pdf) > PDF_MAX_PAGES:
            raise DocumentError(f"PDF has {len(pdf)} pages; the limit is {PDF_MAX_PAGES}", "too_many_pages",
                                pages=len(pdf), limit=PDF_MAX_PAGES)
        pages = [_page_lines(pdf[i], i + 1) for i in range(len(pdf))]
        outline = _outline(pdf)
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
    finally:
        pdf.close()
    headings = _place_outline(pages, outline)
    _drop_running_furniture(pages, keep={id(line) for lines, _ in headings.values() for line in lines})
    builder = _assemble([line for page in pages for line in page], headings)
    if not builder.blocks:
        raise DocumentError("PDF has no text layer that can be read (scanned images, or no text at all)", "no_text")
    return builder.build(title)


def _refuse_inflation_bombs(data: bytes) -> None:
    """Inflate every compressed non-image stream into a counter, never into memory."""
    budget = PDF_MAX_INFLATED_BYTES
    for match in re.finditer(rb"(?<!end)stream\r?\n", data):
        header = data[data.rfind(b"obj", 0, match.start()) : match.start()]
        if b"/FlateDecode" in header and b"/Image" not in header:
            budget -= _inflated_size(data, match.end(), budget)
            if budget < 0:
                raise DocumentError("PDF content too large to inflate (a decompression bomb?)", "unpacks_too_large",
                                    limit_mb=PDF_MAX_INFLATED_BYTES // 2**20)


def _inflated_size(data: bytes, start: int, budget: int) -> int:
    """Size of the deflate stream at `start` once inflated, counted up to just past `budget`."""
    inflater, size = zlib.decompressobj(), 0
    for offset in range(start, len(data), INFLATE_PIECE_BYTES):
        pending = data[offset : offset + INFLATE_PIECE_BYTES]
        while pending:
            try:
                size += len(inflater.decompress(pending, INFLATE_STEP_BYTES))
            except zlib.error:
                return size
            if size > budget or inflater.eof:
                return size
            pending = inflater.unconsumed_tail
    return size


def _page_lines(page, number: int) -> list[_Line]:
    """PDFium's text lines of one page, with their position, font size and pitch."""
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    text = textpage.get_text_range()
    lines, offset = [], 0
    for raw in text.split("\r\n"):
        first, last = offset + len(raw) - len(raw.lstrip()), offset + len(raw.rstrip()) - 1
        offset += len(raw) + 2
        if last < first:
            continue
        left, _, _, _ = textpage.get_charbox(first)
        _, _, right, _ = textpage.get_charbox(last)
        lines.append(_Line(raw.strip(), number, left, right, _baseline(textpage, first), _baseline(textpage, last),
                           pdfium_c.FPDFText_GetFontSize(textpage, first),
                           _is_fixed_pitch(textpage, first) and _is_fixed_pitch(textpage, last)))
    textpage.close()
    return lines


def _baseline(textpage, index: int) -> float:
    import pypdfium2.raw as pdfium_c

    x, y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDFText_GetCharOrigin(textpage, index, x, y)
    return y.value


def _is_fixed_pitch(textpage, index: int) -> bool:
    import pypdfium2.raw as pdfium_c

    flags = ctypes.c_int()
    pdfium_c.FPDFText_GetFontInfo(textpage, index, None, 0, flags)
    return bool(flags.value & FIXED_PITCH_FLAG)


def _drop_running_furniture(pages: list[list[_Line]], keep: set[int]) -> None:
    """Remove page numbers, dot-leader lines, and edge lines that neighbouring pages repeat (digits aside)."""
    def edges(lines: list[_Line]) -> tuple[list[_Line], list[_Line]]:
        return lines[:EDGE_LINES], lines[-EDGE_LINES:]

    furniture = set()
    for number, lines in enumerate(pages):
        furniture.update(id(line) for line in lines if _DOT_LEADER.search(line.text))
        neighbours = [pages[n] for n in range(number - NEIGHBOUR_PAGES, number + NEIGHBOUR_PAGES + 1)
                      if n != number and 0 <= n < len(pages)]
        for side, candidates in enumerate(edges(lines)):
            others = [other for page in neighbours for other in edges(page)[side]]
            furniture.update(id(line) for line in candidates if _PAGE_NUMBER.fullmatch(line.text)
                             or any(_repeats(line, other) for other in others))
    for lines in pages:
        lines[:] = [line for line in lines if id(line) not in furniture or id(line) in keep]


def _repeats(line: _Line, other: _Line) -> bool:
    if abs(line.baseline - other.baseline) > BASELINE_TOLERANCE:
        return False
    matcher = difflib.SequenceMatcher(None, line.shape, other.shape)
    return matcher.quick_ratio() >= FURNITURE_SIMILARITY and matcher.ratio() >= FURNITURE_SIMILARITY


def _outline(pdf) -> list[tuple[int, str, int]]:
    """(level, title, 1-based page) of each bookmark that points to a page."""
    entries = []
    for bookmark in pdf.get_toc(max_depth=OUTLINE_DEPTH):
        destination = bookmark.get_dest()
        index = destination.get_index() if destination else None
        if index is not None and (title := bookmark.get_title().strip()):
            entries.append((bookmark.level + 1, title, index + 1))
    return entries


def _key(text: str) -> str:
    """Letters and digits only, case and accents folded: how a title and its typeset lines compare."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text.casefold()))


def _place_outline(pages: list[list[_Line]], outline: list[tuple[int, str, int]]) -> dict[int, tuple[list[_Line], int]]:
    """Find the lines that typeset each bookmark: {id(first line): (lines, level)}.

    On the bookmark's page they are its heading; elsewhere, a title followed by a
    page number is a table-of-contents entry, dropped here.
    """
    expected: dict[int, list[tuple[int, str]]] = {}
    for level, title, page in outline:
        if key := _key(title):
            expected.setdefault(page, []).append((level, key))
    known = {key for entries in expected.values() for _, key in entries}
    headings: dict[int, tuple[list[_Line], int]] = {}
    if not known:
        return headings
    for number, lines in enumerate(pages, start=1):
        keys, kept, i = [_key(line.text) for line in lines], [], 0
        while i < len(lines):
            count, level = _typeset_title(keys, i, expected.get(number, []), known)
            if level is not None:
                headings[id(lines[i])] = (lines[i : i + count], level)
                kept.extend(lines[i : i + count])
            elif not count:
                kept.append(lines[i])
            i += count or 1
        lines[:] = kept
    return headings


def _typeset_title(keys: list[str], i: int, expected: list[tuple[int, str]], known: set[str]) -> tuple[int, int | None]:
    """Whether the lines from i on typeset a title, over one to MAX_TITLE_LINES lines.

    (lines, level) for a title this page's bookmarks point to, which is then
    taken off `expected` (numbering may come before it: "1.5", "Chapitre 1");
    (lines, None) for a title of another page with its page number after it;
    (0, None) for anything else.
    """
    for count in range(1, MAX_TITLE_LINES + 1):
        typeset = "".join(keys[i : i + count])
        for entry in expected:
            level, key = entry
            if typeset.endswith(key) and len(typeset) - len(key) <= HEADING_NUMBER_CHARS:
                expected.remove(entry)
                return count, level
        if typeset[-1:].isdigit() and typeset.strip("0123456789") in known:
            return count, None
    return 0, None


def _assemble(lines: list[_Line], headings: dict[int, tuple[list[_Line], int]]) -> TextBuilder:
    builder = TextBuilder()
    vocabulary = _vocabulary(lines)
    layout = _page_layout(lines)
    paragraph: list[_Line] = []

    def flush() -> None:
        if paragraph:
            kind = "code" if paragraph[0].fixed_pitch else "item" if _BULLET.match(paragraph[0].text) else "paragraph"
            builder.add(kind, _joined(paragraph, vocabulary), paragraph[0].page)
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if id(line) in headings:
            flush()
            heading_lines, level = headings[id(line)]
            builder.heading(level, _joined(heading_lines, vocabulary), line.page)
            i += len(heading_lines)
            continue
        if paragraph and _starts_block(paragraph[-1], line, layout):
            flush()
        paragraph.append(line)
        i += 1
    flush()
    return builder


def _page_layout(lines: list[_Line]) -> dict[int, tuple[float, float]]:
    """(typical right margin, typical line spacing) of each page."""
    by_page: dict[int, list[_Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    layout = {}
    for page, page_lines in by_page.items():
        gaps = [a.last_baseline - b.baseline for a, b in pairwise(page_lines) if a.last_baseline > b.baseline]
        layout[page] = (statistics.median(x.right for x in page_lines), statistics.median(gaps) if gaps else 0.0)
    return layout


def _starts_block(previous: _Line, line: _Line, layout: dict[int, tuple[float, float]]) -> bool:
    """Whether `line` begins a new block rather than continuing the paragraph `previous` ends."""
    if line.page != previous.page:  # a paragraph goes on over a page break when its sentence does
        return bool(_SENTENCE_END.search(previous.text)) or not line.text[:1].islower()
    if line.fixed_pitch or previous.fixed_pitch or _BULLET.match(line.text):
        return True
    right_margin, spacing = layout[line.page]
    return (
        abs(line.size - previous.size) > FONT_SIZE_TOLERANCE
        or previous.last_baseline - line.baseline > PARAGRAPH_GAP * spacing
        or previous.right < right_margin - SHORT_LINE_SHARE * (right_margin - previous.left)
    )


def _vocabulary(lines: list[_Line]) -> Counter[str]:
    """How often the document writes each word whole: the evidence for rejoining hyphenated ones."""
    text = "\n".join(line.text for line in lines).replace(SOFT_HYPHEN, " ")
    return Counter(re.findall(r"\w+(?:-\w+)*", text))


def _joined(lines: list[_Line], vocabulary: Counter[str]) -> str:
    """A paragraph's lines as one line of text, with words broken at line ends made whole again."""
    def rejoin(match: re.Match, hyphen_typed: bool) -> str:
        left, right = match[1], match[2]
        whole, hyphenated = left + right, f"{left}-{right}"
        if vocabulary[whole] != vocabulary[hyphenated]:
            return whole if vocabulary[whole] > vocabulary[hyphenated] else hyphenated
        # No evidence either way: a typed hyphen stays, and so does one inside a compound
        # ("fonts-crosextra-carlito", "mail-transport-agent"); a typesetter's hyphen in a plain word goes.
        return hyphenated if hyphen_typed or "-" in left + right else whole

    text = "\n".join(line.text for line in lines)
    text = _SOFT_BREAK.sub(lambda m: rejoin(m, hyphen_typed=False), text)
    text = _HARD_BREAK.sub(lambda m: rejoin(m, hyphen_typed=True), text)
    return " ".join(text.split())
