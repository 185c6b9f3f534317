"""Prose that cannot drift from its numbers: every figure a lesson states is checked.

A lesson's markdown binds each figure it states to a key the lesson records in its
``results`` cell (:func:`ecomlab.results.record`) with an HTML comment right after the
figure — invisible in Jupyter and on the site::

    PC converts **83%**<!--r:cart_to_buy.pc--> of carts, about 4,100 orders<!--r:lost_orders-->.

The tag follows the figure, or the figure and one word ("4,100 orders<!--r:...-->").

:func:`check_notebook` then verifies, for an executed lesson and its recorded values:

1. **bound figures agree with the results**, with the rounding the prose uses: the
   recorded value, formatted with the decimals the prose shows, equals the stated
   figure (``%`` and ``pp`` mean the value is a fraction: 0.833 → "83%", 0.004 →
   "0.4 pp"; ``k`` means thousands; ``×`` a ratio). A qualifier just before the figure
   widens or directs the comparison: *about, around, roughly, approximately, nearly,
   almost, ≈, ~* allow ± half a unit of the last significant digit ("about 60%" means
   55–65%, "≈4,100" means 4,050–4,150); *more than, over, above* need value > figure;
   *less than, under, below* value < figure; *at least* ≥; *at most* ≤. Without an
   explicit sign the magnitude is compared ("down 65%" with −0.653); with ``+``/``−`` the
   sign must agree too. A range ``10–16%<!--r:lo|hi-->`` binds two keys.
2. **bound figures are printed by a cell**: some code cell's text or HTML output (the
   ``results`` cell excluded) shows a number that agrees with the figure by the same rule,
   so a reader sees it where it is discussed.
3. **no figure goes unbound**: every figure-like token in the markdown — a number with
   ``%``, ``pp``, ``×``, ``¥``, ``CNY`` or ``元``; a decimal; a number with a thousands
   separator; an integer ≥ 10 — must carry ``<!--r:KEY-->`` or, when it is not a data
   finding (the stated lesson time, a parameter the lesson chooses, a published
   benchmark, a definition such as "top 20%"), ``<!--fixed-->``. Years, dates, times of
   day, lesson ids (``04-2``), quarters (``2025Q1``), promotion names (双11, 618) and
   numbers glued to letters (``H1``, ``p95``) are not figures; numbers inside code spans,
   ``$math$`` and link targets are ignored.

The approach follows the "checked prose" option of STYLE.md (Jupyter Book's ``glue``
puts computed values into text; plain notebooks cannot, so the text is checked instead).

Example
-------
>>> md = "Conversion fell **65%**<!--r:drop--> on the day, about 4,100<!--r:lost--> orders."
>>> check_markdown(md, {"drop": -0.653, "lost": 4120})
[]
>>> check_markdown(md, {"drop": -0.60, "lost": 4120})[0]
"'65%' (key 'drop'): the results say -0.6, which the prose would state as 60%"
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Figure", "check_markdown", "check_notebook", "figures", "matches", "untagged"]

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNIT = r"\s?%|\s?pp\b|\s?×|x(?![\w])|\s?k\b|\s?CNY\b|\s?元"
_SIGN = r"[+\-−±]"
_FIG = (
    rf"(?P<sign>{_SIGN})?(?P<cur>¥\s?|CNY\s?)?(?P<a>{_NUM})"
    rf"(?:\s?[–~]\s?|\s?-\s?(?=\d))?(?P<b>(?<=[–~\-\s])(?:{_NUM}))?(?P<unit>{_UNIT})?"
)
_TAG = r"(?:\*\*|\*|__|_)?(?P<word>\s[A-Za-z\u4e00-\u9fff]{1,14})?(?:\*\*|\*|__|_)?\s?<!--\s*(?P<tag>r:[^>]*?|fixed)\s*-->"
_TAGGED_RE = re.compile(rf"(?<![\w.,])(?:{_FIG}){_TAG}")
_QUALIFIERS = {
    "about": "approx", "around": "approx", "roughly": "approx", "approximately": "approx",
    "nearly": "approx", "almost": "approx", "some": "approx", "≈": "approx", "~": "approx",
    "约": "approx", "近": "approx",
    "more than": "gt", "over": "gt", "above": "gt", "greater than": "gt", "超过": "gt",
    "less than": "lt", "under": "lt", "below": "lt", "fewer than": "lt", "不到": "lt",
    "at least": "ge", "at most": "le", "up to": "le",
}
_QUAL_RE = re.compile(
    r"(?:^|[\s(*_])(" + "|".join(sorted(map(re.escape, _QUALIFIERS), key=len, reverse=True))
    + r")[\s*_]*$",
    re.IGNORECASE,
)
# Not figures: removed before looking for untagged ones (and before tagged ones' context).
_NOT_FIGURES = [
    r"```.*?```", r"~~~.*?~~~",                       # fenced code
    r"`[^`\n]*`",                                      # inline code
    r"\$\$.*?\$\$", r"(?<![\\\w])\$[^$\n]+\$",         # math
    r"\]\([^)]*\)",                                    # link targets
    r"<(?!!--)[^>]*>",                                 # HTML tags (comments kept)
    r"\b(?:19|20)\d\d[-/.](?:\d\d?)(?:[-/.]\d\d?)?\b",  # dates
    r"\b(?:19|20)\d\d\s?(?:Q[1-4]|H[12])\b",           # quarters, halves
    r"\b\d\d?:\d\d\b",                                 # times of day
    r"\b\d\d-\d\b",                                    # lesson ids 04-2
    r"(?<![\d,.])(?:19|20)\d\d(?!\d|[,.]\d|\s?%)",     # years
    r"\b(?:618|11\.11|6\.18|12\.12)\b",                # promotion names
]
_NOT_FIGURES_RE = re.compile("|".join(_NOT_FIGURES), re.S)
_BARE_RE = re.compile(rf"(?<![\w.,\-−])(?:{_FIG})(?![\w])")
_OUT_NUM_RE = re.compile(rf"(?P<sign>[\-−+])?(?P<a>{_NUM})(?P<pct>\s?%)?")


@dataclass(frozen=True)
class Figure:
    """One stated figure.

    Fields
    ------
    text : the figure as written ("about 4,100", "−65%").
    numbers : the stated number(s) (two for a range), as floats without sign.
    decimals : decimals shown, per number.
    unit : "%", "pp", "×", "k", "CNY" or "" (``¥``/``元`` count as CNY).
    sign : "+", "-", "±" or "" (explicit sign only).
    qualifier : "exact", "approx", "gt", "lt", "ge" or "le".
    keys : the result keys bound by ``<!--r:...-->`` (empty for ``fixed``).
    fixed : True for ``<!--fixed-->`` (not a data finding).
    """

    text: str
    numbers: tuple[float, ...]
    decimals: tuple[int, ...]
    unit: str
    sign: str
    qualifier: str
    keys: tuple[str, ...]
    fixed: bool


def _clean_unit(unit: str | None, cur: str | None) -> str:
    u = (unit or "").strip()
    if u == "k":  # ¥27.1k: thousands (of the currency)
        return "k"
    if u in ("元", "CNY") or (cur or "").strip():
        return "CNY"
    return {"x": "×"}.get(u, u)


def _parse_number(text: str) -> tuple[float, int]:
    t = text.replace(",", "")
    return float(t), (len(t.split(".")[1]) if "." in t else 0)


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def _strip(markdown: str) -> str:
    """``markdown`` with code, math, links, tags and non-figures blanked (same length).

    Tag comments are kept as written (a key may hold digits, e.g. ``rate_2025``)."""
    parts = re.split(r"(<!--.*?-->)", markdown, flags=re.S)
    return "".join(part if part.startswith("<!--") else _NOT_FIGURES_RE.sub(_blank, part)
                   for part in parts)


def figures(markdown: str) -> list[Figure]:
    """Every tagged figure in ``markdown``, in order.

    >>> [f.text for f in figures("CR is 3.9%<!--r:cr--> and we chose k = 5<!--fixed-->.")]
    ['3.9%', '5']
    >>> figures("about 10–16%<!--r:lo|hi--> of them")[0].keys
    ('lo', 'hi')
    """
    if not isinstance(markdown, str):
        raise ValueError(f"markdown must be a string, got {type(markdown).__name__}")
    text = _strip(markdown)
    out = []
    for m in _TAGGED_RE.finditer(text):
        nums = [m.group("a")] + ([m.group("b")] if m.group("b") else [])
        parsed = [_parse_number(n) for n in nums]
        before = re.sub(r"<!--.*?-->", "", text[max(0, m.start() - 40): m.start()])
        q = _QUAL_RE.search(before)
        tag = m.group("tag")
        keys = tuple(k.strip() for k in tag[2:].split("|")) if tag.startswith("r:") else ()
        out.append(Figure(
            text=(q.group(1) + " " if q else "")
            + m.group(0)[: (m.start("word") if m.group("word") else m.start("tag")) - m.start()]
            .split("<!--")[0].rstrip(" *_"),
            numbers=tuple(p[0] for p in parsed),
            decimals=tuple(p[1] for p in parsed),
            unit=_clean_unit(m.group("unit"), m.group("cur")),
            sign=(m.group("sign") or "").replace("−", "-"),
            qualifier=_QUALIFIERS[q.group(1).lower()] if q else "exact",
            keys=keys,
            fixed=tag == "fixed",
        ))
    return out


def untagged(markdown: str) -> list[str]:
    """Figure-like tokens in ``markdown`` with no ``<!--r:...-->`` or ``<!--fixed-->`` tag.

    >>> untagged("Sales rose 12%, from 1,200 to 1,344<!--r:x--> orders in 2025 (双11).")
    ['12%', '1,200']
    >>> untagged("Four personas; `q=5`; $x_{10}$; lesson 04-2 on 2025-11-11 at 21:00.")
    []
    """
    text = _TAGGED_RE.sub(_blank, _strip(markdown))
    text = re.sub(r"<!--.*?-->", _blank, text, flags=re.S)
    found = []
    for m in _BARE_RE.finditer(text):
        a = m.group("a")
        unit = (m.group("unit") or "").strip() or (m.group("cur") or "").strip()
        value, dec = _parse_number(a)
        if unit or dec or "," in a or m.group("b") or value >= 10:
            found.append(m.group(0).strip())
    return found


def _scaled(value: float, unit: str) -> float:
    return value * 100 if unit in ("%", "pp") else value / 1000 if unit == "k" else value


def _last_digit_unit(number: float, decimals: int) -> float:
    if decimals:
        return 10.0 ** -decimals
    n, unit = abs(int(round(number))), 1.0
    while n and n % 10 == 0:
        n //= 10
        unit *= 10
    return unit


def matches(value: float, stated: float, *, decimals: int = 0, unit: str = "", sign: str = "",
            qualifier: str = "exact") -> bool:
    """Does the recorded ``value`` support the ``stated`` figure as the prose rounds it?

    ``value`` is in the results' units (fractions for ``%``/``pp``); ``stated`` is the
    number as written, without its sign (see the module docstring for the rules).

    >>> matches(0.833, 83, unit="%"), matches(0.833, 84, unit="%")
    (True, False)
    >>> matches(-0.653, 60, unit="%", qualifier="approx"), matches(-0.653, 65, unit="%", sign="-")
    (False, True)
    >>> matches(4120, 4100, qualifier="approx"), matches(0.31, 30, unit="%", qualifier="gt")
    (True, True)
    """
    if qualifier not in ("exact", "approx", "gt", "lt", "ge", "le"):
        raise ValueError(f"qualifier must be exact/approx/gt/lt/ge/le, got {qualifier!r}")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return False
    v = _scaled(float(value), unit)
    if sign in ("+", "-"):
        if (v < 0) != (sign == "-") and round(v, decimals + 1) != 0:
            return False
    v = abs(v)
    eps = 1e-12 * max(1.0, abs(stated))
    if qualifier == "gt":
        return v > stated - eps
    if qualifier == "lt":
        return v < stated + eps
    if qualifier == "ge":
        return v >= stated - eps
    if qualifier == "le":
        return v <= stated + eps
    step = _last_digit_unit(stated, decimals) if qualifier == "approx" else 10.0 ** -decimals
    return abs(v - stated) <= step / 2 + eps


def _lookup(values: Mapping[str, Any], key: str) -> Any:
    if key in values:
        return values[key]
    head, _, sub = key.partition(".")
    inner = values.get(head)
    if sub and isinstance(inner, Mapping) and sub in inner:
        return inner[sub]
    raise KeyError(key)


def _render(value: float, f: Figure, i: int) -> str:
    v = _scaled(value, f.unit)
    d = f.decimals[i]
    shown = f"{abs(v) if f.sign not in ('+', '-') else v:,.{d}f}"
    return shown + {"%": "%", "pp": " pp", "×": "×", "k": "k", "CNY": " CNY"}.get(f.unit, "")


def _printed_numbers(outputs_text: str) -> list[float]:
    vals = []
    for m in _OUT_NUM_RE.finditer(outputs_text):
        x = float(m.group("a").replace(",", ""))
        if m.group("sign") in ("-", "−"):
            x = -x
        vals.append(x / 100 if m.group("pct") else x)
    return vals


def check_markdown(markdown: str, values: Mapping[str, Any],
                   printed: Sequence[float] | None = None) -> list[str]:
    """Problems with the figures of ``markdown`` against recorded ``values``.

    ``printed``, when given, is the list of numbers the notebook's cells print (see
    :func:`check_notebook`); each bound figure must agree with one of them. Returns one
    message per problem (empty when all is well).
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"values must be a mapping of recorded results, got {type(values).__name__}")
    problems = [f"untagged figure '{t}': bind it to a result with <!--r:KEY--> "
                "or mark it <!--fixed-->" for t in untagged(markdown)]
    for f in figures(markdown):
        if f.fixed:
            continue
        if len(f.keys) != len(f.numbers):
            problems.append(f"'{f.text}': {len(f.numbers)} number(s) but {len(f.keys)} key(s) "
                            f"{list(f.keys)}")
            continue
        for i, (key, stated) in enumerate(zip(f.keys, f.numbers, strict=True)):
            try:
                value = _lookup(values, key)
            except KeyError:
                problems.append(f"'{f.text}': key {key!r} is not among the recorded results "
                                f"({', '.join(sorted(values)) or 'none'})")
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"'{f.text}': key {key!r} holds {value!r}, not a number")
                continue
            kw = dict(decimals=f.decimals[i], unit=f.unit, sign=f.sign, qualifier=f.qualifier)
            if not matches(value, stated, **kw):
                problems.append(f"'{f.text}' (key {key!r}): the results say {value:.6g}, which "
                                f"the prose would state as {_render(value, f, i)}")
                continue
            if printed is not None:
                cands = [x for p in printed for x in ((p, p / 100) if f.unit in ("%", "pp") else (p,))]
                if not any(matches(x, stated, **kw) for x in cands):
                    problems.append(f"'{f.text}' (key {key!r}) is printed by no cell: show the "
                                    "number in an output where the lesson discusses it")
    return problems


