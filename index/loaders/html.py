"""HTML (and what renders to it: Markdown, EPUB chapters) as blocks, by walking the DOM.

Inline elements (<a>, <code>, <em>…) stay inside the sentence they belong to;
block elements delimit units.  A data table becomes one line per row, each cell
named by its column header, so a row quoted alone still says what its values
are.  Navigation and page furniture are dropped by what markup says they are
(<nav>, <aside>, <footer>, ARIA roles, the class names site generators give
them), never by what the text is about.  Why the walk is ours, on BeautifulSoup,
rather than a text-extraction library: docs/decisions.md ("Loaders keep structure").
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, NavigableString, Tag, XMLParsedAsHTMLWarning
from bs4.element import PreformattedString

from index.loaders.structure import MAX_COLUMNS, BlockKind, Structured, TextBuilder, one_line

_DROPPED_TAGS = {
    "script", "style", "noscript", "template", "head", "svg", "math", "nav", "aside", "footer",
    "form", "button", "select", "textarea", "iframe", "object", "canvas",
}
_DROPPED_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary"}
# Class and id names that site generators (DocBook, Sphinx, CMS themes) give page furniture;
# whole names only: Sphinx's inline "menuselection" or "toc-backref" are text.
_FURNITURE = re.compile(
    r"^(?:nav|navbar|navigation|navheader|navfooter|menu|breadcrumbs?|toc|sidebar|skip-?link|headerlink)$",
    re.IGNORECASE,
)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_ITEMS = {"li", "dt"}
_BLOCKS = {
    "p", "div", "section", "article", "main", "header", "body", "html", "blockquote", "figure", "figcaption",
    "ul", "ol", "dl", "dd", "details", "summary", "caption", "center", "address", "fieldset", "legend",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "pre", "hr", "br", *_HEADINGS, *_ITEMS,
}


def html_structure(raw: str) -> Structured:
    builder = TextBuilder()
    return builder.build(add_html(builder, raw))


def add_html(builder: TextBuilder, raw: str) -> str | None:
    """Walk a page's main content into `builder`; return the page's title, or its first heading."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML (EPUB, DocBook) parses fine as HTML
        soup = BeautifulSoup(raw, "lxml")
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.body or soup
    _Walker(builder).container(root, "paragraph")
    title = soup.find("title") or root.find(sorted(_HEADINGS))
    return flat_text(title) if title else None


class _Walker:
    """Depth-first walk: text of inline elements accumulates into a run that each block boundary flushes."""

    def __init__(self, out: TextBuilder):
        self.out = out
        self.run: list[str] = []

    def container(self, element: Tag, kind: BlockKind) -> None:
        for child in element.children:
            self.node(child, kind)
        self.flush(kind)

    def node(self, node, kind: BlockKind) -> None:
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, CDATA, doctypes
                self.run.append(str(node))
            return
        if not isinstance(node, Tag) or _is_furniture(node):
            return
        name = node.name
        if name not in _BLOCKS:  # inline: its text joins the current run
            for child in node.children:
                self.node(child, kind)
            return
        self.flush(kind)
        if name in _HEADINGS:
            self.out.heading(int(name[1]), flat_text(node))
        elif name == "pre":
            for line in node.get_text().splitlines():
                self.out.add("code", line)
        elif name == "table":
            self.table(node)
        elif name in _ITEMS:
            self.container(node, "item")
        elif name not in ("br", "hr"):
            self.container(node, "paragraph")

    def flush(self, kind: BlockKind) -> None:
        if self.run:
            self.out.add(kind, "".join(self.run))
            self.run.clear()

    def table(self, table: Tag) -> None:
        rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
        grid = [_cells(tr) for tr in rows]
        if _is_layout(table, grid):
            for tr in rows:
                for cell in tr.find_all(["td", "th"], recursive=False):
                    self.container(cell, "paragraph")
            return
        if (caption := table.find("caption")) is not None:
            self.out.add("paragraph", flat_text(caption))
        header: list[str] = []
        for row in grid:
            if all(is_header for _, is_header in row):
                header = [text for text, _ in row]
            else:
                self.out.row([text for text, _ in row], header)


def _is_furniture(tag: Tag) -> bool:
    if tag.name in _DROPPED_TAGS or tag.get("role") in _DROPPED_ROLES:
        return True
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    return any(_FURNITURE.match(name) for name in [*(tag.get("class") or []), tag.get("id") or ""])


def _cells(tr: Tag) -> list[tuple[str, bool]]:
    """(text, is a header cell) for each column of a row; a cell spanning columns fills the first."""
    cells: list[tuple[str, bool]] = []
    for cell in tr.find_all(["td", "th"], recursive=False):
        span = str(cell.get("colspan", "1")).strip()
        cells.append((flat_text(cell), cell.name == "th"))
        cells.extend([("", cell.name == "th")] * (min(int(span), MAX_COLUMNS) - 1 if span.isdigit() else 0))
    return cells


def _is_layout(table: Tag, grid: list[list[tuple[str, bool]]]) -> bool:
    """A table used for layout (a boxed note, a page frame) rather than data: walk it as a container."""
    if table.get("role") == "presentation" or table.find("table") is not None:
        return True
    return all(sum(bool(text) for text, _ in row) <= 1 for row in grid)


def flat_text(element: Tag) -> str:
    """An element's text on one line; block boundaries inside it become spaces, not glue."""
    return one_line("".join(_flat_parts(element)))


def _flat_parts(element: Tag):
    for node in element.children:
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):
                yield str(node)
        elif isinstance(node, Tag) and not _is_furniture(node):
            if node.name in _BLOCKS:
                yield " "
            yield from _flat_parts(node)
