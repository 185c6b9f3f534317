'''Self-checking exercises, learntools-style, with the answer passed explicitly.

In a lesson::

    from ecomlab.exercises import ____, ch04_rfm as ex

    rfm = ____            # the student edition's stub: "not attempted"
    ex.q1.check(rfm)      # Correct / Incorrect: <why> / Not attempted
    ex.q1.hint()          # hint 1; call again for hint 2, …
    ex.q1.solution()      # the solution code, as text

The placeholder
---------------
``____`` (four underscores) is the blank the student edition leaves in solution cells
(``answer = ____``). Checking it — with any answer kind — reports "Not attempted" and
never raises. *Only* ``____`` means not attempted: ``None``, ``0`` or an empty
DataFrame are answers and are checked (and usually found wrong). A
:class:`FunctionAnswer` whose function returns ``____`` also counts as not attempted.

Answer kinds
------------
- :class:`NumberAnswer` — a number within the course's one tolerance rule,
  ``|answer − expected| ≤ max(rel_tol × |expected|, abs_tol)`` (defaults 1e-6 and 1e-9;
  a bank loosens them only for a stated reason). Wrong numbers are diagnosed: the bank's
  declared ``mistakes=[("the count, not the share", lambda: n), ...]`` first (count vs
  share, total vs per arm, redemption vs uplift …), then percent vs fraction, count vs
  share and ratio vs ratio − 1; otherwise "too high by 0.047%" with two significant
  digits (never "off by 0.0%"), without revealing the expected value.
- :class:`FrameAnswer` — a DataFrame or Series: type, columns, rows, optionally index
  and dtypes, values within tolerance; ``ignore_row_order=True`` to accept any order.
- :class:`SetAnswer` — labels in any order; says which are missing and which extra.
  Ids may be given as a list/set, a column or the index of a frame (``column=`` names
  the id column).
- :class:`LabelAnswer` — one label, optionally from a list of ``choices``; a set or
  list of one label is that label.
- :class:`FunctionAnswer` — the student's function, run on :class:`Case` s against a
  reference function; the first failing case (or exception) is reported.

Expected answers are computed from the data at run time: every kind takes a
zero-argument callable (``expected=lambda: ...``), evaluated on first check and cached.
Typed-in constants are allowed only for conceptual single-choice questions
(``LabelAnswer("ROAS", choices=[...])``).

Writing a lesson bank
---------------------
A lesson's exercises live in ``ecomlab/exercises/<bank>.py`` and are module attributes
``q1``, ``q2``, …; each question's id is ``"<bank>.<name>"`` (e.g. ``"ch04_rfm.q1"``).
For example ``ecomlab/exercises/ch04_rfm.py``::

    """Exercises for 04_private_domain/01_rfm."""

    from ecomlab import users
    from ecomlab.exercises import FrameAnswer, NumberAnswer, Question, data

    def _orders():
        return data("orders")      # the data chosen by exercises.use_data(data_dir)

    q1 = Question(
        prompt="Build the RFM table: one row per customer with `recency_days`, "
               "`frequency`, `monetary_amount`, `r_score`, `f_score`, `m_score`.",
        kind=FrameAnswer(expected=lambda: users.rfm(_orders()), ignore_row_order=True),
        hints=["Group the orders by `customer_id`.",
               "Scores are quintiles: `pd.qcut(x.rank(method='first'), 5, labels=False) + 1`."],
        solution="rfm = users.rfm(orders)",
    )
    q2 = Question(
        prompt="What share of customers are Champions (R = F = 5)? A fraction in [0, 1].",
        kind=NumberAnswer(expected=lambda: (users.rfm(_orders())["segment"] == "Champions").mean(),
                          abs_tol=1e-4),
        hints=["`(rfm['segment'] == 'Champions').mean()`"],
        solution="share = (rfm['segment'] == 'Champions').mean()",
    )

:mod:`ecomlab.exercises._demo` is a complete small bank on an in-memory frame.

Lessons call ``exercises.use_data(data_dir)`` after their ``parameters`` cell, so a lesson
run on an analyst's export checks answers against that export (:func:`data` loads the
tables from there).

Hints are shown in order; the last one says it is the last. An expected answer that
is NaN or empty (or cannot be computed) raises ``CourseBugError`` — a course bug, never
"Correct".

Grading
-------
Every question records its outcome (``q.last_status``, ``q.checks``, ``q.hints_seen``,
``q.solution_seen``); :func:`registry` lists every question created in the process with
its last status and :func:`statuses` gives ``{question_id: status}``. These are for the
student's own view only: ``ecomlab grade`` never trusts them. While it runs a notebook
(``ECOMLAB_SUBMIT_DIR`` set), ``q.check(x)`` writes ``x`` as data for the grader and
reports "Submitted for grading", ``q.expected`` raises and ``q.solution()`` is
withheld; the grader judges the answer in its own process with :meth:`Question.grade`
(see :mod:`ecomlab.trainer.grading`). ``Question(points=...)`` sets its weight.
'''

from ecomlab.exercises.core import (
    Case,
    CheckResult,
    CourseBugError,
    FrameAnswer,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
    ____,
    compare_values,
    data,
    derived,
    registry,
    statuses,
    use_data,
)

__all__ = [
    "Case",
    "CheckResult",
    "CourseBugError",
    "FrameAnswer",
    "FunctionAnswer",
    "LabelAnswer",
    "NumberAnswer",
    "Question",
    "SetAnswer",
    "____",
    "compare_values",
    "data",
    "derived",
    "registry",
    "statuses",
    "use_data",
]
