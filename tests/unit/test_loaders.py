"""Files of every supported kind become stored text and blocks, with the metadata citations need."""

import io
from pathlib import Path

import pytest

from index.loaders import DocumentError, load_document, sniff_suffix
from index.text.sentences import unit_spans
from tests.helpers import DATA


def write(folder, name, data: bytes):
    path = folder / name
    path.write_bytes(data)
    return path


def pdf_bytes(text: str | None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["pdf.fonttype"] = 42
    import matplotlib.pyplot as plt
    import numpy as np

    figure = plt.figure()
    if text is None:
        plt.imshow(np.random.default_rng(0).random((8, 8)))
        plt.axis("off")
    else:
        figure.text(0.05, 0.5, text)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf")
    plt.close(figure)
    return buffer.getvalue()


def test_utf8_text_with_its_metadata(tmp_path):
    path = write(tmp_path, "note.txt", "Mise à jour du 21/11/2023.\nLes employés ont signé la lettre.".encode())
    doc = load_document(path, tmp_path)
    assert doc.doc_id == "note"
    assert doc.date == "2023-11-21"
    assert doc.language == "fr"
    assert doc.title == "Mise à jour du 21/11/2023"
    assert len(doc.content_hash) == 64


def test_a_utf8_byte_order_mark_is_not_part_of_the_text(tmp_path):
    path = write(tmp_path, "bom.txt", "\ufeffÉté".encode("utf-8"))
    assert load_document(path, tmp_path).text == "Été"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_and_cp1252_files_are_not_mangled(tmp_path, encoding):
    text = ("Le conseil d’administration a nommé Emmett Shear – été, œuvre." if encoding == "cp1252"
            else "Le conseil a nommé Emmett Shear, été.")
    path = write(tmp_path, "ancien.txt", text.encode(encoding))
    assert load_document(path, tmp_path).text == text


def test_html_keeps_the_text_and_drops_scripts_and_styles(tmp_path):
    html = b"""<html><head><title>Crise chez OpenAI</title><style>p{color:red}</style></head>
    <body><script>alert('x')</script><h1>Le titre</h1><p>Emmett Shear devient PDG.</p></body></html>"""
    doc = load_document(write(tmp_path, "page.html", html), tmp_path)
    assert doc.title == "Crise chez OpenAI"
    assert "Emmett Shear devient PDG." in doc.text
    assert "alert" not in doc.text and "color" not in doc.text


def test_markdown_title_comes_from_its_heading(tmp_path):
    path = write(tmp_path, "notes.md", b"# Chronologie\n\nLe 17 novembre 2023, Sam Altman est licencie.")
    doc = load_document(path, tmp_path)
    assert doc.title == "Chronologie"
    assert doc.date == "2023-11-17"


def test_pdf_text_layer_is_read(tmp_path):
    doc = load_document(write(tmp_path, "rapport.pdf", pdf_bytes("Le conseil a nommé Emmett Shear.")), tmp_path)
    assert "Emmett Shear" in doc.text


@pytest.mark.parametrize(
    ("name", "data", "reason", "code", "facts"),
    [
        ("vide.txt", b"", "empty file", "empty", {}),
        ("blancs.txt", b"  \n\t ", "empty file", "empty", {}),
        ("image.txt", bytes(range(256)) * 4, "binary file", "not_text", {}),
        ("tableur.xlsx", b"PK\x03\x04", "unsupported file type", "unsupported_type", {"suffix": ".xlsx"}),
        ("scan.pdf", None, "no text layer", "no_text", {}),
        ("casse.pdf", b"%PDF-1.4\nthis is not really a pdf", "malformed PDF", "damaged", {"suffix": ".pdf"}),
    ],
)
def test_bad_files_raise_a_one_line_reason_and_its_code(tmp_path, name, data, reason, code, facts):
    path = write(tmp_path, name, pdf_bytes(None) if data is None else data)
    with pytest.raises(DocumentError, match=reason) as raised:
        load_document(path, tmp_path)
    assert (raised.value.code, raised.value.facts) == (code, facts)


def one_page_pdf(content: bytes, filters: bytes = b"") -> bytes:
    """A minimal PDF whose one page draws `content`, a stream already encoded with `filters`."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>",
        b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(content), filters, content),
    ]
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


def compressed_pdf_page(decompressed_bytes: int) -> bytes:
    """A one-page PDF whose content stream inflates to `decompressed_bytes` (a zip bomb)."""
    import zlib

    squeezer, line = zlib.compressobj(9), b"BT (A) Tj ET\n"
    block = line * (1_000_000 // len(line))
    packed = b"".join(squeezer.compress(block) for _ in range(decompressed_bytes // len(block))) + squeezer.flush()
    return one_page_pdf(packed, b"/Filter /FlateDecode")


def test_a_pdf_zip_bomb_is_refused_without_inflating_it(tmp_path):
    """1 GB of page content in a 1 MB file: refused, and the process grows by little."""
    import subprocess
    import sys

    bomb = write(tmp_path, "bombe.pdf", compressed_pdf_page(1_000_000_000))
    probe = (
        "import sys\nfrom pathlib import Path\n"
        "from index.loaders import DocumentError, load_document\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking (pytest) process.
        "peak = lambda: int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))) // 1024\n"
        "before = peak()\n"
        "try:\n"
        "    load_document(Path(sys.argv[1]), Path(sys.argv[2])); print('loaded')\n"
        "except DocumentError as exc:\n"
        "    print('refused:', exc.code, exc)\n"
        "print(peak() - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(bomb), str(tmp_path)], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split("\n")
    assert out[0].startswith("refused: unpacks_too_large")
    assert int(out[1]) < 200, f"loading the PDF grew the process by {out[1]} MB"


def test_a_pdf_with_too_many_pages_is_refused(tmp_path):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(2_001):
        pdf.new_page(10, 10)
    buffer = io.BytesIO()
    pdf.save(buffer)
    with pytest.raises(DocumentError, match="2001 pages; the limit is 2000") as raised:
        load_document(write(tmp_path, "annuaire.pdf", buffer.getvalue()), tmp_path)
    assert (raised.value.code, raised.value.facts) == ("too_many_pages", {"pages": 2001, "limit": 2000})


# -- structure: real excerpts of Debian's French manuals (tests/data/real/README.md) -----------------
REAL = DATA / "real"
CHAPTER = "Chapitre 6. Applications réseau"
PRINTING = "6.4. Le serveur et les utilitaires d’impression"
CUPS_SENTENCE = "Vous pouvez configurer le système CUPS en pointant votre navigateur web sur « http://localhost:631/ »."
CUPS_ROW = ("paquet: cups | popcon: V:116, I:406 | taille: 1027 | port: IPP (631) | "
            "description: Serveur Internet d’impression CUPS")


def real(name: str):
    return load_document(REAL / name, REAL)


def units(doc) -> list[str]:
    return [doc.text[a:b] for a, b in unit_spans(doc.text, doc.blocks)]


def block_holding(doc, fragment: str):
    return next(b for b in doc.blocks if fragment in doc.text[b.start : b.end])


def test_an_html_sentence_with_inline_code_and_links_is_one_sentence():
    doc = real("reference-ch06-printing.fr.html")
    assert CUPS_SENTENCE in units(doc)
    assert ("Grâce à la fonctionnalité d’autoconversion dépendante du format du fichier du système CUPS, passer "
            "simplement les données à la commande lpr devrait créer la sortie imprimable souhaitée.") in units(doc)


def test_an_html_table_row_keeps_its_header():
    doc = real("reference-ch06-printing.fr.html")
    assert CUPS_ROW in units(doc)
    assert block_holding(doc, CUPS_ROW).kind == "row"


def test_html_navigation_and_table_of_contents_are_dropped():
    doc = real("reference-ch06-printing.fr.html")
    assert "Table des matières" not in doc.text
    assert "Chapitre 5. Configuration du réseau" not in doc.text  # the "previous chapter" link of the page footer
    assert doc.text.count(CHAPTER) == 1  # the heading, not the navigation bar repeating it


def test_each_html_block_knows_its_heading_path():
    doc = real("reference-ch06-printing.fr.html")
    assert block_holding(doc, CUPS_SENTENCE).section == (CHAPTER, PRINTING)
    assert block_holding(doc, PRINTING).kind == "heading"


def test_a_code_block_is_one_unit_per_line(tmp_path):
    page = b"<html><body><p>Pour installer :</p><pre>$ apt update\n$ apt install cups\n</pre></body></html>"
    doc = load_document(write(tmp_path, "code.html", page), tmp_path)
    assert units(doc) == ["Pour installer :", "$ apt update", "$ apt install cups"]
    assert [b.kind for b in doc.blocks] == ["paragraph", "code", "code"]


def test_markdown_is_parsed_not_indexed_as_syntax():
    doc = real("printing-markdown.md")
    for syntax in ("#", "| paquet |", "| --- |", "`", "](", "- rfc"):
        assert syntax not in doc.text
    assert "$ telnet mail.ispname.net pop3" in units(doc)
    assert block_holding(doc, "rfc3501 : service IMAP4").kind == "item"


@pytest.mark.parametrize("name", ["printing-markdown.md", "printing-word.docx", "printing-opendocument.odt",
                                  "printing-ebook.epub"])
def test_every_format_keeps_sentences_table_rows_and_headings(name):
    doc = real(name)
    assert CUPS_SENTENCE in units(doc)
    assert "paquet: cups | popcon: V:116, I:406 | taille: 1027 | port: IPP (631) | " \
           "description: Serveur Internet d’impression CUPS" in units(doc)
    assert block_holding(doc, CUPS_SENTENCE).section == (CHAPTER, PRINTING)
    assert block_holding(doc, "rfc3501 : service IMAP4").kind == "item"
    assert doc.language == "fr"


@pytest.mark.parametrize("name", ["printing-word.docx", "printing-opendocument.odt", "printing-ebook.epub"])
def test_office_and_ebook_files_give_their_own_title(name):
    assert real(name).title == "Référence Debian : impression"


def test_a_pdf_running_header_and_page_numbers_are_gone():
    doc = real("faq-ch01.fr.pdf")
    assert "CHAPITRE 1. DÉFINITIONS" not in doc.text  # the running header of pages 2 and 3
    assert not [b for b in doc.blocks if doc.text[b.start : b.end].isdigit()]  # the page numbers


def test_a_pdf_word_hyphenated_across_a_line_break_is_joined():
    doc = real("faq-ch01.fr.pdf")
    assert "n’importe quel composant individuel peut être mis à jour sans reformater" in doc.text
    assert "travaillent bénévolement sur plus de 59100 paquets et participent à l’amélioration" in doc.text
    assert "\ufffe" not in doc.text


def test_pdf_words_keep_their_spaces_and_lines_their_paragraph():
    doc = real("faq-ch01.fr.pdf")
    assert ("Le projet Debian a été créé par Ian Murdock en 1993, initialement sous le patronage du projet GNU de la "
            "Free Software Foundation.") in units(doc)


def test_each_pdf_block_knows_its_page_and_its_heading_path_from_the_bookmarks():
    doc = real("faq-ch01.fr.pdf")
    block = block_holding(doc, "Ces fonctions principales distinguent Debian")
    assert block.page == 3
    assert block.section == (
        "Chapitre 1 Définitions et vue d’ensemble",
        ("1.5 Quelles sont les différences entre Debian GNU/Linux et les autres distributions Linux ? "
         "Pourquoi choisir Debian plutôt qu’une autre ?"),
    )
    assert block_holding(doc, "Ian Murdock en 1993").page == 2


FIXTURES = sorted(p.name for p in REAL.iterdir() if p.is_file() and p.name not in ("README.md", "make_fixtures.py"))


@pytest.mark.parametrize("name", FIXTURES)
def test_blocks_are_whole_lines_of_the_stored_text_in_order(name):
    doc = real(name)
    assert doc.blocks
    previous_end = 0
    for block in doc.blocks:
        text = doc.text[block.start : block.end]
        assert block.start >= previous_end and "\n" not in text and text.strip()
        previous_end = block.end


def test_plain_text_is_stored_as_it_is_one_block_per_line(tmp_path):
    text = "Titre\n\n  Première ligne. Deuxième phrase.\nFin"
    doc = load_document(write(tmp_path, "note.txt", text.encode()), tmp_path)
    assert doc.text == text
    assert [doc.text[b.start : b.end] for b in doc.blocks] == ["Titre", "Première ligne. Deuxième phrase.", "Fin"]


# -- uploads: what a file really is -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["printing-word.docx", "printing-opendocument.odt", "printing-ebook.epub"])
def test_an_upload_of_a_new_format_is_recognised_by_its_inner_file(name):
    data = (REAL / name).read_bytes()
    suffix = Path(name).suffix
    assert sniff_suffix(data, suffix) == suffix
    others = {".docx", ".odt", ".epub", ".pdf", ".txt"} - {suffix}
    assert all(sniff_suffix(data, other) is None for other in others)


def test_an_upload_of_another_zip_or_of_text_named_docx_is_refused():
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<x/>")
    assert sniff_suffix(archive.getvalue(), ".odt") is None
    assert sniff_suffix(archive.getvalue(), ".docx") is None
    assert sniff_suffix(b"Just some text", ".docx") is None


@pytest.mark.parametrize("name", ["printing-word.docx", "printing-opendocument.odt", "printing-ebook.epub"])
def test_a_damaged_office_or_ebook_file_is_a_one_line_reason(tmp_path, name):
    import zipfile

    damaged = io.BytesIO()
    with zipfile.ZipFile(REAL / name) as original, zipfile.ZipFile(damaged, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            copy.writestr(item, data[: len(data) // 2] if item.filename.endswith((".xml", ".xhtml", ".opf")) else data)
    with pytest.raises(DocumentError, match=f"damaged {Path(name).suffix} file") as raised:
        load_document(write(tmp_path, name, damaged.getvalue()), tmp_path)
    assert (raised.value.code, raised.value.facts) == ("damaged", {"suffix": Path(name).suffix})


def test_an_office_file_that_unpacks_to_too_much_is_refused(monkeypatch, tmp_path):
    from index.loaders import office

    monkeypatch.setattr(office, "ZIP_MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(DocumentError, match="unpacks to more than") as raised:
        load_document(write(tmp_path, "gros.docx", (REAL / "printing-word.docx").read_bytes()), tmp_path)
    assert raised.value.code == "unpacks_too_large"
