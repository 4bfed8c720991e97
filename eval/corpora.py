"""Real corpora to evaluate on: Debian's French documentation packages, fetched on demand.

Why these: they are real documents (long French pages, untranslated English passages,
navigation and tables of contents), redistributable, and reachable from machines that
only reach Debian and PyPI.  A corpus is fetched once into a cache outside the
repository, so CI on the same machine never downloads it again:

    <cache>/packages/PKG_VERSION_all.deb  the package (corpora of one package share it)
    <cache>/<name>/docs/                  the files that make up the corpus
    <cache>/<name>/copyright              the package's licence, beside the docs (not indexed)
    <cache>/<name>/fetched.json           written last: a corpus without it is fetched again
    <cache>/<name>/index/                 `qa eval --set NAME` indexes the docs here, never in
                                          the user's own index, so reruns are incremental

The cache is QA_CORPORA_DIR (default ~/.cache/grounded-qa/corpora).

    python -m eval.corpora fetch [NAME...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa.settings import Settings

SETS = Path(__file__).parent / "sets"
DONE = "fetched.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Corpus:
    """Which Debian package holds the corpus, which of its files make it up, which sets go with it."""

    name: str
    package: str
    base: str  # folder inside the extracted package that the files are taken from
    files: tuple[str, ...]  # glob patterns under `base`; a .gz is stored decompressed
    eval_set: str  # eval/sets/<eval_set>.jsonl, and calibration-<eval_set>.jsonl to fit on
    description: str
    # A corpus that is one file holding what the set's `docs` name as separate pages: the
    # set is served with every answer's `docs` replaced by this document's id.
    one_document: str | None = None
    # Another language's edition of the set's pages ("basic-defs.en" for the set's "basic-defs.fr"):
    # the set is served with the language suffix of every `docs` id replaced by this one.
    language: str | None = None
    # Items of the set whose facts this edition does not hold (a translation adds a little).
    omitted: tuple[str, ...] = ()

    @property
    def derives_its_set(self) -> bool:
        return self.one_document is not None or self.language is not None

    @property
    def set_file(self) -> Path:
        return SETS / f"{self.eval_set}.jsonl"

    @property
    def calibration_file(self) -> Path:
        return SETS / f"calibration-{self.eval_set}.jsonl"


CORPORA = {
    corpus.name: corpus
    for corpus in (
        Corpus("debian-faq", "debian-faq-fr", "usr/share/doc/debian/FAQ/fr", ("*.html",), "debian-faq",
               "FAQ Debian GNU/Linux 11 in French: 17 HTML pages (16 chapters and the table of contents)"),
        Corpus("debian-faq-pdf", "debian-faq-fr", "usr/share/doc/debian/FAQ", ("debian-faq.fr.pdf.gz",), "debian-faq",
               "the same FAQ as one French PDF, asked the same questions", one_document="debian-faq.fr"),
        Corpus("debian-faq-en", "debian-faq", "usr/share/doc/debian/FAQ", ("*.en.html",), "debian-faq",
               "the same FAQ in its original English: 17 HTML pages, asked the same questions (French ones "
               "then cross the language gap)", language="en",
               omitted=("faq-en-006",)),  # the French-speaking users' list: in the French edition only
        Corpus("maint-guide", "maint-guide-fr", "usr/share/doc/maint-guide-fr/html", ("*.html",), "maint-guide",
               "Guide des nouveaux responsables Debian: 11 HTML pages (10 chapters and the table of contents)"),
        Corpus("developers-reference", "developers-reference-fr", "usr/share/developers-reference/fr",
               tuple(f"{page}.html" for page in (
                   "index", "scope", "new-maintainer", "developer-duties", "resources", "pkgs",
                   "best-pkging-practices", "beyond-pkging", "l10n", "tools")),
               "developers-reference",
               "Guide de référence pour Debian: 10 Sphinx HTML pages (9 chapters and the table of contents; "
               "the one-page edition, which repeats them all, and the search page are left out)"),
    )
}


class CorpusError(OSError):
    """A corpus that is unknown or cannot be fetched; the message names the package and the reason.

    An OSError, like a missing file: `qa` reports it in one line, as it does those.
    """


def corpus(name: str) -> Corpus:
    try:
        return CORPORA[name]
    except KeyError:
        raise CorpusError(f"unknown corpus '{name}' (known: {', '.join(CORPORA)})") from None


def fetch(name: str, cache: Path | None = None) -> Path:
    """The corpus's docs folder: downloaded and extracted the first time, taken from the cache after."""
    spec = corpus(name)
    cache = Path(cache or Settings().corpora_dir).expanduser()
    folder = cache / spec.name
    if (folder / DONE).is_file():
        return folder / "docs"
    deb = _download(spec.package, cache / "packages")
    with tempfile.TemporaryDirectory(dir=cache) as work:
        root, staging = Path(work) / "root", Path(work) / "docs"
        _run(["dpkg-deb", "-x", str(deb), str(root)], spec.package)
        copied = _copy(root / spec.base, spec.files, staging)
        if not copied:
            raise CorpusError(f"cannot fetch corpus '{name}': {deb.name} has no file matching {spec.files} "
                              f"in /{spec.base}")
        licence = root / "usr/share/doc" / spec.package / "copyright"
        if not licence.is_file():
            raise CorpusError(f"cannot fetch corpus '{name}': {deb.name} has no licence file "
                              f"/usr/share/doc/{spec.package}/copyright")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder / "docs", ignore_errors=True)
        staging.rename(folder / "docs")
        shutil.copyfile(licence, folder / "copyright")
    (folder / DONE).write_text(json.dumps({"package": deb.name, "files": copied}, indent=1) + "\n")
    return folder / "docs"


