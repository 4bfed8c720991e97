"""What the service accepts from a request, checked once, with messages meant for the user."""

from __future__ import annotations

from collections.abc import Sequence

from qa.settings import Settings

ROLES = ("user", "assistant")


class InvalidRequest(ValueError):
    """A request the service refuses; the message is meant for the user."""

    def __init__(self, message: str, code: str = "invalid_request"):
        super().__init__(message)
        self.code = code


def valid_question(question: str, settings: Settings) -> str:
    if not isinstance(question, str):
        raise InvalidRequest("the question must be a string")
    question = valid_text(question, "question").strip()
    if not question:
        raise InvalidRequest("the question is empty", "empty_question")
    if len(question) > settings.max_question_chars:
        raise InvalidRequest(
            f"the question is {len(question)} characters long; the limit is {settings.max_question_chars}",
            "question_too_long",
        )
    return question


def valid_top_k(top_k: int | None, settings: Settings) -> int:
    if top_k is None:
        return settings.top_k
    if not 1 <= top_k <= settings.max_top_k:
        raise InvalidRequest(f"top_k must be between 1 and {settings.max_top_k}", "invalid_top_k")
    return top_k


def valid_history(history: Sequence[dict] | None, settings: Settings) -> list[dict]:
    history = list(history or [])
    if len(history) > settings.max_history_turns:
        raise InvalidRequest(f"history is limited to {settings.max_history_turns} turns", "history_too_long")
    for turn in history:
        if not isinstance(turn, dict) or turn.get("role") not in ROLES or not isinstance(turn.get("content"), str):
            raise InvalidRequest('each history turn must be {"role": "user" or "assistant", "content": text}',
                                 "invalid_history")
        valid_text(turn["content"], "history")
        if len(turn["content"]) > settings.max_history_turn_chars:
            raise InvalidRequest("a history turn is too long", "history_too_long")
    return history


def valid_text(text: str, what: str) -> str:
    """Text must be real Unicode: no NUL bytes, no lone surrogates (they cannot be UTF-8)."""
    if "\x00" in text:
        raise InvalidRequest(f"the {what} contains a NUL character", "invalid_text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(f"the {what} is not valid Unicode text (lone surrogate)", "invalid_text") from None
    return text