def _output_text(cell: Mapping[str, Any]) -> Iterable[str]:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            yield _join(out.get("text", ""))
        data = out.get("data", {})
        for mime in ("text/plain", "text/html", "text/markdown"):
            if mime in data:
                text = _join(data[mime])
                yield re.sub(r"<[^>]+>", " ", text) if mime == "text/html" else text
        for meta in (out.get("metadata") or {}).values():
            if isinstance(meta, Mapping):
                yield " ".join(str(v) for v in meta.values() if isinstance(v, str))


def _join(text: str | Sequence[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def check_notebook(nb: Any, values: Mapping[str, Any]) -> list[str]:
    """Problems with every markdown cell of an executed notebook ``nb`` against ``values``.

    ``nb`` is an ``nbformat`` notebook (or its dict); ``values`` what its results cell
    recorded (:func:`ecomlab.results.read`). Messages start with the cell number.

    >>> import nbformat.v4 as v4
    >>> nb = v4.new_notebook(cells=[v4.new_markdown_cell("CR is 3.9%<!--r:cr-->."),
    ...     v4.new_code_cell("print(f'{cr:.1%}')", outputs=[v4.new_output("stream", text="3.9%")])])
    >>> check_notebook(nb, {"cr": 0.0391})
    []
    """
    cells = nb["cells"] if isinstance(nb, Mapping) else getattr(nb, "cells", None)
    if cells is None:
        raise ValueError("nb must be a notebook (nbformat node or dict with 'cells')")
    text = []
    for cell in cells:
        if cell.get("cell_type") == "code" and "results" not in cell.get("metadata", {}).get("tags", []):
            text.extend(_output_text(cell))
    printed = _printed_numbers("\n".join(text))
    problems = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        problems.extend(f"cell {i}: {p}" for p in check_markdown(_join(cell["source"]), values, printed))
    return problems
