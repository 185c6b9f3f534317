"""Report templates: a lesson's analysis run on anyone's data (DESIGN §8).

A template is a lean notebook in ``notebooks/templates/<name>.ipynb``: a ``parameters``
cell, a validation step, the analysis, and sentences generated from the results. Its
**data contract** — the tables and columns it needs, the optional ones and the sections
they switch on — is declared once here, in :data:`CONTRACTS`, and used three ways: by
the template (:func:`load` validates first), by ``ecomlab validate`` (:func:`validate`
says what will run, what will be skipped and what must be set, before anything is
computed) and by ``ecomlab report`` (:func:`render` runs the template and writes one
standalone HTML file without code, figures embedded).

Where data come from (the ``data`` parameter):

* ``None`` — the bundled Nestwell tables (how the course renders each template);
* a folder of tables in the course layout (``orders.parquet``/``.csv`` …), read by
  :func:`ecomlab.datasets.load` with its strict typing;
* an orders export file with a ``preset`` (``shopify``, ``tmall``/``taobao``,
  ``generic``), read by :func:`ecomlab.io.read_orders`, whose report says what was mapped,
  coerced and excluded.

Example
-------
>>> sorted(CONTRACTS)
['rfm']
>>> print(validate(None, "rfm"))  # doctest: +ELLIPSIS
Template 'rfm' (RFM and value segments) on the bundled Nestwell data
  required  orders: order_id, customer_id, order_ts, paid_amount, status  ... found
...
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["CONTRACTS", "Contract", "LoadedData", "load", "render", "template_path", "validate"]


@dataclass(frozen=True)
class Contract:
    """What a template needs.

    Fields
    ------
    title : the analysis, as the report's heading says it.
    lesson : the lesson that teaches it (path under ``notebooks/`` without ``.ipynb``).
    required : table -> columns that must be present (the template refuses without them).
    optional : table -> columns that switch on ``sections`` when present.
    sections : section title -> the optional tables it needs (skipped, with a sentence
        saying why, when one is missing).
    """

    title: str
    lesson: str
    required: Mapping[str, Sequence[str]]
    optional: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sections: Mapping[str, Sequence[str]] = field(default_factory=dict)


#: The data contract of every template, by template name.
CONTRACTS: dict[str, Contract] = {
    "rfm": Contract(
        title="RFM and value segments",
        lesson="04_private_domain/01_rfm",
        required={"orders": ("order_id", "customer_id", "order_ts", "paid_amount", "status")},
        optional={"customers": ("customer_id", "acquisition_channel")},
        sections={"Value segments by acquisition channel": ("customers",)},
    ),
}


def _contract(name: str) -> Contract:
    if name not in CONTRACTS:
        raise ValueError(f"template must be one of {sorted(CONTRACTS)}, got {name!r}")
    return CONTRACTS[name]


def template_path(name: str) -> Path:
    """The template notebook ``notebooks/templates/<name>.ipynb`` of the checkout."""
    from ecomlab.notebooks import notebooks_dir

    _contract(name)
    path = notebooks_dir() / "templates" / f"{name}.ipynb"
    if not path.is_file():
        raise ValueError(f"template notebook {str(path)!r} is missing")
    return path


@dataclass(frozen=True, eq=False)
class LoadedData:
    """Tables for a template after validation.

    Fields
    ------
    tables : table name -> DataFrame in the course layout (required and available optional).
    source : where they came from, in words.
    notes : what reading them mapped, coerced or excluded (one line each).
    sections : section title -> None when it will run, else the reason it is skipped.
    currency : currency code of the amounts. timezone : time zone of the timestamps
        (None = as given).
    """

    tables: dict[str, pd.DataFrame]
    source: str
    notes: tuple[str, ...]
    sections: dict[str, str | None]
    currency: str
    timezone: str | None

    def __str__(self) -> str:
        lines = [f"Data: {self.source}"]
        for name, df in self.tables.items():
            lines.append(f"  {name}: {len(df):,} rows, {df.shape[1]} columns")
        lines += [f"  note: {n}" for n in self.notes]
        for title, why in self.sections.items():
            lines.append(f"  section '{title}': " + ("runs" if why is None else f"skipped — {why}"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(str(self)) + "</pre>"


def _missing_columns(df: pd.DataFrame, cols: Sequence[str]) -> list[str]:
    return [c for c in cols if c not in df.columns]


def load(name: str, data: Any = None, *, preset: str | None = None, timezone: str | None = None,
         currency: str | None = None, **read_options: Any) -> LoadedData:
    """Read and validate the tables template ``name`` needs; refuse clearly if one is missing.

    ``data``: None (bundled Nestwell), a folder of course-layout tables, or an orders
    export file read with ``preset`` (plus ``read_options`` for
    :func:`ecomlab.io.read_orders`, e.g. ``dayfirst=True``).

    >>> d = load("rfm")
    >>> len(d.tables["orders"]) > 0, d.currency
    (True, 'CNY')
    """
    from ecomlab import datasets

    contract = _contract(name)
    notes: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    path = Path(data) if data is not None else None
    if path is not None and path.is_file():
        from ecomlab import io

        if set(contract.required) - {"orders", "order_items"}:
            raise ValueError(f"template {name!r} needs tables {sorted(contract.required)}; "
                             "an orders export file gives only orders (and order lines): pass a "
                             "folder with the other tables")
        read = io.read_orders(path, preset or "generic", timezone=timezone, currency=currency,
                              **read_options)
        tables["orders"] = read.orders
        if read.order_items is not None:
            tables["order_items"] = read.order_items
        notes += [line.strip() for line in str(read.report).splitlines() if line.strip()]
        source = f"{path.name} read with the {preset or 'generic'} preset"
        currency = read.currency or currency or "currency units"
        timezone = read.timezone
    else:
        if preset is not None:
            raise ValueError(f"preset={preset!r} applies to an export file; data={data!r} is "
                             "not a file (a folder is read in the course layout)")
        if path is not None and not path.is_dir():
            raise ValueError(f"data must be None, a folder of tables or an export file; "
                             f"{str(path)!r} does not exist")
        source = "the bundled Nestwell data" if path is None else f"the tables in {path}"
        for table in [*contract.required, *contract.optional]:
            if table not in contract.required and path is not None and not any(
                    (path / f"{table}{ext}").is_file() for ext in (".parquet", ".csv")):
                continue
            try:
                tables[table] = datasets.load(table, path)
            except FileNotFoundError as exc:
                raise ValueError(f"template {name!r} needs table {table!r}: {exc}") from None
        currency = currency or "CNY"
    for table, cols in contract.required.items():
        if table not in tables:
            raise ValueError(f"template {name!r} needs table {table!r}; found {sorted(tables)}")
        miss = _missing_columns(tables[table], cols)
        if miss:
            raise ValueError(f"template {name!r}: table {table!r} lacks columns {miss}; it has "
                             f"{list(tables[table].columns)}")
    for table, cols in contract.optional.items():
        if table in tables and _missing_columns(tables[table], cols):
            notes.append(f"{table} lacks {_missing_columns(tables[table], cols)}; not used")
            tables.pop(table)
    sections = {
        title: None if all(t in tables for t in needs)
        else f"it needs the {', '.join(t for t in needs if t not in tables)} table, which the data do not have"
        for title, needs in contract.sections.items()
    }
    return LoadedData(tables, source, tuple(notes), sections, currency, timezone)


@dataclass(frozen=True)
class Validation:
    """What ``ecomlab validate`` prints: per table and section, what will run."""

    name: str
    lines: tuple[str, ...]
    ok: bool

    def __str__(self) -> str:
        return "\n".join(self.lines)


def validate(data: Any, name: str, *, preset: str | None = None, **options: Any) -> Validation:
    """Say what template ``name`` will run on ``data``, what it will skip and what must be set.

    Never raises for bad data: a refusal becomes a line saying what to fix (``ok`` False).
    """
    contract = _contract(name)
    where = "the bundled Nestwell data" if data is None else str(data)
    lines = [f"Template {name!r} ({contract.title}) on {where}"]
    try:
        loaded = load(name, data, preset=preset, **options)
    except (ValueError, OSError) as exc:
        lines.append(f"  cannot run: {exc}")
        return Validation(name, tuple(lines), False)
    for table, cols in contract.required.items():
        lines.append(f"  required  {table}: {', '.join(cols)}  {len(loaded.tables[table]):,} rows found")
    for table, cols in contract.optional.items():
        state = f"{len(loaded.tables[table]):,} rows found" if table in loaded.tables else "absent"
        lines.append(f"  optional  {table}: {', '.join(cols)}  {state}")
    for title, why in loaded.sections.items():
        lines.append(f"  section   {title}: " + ("will run" if why is None else f"skipped ({why})"))
    lines += [f"  note      {n}" for n in loaded.notes]
    return Validation(name, tuple(lines), True)


def render(name: str, out: str | os.PathLike[str], *, data: Any = None, preset: str | None = None,
           params: Mapping[str, Any] | None = None, timeout: float = 600, stream=None) -> Path:
    """Run template ``name`` on ``data`` and write a standalone HTML report to ``out``.

    The report has no code (inputs hidden), figures embedded as data URIs, and every
    sentence generated from the results. Progress is printed to ``stream`` (stdout).
    Raises ``ValueError`` when the data fail validation (nothing is executed then).
    """
    import sys

    import nbformat
    from nbconvert import HTMLExporter

    from ecomlab.notebooks import execute

    stream = stream or sys.stdout
    params = dict(params or {})
    check = validate(data, name, preset=preset, **{k: v for k, v in params.items()
                                                   if k in ("timezone", "currency")})
    print(check, file=stream, flush=True)
    if not check.ok:
        raise ValueError(f"template {name!r} cannot run on {data!r}: see the lines above")
    params.update({"data": None if data is None else str(Path(data).resolve()), "preset": preset})
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ecomlab-report-") as tmp:
        executed = Path(tmp) / f"{name}.ipynb"
        print(f"running {name} ...", file=stream, flush=True)
        secs = execute(template_path(name), executed, parameters=params, cwd=tmp, timeout=timeout)
        nb = nbformat.read(str(executed), as_version=4)
    nb.cells = [c for c in nb.cells if "parameters" not in c.metadata.get("tags", [])
                and "injected-parameters" not in c.metadata.get("tags", [])]
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": CONTRACTS[name].title}})
    out_path.write_text(body, encoding="utf-8")
    print(f"wrote {out_path} ({secs:.1f} s)", file=stream, flush=True)
    return out_path
