"""Real corpora: the registry, the fetcher's cache and errors, and the evaluation sets that go with them.

The fetcher is exercised offline with a fake `apt-get` first on PATH; only the tests
marked slow download real packages (once per machine: they land in the shared cache).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from eval import corpora
from eval.corpora import CORPORA, Corpus, CorpusError, eval_set_path, fetch, prepare_eval
from eval.dataset import DEFAULT_SET, all_facts_found, load_set
from qa.settings import Settings

FAKE = Corpus("fake", "fakepkg", "usr/share/doc/fakepkg/html", ("*.html", "*.pdf.gz"), "fake", "a test corpus")


def fake_apt(tmp_path: Path, monkeypatch, script: str) -> Path:
    """Put an `apt-get` running `script` (bash) first on PATH; it appends its arguments to calls.log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(f'#!/bin/bash\necho "$@" >> {tmp_path}/calls.log\n{script}\n')
    apt.chmod(apt.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return tmp_path / "calls.log"


def test_an_unknown_corpus_is_an_error_that_lists_the_known_ones(tmp_path):
    with pytest.raises(CorpusError, match="unknown corpus 'no-such'.*debian-faq"):
        fetch("no-such", tmp_path)


def test_a_cached_corpus_is_not_fetched_again(tmp_path, monkeypatch):
    calls = fake_apt(tmp_path, monkeypatch, "exit 100")
    (tmp_path / "cache" / "debian-faq" / "docs").mkdir(parents=True)
    (tmp_path / "cache" / "debian-faq" / corpora.DONE).write_text("{}")
    assert fetch("debian-faq", tmp_path / "cache") == tmp_path / "cache" / "debian-faq" / "docs"
    assert not calls.exists()


def test_a_failing_apt_get_names_the_package_and_apt_s_reason(tmp_path, monkeypatch):
    script = '[ "$2" = update ] && exit 0; echo "E: Unable to locate package $3" >&2; exit 100'
    calls = fake_apt(tmp_path, monkeypatch, script)
    reason = r"\(E: Unable to locate package debian-faq-fr\)$"
    with pytest.raises(CorpusError, match=r"^cannot fetch debian-faq-fr: apt-get download failed " + reason):
        fetch("debian-faq", tmp_path / "cache")
    assert calls.read_text().split("\n")[:3] == ["-q download debian-faq-fr", "-q update", "-q download debian-faq-fr"]
    assert not (tmp_path / "cache" / "debian-faq").exists()


needs_dpkg = pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs dpkg-deb (Debian)")


def package_tree(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """The tree of a package `fakepkg` holding `files`, for `dpkg-deb -b`."""
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: fakepkg\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: test\n"
    )
    for name, data in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)
    return tree


