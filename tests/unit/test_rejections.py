"""Issue 19: a file that is not indexed carries why as a code and its facts; the API picks its status
from the code and the page says it in French or English, never by reading an English message."""

from __future__ import annotations

import pytest

from index.indexer import IndexReport, Rejection
from qa.api.documents import rejection_status
from qa.api.schemas import UploadProblem
from qa.uploads import UploadFolder
from ui.labels import REASONS, reason

# Each code, the facts it carries, and what the page says in French and in English.
SAID = [
    ("too_large", {"limit_mb": 20}, "fichier trop volumineux (plus de 20 Mo)", "file too large (over 20 MB)"),
    ("empty", {}, "fichier vide", "empty file"),
    ("unsupported_type", {"suffix": ".exe"}, "type de fichier non pris en charge (.exe)",
     "unsupported file type (.exe)"),
    ("not_what_it_claims", {"suffix": ".pdf"}, "le contenu n’est pas celui d’un fichier .pdf",
     "the content is not that of a .pdf file"),
    ("invalid_name", {}, "nom de fichier invalide", "invalid file name"),
    ("unreadable", {}, "fichier illisible", "unreadable file"),
    ("damaged", {"suffix": ".docx"}, "fichier .docx endommagé", "damaged .docx file"),
    ("encrypted", {}, "fichier protégé par un mot de passe", "password-protected file"),
    ("no_text", {}, "aucun texte lisible dans le fichier", "no readable text in the file"),
    ("not_text", {}, "fichier binaire, pas du texte", "binary file, not text"),
    ("too_many_pages", {"pages": 2001, "limit": 2000}, "2001 pages, au-delà de la limite de 2000",
     "2001 pages, over the limit of 2000"),
    ("unpacks_too_large", {"limit_mb": 256}, "plus de 256 Mo une fois décompressé", "over 256 MB once unpacked"),
    ("same_id", {"other": "notes.md"}, "même identifiant que notes.md : renommez l’un des deux",
     "same document id as notes.md: rename one of them"),
]
CODES = [code for code, *_ in SAID]


def rejection(code: str, facts: dict | None = None) -> Rejection:
    return Rejection("fichier.txt", code, "the English message, never shown to a French reader", facts or {})


@pytest.mark.parametrize(("code", "facts", "french", "english"), SAID, ids=CODES)
def test_each_code_is_said_in_french_and_in_english_with_its_facts(code, facts, french, english):
    assert reason("fr", rejection(code, facts)) == french
    assert reason("en", rejection(code, facts)) == english


def test_every_code_has_words_in_both_languages_and_is_named_in_the_api_spec():
    assert set(REASONS["fr"]) == set(REASONS["en"]) == set(CODES)
    documented = UploadProblem.model_fields["code"].description
    assert all(code in documented for code in CODES)


def test_a_code_without_words_is_shown_as_its_english_message():
    assert reason("fr", rejection("something_new")) == "the English message, never shown to a French reader"


@pytest.mark.parametrize("code", CODES)
def test_only_a_file_too_large_makes_a_rejected_upload_a_413_every_other_code_a_415(code):
    problem = UploadProblem(filename="fichier.txt", code=code, message="…")
    assert rejection_status([problem]) == (413 if code == "too_large" else 415)


def test_an_upload_with_a_file_too_large_among_others_is_a_413():
    codes = {"vide.md": "empty", "gros.pdf": "too_large", "programme.exe": "unsupported_type"}
    problems = [UploadProblem(filename=name, code=code, message="…") for name, code in codes.items()]
    assert rejection_status(problems) == 413


class NoIndexing:
    """An indexer that no refused file may reach."""

    def index_files(self, *_):
        raise AssertionError("a refused file was indexed")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("gros.txt", b"a" * 2_000_001,
         Rejection("gros.txt", "too_large", "larger than the 2 MB upload limit", {"limit_mb": 2})),
        ("vide.md", b" \n\t", Rejection("vide.md", "empty", "empty file")),
        ("programme.exe", b"MZ\x90\x00",
         Rejection("programme.exe", "unsupported_type",
                   "unsupported file type '.exe' (supported: .txt, .md, .html, .htm, .pdf, .docx, .odt, .epub)",
                   {"suffix": ".exe"})),
        ("fausse.pdf", b"Ceci n'est pas un PDF.",
         Rejection("fausse.pdf", "not_what_it_claims", "the file is named .pdf but its content is not a PDF",
                   {"suffix": ".pdf"})),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(200),
         Rejection("image.txt", "not_what_it_claims", "the file is named .txt but its content is not text",
                   {"suffix": ".txt"})),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_an_upload_refused_before_indexing_carries_its_code_facts_and_english_message(tmp_path, name, data, expected):
    upload = UploadFolder(tmp_path, NoIndexing(), max_bytes=2_000_000).add([(name, data)])
    assert upload.rejected == [expected] and not upload.indexed
    assert not (tmp_path / name).exists()


def test_the_page_says_why_an_upload_was_refused_from_its_code(tmp_path):
    files = [("programme.exe", b"MZ\x90\x00"), ("fausse.pdf", b"du texte"), ("gros.md", b"#" * 2_000_001)]
    upload = UploadFolder(tmp_path, NoIndexing(), max_bytes=2_000_000).add(files)
    assert [reason("fr", r) for r in upload.rejected] == [
        "type de fichier non pris en charge (.exe)", "le contenu n’est pas celui d’un fichier .pdf",
        "fichier trop volumineux (plus de 2 Mo)"]
    assert [reason("en", r) for r in upload.rejected] == [
        "unsupported file type (.exe)", "the content is not that of a .pdf file", "file too large (over 2 MB)"]


def test_the_cli_summary_still_reads_one_english_line_per_skipped_file():
    report = IndexReport(errors=[Rejection("vide.txt", "empty", "empty file"),
                                 Rejection("photo.jpg", "unsupported_type", "unsupported file type '.jpg'",
                                           {"suffix": ".jpg"})])
    assert report.summary("docs").splitlines()[1:] == [
        "Skipped 2 file(s):", "  vide.txt: empty file", "  photo.jpg: unsupported file type '.jpg'"]
