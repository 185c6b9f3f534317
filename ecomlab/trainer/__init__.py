"""Trainer tools: the student edition, trustworthy grading, nbgrader compatibility.

- :mod:`ecomlab.trainer.edition` — the student edition (solutions stripped).
- :mod:`ecomlab.trainer.grading` — ``ecomlab grade``: every returned notebook runs in its
  own sandbox (:mod:`ecomlab.trainer.sandbox`), the grader judges the answers in its own
  process and writes a durable gradebook.
- :mod:`ecomlab.trainer.nbgrader` — nbgrader cell metadata, so nbgrader's own
  ``generate_assignment`` / ``autograde`` accept a lesson.

See ``docs/trainers.md``.
"""

from ecomlab.trainer.edition import (
    BEGIN,
    END,
    build_student_edition,
    strip_solution,
    student_edition,
)
from ecomlab.trainer.grading import GradeReport, bank_questions, grade, lesson_questions, summarise

__all__ = [
    "BEGIN",
    "END",
    "GradeReport",
    "bank_questions",
    "build_student_edition",
    "grade",
    "lesson_questions",
    "strip_solution",
    "student_edition",
    "summarise",
]