def eval_set_path(spec: Corpus, cache: Path) -> Path:
    """The set file to evaluate the corpus with (derived once, next to the corpus, for a one-file corpus
    or another language's edition)."""
    if not spec.derives_its_set:
        return spec.set_file
    items = [json.loads(line) for line in spec.set_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [item for item in items if item["id"] not in spec.omitted]
    for item in items:
        if spec.one_document:
            item["docs"] = [spec.one_document] if item.get("docs") else []
        else:
            item["docs"] = [f"{Path(doc).stem}.{spec.language}" for doc in item.get("docs", [])]
    derived = Path(cache).expanduser() / spec.name / spec.set_file.name
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if not derived.is_file() or derived.read_text(encoding="utf-8") != text:
        derived.parent.mkdir(parents=True, exist_ok=True)
        derived.write_text(text, encoding="utf-8")
    return derived


def prepare_eval(choice: Path | None, settings: Settings, index: bool = True) -> tuple[Path, Settings]:
    """The set file and settings `qa eval --set` runs with.

    A path is used as given.  A corpus name is fetched and indexed into a data dir and
    collection of its own (also on a Chroma server), so the user's index is untouched and
    a rerun only re-embeds what changed; `index=False` (a server under test answers from
    its own index) only resolves the set.
    """
    from eval.dataset import DEFAULT_SET  # not at the top: it loads llama-index, seconds `fetch` does not need

    if choice is None or Path(choice).exists() or Path(choice).suffix:
        return Path(choice or DEFAULT_SET), settings
    spec = corpus(str(choice))
    cache = settings.corpora_dir.expanduser()
    if not index:
        return eval_set_path(spec, cache), settings
    return eval_set_path(spec, cache), index_corpus(spec.name, fetch(spec.name, cache), settings)


def index_corpus(name: str, docs: Path, settings: Settings) -> Settings:
    """Index `docs` into a data dir and collection of the corpus's own; the settings to read it with."""
    from qa.container import build_index

    cache = settings.corpora_dir.expanduser()
    # Built anew, not model_copy'd: a copy keeps paths already derived from the old data dir.
    own = type(settings).model_construct(
        **{**dict(settings), "data_dir": cache / name / "index", "collection": f"corpus-{name}"}
    )
    log.info("indexing corpus %s into %s (the first run embeds every chunk: minutes)", name, own.data_dir)
    report = build_index(own).indexer.index_folder(docs)
    print(report.summary(str(docs)), file=sys.stderr)
    return own


def _download(package: str, folder: Path) -> Path:
    """PKG_*.deb in `folder`: `apt-get download`, after one `apt-get update` if that fails."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (found := sorted(folder.glob(f"{package}_*.deb"))):
        result = _apt(["download", package], folder)
        if result.returncode != 0:
            update = _apt(["update"], folder)
            if update.returncode != 0:
                raise CorpusError(f"cannot fetch {package}: apt-get download failed ({_reason(result)}), "
                                  f"then apt-get update failed ({_reason(update)})")
            result = _apt(["download", package], folder)
        if result.returncode != 0:
            raise CorpusError(f"cannot fetch {package}: apt-get download failed ({_reason(result)})")
        if not (found := sorted(folder.glob(f"{package}_*.deb"))):
            raise CorpusError(f"cannot fetch {package}: apt-get download left no {package}_*.deb in {folder}")
    return found[-1]


def _apt(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return _run(["apt-get", "-q", *arguments], arguments[-1], cwd=cwd, check=False)


def _run(command: list[str], package: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    try:
        # checked below, where the caller wants it
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError:
        reason = f"{command[0]} is not installed (corpora are Debian packages)"
        raise CorpusError(f"cannot fetch {package}: {reason}") from None
    except subprocess.TimeoutExpired:
        raise CorpusError(f"cannot fetch {package}: {' '.join(command)} took more than 10 minutes") from None
    if check and result.returncode != 0:
        raise CorpusError(f"cannot fetch {package}: {' '.join(command)} failed ({_reason(result)})")
    return result


def _reason(result: subprocess.CompletedProcess) -> str:
    """apt's own error line (E: ...) if it wrote one, else the last line it wrote."""
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E:")]
    return (errors or lines or [f"exit status {result.returncode}"])[-1]


def _copy(base: Path, patterns: tuple[str, ...], target: Path) -> list[str]:
    """Copy the files matching `patterns` under `base` into `target`; the names as stored."""
    copied = []
    for path in sorted({p for pattern in patterns for p in base.glob(pattern) if p.is_file()}):
        destination = target / path.relative_to(base)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".gz":
            destination = destination.with_suffix("")
            with gzip.open(path) as source, destination.open("wb") as out:
                shutil.copyfileobj(source, out)
        else:
            shutil.copyfile(path, destination)
        copied.append(destination.relative_to(target).as_posix())
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.corpora", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetching = commands.add_parser("fetch", help="fetch corpora into the cache (all of them by default)")
    fetching.add_argument("names", nargs="*", metavar="NAME", help=", ".join(CORPORA))
    args = parser.parse_args(argv)
    try:
        for name in args.names or CORPORA:
            print(f"{name}: {fetch(name)}")
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
