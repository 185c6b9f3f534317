"""Checks every lesson's question bank must pass (one place for all banks, present and future)."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import ecomlab.exercises as exercises
from ecomlab.exercises import Question, ____

BANKS = sorted(m.name for m in pkgutil.iter_modules(exercises.__path__) if re.match(r"ch\d\d_", m.name))


def _questions(bank: str) -> list[tuple[str, Question]]:
    mod = importlib.import_module(f"ecomlab.exercises.{bank}")
    return sorted(((n, q) for n, q in vars(mod).items() if isinstance(q, Question) and re.fullmatch(r"q\d+", n)),
                  key=lambda nq: int(nq[0][1:]))


QUESTIONS = [(bank, name, q) for bank in BANKS for name, q in _questions(bank)]


@pytest.mark.parametrize("bank", BANKS)
def test_bank_has_at_least_four_numbered_questions(bank):
    names = [n for n, _ in _questions(bank)]
    assert len(names) >= 4 and names == [f"q{i}" for i in range(1, len(names) + 1)], names


@pytest.mark.parametrize("bank, name, q", QUESTIONS, ids=[f"{b}.{n}" for b, n, _ in QUESTIONS])
def test_question_id_prompt_hints_solution(bank, name, q):
    assert q.id == f"{bank}.{name}"
    assert q.prompt.strip() and q.hints and q.solution().body.strip()


@pytest.mark.parametrize("bank, name, q", QUESTIONS, ids=[f"{b}.{n}" for b, n, _ in QUESTIONS])
def test_placeholder_is_not_attempted(bank, name, q):
    assert q.check(____).status == "not_attempted"


@pytest.mark.parametrize("bank, name, q", QUESTIONS, ids=[f"{b}.{n}" for b, n, _ in QUESTIONS])
def test_expected_answer_is_usable_and_survives_grading(bank, name, q, tmp_path):
    """The expected answer is neither NaN nor empty, and — handed over as data the way a
    graded kernel hands it (JSON/Parquet) — the grader accepts it (issue 17)."""
    from ecomlab.exercises import FunctionAnswer
    from ecomlab.exercises._submit import read_answer, write_answer
    from ecomlab.exercises.core import _unusable_expected

    want = q.kind._expected.get()
    assert _unusable_expected(want) is None, f"{q.id}: expected answer is {_unusable_expected(want)}"
    if isinstance(q.kind, FunctionAnswer):
        path = write_answer(tmp_path, q.id, q.kind.run_cases(q.kind.reference), function_outputs=True)
    else:
        path = write_answer(tmp_path, q.id, want)
    got = read_answer(path)
    result = q.grade(got["value"], function_outputs=got["function_outputs"])
    assert result.correct, result


@pytest.mark.parametrize("bank, name, q", QUESTIONS, ids=[f"{b}.{n}" for b, n, _ in QUESTIONS])
def test_points_are_positive(bank, name, q):
    assert q.points > 0
