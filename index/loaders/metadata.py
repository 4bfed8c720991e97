"""Metadata a file does not state: a title from its first sentence, its first date."""

from __future__ import annotations

import re

from index.text.language import fold

TITLE_MAX_CHARS = 90
TITLE_SEARCH_CHARS = 2000  # the first sentence lies well within this
DATE_SEARCH_CHARS = 5000  # a date stated further on is rarely the document's own
_LEADING_DATE_STAMP = re.compile(r"^\s*(?:date\s*:?\s*)?(?:19|20)\d{2}-\d{2}(?:-\d{2})?\s*[-–—:]?\s*", re.IGNORECASE)


def first_sentence_title(text: str) -> str:
    """A title for files that have none: the first sentence, cut at a word."""
    from index.text.sentences import sentence_spans

    body = _LEADING_DATE_STAMP.sub("", text, count=1)
    spans = sentence_spans(body[:TITLE_SEARCH_CHARS])
    first = body[spans[0][0] : spans[0][1]] if spans else body.strip()
    first = first.rstrip(" .")
    if len(first) <= TITLE_MAX_CHARS:
        return first
    return first[:TITLE_MAX_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-–—") + "…"


_MONTHS = {
    **{m: i for i, m in enumerate(
        ["janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout",
         "septembre", "octobre", "novembre", "decembre"], start=1)},
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"], start=1)},
}
_MONTH_NAMES = "|".join(_MONTHS) + "|février|août|décembre"
_DATE_PATTERNS = (
    # 21/11/2023
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b"), ("d", "m", "y")),
    # 2023-11-21 or 2023-11
    (re.compile(r"\b((?:19|20)\d{2})-(\d{2})(?:-(\d{2}))?\b"), ("y", "m", "d")),
    # 20 novembre 2023, 1er décembre 2023, 20 November 2023
    (re.compile(rf"\b(\d{{1,2}})(?:er)?\s+({_MONTH_NAMES})\s+((?:19|20)\d{{2}})\b", re.IGNORECASE), ("d", "M", "y")),
    # November 20, 2023
    (re.compile(rf"\b({_MONTH_NAMES})\s+(\d{{1,2}}),\s+((?:19|20)\d{{2}})\b", re.IGNORECASE), ("M", "d", "y")),
)


def find_date(text: str) -> str | None:
    """The first date the text states, as ISO 8601 (YYYY-MM-DD or YYYY-MM)."""
    best: tuple[int, str] | None = None
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text[:DATE_SEARCH_CHARS]):
            parts = dict(zip(order, match.groups()))
            month = int(parts["m"]) if "m" in parts else _MONTHS.get(fold(parts["M"]))
            if not month or not 1 <= month <= 12:
                continue
            day = int(parts["d"]) if parts.get("d") else None
            if day is not None and not 1 <= day <= 31:
                continue
            iso = f"{parts['y']}-{month:02d}" + (f"-{day:02d}" if day else "")
            if best is None or match.start() < best[0]:
                best = (match.start(), iso)
            break
    return best[1] if best else None
