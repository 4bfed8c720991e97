"""Build the real-document fixtures in this folder (README.md says where they come from).

    python tests/data/real/make_fixtures.py               # printing-*.md, .docx, .odt, .epub
    python tests/data/real/make_fixtures.py --debian DIR  # also cut the HTML page and the PDF
                                                          # pages from the packages extracted in DIR

The Markdown, Word, OpenDocument and EPUB files hold the same French text, taken from
the Debian Reference (section 6.4 on printing, section 6.7 on diagnosing daemons), and
are written with the libraries that read them, so each format is tested on the same
content: inline code and links inside sentences, a table with a header row, a list, a
code line, two levels of headings.  Cutting the PDF needs pypdf (the `dev` extra):
PDFium cannot write bookmarks, and the loader takes PDF headings from them.
"""

from __future__ import annotations

import argparse
import gzip
import io
from pathlib import Path

HERE = Path(__file__).parent
TITLE = "Référence Debian : impression"
# A paragraph is a list of (text, style) runs; style is None, "code" or a link target.
DOCUMENT = [
    ("heading", 1, "Chapitre 6. Applications réseau"),
    ("heading", 2, "6.4. Le serveur et les utilitaires d’impression"),
    ("paragraph", [
        ("Grâce à la fonctionnalité d’autoconversion dépendante du format du fichier du système CUPS, passer "
         + "simplement les données à la commande ", None), ("lpr", "code"),
        (" devrait créer la sortie imprimable souhaitée. (Dans CUPS, ", None), ("lpr", "code"),
        (" peut être activé en installant la paquet ", None), ("cups-bsd", "code"), (").", None),
    ]),
    ("paragraph", [("Le système Debian possède certains paquets notables de serveurs et d’utilitaires d’impression :",
                    None)]),
    ("table", ["paquet", "popcon", "taille", "port", "description"], [
        ["lpr", "V:3, I:3", "367", "imprimante (515)", "BSD lpr/lpd (démon d’impression)"],
        ["cups", "V:116, I:406", "1027", "IPP (631)", "Serveur Internet d’impression CUPS"],
        ["cups-bsd", "V:31, I:249", "122", "",
         "commandes d’impression BSD pour CUPS : lpr(1), lpq(1), lprm(1), lpc(8)"],
    ]),
    ("paragraph", [("Vous pouvez configurer le système CUPS en pointant votre navigateur web sur « ", None),
                   ("http://localhost:631/", "http://localhost:631/"), (" ».", None)]),
    ("heading", 2, "6.7. Le diagnostic des démons du système"),
    ("paragraph", [("Le programme telnet permet la connexion manuelle aux démons du système et leur diagnostic. "
                    + "Pour tester le service POP3 brut, essayez ce qui suit :", None)]),
    ("code", ["$ telnet mail.ispname.net pop3"]),
    ("paragraph", [("Les RFC suivantes proposent les connaissances nécessaires pour chaque démon :", None)]),
    ("list", ["rfc1939 et rfc2449 : service POP3", "rfc3501 : service IMAP4", "rfc2821 (rfc821) : service SMTP"]),
]


def plain(runs) -> str:
    return "".join(text for text, _ in runs)


# -- Markdown and HTML (the EPUB's chapters) --------------------------------------------------
def markdown() -> str:
    def inline(runs) -> str:
        return "".join(f"`{t}`" if s == "code" else f"[{t}]({s})" if s else t for t, s in runs)

    out = []
    for kind, *args in DOCUMENT:
        if kind == "heading":
            out.append(f"{'#' * args[0]} {args[1]}")
        elif kind == "paragraph":
            out.append(inline(args[0]))
        elif kind == "table":
            header, rows = args
            lines = [header, ["---"] * len(header), *rows]
            out.append("\n".join("| " + " | ".join(cells) + " |" for cells in lines))
        elif kind == "code":
            out.append("```\n" + "\n".join(args[0]) + "\n```")
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in args[0]))
    return "\n\n".join(out) + "\n"


