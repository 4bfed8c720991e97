"""What goes wrong with the store, as the layers above need to tell it apart.

The store says itself when Chroma cannot be reached or the disk is full, so
callers answer "retry shortly" or "free some space" without knowing how Chroma,
its HTTP client or SQLite report it.
"""

from __future__ import annotations

import errno


class StoreError(Exception):
    """The vector store cannot be used as configured (message says what to do)."""


class StoreUnavailable(StoreError):
    """The Chroma server cannot be reached."""


class StorageFull(StoreError):
    """The disk (or a file-size limit) stopped a write; committed documents are untouched."""


_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
# SQLite under Chroma's Rust core reports a refused write (ENOSPC, EFBIG) as "disk I/O error".
_FULL_MESSAGES = ("disk is full", "no space left", "file too large", "quota exceeded", "disk i/o error")


def is_storage_full(exc: BaseException | None) -> bool:
    """Whether `exc` or anything in its chain says the disk is full.

    SQLite, Chroma's Rust core and Python each report it differently.
    """
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if any(m in str(exc).lower() for m in _FULL_MESSAGES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
