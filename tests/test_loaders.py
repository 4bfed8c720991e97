"""Files of every supported kind become text, with the metadata citations need."""

import io

import pytest

from index.loaders import DocumentError, load_document


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
    text = "Le conseil d’administration a nommé Emmett Shear – été, œuvre." if encoding == "cp1252" else "Le conseil a nommé Emmett Shear, été."
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
    doc = load_document(write(tmp_path, "notes.md", b"# Chronologie\n\nLe 17 novembre 2023, Sam Altman est licencie."), tmp_path)
    assert doc.title == "Chronologie"
    assert doc.date == "2023-11-17"


def test_pdf_text_layer_is_read(tmp_path):
    doc = load_document(write(tmp_path, "rapport.pdf", pdf_bytes("Le conseil a nommé Emmett Shear.")), tmp_path)
    assert "Emmett Shear" in doc.text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("vide.txt", b"", "empty file"),
        ("blancs.txt", b"  \n\t ", "empty file"),
        ("image.txt", bytes(range(256)) * 4, "binary file"),
        ("tableur.xlsx", b"PK\x03\x04", "unsupported file type"),
        ("scan.pdf", None, "no text layer"),
        ("casse.pdf", b"%PDF-1.4\nthis is not really a pdf", "malformed PDF"),
    ],
)
def test_bad_files_raise_a_one_line_reason(tmp_path, name, data, reason):
    path = write(tmp_path, name, pdf_bytes(None) if data is None else data)
    with pytest.raises(DocumentError, match=reason):
        load_document(path, tmp_path)


def compressed_pdf_page(decompressed_bytes: int) -> bytes:
    """A one-page PDF whose content stream inflates to `decompressed_bytes` (a zip bomb)."""
    import zlib

    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject

    squeezer, line = zlib.compressobj(9), b"BT (A) Tj ET\n"
    block = line * (1_000_000 // len(line))
    packed = b"".join(squeezer.compress(block) for _ in range(decompressed_bytes // len(block))) + squeezer.flush()
    writer = PdfWriter()
    page = writer.add_blank_page(100, 100)
    stream = StreamObject()
    stream._data = packed
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


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
        "    print('refused:', exc)\n"
        "print(peak() - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(bomb), str(tmp_path)], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split("\n")
    assert out[0].startswith("refused:")
    assert int(out[1]) < 200, f"loading the PDF grew the process by {out[1]} MB"


def test_a_pdf_with_too_many_pages_is_refused(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(2_001):
        writer.add_blank_page(10, 10)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(DocumentError, match="2001 pages; the limit is 2000"):
        load_document(write(tmp_path, "annuaire.pdf", buffer.getvalue()), tmp_path)
