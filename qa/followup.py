"""Follow-up questions ("Et qui l’a remplacée ?") made standalone before retrieval.

With an LLM the generator rewrites them; without one, the names and figures of
the previous question are carried over, which is what retrieval needs to find
the same people again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NAME = re.compile(r"\b(?:[A-ZÀ-Ý][\w’'-]*[a-zà-ÿ0-9][\w’'-]*(?:\s+[A-ZÀ-Ý][\w’'-]+)*|\d[\d.,]*)")


def previous_question(history: Sequence[dict]) -> str | None:
    for turn in reversed(history):
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            return str(turn["content"])
    return None


def carry_over(question: str, history: Sequence[dict]) -> str:
    """`question` plus the names of the previous question it does not repeat."""
    previous = previous_question(history)
    if not previous:
        return question
    names = [m.group() for m in _NAME.finditer(previous) if m.start() > 0 and m.group() not in question]
    names = list(dict.fromkeys(names))
    return f"{question} ({', '.join(names)})" if names else question
