"""What goes wrong with the store, as the layers above need to tell it apart.

The store says itself when Chroma cannot be reached or the disk is full, so
callers answer "retry shortly" or "free some space" without knowing how Chroma,
its HTTP client or SQLite report it.
"""

from __future__ import annotations

import errno
import resource
import shutil
from pathlib import Path


class StoreError(Exception):
    """The vector store cannot be used as configured (message says what to do)."""


class StoreUnavailable(StoreError):
    """The Chroma server cannot be reached."""


class StorageFull(StoreError):
    """The disk (or a file-size limit) stopped a write; committed documents are untouched."""


_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
# SQLite under Chroma's Rust core reports a refused write (ENOSPC, EFBIG) as "disk I/O error".
_FULL_MESSAGES = ("disk is full", "no space left", "file too large", "quota exceeded", "disk i/o error")


# A write that fails with less than this free is taken for a full disk, whatever its message says.
LOW_SPACE_BYTES = 16 * 1024 * 1024


def is_storage_full(exc: BaseException | None, folder: Path | None = None) -> bool:
    """Whether `exc` or anything in its chain says the disk is full, or `folder` shows it is.

    SQLite, Chroma's Rust core and Python each report it differently, and Chroma's
    compaction reports a refused write only as a generic failure: so the folder the
    store writes in is looked at too.
    """
    return _says_full(exc) or (folder is not None and out_of_space(folder))


def out_of_space(folder: Path) -> bool:
    """The disk holding `folder` is (nearly) full, or a file in it has reached this process's file-size limit."""
    if shutil.disk_usage(folder).free < LOW_SPACE_BYTES:
        return True
    limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return limit != resource.RLIM_INFINITY and any(
        path.is_file() and path.stat().st_size >= limit for path in folder.rglob("*"))


def _says_full(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if any(m in str(exc).lower() for m in _FULL_MESSAGES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