@needs_dpkg
def test_fetch_updates_apt_once_then_extracts_the_corpus_with_its_licence(tmp_path, monkeypatch):
    tree = package_tree(tmp_path, {
        f"{FAKE.base}/one.fr.html": b"<p>Un</p>",
        f"{FAKE.base}/style.css": b"p {}",
        f"{FAKE.base}/book.fr.pdf.gz": gzip.compress(b"%PDF-1.4 fake"),
        "usr/share/doc/fakepkg/copyright": b"GPL-2+",
    })
    # The first download fails, as on a machine whose package lists are stale.
    calls = fake_apt(tmp_path, monkeypatch, f"""
        case "$2" in
          update) touch {tmp_path}/updated ;;
          download) [ -e {tmp_path}/updated ] || {{ echo "E: Unable to locate package $3" >&2; exit 100; }}
                    dpkg-deb -Zgzip -b {tree} "$PWD/fakepkg_1.0_all.deb" >/dev/null ;;
        esac""")
    monkeypatch.setitem(CORPORA, "fake", FAKE)

    docs = fetch("fake", tmp_path / "cache")

    assert sorted(p.name for p in docs.iterdir()) == ["book.fr.pdf", "one.fr.html"]
    assert (docs / "book.fr.pdf").read_bytes() == b"%PDF-1.4 fake"
    assert (docs.parent / "copyright").read_text() == "GPL-2+"
    assert json.loads((docs.parent / corpora.DONE).read_text())["files"] == ["book.fr.pdf", "one.fr.html"]
    assert calls.read_text().split("\n")[:3] == ["-q download fakepkg", "-q update", "-q download fakepkg"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["fake", "packages"]  # no work folder left


@needs_dpkg
def test_a_package_without_the_corpus_files_is_an_error(tmp_path, monkeypatch):
    tree = package_tree(tmp_path, {"usr/share/doc/fakepkg/copyright": b"GPL-2+"})
    fake_apt(tmp_path, monkeypatch, f'dpkg-deb -Zgzip -b {tree} "$PWD/fakepkg_1.0_all.deb" >/dev/null')
    monkeypatch.setitem(CORPORA, "fake", FAKE)
    with pytest.raises(CorpusError, match=r"fakepkg_1.0_all.deb has no file matching"):
        fetch("fake", tmp_path / "cache")
    assert not (tmp_path / "cache" / "fake" / corpora.DONE).exists()


def test_the_pdf_corpus_asks_the_html_questions_of_its_one_document(tmp_path):
    html, pdf = load_set(CORPORA["debian-faq"].set_file), load_set(eval_set_path(CORPORA["debian-faq-pdf"], tmp_path))
    assert [(i.id, i.question, i.must) for i in pdf] == [(i.id, i.question, i.must) for i in html]
    assert all(i.docs == (["debian-faq.fr"] if i.answerable else []) for i in pdf)


def test_the_english_faq_asks_the_french_faq_questions_of_the_same_english_pages(tmp_path):
    french = load_set(CORPORA["debian-faq"].set_file)
    english = load_set(eval_set_path(CORPORA["debian-faq-en"], tmp_path))
    kept = [i for i in french if i.id not in CORPORA["debian-faq-en"].omitted]
    assert len(kept) == len(french) - 1 and [(i.id, i.question, i.must) for i in english] == [
        (i.id, i.question, i.must) for i in kept]
    assert [i.docs for i in english] == [[d.replace(".fr", ".en") for d in i.docs] for i in kept]


def test_eval_takes_a_path_as_given_and_a_corpus_name_as_its_set(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", corpora_dir=tmp_path / "corpora")
    assert prepare_eval(None, settings) == (DEFAULT_SET, settings)
    assert prepare_eval(Path("elsewhere.jsonl"), settings) == (Path("elsewhere.jsonl"), settings)
    assert prepare_eval(Path("maint-guide"), settings, index=False) == (CORPORA["maint-guide"].set_file, settings)
    with pytest.raises(CorpusError, match="unknown corpus 'debian-fac'"):
        prepare_eval(Path("debian-fac"), settings)


def test_qa_eval_reports_an_unknown_corpus_in_one_line(capsys):
    from qa.cli import main

    assert main(["eval", "--set", "debian-fac"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"qa: error: unknown corpus 'debian-fac' (known: {', '.join(CORPORA)})"
    ]


@pytest.mark.parametrize("name", ["debian-faq", "calibration-debian-faq"])
def test_the_debian_faq_sets_are_balanced_and_apart(name):
    items = load_set(corpora.SETS / f"{name}.jsonl")
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    minimum = (40, 12) if name == "debian-faq" else (12, 12)
    assert len(answerable) >= minimum[0] and len(unanswerable) >= minimum[1]
    for group in (answerable, unanswerable):
        french = sum(i.lang == "fr" for i in group)
        assert abs(2 * french - len(group)) <= 0.2 * len(group)  # about half French, half English
    assert all(i.must and i.docs for i in answerable)
    assert all(not i.must and not i.docs and i.tags == ["unanswerable"] for i in unanswerable)
    if name == "debian-faq":  # the calibration set fits the abstention model: it must share no question
        calibration = load_set(CORPORA["debian-faq"].calibration_file)
        assert not {i.question for i in items} & {i.question for i in calibration}


def _sets_of(corpus: Corpus, cache: Path) -> list[Path]:
    if corpus.derives_its_set:  # the HTML questions, asked of the one file or of the other edition
        return [eval_set_path(corpus, cache)]
    return [f for f in (corpus.set_file, corpus.calibration_file) if f.exists()]


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name, corpus in CORPORA.items() if corpus.set_file.exists()])
def test_every_key_fact_is_in_the_documents_the_set_names(name):
    """Downloads the package (once per machine): every `must` matches the text the loader reads
    from the documents the item names, so a missed fact is the system's fault, not the set's
    (and a PDF corpus holds the facts of its HTML twin only if its text is read with its spaces)."""
    from index.loaders import load_document

    docs = fetch(name)
    texts = {d.doc_id: d.text for d in (load_document(p, docs) for p in sorted(docs.rglob("*")) if p.is_file())}
    for set_file in _sets_of(CORPORA[name], docs.parent.parent):
        for item in load_set(set_file):
            unknown = set(item.docs) - texts.keys()
            assert not unknown, f"{set_file.name} {item.id}: unknown docs {unknown}"
            if item.answerable:
                text = "\n".join(texts[d] for d in item.docs)
                assert all_facts_found(item.must, text), f"{set_file.name} {item.id}: {item.must} not in {item.docs}"
