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
