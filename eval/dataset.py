"""Evaluation sets: JSON Lines of questions with their key facts as regular expressions.

{"id", "lang": "fr"|"en", "question", "must": [regex...], "docs": [doc_id...],
 "answerable": true|false, "tags"?: [...]}

Facts are matched case- and accent-insensitively: pattern and text are both
folded (accents removed, casefolded, typographic quotes made ASCII).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from index.text.language import fold

DEFAULT_SET = Path(__file__).parent / "sets" / "demo.jsonl"

_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "\u00a0": " ", "\u202f": " "})


class EvalItem(BaseModel):
    id: str
    lang: Literal["fr", "en"]
    question: str = Field(min_length=1)
    must: list[str] = Field(default_factory=list)
    docs: list[str] = Field(default_factory=list)
    answerable: bool
    tags: list[str] = Field(default_factory=list)

    @field_validator("must")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            _compiled(pattern)
        return patterns


class EvalSetError(ValueError):
    """An evaluation set that cannot be read; the message names the line."""


def load_set(path: Path) -> list[EvalItem]:
    items: list[EvalItem] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalSetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(EvalItem.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError, re.error) as exc:
            raise EvalSetError(f"{path}:{number}: {exc}".splitlines()[0]) from exc
    if not items:
        raise EvalSetError(f"{path} holds no questions")
    duplicated = {i.id for i in items if sum(j.id == i.id for j in items) > 1}
    if duplicated:
        raise EvalSetError(f"{path}: duplicate ids {sorted(duplicated)}")
    return items


def normalise(text: str) -> str:
    return fold(text.translate(_TYPOGRAPHY))


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(normalise(pattern))


def fact_found(pattern: str, text: str) -> bool:
    return _compiled(pattern).search(normalise(text)) is not None


def all_facts_found(patterns: list[str], text: str) -> bool:
    return all(fact_found(p, text) for p in patterns)
