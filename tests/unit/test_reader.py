"""The reader's reply handling (eval/reader.py), without a model: what it quotes is only what was chosen."""

from __future__ import annotations

from eval.reader import MAX_CHOSEN, answer_schema, chosen_numbers


def test_the_reply_gives_valid_distinct_unit_numbers_or_none():
    assert chosen_numbers('{"answer": [2, 2, 9, 1]}', count=6) == [2, 1]
    assert chosen_numbers('{"answer": []}', count=6) == []
    assert chosen_numbers("not json", count=6) == []
    assert chosen_numbers('{"answer": [1, 2, 3, 4, 5]}', count=6) == [1, 2, 3][:MAX_CHOSEN]


def test_the_schema_only_allows_numbers_that_exist():
    items = answer_schema(4)["properties"]["answer"]
    assert items["items"]["enum"] == [1, 2, 3, 4] and items["maxItems"] == MAX_CHOSEN
