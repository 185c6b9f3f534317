"""Load the bundled Nestwell tables (or your own export in the same layout).

Like ISLP's ``load_data``, the data ship inside the package and every column comes
back typed (datetimes, categoricals with their declared order, nullable integers,
pandas ``string``) — never ``object``. The typing is declared once, in
:mod:`ecomlab.schema`; the data card is rendered from the same declarations.

>>> from ecomlab import datasets
>>> orders = datasets.load("orders")
>>> list(orders["status"].cat.categories)
['completed', 'cancelled', 'refunded']
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ecomlab import schema
from ecomlab.io.parse import (
    parse_amount,
    parse_bool,
    parse_count,
    parse_datetime,
    parse_id,
    read_table_file,
    require_not_null,
)
from ecomlab.io.report import Report

#: pandas' default string dtype (pandas >= 3: pyarrow-backed, missing values are NaN)
STR = pd.StringDtype(na_value=np.nan)

__all__ = ["load", "load_all", "conform", "list_datasets", "describe", "truth", "data_path", "table_path"]


def data_path() -> Path:
    """Folder holding the bundled tables.

    Looks inside the installed package first (``ecomlab/_data/nestwell``, present in
    a wheel), then in the source tree (``datasets/nestwell`` next to the package), so
    it works from any working directory, editable or not.
    """
    pkg = resources.files("ecomlab") / "_data" / "nestwell"
    candidates = [Path(str(pkg)), Path(__file__).resolve().parent.parent / "datasets" / "nestwell"]
    for c in candidates:
        if (c / "orders.parquet").is_file():
            return c
    raise FileNotFoundError(
        "bundled Nestwell data not found; looked in: " + ", ".join(str(c) for c in candidates)
        + ". Reinstall ecomlab, or run `ecomlab generate --out datasets/nestwell`."
    )


def list_datasets() -> list[str]:
    """Names of the bundled tables, in data-card order.

    >>> list_datasets()[:3]
    ['customers', 'products', 'orders']
    """
    return list(schema.TABLES)


def table_path(name: str, data_dir: str | Path | None = None) -> Path:
    """Path of table ``name`` (``<data_dir>/<name>.parquet``, or ``.csv`` in a custom dir)."""
    schema.table(name)  # validates the name
    if data_dir is None:
        return data_path() / f"{name}.parquet"
    d = Path(data_dir).expanduser()
    if not d.is_dir():
        raise FileNotFoundError(f"data_dir {str(d)!r} is not a directory")
    for ext in (".parquet", ".csv"):
        p = d / f"{name}{ext}"
        if p.is_file():
            return p
    raise FileNotFoundError(
        f"data_dir {str(d)!r} has no table {name!r}: looked for {name}.parquet and {name}.csv"
    )


def load(
    name: str,
    data_dir: str | Path | None = None,
    *,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    report: Report | None = None,
) -> pd.DataFrame:
    """Load one table, typed as declared in :mod:`ecomlab.schema`.

    Parameters
    ----------
    name : one of :func:`list_datasets` (an unknown name raises ``ValueError`` listing them).
    data_dir : a folder with your own ``<name>.parquet`` or ``<name>.csv`` in the same
        layout; ``None`` loads the bundled Nestwell data.
    dayfirst : for a CSV whose dates are written day/month (``31/01/2025``: pass
        ``True``) or month/day (``False``); without it such dates are refused.
    encoding : the CSV's encoding when it is not UTF-8 (e.g. ``"gb18030"``).
    report : an :class:`ecomlab.io.Report` that receives every conversion made. Your
        own files are typed by the strict rules of :mod:`ecomlab.io.parse` (a CSV is read
        as text first): ambiguous or mixed date formats, epoch numbers, booleans outside
        the vocabulary, fractional counts, unparseable amounts, ids that lost digits, a
        wrong encoding and an empty file are refused, naming table, column, the expected
        form and an example of what was found.

    >>> load("products").shape[1]
    9
    """
    path = table_path(name, data_dir)
    rep = report if report is not None else Report(name)
    if path.suffix == ".csv":
        df = read_table_file(path, table=name, report=rep, encoding=encoding, encodings=("utf-8-sig",))
    else:
        df = pd.read_parquet(path)
        if len(df) == 0:
            raise ValueError(f"{name}: file {path.name!r} has no rows; expected at least one")
    return conform(name, df, dayfirst=dayfirst, report=rep, from_text=path.suffix == ".csv")


def conform(name: str, df: pd.DataFrame, *, dayfirst: bool | None = None,
            report: Report | None = None, from_text: bool = False) -> pd.DataFrame:
    """Return ``df`` with exactly the declared columns of table ``name``, typed.

    This is the one place dtypes are applied (the loader uses it too). A column already
    in its declared dtype is kept as it is (the bundled Parquet files); any other is typed
    by the strict rules of :mod:`ecomlab.io.parse`, each conversion recorded in
    ``report``: ``string`` columns become pandas' default ``str`` dtype (ids from a
    numeric column are written as whole numbers, never ``"1.0"``), categoricals get the
    declared categories (an unknown value raises rather than silently becoming NaN),
    dates become ``datetime64[us]``, counts must be whole, booleans come from an explicit
    vocabulary. A missing value in a column not declared nullable is an error.
    ``from_text`` (set for CSV files): id columns (``*_id``) also go through the id rules
    (blanks, ``="…"`` guards and ``17.0`` written by a float column removed, scientific
    notation refused).
    """
    spec = schema.table(name)
    rep = report if report is not None else Report(name)
    missing = [c.name for c in spec.columns if c.name not in df.columns]
    if missing:
        raise ValueError(f"table {name!r} is missing column(s) {missing}")
    out = {}
    for col in spec.columns:
        s = df[col.name]
        if from_text and col.dtype == "string" and col.name.endswith("_id"):
            s = parse_id(s, name, col.name, rep, nullable=True)
        s = _typed(name, col, s, rep, dayfirst)
        if not col.nullable:
            require_not_null(s, name, col.name)
        out[col.name] = s.reset_index(drop=True)
    res = pd.DataFrame(out)
    res.attrs.update(df.attrs)
    return res


def _typed(name: str, col: schema.Column, s: pd.Series, rep: Report, dayfirst: bool | None) -> pd.Series:
    """One column in its declared dtype (kept as it is when it already has it).

    Missing values pass through here; :func:`conform` refuses them in non-nullable columns.
    """
    if col.dtype == "string":
        if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is not pd.NA:
            return s
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            return parse_id(s, name, col.name, rep, nullable=True)
        return s.astype(STR)
    if col.dtype in ("category", "ordered"):
        cat = pd.CategoricalDtype(list(col.categories), ordered=col.dtype == "ordered")
        if s.dtype != cat:
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype(STR)
            bad = s.notna() & ~s.isin(col.categories)
            if bad.any():
                vals = sorted(set(s[bad].astype(str)))[:5]
                raise ValueError(f"{name}.{col.name}: unexpected values {vals}; "
                                 f"expected one of {list(col.categories)}")
            s = s.astype(cat)
        return s
    if col.dtype in ("date", "datetime"):
        if s.dtype == "datetime64[us]":
            return s.dt.normalize() if col.dtype == "date" else s
        if pd.api.types.is_datetime64_dtype(s.dtype):
            s = s.astype("datetime64[us]")
        return parse_datetime(s, name, col.name, rep, dayfirst=dayfirst, nullable=True,
                              date_only=col.dtype == "date")
    if col.dtype in ("int", "Int"):
        if str(s.dtype) == ("int64" if col.dtype == "int" else "Int64"):
            return s
        v = parse_count(s, name, col.name, rep, nullable=True)
        return v.astype("int64") if col.dtype == "int" and not v.isna().any() else v
    if col.dtype == "float":
        if s.dtype == "float64":
            return s
        return parse_amount(s, name, col.name, rep, nullable=True)
    if col.dtype == "bool":
        if s.dtype == "bool":
            return s
        v = parse_bool(s, name, col.name, rep, nullable=True)
        return v.astype(bool) if not v.isna().any() else v
    raise ValueError(f"unknown dtype code {col.dtype!r}")  # pragma: no cover - schema is validated by tests


def load_all(data_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Every table as a dict ``{name: DataFrame}``."""
    return {n: load(n, data_dir) for n in list_datasets()}


