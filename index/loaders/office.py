"""Word (.docx), OpenDocument (.odt) and EPUB files, read with the libraries made for them.

All three are ZIP containers.  Their structure is explicit, so blocks come from
it directly: outline levels make headings, numbering makes list items, tables
give rows whose first row names the columns.  EPUB chapters are XHTML and go
through the HTML walk, in reading (spine) order.
"""

from __future__ import annotations

import io
import zipfile

from index.loaders.html import add_html
from index.loaders.structure import MAX_COLUMNS, DocumentError, Structured, TextBuilder

ZIP_MAX_UNPACKED_BYTES = 256 * 2**20  # declared sizes past this are a decompression bomb
MIMETYPE_MAX_BYTES = 100  # longer than any `mimetype` entry these formats write
# What each format's container must hold: an inner file, and for OpenDocument and EPUB the
# `mimetype` entry their specifications put first.
_CONTAINERS = {
    ".docx": ("word/document.xml", None),
    ".odt": ("content.xml", b"application/vnd.oasis.opendocument.text"),
    ".epub": ("META-INF/container.xml", b"application/epub+zip"),
}


def zip_kind(data: bytes) -> str | None:
    """Which of .docx, .odt, .epub a ZIP file really is, or None (another ZIP, or not a ZIP)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.open("mimetype").read(MIMETYPE_MAX_BYTES).strip() if "mimetype" in names else None
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError):
        return None
    for suffix, (inner, expected) in _CONTAINERS.items():
        if inner in names and (expected is None or mimetype == expected):
            return suffix
    return None


def _checked_zip(data: bytes, suffix: str) -> io.BytesIO:
    """The file as a stream for its library, once it is known to be what it says and not a bomb."""
    if zip_kind(data) != suffix:
        raise DocumentError(f"not a valid {suffix} file", "not_what_it_claims", suffix=suffix)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > ZIP_MAX_UNPACKED_BYTES:
            limit_mb = ZIP_MAX_UNPACKED_BYTES // 2**20
            raise DocumentError(f"{suffix} file unpacks to more than {limit_mb} MB", "unpacks_too_large",
                                limit_mb=limit_mb)
    return io.BytesIO(data)


# -- Word -------------------------------------------------------------------------------------
def docx_structure(data: bytes) -> Structured:
    import docx
    from docx.table import Table

    document = docx.Document(_checked_zip(data, ".docx"))
    builder = TextBuilder()
    for part in document.iter_inner_content():
        if isinstance(part, Table):
            _docx_table(builder, part)
        elif (level := _docx_outline_level(part)) is not None:
            builder.heading(level, part.text)
        else:
            builder.add("item" if _docx_property(part, "w:numPr") is not None else "paragraph", part.text)
    return builder.build(document.core_properties.title)


def _docx_outline_level(paragraph) -> int | None:
    """1 for a top-level heading, and so on; None for body text (outline level 9, or none)."""
    from docx.oxml.ns import qn

    found = _docx_property(paragraph, "w:outlineLvl")
    value = found.get(qn("w:val"), "9") if found is not None else "9"
    return int(value) + 1 if value.isdigit() and int(value) < 9 else None


def _docx_property(paragraph, tag: str):
    """A paragraph property set on the paragraph itself or inherited from its style chain.

    Word's built-in heading and list styles carry their outline level and numbering
    this way, whatever language their display names are in.
    """
    from docx.oxml.ns import qn

    holders = [paragraph._p]
    style = paragraph.style
    while style is not None:
        holders.append(style.element)
        style = style.base_style
    for holder in holders:
        properties = holder.pPr
        if properties is not None and (found := properties.find(qn(tag))) is not None:
            return found
    return None


def _docx_table(builder: TextBuilder, table) -> None:
    rows = [_unmerged(row.cells) for row in table.rows]
    if rows:
        header = [cell.text for cell in rows[0]]
        for cells in rows[1:]:
            builder.row([cell.text for cell in cells], header)


def _unmerged(cells) -> list:
    """A row's cells with a merged cell once (python-docx repeats it for every grid column it spans)."""
    seen, unique = set(), []
    for cell in cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            unique.append(cell)
    return unique


# -- OpenDocument -------------------------------------------------------------------------------
def odt_structure(data: bytes) -> Structured:
    from odf import dc
    from odf.opendocument import load

    document = load(_checked_zip(data, ".odt"))
    builder = TextBuilder()
    _odt_walk(builder, document.text, "paragraph")
    titles = document.meta.getElementsByType(dc.Title)
    return builder.build(_odt_text(titles[0]) if titles else None)


def _odt_walk(builder: TextBuilder, element, kind: str) -> None:
    """Headings, paragraphs, list items and tables in document order; other elements are containers."""
    for child in element.childNodes:
        name = getattr(child, "qname", (None, None))[1]
        if name == "h":
            builder.heading(int(child.getAttribute("outlinelevel") or 1), _odt_text(child))
        elif name == "p":
            builder.add(kind, _odt_text(child))
        elif name == "list-item":
            _odt_walk(builder, child, "item")
        elif name == "table":
            _odt_table(builder, child)
        elif name not in ("table-of-content", "sequence-decls", "tracked-changes", None):
            _odt_walk(builder, child, kind)


def _odt_text(element) -> str:
    from odf import teletype

    return teletype.extractText(element)


def _odt_table(builder: TextBuilder, table) -> None:
    from odf.table import TableCell, TableRow

    rows = []
    for row in table.getElementsByType(TableRow):
        cells = []
        for cell in row.getElementsByType(TableCell):  # a repeated cell stands for that many columns
            cells.extend([_odt_text(cell)] * min(int(cell.getAttribute("numbercolumnsrepeated") or 1), MAX_COLUMNS))
        rows.append(cells)
    for cells in rows[1:]:
        builder.row(cells, rows[0])


# -- EPUB ---------------------------------------------------------------------------------------
def epub_structure(data: bytes) -> Structured:
    import ebooklib
    from ebooklib import epub

    book = epub.read_epub(_checked_zip(data, ".epub"), {"ignore_ncx": True})
    builder = TextBuilder()
    for item_id, _ in book.spine:
        item = book.get_item_with_id(item_id)
        if item is not None and item.get_type() == ebooklib.ITEM_DOCUMENT:
            add_html(builder, item.get_content().decode("utf-8", errors="replace"))
    titles = book.get_metadata("DC", "title")
    return builder.build(titles[0][0] if titles else None)