def xhtml_chapters() -> list[tuple[str, str]]:
    """(title, XHTML body) of the EPUB's chapters: a new one at each second-level heading but the first."""
    from html import escape

    def inline(runs) -> str:
        return "".join(f"<code>{escape(t)}</code>" if s == "code" else f'<a href="{escape(s)}">{escape(t)}</a>' if s
                       else escape(t) for t, s in runs)

    titles: list[str] = []
    chapters: list[list[str]] = [[]]
    for kind, *args in DOCUMENT:
        if kind == "heading" and args[0] == 2:
            if titles:
                chapters.append([])
            titles.append(args[1])
        body = chapters[-1]
        if kind == "heading":
            body.append(f"<h{args[0]}>{escape(args[1])}</h{args[0]}>")
        elif kind == "paragraph":
            body.append(f"<p>{inline(args[0])}</p>")
        elif kind == "table":
            header, rows = args
            cells = "".join(f"<th>{escape(c)}</th>" for c in header)
            body.append(f"<table><thead><tr>{cells}</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
                        + "</tbody></table>")
        elif kind == "code":
            body.append("<pre>" + escape("\n".join(args[0])) + "</pre>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in args[0]) + "</ul>")
    return [(title, "\n".join(parts)) for title, parts in zip(titles, chapters, strict=True)]


# -- Word ---------------------------------------------------------------------------------------
def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = TITLE
    for kind, *args in DOCUMENT:
        if kind == "heading":
            document.add_heading(args[1], level=args[0])
        elif kind == "paragraph":
            paragraph = document.add_paragraph()
            for text, style in args[0]:
                run = paragraph.add_run(text)
                run.font.name = "Courier New" if style == "code" else None
                run.underline = bool(style and style != "code")
        elif kind == "table":
            header, rows = args
            table = document.add_table(rows=1 + len(rows), cols=len(header))
            for r, cells in enumerate([header, *rows]):
                for c, text in enumerate(cells):
                    table.cell(r, c).text = text
        elif kind == "code":
            for line in args[0]:
                document.add_paragraph(line).runs[0].font.name = "Courier New"
        elif kind == "list":
            for item in args[0]:
                document.add_paragraph(item, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# -- OpenDocument ---------------------------------------------------------------------------------
def odt_bytes() -> bytes:
    from odf import dc, table, text
    from odf.opendocument import OpenDocumentText

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text=TITLE))
    for kind, *args in DOCUMENT:
        if kind == "heading":
            document.text.addElement(text.H(outlinelevel=args[0], text=args[1]))
        elif kind == "paragraph":
            paragraph = text.P()
            for run, style in args[0]:
                if style == "code":
                    paragraph.addElement(text.Span(text=run))
                elif style:
                    paragraph.addElement(text.A(href=style, text=run))
                else:
                    paragraph.addText(run)
            document.text.addElement(paragraph)
        elif kind == "table":
            header, rows = args
            grid = table.Table(name="paquets")
            grid.addElement(table.TableColumn(numbercolumnsrepeated=len(header)))
            for cells in [header, *rows]:
                row = table.TableRow()
                for cell_text in cells:
                    cell = table.TableCell()
                    cell.addElement(text.P(text=cell_text))
                    row.addElement(cell)
                grid.addElement(row)
            document.text.addElement(grid)
        elif kind == "code":
            for line in args[0]:
                document.text.addElement(text.P(text=line))
        elif kind == "list":
            bullets = text.List()
            for item in args[0]:
                entry = text.ListItem()
                entry.addElement(text.P(text=item))
                bullets.addElement(entry)
            document.text.addElement(bullets)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


# -- EPUB -------------------------------------------------------------------------------------------
def epub_bytes() -> bytes:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("grounded-qa-fixture-printing")
    book.set_title(TITLE)
    book.set_language("fr")
    chapters = []
    for number, (title, body) in enumerate(xhtml_chapters(), start=1):
        chapter = epub.EpubHtml(title=title, file_name=f"chap{number}.xhtml", lang="fr")
        chapter.content = f"<html><head><title>{title}</title></head><body>{body}</body></html>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    buffer = io.BytesIO()
    epub.write_epub(buffer, book)
    return buffer.getvalue()


# -- excerpts of the real packages ------------------------------------------------------------------
HTML_PAGE = "debian-reference-fr/usr/share/debian-reference/ch06.fr.html"
HTML_SECTION = "_the_print_server_and_utilities"
PDF_FILE = "debian-faq-fr/usr/share/doc/debian/FAQ/debian-faq.fr.pdf.gz"
PDF_PAGES = range(8, 11)  # 0-based: the start of chapter 1, with running headers, page numbers, hyphenation


def html_excerpt(debian: Path) -> str:
    """Chapter 6 of the Debian Reference with one section kept (6.4, printing) and a short table of contents."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((debian / HTML_PAGE).read_text(encoding="utf-8"), "html.parser")
    for section in soup.select("div.chapter > div.section"):
        if not section.find(id=HTML_SECTION):
            section.decompose()
    for entry in soup.select("div.toc > dl > dt")[3:] + soup.select("div.toc > dl > dd")[3:]:
        entry.decompose()
    return str(soup)


def pdf_excerpt(debian: Path) -> bytes:
    """A few pages of the French Debian FAQ, with the bookmarks that point into them."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(gzip.decompress((debian / PDF_FILE).read_bytes())))
    writer = PdfWriter()
    for index in PDF_PAGES:
        writer.add_page(reader.pages[index])

    def copy(outline, parent=None):
        previous = None
        for item in outline:
            if isinstance(item, list):
                copy(item, previous)
                continue
            page = reader.get_destination_page_number(item)
            previous = None
            if page in PDF_PAGES:
                previous = writer.add_outline_item(title=item.title, page_number=page - PDF_PAGES.start, parent=parent)

    copy(reader.outline)
    writer.add_metadata({"/Title": "La FAQ Debian GNU/Linux (extrait)"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debian", type=Path, help="where debian-faq-fr and debian-reference-fr are extracted")
    args = parser.parse_args()
    (HERE / "printing-markdown.md").write_text(markdown(), encoding="utf-8")
    (HERE / "printing-word.docx").write_bytes(docx_bytes())
    (HERE / "printing-opendocument.odt").write_bytes(odt_bytes())
    (HERE / "printing-ebook.epub").write_bytes(epub_bytes())
    if args.debian:
        (HERE / "reference-ch06-printing.fr.html").write_text(html_excerpt(args.debian), encoding="utf-8")
        (HERE / "faq-ch01.fr.pdf").write_bytes(pdf_excerpt(args.debian))


if __name__ == "__main__":
    main()
