"""Uploaded files: checked, stored under the data folder, indexed, and deleted with their document.

Names are not trusted (reduced to plain file names) and neither is content: a file
must really be of the type its name claims.  Each file ends up indexed or rejected
with a reason the user can act on: a `Rejection`, whose code and facts the API turns
into a status and the page into French or English, never by reading its English message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.indexer import Indexer, IndexReport, Progress, Rejection
from index.loaders import SUPPORTED_SUFFIXES, doc_id_for, safe_filename, sniff_suffix

BYTES_PER_MB = 1_000_000
_KIND_OF_SUFFIX = {".pdf": "a PDF", ".html": "an HTML page", ".htm": "an HTML page", ".docx": "a Word document",
                   ".odt": "an OpenDocument text", ".epub": "an EPUB book"}


@dataclass
class Upload:
    indexed: list[tuple[str, str, int]]  # (file name, doc_id, chunks)
    rejected: list[Rejection]
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
        rejected: list[Rejection] = []
        for name, data in files:
            filename = safe_filename(name)
            refusal = self._refusal(filename, data)
            target = (self.folder / filename).resolve()
            if refusal is None and target.parent != self.folder.resolve():  # safe_filename prevents it; checked anyway
                refusal = Rejection(filename, "invalid_name", "invalid file name")
            if refusal:
                rejected.append(refusal)
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

    def _refusal(self, filename: str, data: bytes) -> Rejection | None:
        suffix = Path(filename).suffix.lower()
        if len(data) > self.max_bytes:
            limit_mb = self.max_bytes // BYTES_PER_MB
            return Rejection(filename, "too_large", f"larger than the {limit_mb} MB upload limit",
                             {"limit_mb": limit_mb})
        if not data.strip():
            return Rejection(filename, "empty", "empty file")
        if sniff_suffix(data, suffix) is None:
            return _not_what_it_claims(filename, suffix)
        return None


def _not_what_it_claims(filename: str, suffix: str) -> Rejection:
    if suffix not in SUPPORTED_SUFFIXES:
        message = f"unsupported file type '{suffix or 'none'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        return Rejection(filename, "unsupported_type", message, {"suffix": suffix or filename})
    message = f"the file is named {suffix} but its content is not {_KIND_OF_SUFFIX.get(suffix, 'text')}"
    return Rejection(filename, "not_what_it_claims", message, {"suffix": suffix})
