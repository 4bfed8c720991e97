"""Uploaded files: checked, stored under the data folder, indexed, and deleted with their document.

Names are not trusted (reduced to plain file names) and neither is content: a file
must really be of the type its name claims.  Each file ends up indexed or rejected
with a reason the user can act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.indexer import Indexer, IndexReport, Progress
from index.loaders import SUPPORTED_SUFFIXES, doc_id_for, safe_filename, sniff_suffix

BYTES_PER_MB = 1_000_000
_KIND_OF_SUFFIX = {".pdf": "a PDF", ".html": "an HTML page", ".htm": "an HTML page", ".docx": "a Word document",
                   ".odt": "an OpenDocument text", ".epub": "an EPUB book"}


@dataclass
class Upload:
    indexed: list[tuple[str, str, int]]  # (file name, doc_id, chunks)
    rejected: list[tuple[str, str]]  # (file name, reason)
    report: IndexReport


class UploadFolder:
    """The folder uploads are stored in, and the indexer that indexes them."""

    def __init__(self, folder: Path, indexer: Indexer, max_bytes: int):
        self.folder = folder
        self.indexer = indexer
        self.max_bytes = max_bytes

    def add(self, files: Sequence[tuple[str, bytes]], progress: Progress | None = None) -> Upload:
        """Store each acceptable file and index those stored; say why each other one was rejected."""
        self.folder.mkdir(parents=True, exist_ok=True)
        accepted: list[Path] = []
        rejected: list[tuple[str, str]] = []
        for name, data in files:
            filename = safe_filename(name)
            reason = self._refusal(filename, data)
            target = (self.folder / filename).resolve()
            if reason is None and target.parent != self.folder.resolve():  # safe_filename prevents it; checked anyway
                reason = "invalid file name"
            if reason:
                rejected.append((filename, reason))
                continue
            target.write_bytes(data)
            accepted.append(target)
        report = self.indexer.index_files(accepted, self.folder, progress) if accepted else IndexReport()
        rejected += report.errors
        ids = {path: doc_id_for(path, self.folder.resolve()) for path in accepted}
        indexed = [(path.name, doc_id, report.chunks_by_doc[doc_id])
                   for path, doc_id in ids.items() if doc_id in report.chunks_by_doc]
        return Upload(indexed, rejected, report)

    def discard(self, sources: Sequence[Path]) -> None:
        """Delete the files among `sources` that were uploaded (a document from an indexed folder stays)."""
        for source in sources:
            if source.is_relative_to(self.folder.resolve()):
                source.unlink(missing_ok=True)

    def _refusal(self, filename: str, data: bytes) -> str | None:
        suffix = Path(filename).suffix.lower()
        if len(data) > self.max_bytes:
            return f"larger than the {self.max_bytes // BYTES_PER_MB} MB upload limit"
        if not data.strip():
            return "empty file"
        if sniff_suffix(data, suffix) is None:
            return _not_what_it_claims(suffix)
        return None


def _not_what_it_claims(suffix: str) -> str:
    if suffix not in SUPPORTED_SUFFIXES:
        return f"unsupported file type '{suffix or 'none'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
    return f"the file is named {suffix} but its content is not {_KIND_OF_SUFFIX.get(suffix, 'text')}"