def truth(data_dir: str | Path | None = None) -> dict:
    """The planted ground truth (``truth.json``) of the bundled world.

    >>> truth()["elasticity"]["storage"]
    -2.2
    """
    d = data_path() if data_dir is None else Path(data_dir)
    p = d / "truth.json"
    if not p.is_file():
        raise FileNotFoundError(f"no truth.json in {str(d)!r} (only generated worlds have one)")
    return _read_json(str(p))


@lru_cache(maxsize=4)
def _read_json(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def describe(name: str) -> str:
    """The data-card text for one table: grain, columns (type, unit, meaning), blemishes.

    >>> print(describe("returns").splitlines()[0])
    ## returns
    """
    t = schema.table(name)
    lines = [f"## {t.name}", "", t.description, "", f"*Grain:* {t.grain}.  ",
             f"*Used in lessons:* {', '.join(t.lessons)}", "",
             "| column | type | unit | meaning |", "|---|---|---|---|"]
    for c in t.columns:
        typ = _dtype_label(c)
        lines.append(f"| `{c.name}` | {typ} | {c.unit} | {c.description} |")
    return "\n".join(lines) + "\n"


def _dtype_label(c: schema.Column) -> str:
    labels = {"string": "string", "date": "date", "datetime": "timestamp", "int": "int64",
              "Int": "Int64 (nullable)", "float": "float64", "bool": "bool"}
    if c.dtype in ("category", "ordered"):
        kind = "ordered category" if c.dtype == "ordered" else "category"
        cats = ", ".join(c.categories or ())
        return f"{kind} ({cats})" + (", nullable" if c.nullable else "")
    return labels[c.dtype] + (", nullable" if c.nullable and c.dtype != "Int" else "")


def render_data_card(tables: dict[str, pd.DataFrame], truth_: dict) -> str:
    """The ``datasets/nestwell/README.md`` data card, rendered from the schema and the data."""
    b = truth_.get("blemishes", {})
    blem = {
        "orders": [f"{b.get('orders_cancelled', 0):,} cancelled orders (never shipped: excluded from GMV)",
                   f"{b.get('orders_refunded', 0):,} refunded orders (every line returned: in GMV, not in customer analytics)",
                   f"{b.get('orders_missing_device', 0):,} orders with missing `device` (tracker failure)"],
        "events": [f"{b.get('events_duplicated_rows', 0):,} exact duplicate rows (logged twice)",
                   f"{b.get('events_outside_window', 0):,} rows outside 2025-11-01..2025-11-30 (time-zone slips)",
                   f"{b.get('events_missing_device', 0):,} rows with missing `device`"],
        "customers": ["`member_join_date` and `joined_fan_group_date` are empty for customers who never joined "
                      f"({b.get('customers_never_in_fan_group', 0):,} never joined a fan group)"],
    }
    out = [
        "# Nestwell (栖居良品) — data card",
        "",
        "Synthetic data of a fictional mid-priced home-goods brand (家居) with a flagship store on a",
        "Tmall-like marketplace, a WeChat mini-program and fan groups (私域), 2024-01-01 to 2025-12-31,",
        "prices in CNY, Beijing time. Generated by `ecomlab.simulate` "
        f"(seed {truth_.get('seed')}, scale {truth_.get('scale')}); regenerate with "
        "`ecomlab generate --seed SEED --scale K --out DIR`.",
        "",
        "Every planted parameter is in `truth.json` (see DESIGN §3 for the causal story). The data",
        "are synthetic: any resemblance to a real shop is by design of the story, not by copying.",
        "This card is rendered from `ecomlab/schema.py`, the same declarations the loader uses",
        "to type the columns, so the two cannot drift apart.",
        "",
        "| table | rows | grain | lessons |",
        "|---|---:|---|---|",
    ]
    for name, t in schema.TABLES.items():
        out.append(f"| [{name}](#{name}) | {len(tables[name]):,} | {t.grain} | {', '.join(t.lessons)} |")
    out.append("")
    for name in schema.TABLES:
        out.append(describe(name))
        out.append(f"*Rows:* {len(tables[name]):,}")
        if name in blem:
            out.append("")
            out.append("*Blemishes (kept on purpose; lessons show how to handle them):*")
            out.extend(f"- {x}" for x in blem[name])
        out.append("")
    return "\n".join(out)
