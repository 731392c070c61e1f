"""docs/analyst-guide.md: every query runs on the corpus warehouse and prints the answer the guide shows."""

from __future__ import annotations

import pytest

from scripts.analyst_guide import GUIDE, answer, questions
from tests.conftest import needs_shared

QUESTIONS = questions(GUIDE.read_text(encoding="utf-8"))


def test_the_guide_asks_ten_questions_each_with_its_answer():
    assert len(QUESTIONS) == 10
    assert all(printed for _, printed in QUESTIONS)


@needs_shared
@pytest.mark.parametrize("n", range(len(QUESTIONS)), ids=lambda n: f"question-{n + 1}")
def test_each_answer_is_what_the_corpus_gives(corpus_warehouse, n):
    sql, printed = QUESTIONS[n]
    assert answer(corpus_warehouse, sql) == printed, (
        "the warehouse now answers differently: regenerate with "
        "`uv run --frozen python -m scripts.analyst_guide WAREHOUSE` and review the diff"
    )
