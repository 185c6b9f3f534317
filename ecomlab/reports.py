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
>>> "rfm" in CONTRACTS
True
>>> print(validate(None, "rfm"))  # doctest: +ELLIPSIS
Template 'rfm' (RFM and value segments) on the bundled Nestwell data
  required  orders: order_id, customer_id, order_ts, paid_amount, status  ... found
...
"""

from __future__ import annotations

import contextlib
import html
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ecomlab.io.report import Report

__all__ = ["CONTRACTS", "LOAD_OPTIONS", "Contract", "LoadedData", "engine_output", "engine_templates", "load",
           "load_options", "render", "template_path", "validate"]


@dataclass(frozen=True)
class Contract:
    """What a template needs.

    Fields
    ------
    title : the analysis, as the report's heading says it.
    lesson : the lesson that teaches it (path under ``notebooks/`` without ``.ipynb``).
    required : table -> columns that must be present (the template refuses without them).
    optional : table -> columns that switch on ``sections`` when present.
    optional_columns : table -> columns of a *required* table that are optional (a
        section needing one is skipped when the data lack it).
    sections : section title -> what it needs: optional tables (``"customers"``) or
        optional columns (``"experiments.revenue"``); skipped, with a sentence saying
        why, when one is missing.
    column_params : template parameter -> the column of the contract's one table whose
        name in the user's file it gives (``{"unit_col": "visitor_id"}``): a single
        table file is read with these names (see :func:`load`).
    engine_metrics : the :mod:`ecomlab.engines` metrics the template computes on DuckDB or
        Spark when run with ``engine="duckdb"``/``"spark"`` (empty: pandas only).
    """

    title: str
    lesson: str
    required: Mapping[str, Sequence[str]]
    optional: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sections: Mapping[str, Sequence[str]] = field(default_factory=dict)
    optional_columns: Mapping[str, Sequence[str]] = field(default_factory=dict)
    column_params: Mapping[str, str] = field(default_factory=dict)
    engine_metrics: tuple[str, ...] = ()


#: The data contract of every template, by template name.
CONTRACTS: dict[str, Contract] = {
    "rfm": Contract(
        title="RFM and value segments",
        lesson="04_private_domain/01_rfm",
        required={"orders": ("order_id", "customer_id", "order_ts", "paid_amount", "status")},
        optional={"customers": ("customer_id", "acquisition_channel")},
        sections={"Value segments by acquisition channel": ("customers",)},
        engine_metrics=("rfm",),
    ),
    "ab_test": Contract(
        title="A/B test readout",
        lesson="05_data_iteration/02_ab_testing",
        required={"experiments": ("visitor_id", "variant", "converted")},
        optional_columns={"experiments": ("experiment_id", "assigned_at", "pre_revenue", "revenue")},
        sections={
            "Revenue per visitor": ("experiments.revenue",),
            "Variance reduction with the pre-period covariate (CUPED)": ("experiments.pre_revenue",),
            "Duration and peeking": ("experiments.assigned_at",),
        },
        column_params={"unit_col": "visitor_id", "variant_col": "variant", "converted_col": "converted",
                       "experiment_col": "experiment_id", "assigned_col": "assigned_at",
                       "covariate_col": "pre_revenue", "revenue_col": "revenue"},
    ),
    "coupon_uplift": Contract(
        title="Coupon uplift readout",
        lesson="04_private_domain/04_coupons_uplift",
        required={"coupon_campaign": ("customer_id", "treatment", "purchased_30d")},
        optional_columns={"coupon_campaign": ("segment_at_send", "revenue_30d", "coupon_value", "redeemed")},
        sections={
            "Uplift by segment": ("coupon_campaign.segment_at_send",),
            "Response versus uplift": ("coupon_campaign.segment_at_send",),
            "Profit per coupon": ("coupon_campaign.revenue_30d", "coupon_campaign.coupon_value",
                                  "coupon_campaign.redeemed"),
            "Who to target next": ("coupon_campaign.segment_at_send",),
        },
        column_params={"customer_col": "customer_id", "treatment_col": "treatment",
                       "outcome_col": "purchased_30d", "segment_col": "segment_at_send",
                       "revenue_col": "revenue_30d", "coupon_value_col": "coupon_value",
                       "redeemed_col": "redeemed"},
    ),
    "market": Contract(
        title="Market landscape",
        lesson="01_positioning/01_market",
        required={"market": ("category", "brand", "month", "sales_amount")},
        optional_columns={"market": ("units", "avg_price")},
        sections={
            "Price position: value share against unit share": ("market.units",),
            "Price bands": ("market.units",),
        },
        column_params={"category_col": "category", "brand_col": "brand", "period_col": "month",
                       "sales_col": "sales_amount", "units_col": "units", "price_col": "avg_price"},
    ),
    "abc": Contract(
        title="ABC and margin by SKU",
        lesson="02_product/01_selection",
        required={"orders": ("order_id", "order_ts", "status", "items_amount", "discount_amount"),
                  "order_items": ("order_id", "sku_id", "quantity", "unit_price"),
                  "products": ("sku_id", "unit_cost")},
        optional={"returns": ("order_id", "sku_id", "refund_amount")},
        optional_columns={"products": ("category",)},
        sections={"Returns and margin by category": ("returns", "products.category"),
                  "By category": ("products.category",)},
    ),
    "pricing": Contract(
        title="Price elasticity, margin-optimal prices and promotions",
        lesson="02_product/02_pricing",
        required={"orders": ("order_id", "order_ts", "status"),
                  "order_items": ("order_id", "sku_id", "quantity"),
                  "daily_prices": ("sku_id", "date", "price"),
                  "products": ("sku_id", "category", "unit_cost")},
        optional_columns={"daily_prices": ("on_promotion",), "products": ("launch_date", "list_price")},
        sections={"Promotions: lift and the days around them": ("daily_prices.on_promotion",),
                  "Price moves against the list price": ("products.list_price",)},
    ),
    "inventory_plan": Contract(
        title="Inventory plan: forecasts, safety stock and a promotion pre-build",
        lesson="02_product/03_inventory",
        required={"inventory": ("sku_id", "date", "units_sold", "stockout"),
                  "products": ("sku_id", "lead_time_days", "unit_cost", "list_price")},
        optional_columns={"inventory": ("on_hand_start",)},
        sections={"Stock on hand against the reorder point": ("inventory.on_hand_start",)},
    ),
    "funnel": Contract(
        title="Funnel and behaviour",
        lesson="05_data_iteration/03_behaviour",
        required={"events": ("visitor_id", "session_id", "ts", "event")},
        optional_columns={"events": ("device", "source", "sku_id")},
        sections={"Funnel by device": ("events.device",), "Funnel by traffic source": ("events.source",)},
        engine_metrics=("events_quality", "funnel", "cart_abandonment", "hourly_activity", "top_paths"),
    ),
    "kpi_tree": Contract(
        title="KPI tree and alerts",
        lesson="05_data_iteration/01_kpi_tree",
        required={"orders": ("order_id", "customer_id", "order_ts", "paid_amount", "status")},
        optional={"events": ("visitor_id", "ts")},
        sections={"The full tree: visitors × conversion × spend per buyer": ("events",)},
        engine_metrics=("orders_kpis", "events_quality", "daily_kpis", "period_kpis"),
    ),
    "cohorts": Contract(
        title="Repurchase and cohorts",
        lesson="04_private_domain/02_cohorts_repurchase",
        required={"orders": ("order_id", "customer_id", "order_ts", "paid_amount", "status")},
        optional={"customers": ("customer_id", "acquisition_channel")},
        sections={"Retention by acquisition channel": ("customers",)},
        engine_metrics=("orders_overview", "repurchase_rate", "return_purchase_rate", "cohort_matrix",
                        "second_purchase"),
    ),
    "clv": Contract(
        title="Customer lifetime value (BG/NBD and Gamma-Gamma)",
        lesson="04_private_domain/03_clv",
        required={"orders": ("order_id", "customer_id", "order_ts", "paid_amount", "status")},
        optional={"order_items": ("order_id", "sku_id", "quantity"), "products": ("sku_id", "unit_cost"),
                  "customers": ("customer_id", "acquisition_channel"),
                  "marketing_daily": ("channel", "date", "spend")},
        optional_columns={"orders": ("items_amount", "discount_amount")},
        sections={
            "Gross margin after discounts": ("order_items", "products", "orders.items_amount",
                                             "orders.discount_amount"),
            "LTV : CAC by acquisition channel": ("customers", "marketing_daily"),
        },
    ),
    "programme_evaluation": Contract(
        title="Programme evaluation (an opt-in programme: fan group, membership, loyalty club)",
        lesson="04_private_domain/05_fan_groups",
        required={"orders": ("order_id", "customer_id", "order_ts", "status"),
                  "customers": ("customer_id", "joined_fan_group_date")},
        optional_columns={"orders": ("paid_amount",),
                          "customers": ("member_join_date", "acquisition_channel", "city_tier")},
        sections={"Profit ROI versus ROAS": ("orders.paid_amount",)},
        column_params={"join_col": "joined_fan_group_date"},
    ),
    "keywords": Contract(
        title="Search keyword report",
        lesson="03_traffic/02_keywords",
        required={"keywords": ("keyword", "our_rank", "impressions", "clicks")},
        optional_columns={"keywords": ("monthly_searches", "cpc", "orders")},
        sections={
            "Break-even bids": ("keywords.orders", "keywords.cpc"),
            "Keyword opportunity": ("keywords.monthly_searches", "keywords.orders", "keywords.cpc"),
        },
        column_params={"keyword_col": "keyword", "rank_col": "our_rank", "impressions_col": "impressions",
                       "clicks_col": "clicks", "searches_col": "monthly_searches", "cpc_col": "cpc",
                       "orders_col": "orders"},
    ),
    "traffic_quality": Contract(
        title="Traffic quality",
        lesson="03_traffic/03_quality",
        required={"events": ("visitor_id", "session_id", "ts", "event", "source"),
                  "orders": ("customer_id", "order_ts", "status", "paid_amount", "traffic_source")},
        optional={"marketing_daily": ("channel", "date", "spend", "clicks")},
        optional_columns={"events": ("device", "customer_id"), "orders": ("device",)},
        sections={"Value per visitor by device": ("events.device", "orders.device"),
                  "New and returning visitors": ("events.customer_id",),
                  "What a click is worth": ("marketing_daily",)},
    ),
    "channels": Contract(
        title="Channel ROI and media mix",
        lesson="03_traffic/01_channels",
        required={"marketing_daily": ("channel", "date", "spend"),
                  "customers": ("customer_id", "first_order_date", "acquisition_channel")},
        optional={"experiments": ("experiment_id", "variant", "revenue")},   # a lift test to calibrate with
        optional_columns={"marketing_daily": ("clicks", "impressions", "platform_attributed_orders",
                                              "platform_attributed_revenue")},
        sections={"Platform ROAS against incremental ROAS": ("marketing_daily.platform_attributed_orders",
                                                             "marketing_daily.platform_attributed_revenue")},
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
    engine : "pandas" (tables in memory) or the engine the template computes on
        ("duckdb", "spark"); then ``data_path`` is the folder the engine reads and
        ``on_disk`` gives each table left on disk as (rows, columns), checked from its schema.
    """

    tables: dict[str, pd.DataFrame]
    source: str
    notes: tuple[str, ...]
    sections: dict[str, str | None]
    currency: str
    timezone: str | None
    engine: str = "pandas"
    data_path: str | None = None
    on_disk: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)

    def rows(self, table: str) -> int:
        """Rows of ``table``, in memory or on disk."""
        return len(self.tables[table]) if table in self.tables else self.on_disk[table][0]

    def table(self, name: str, columns: Sequence[str]) -> pd.DataFrame:
        """``columns`` of table ``name``: from memory, or read from disk (those columns only,
        typed as :func:`ecomlab.datasets.load` types them) when an engine left it there.

        A section that needs a few columns of an optional table (a customer's acquisition
        channel) takes them with this on every engine, so the whole table is never read in
        for an engine run. Raises ValueError naming the table when it is neither in memory
        nor on disk, or lacks a column.

        >>> loaded = load("rfm", engine="duckdb")
        >>> "customers" in loaded.tables, "customers" in loaded.on_disk
        (False, True)
        >>> loaded.table("customers", ["customer_id", "acquisition_channel"]).dtypes.astype(str).tolist()
        ['str', 'category']
        """
        cols = list(columns)
        if name not in self.tables and name not in self.on_disk:
            raise ValueError(f"table {name!r} is neither loaded nor left on disk; the data have "
                             f"{sorted([*self.tables, *self.on_disk])}")
        names = self.tables[name].columns if name in self.tables else self.on_disk[name][1]
        miss = [c for c in cols if c not in names]
        if miss:
            raise ValueError(f"table {name!r} lacks columns {miss}; expected {cols}")
        if name in self.tables:
            return self.tables[name][cols]
        return _read_columns(Path(str(self.data_path)), name, cols)

    def __str__(self) -> str:
        lines = [f"Data: {self.source}" + ("" if self.engine == "pandas" else f" (engine {self.engine})")]
        for name, (n, cols) in self.on_disk.items():
            lines.append(f"  {name}: {n:,} rows, {len(cols)} columns (left on disk)")
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


#: Reading options :func:`load` takes besides a template's column parameters; ``ecomlab
#: report --param KEY=VALUE`` forwards them (and the column parameters) to the validation
#: step, so what is validated is what the template reads.
LOAD_OPTIONS = ("timezone", "currency", "dayfirst", "encoding", "sep", "decimal", "sheet_name",
                "true_values", "false_values", "event_map", "session_gap", "epoch_unit")


def load_options(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The template parameters among ``params`` that :func:`load` takes (reading options and
    the template's column parameters), so that what is validated is what the template reads.

    >>> load_options("ab_test", {"unit_col": "user", "mde": "0.003", "dayfirst": "True"})
    {'unit_col': 'user', 'dayfirst': 'True'}
    """
    keep = set(LOAD_OPTIONS) | set(_contract(name).column_params)
    return {k: v for k, v in params.items() if k in keep}


def _words(value: Any, arg: str) -> tuple[str, ...] | None:
    """A boolean vocabulary: None, a sequence of words or one comma-separated string."""
    if value is None:
        return None
    words = value.split(",") if isinstance(value, str) else list(value)
    words = tuple(str(w).strip() for w in words if str(w).strip())
    if not words:
        raise ValueError(f"{arg} must list at least one word (e.g. 'yes,y'), got {value!r}")
    return words


def _flag(value: Any, arg: str) -> bool | None:
    """None/True/False, also from the text a command line gives ('true', 'False', 'none')."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "none"):
        return None
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(f"{arg} must be True, False or None, got {value!r}")


def _section_needs(contract: Contract, tables: Mapping[str, pd.DataFrame],
                   headers: Mapping[str, str | None]) -> dict[str, str | None]:
    """Section title -> None (runs) or the reason it is skipped."""
    params = {col: p for p, col in contract.column_params.items()}
    out: dict[str, str | None] = {}
    for title, needs in contract.sections.items():
        why = []
        for need in needs:
            table, _, col = need.partition(".")
            if table not in tables:
                why.append(f"the {table} table")
            elif col and col not in tables[table].columns:
                looked = headers.get(col, col)
                how = (f" (parameter {params[col]}" + (f", looked for a column {looked!r})" if looked else " not set)")
                       if col in params else "")
                why.append(f"a {col} column{how}")
        out[title] = None if not why else f"it needs {' and '.join(why)}, which the data do not have"
    return out


def _table_columns(contract: Contract, table: str) -> list[str]:
    return [*contract.required.get(table, ()), *contract.optional_columns.get(table, ())]


def _year_month(s: pd.Series, col: str, rep: Report) -> pd.Series:
    """A month column written as year and month only (``2025-01``, ``2025/1``, ``2025年1月``,
    as market-intelligence tools export it) as the first day of each month, so the strict
    date parser reads it; reported. Left as it is unless every value has that form.

    >>> from ecomlab.io.report import Report
    >>> _year_month(pd.Series(["2025-01", "2025/2", "2025年12月"]), "month", Report("market")).tolist()
    ['2025-01-01', '2025-02-01', '2025-12-01']
    """
    text = s.astype("string").str.strip()
    parts = text.str.extract(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
    ok = parts[0].notna()
    if not ok.any() or (text.notna() & ~ok).any():
        return s
    rep.add("coerced", col, "year-month values read as the first day of their month", count=int(ok.sum()))
    return parts[0] + "-" + parts[1].str.zfill(2) + "-01"


def _read_one_table(path: Path, table: str, contract: Contract, headers: Mapping[str, str | None], *,
                    timezone: str | None, currency: str | None, dayfirst: bool | None,
                    true_values: tuple[str, ...] | None, false_values: tuple[str, ...] | None,
                    encoding: str | None = None, sep: str | None = None, decimal: str = ".",
                    sheet_name: str | int = 0) -> tuple[pd.DataFrame, Report]:
    """One table file typed strictly, column by column, by the rules of :mod:`ecomlab.io.parse`.

    Types come from the table's declaration in :mod:`ecomlab.schema`, except that labels
    (categoricals there) are kept as the user's text: a variant may be called anything.
    """
    from ecomlab import schema
    from ecomlab.io import parse as P
    from ecomlab.io.report import DataError, Report

    rep = Report(table)
    raw = P.read_table_file(path, table=table, report=rep, encoding=encoding, encodings=("utf-8-sig",),
                            sep=sep, sheet_name=sheet_name,
                            header_names=[h for h in headers.values() if h])
    spec = {c.name: c for c in schema.table(table).columns}
    params = {col: p for p, col in contract.column_params.items()}
    required = set(contract.required[table])
    out: dict[str, pd.Series] = {}
    for col in _table_columns(contract, table):
        header = headers.get(col, col)
        if header is None or header not in raw.columns:
            if col in required:
                how = f"set {params[col]}= to its header" if col in params else f"name it {col!r}"
                raise DataError(f"{table}: file {path.name!r} has no column {header!r} for {col} ({how}); "
                                f"it has {list(raw.columns)[:25]}")
            continue
        if header != col:
            rep.add("mapped", col, f"from column {header!r}")
        s, c = raw[header], spec[col]
        if c.dtype in ("category", "ordered") or (c.dtype == "string" and not col.endswith("_id")):
            text = P._blank_to_na(s)
            rep.add("coerced", col, "labels: surrounding blanks removed",
                    count=int((text != P._as_text(s)).fillna(False).sum()))
            s = text
        elif c.dtype == "string":
            s = P.parse_id(s, table, col, rep, source=header, nullable=True)
        elif c.dtype in ("date", "datetime"):
            if pd.api.types.is_datetime64_dtype(s.dtype):
                s = s.astype("datetime64[us]")
            else:
                if col == "month":
                    s = _year_month(s, col, rep)
                s = P.parse_datetime(s, table, col, rep, source=header, dayfirst=dayfirst, timezone=timezone,
                                     nullable=True, date_only=c.dtype == "date")
        elif c.dtype in ("int", "Int"):
            s = P.parse_count(s, table, col, rep, source=header, decimal=decimal, nullable=True)
        elif c.dtype == "float":
            s = P.parse_amount(s, table, col, rep, source=header, decimal=decimal, currency=currency, nullable=True)
        else:  # bool
            s = P.parse_bool(s, table, col, rep, source=header, true_words=true_values or P.TRUE_WORDS,
                             false_words=false_values or P.FALSE_WORDS, nullable=True)
            if true_values is None and false_values is None and not pd.api.types.is_bool_dtype(raw[header].dtype):
                rep.add("note", col, f"booleans read with the standard vocabulary {list(P.TRUE_WORDS)} / "
                        f"{list(P.FALSE_WORDS)}; pass true_values=/false_values= for your own")
        if not c.nullable:  # a nullable required column (a join date: empty = never joined) keeps its blanks
            P.require_not_null(s, table, col, source=header)
            if str(s.dtype) == "boolean":
                s = s.astype(bool)
            elif str(s.dtype) == "Int64":
                s = s.astype("int64")
        out[col] = s.reset_index(drop=True)
    used = {headers.get(c, c) for c in out}
    unused = [h for h in raw.columns if h not in used]
    rep.add("note", "", f"other columns not used: {unused[:10]}" + (" ..." if len(unused) > 10 else ""),
            count=len(unused), unit="columns")
    df = pd.DataFrame(out)
    rep.rows_out = len(df)
    return df, rep


def load(name: str, data: Any = None, *, preset: str | None = None, timezone: str | None = None,
         currency: str | None = None, mapping: Mapping[str, str | None] | None = None,
         true_values: Any = None, false_values: Any = None, engine: str = "pandas",
         **read_options: Any) -> LoadedData:
    """Read and validate the tables template ``name`` needs; refuse clearly if one is missing.

    ``data`` is one of:

    * ``None`` — the bundled Nestwell tables;
    * a folder of course-layout tables, read by :func:`ecomlab.datasets.load`; a required
      table whose file is narrower than the course layout, or whose columns are renamed by
      the column parameters, is read like a single table file (the contract's columns only,
      typed strictly);
    * an **orders export** file, for a template whose contract needs only orders (and
      order lines): read by :func:`ecomlab.io.read_orders` with ``preset`` (``read_options``
      go to it, e.g. ``dayfirst=True``);
    * a **single table file** (CSV, Excel or Parquet) for a template whose contract needs
      one other table (the A/B units, a coupon campaign): read by
      :func:`ecomlab.io.parse.read_table_file` (CSV as text, so ids keep their zeros) and
      typed column by column by the strict rules of :mod:`ecomlab.io.parse`, as the
      table's declaration in :mod:`ecomlab.schema` says (ids as text; timestamps in one
      unambiguous format, ``dayfirst`` when day/month; counts whole; amounts by the stated
      rule, in ``currency``; booleans only from the vocabulary ``true_values`` /
      ``false_values`` — a comma-separated string or a list — else the standard one;
      labels such as a variant kept as written). ``read_options``: ``dayfirst``,
      ``encoding``, ``sep``, ``decimal``, ``sheet_name``. Every conversion is in ``notes``.

    Column names: ``mapping`` (course column -> your header; ``None`` = you have no such
    column) or the template's column parameters (:attr:`Contract.column_params`, e.g.
    ``unit_col="uid"``) passed as keywords. They apply to a table file or a folder's
    table; with bundled data they must name the course columns (or be ``None`` to leave an
    optional column out). A required column that is missing is an error naming the parameter to
    set; a missing optional column skips the sections that need it, with the reason.

    ``engine="duckdb"``/``"spark"`` (templates with :attr:`Contract.engine_metrics`):
    the required tables stay on disk — ``data`` is a folder as :func:`ecomlab.engines.resolve_source`
    finds tables in it (``orders.parquet``, ``orders.csv`` or a hive-partitioned ``orders/``
    folder); their columns are checked from the Parquet/CSV schema and their rows counted
    from the file metadata; optional tables stay on disk too, checked the same way (a section
    takes the few columns it needs with :meth:`LoadedData.table`).

    >>> d = load("rfm")
    >>> len(d.tables["orders"]) > 0, d.currency
    (True, 'CNY')
    >>> d = load("ab_test", revenue_col=None)
    >>> d.sections["Revenue per visitor"]
    'it needs a revenue column (parameter revenue_col not set), which the data do not have'
    """
    from ecomlab import datasets

    contract = _contract(name)
    if engine != "pandas":
        return _load_on_engine(name, contract, data, engine=engine, preset=preset, timezone=timezone,
                               currency=currency, mapping=mapping, true_values=true_values,
                               false_values=false_values, read_options=read_options)
    headers: dict[str, str | None] = dict(mapping or {})
    for param, col in contract.column_params.items():
        if param in read_options:
            value = read_options.pop(param)
            headers[col] = None if value is None or str(value).strip() in ("", "None") else str(value)
    known = {c for t in [*contract.required, *contract.optional_columns] for c in _table_columns(contract, t)}
    unknown = sorted(set(headers) - known)
    if unknown:
        raise ValueError(f"template {name!r}: mapping keys must be columns of its contract {sorted(known)}; "
                         f"got {unknown}")
    true_values, false_values = _words(true_values, "true_values"), _words(false_values, "false_values")
    if "dayfirst" in read_options:
        read_options["dayfirst"] = _flag(read_options["dayfirst"], "dayfirst")
    notes: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    path = Path(data) if data is not None else None
    other = [t for t in contract.required if t not in ("orders", "order_items")]
    if path is not None and path.is_file() and other == ["events"]:
        if preset is not None:
            raise ValueError(f"preset={preset!r} applies to an orders export; template {name!r} reads a clickstream "
                             "(map its columns with mapping= and its event names with event_map=)")
        tables["events"], notes, sections = _read_events_file(path, contract, headers, timezone=timezone,
                                                              **read_options)
        return LoadedData(tables, f"{path.name} read as the events table", tuple(notes), sections,
                          currency or "currency units", timezone)
    if _event_map(read_options.pop("event_map", None)) is not None:
        raise ValueError(f"event_map applies to a clickstream export file; template {name!r} reads {data!r} "
                         "in the course layout (event names pv, fav, cart, buy)")
    read_options.pop("session_gap", None)  # a clickstream file's options: tables in the course layout
    read_options.pop("epoch_unit", None)   # carry session ids and typed timestamps already
    if path is not None and path.is_file() and other:
        if len(contract.required) != 1 or contract.optional:
            raise ValueError(f"template {name!r} needs tables {sorted(contract.required)}; one file gives "
                             "one table: pass a folder with the tables")
        if preset is not None:
            raise ValueError(f"preset={preset!r} applies to an orders export; template {name!r} reads one "
                             f"{other[0]} table (map its columns with the column parameters)")
        bad = sorted(set(read_options) - {"dayfirst", "encoding", "sep", "decimal", "sheet_name"})
        if bad:
            raise ValueError(f"unknown reading option(s) {bad} for a table file; expected dayfirst, encoding, "
                             "sep, decimal, sheet_name, true_values, false_values or the column parameters "
                             f"{sorted(contract.column_params)}")
        table = other[0]
        df, rep = _read_one_table(path, table, contract, headers, timezone=timezone, currency=currency,
                                  true_values=true_values, false_values=false_values, **{
                                      "dayfirst": None, **read_options})
        tables[table] = df
        notes += [line.strip() for line in str(rep).splitlines()[1:] if line.strip()]
        source = f"{path.name} read as the {table} table"
        currency = currency or "currency units"
    elif path is not None and path.is_file():
        from ecomlab import io

        if set(contract.required) - {"orders", "order_items"}:
            raise ValueError(f"template {name!r} needs tables {sorted(contract.required)}; "
                             "an orders export file gives only orders (and order lines): pass a "
                             "folder with the other tables")
        if true_values is not None or false_values is not None:
            raise ValueError("true_values/false_values apply to a table file, not to an orders export")
        read = io.read_orders(path, preset or "generic", timezone=timezone, currency=currency,
                              mapping={k: v for k, v in headers.items() if v is not None} or None,
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
        renamed = {c: h for c, h in headers.items() if h is not None and h != c}
        if renamed and path is None:
            raise ValueError(f"column names {renamed} apply to a single table file; a folder (or the bundled "
                             "data) is read in the course layout, with the course's column names")
        source = "the bundled Nestwell data" if path is None else f"the tables in {path}"
        for table in [*contract.required, *contract.optional]:
            if table not in contract.required and path is not None and not any(
                    (path / f"{table}{ext}").is_file() for ext in (".parquet", ".csv")):
                continue
            files = [] if path is None else [f for f in (path / f"{table}.parquet", path / f"{table}.csv") if f.is_file()]
            own = set(renamed) & set(_table_columns(contract, table))
            if files and not own and table in contract.required:
                try:  # the course layout when the file has it; else the contract's columns only
                    tables[table] = datasets.load(table, path, **{k: v for k, v in read_options.items()
                                                                  if k in ("dayfirst", "encoding")})
                    continue
                except ValueError as exc:
                    if not str(exc).startswith(f"table {table!r} is missing column(s)"):
                        raise
                    own = {"narrower than the course layout"}
            if files and own and table in contract.required:
                # a folder table under its own column names: the contract's columns only, typed strictly
                df, rep = _read_one_table(files[0], table, contract, headers, timezone=timezone, currency=currency,
                                          dayfirst=read_options.get("dayfirst"), true_values=true_values,
                                          false_values=false_values, encoding=read_options.get("encoding"))
                tables[table] = df
                notes += [line.strip() for line in str(rep).splitlines()[1:] if line.strip()]
                continue
            try:
                tables[table] = datasets.load(table, path, **{k: v for k, v in read_options.items()
                                                              if k in ("dayfirst", "encoding")})
            except FileNotFoundError as exc:
                raise ValueError(f"template {name!r} needs table {table!r}: {exc}") from None
            left_out = [c for c, h in headers.items() if h is None and c in tables[table].columns]
            if left_out:
                if set(left_out) & set(contract.required.get(table, ())):
                    raise ValueError(f"template {name!r}: columns {sorted(set(left_out) & set(contract.required[table]))}"
                                     " are required; their parameters cannot be None")
                tables[table] = tables[table].drop(columns=left_out)
                notes.append(f"{table}: columns {left_out} left out (their parameters are None)")
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
    sections = _section_needs(contract, tables, headers)
    return LoadedData(tables, source, tuple(notes), sections, currency, timezone)


def engine_templates() -> list[str]:
    """The templates that run on DuckDB and Spark (their contract names engine metrics).

    >>> "rfm" in engine_templates()
    True
    """
    return sorted(n for n, c in CONTRACTS.items() if c.engine_metrics)


@contextlib.contextmanager
def engine_output(engine: str) -> Iterator[None]:
    """Keep an engine's own console output out of a report (a template wraps its
    :func:`ecomlab.engines.compute` calls in it).

    Spark: the JVM is started (:func:`ecomlab.engines.spark_session`) with its standard
    error sent to ``<tmp>/ecomlab-spark.log`` instead of the notebook (start-up banners,
    log4j lines; Spark's errors still reach Python as exceptions), and PySpark's
    FutureWarning that it "does not yet fully support pandas >= 3" is silenced — the
    engine's results are tested equal to the pandas helpers' (tests/test_engines_spark.py).
    DuckDB and pandas print nothing: no change.

    >>> with engine_output("duckdb"):
    ...     pass
    """
    if engine != "spark":
        yield
        return
    from ecomlab import engines

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                                category=FutureWarning)
        log = Path(tempfile.gettempdir()) / "ecomlab-spark.log"
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(log, "ab") as sink:
                os.dup2(sink.fileno(), 2)  # the JVM inherits this stderr for its lifetime
                engines.spark_session()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        yield


def _load_on_engine(name: str, contract: Contract, data: Any, *, engine: str, preset: str | None,
                    timezone: str | None, currency: str | None, mapping: Any, true_values: Any,
                    false_values: Any, read_options: Mapping[str, Any]) -> LoadedData:
    """:func:`load` for ``engine`` != "pandas": tables checked on disk, not read."""
    from ecomlab import datasets, engines

    if engine not in engines.ENGINES:
        raise ValueError(f"engine must be one of {engines.ENGINES}, got {engine!r}")
    if not contract.engine_metrics:
        raise ValueError(f"template {name!r} runs on pandas only; engine={engine!r} is supported by the "
                         f"templates {engine_templates()} (run {name!r} without --engine)")
    given = {k: v for k, v in {"preset": preset, "timezone": timezone, "mapping": mapping,
                               "true_values": true_values, "false_values": false_values,
                               **read_options}.items() if v is not None and str(v).strip() not in ("", "None")}
    if given:
        raise ValueError(f"template {name!r} with engine={engine!r} reads a folder of tables in the course layout "
                         f"as stored (naive timestamps, course column names); options {sorted(given)} apply to "
                         "engine='pandas' only")
    path = datasets.data_path() if data is None else Path(data)
    if not path.is_dir():
        raise ValueError(f"with engine={engine!r}, data must be a folder holding the tables (orders.parquet, "
                         f"orders.csv or a partitioned orders/ folder); {str(path)!r} is not a folder")
    on_disk: dict[str, tuple[int, tuple[str, ...]]] = {}
    for table, cols in contract.required.items():
        tp = engines.resolve_source(path, table)
        ds = _disk_dataset(tp)
        names = tuple(ds.schema.names)
        miss = [c for c in cols if c not in names]
        if miss:
            raise ValueError(f"template {name!r}: table {table!r} ({tp.path}) lacks columns {miss}; it has "
                             f"{list(names)}")
        on_disk[table] = (ds.count_rows(), names)
    tables: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    for table, cols in contract.optional.items():
        # optional tables stay on disk too (kpi_tree's events, the 7.9M-row customers table of a
        # 100M-event world): the engine reads them, a section takes its few columns with LoadedData.table
        try:
            tp = engines.resolve_source(path, table)
        except ValueError:
            continue
        ds = _disk_dataset(tp)
        names = tuple(ds.schema.names)
        miss = [c for c in cols if c not in names]
        if miss:
            notes.append(f"{table} lacks {miss}; not used")
            continue
        on_disk[table] = (ds.count_rows(), names)
    present = {**{t: pd.DataFrame(columns=list(c)) for t, (_, c) in on_disk.items()}, **tables}
    source = "the bundled Nestwell data" if data is None else f"the tables in {path}"
    return LoadedData(tables, source, tuple(notes), _section_needs(contract, present, {}), currency or "CNY",
                      None, engine=engine, data_path=str(path.resolve()), on_disk=on_disk)


def _disk_dataset(tp):
    """The pyarrow dataset of a table left on disk (:class:`ecomlab.engines.TablePath`: a file or
    a hive-partitioned folder): schema and row count from the file metadata, columns on demand."""
    import pyarrow.dataset as pads

    return pads.dataset(tp.path, format=tp.fmt, partitioning="hive" if tp.is_dir else None)


def _read_columns(path: Path, table: str, cols: list[str]) -> pd.DataFrame:
    """Columns ``cols`` of a table left on disk (file or partitioned folder), each typed as
    :func:`ecomlab.datasets.load` types it (a CSV file is read by the loader's text rules)."""
    from ecomlab import datasets, engines, schema
    from ecomlab.io.report import Report

    tp = engines.resolve_source(path, table)
    if tp.fmt == "csv" and not tp.is_dir:
        return datasets.load(table, path)[cols]
    raw = _disk_dataset(tp).to_table(columns=cols).to_pandas()
    spec = {c.name: c for c in schema.table(table).columns}
    rep = Report(table)
    return pd.DataFrame({c: datasets._typed(table, spec[c], raw[c], rep, None) if c in spec else raw[c]
                         for c in cols})


def _event_map(value: Any) -> dict[str, str | None] | None:
    """``event_map`` from a dict or the text a command line gives: ``"view_item:pv,purchase:buy"``
    (``name:`` maps a name to None, dropping its rows, counted)."""
    if value is None or isinstance(value, Mapping):
        return None if value is None else dict(value)
    text = str(value).strip()
    if text in ("", "None"):
        return None
    pairs = [p.partition(":") for p in text.split(",") if p.strip()]
    bad = [a for a, sep, _ in pairs if not sep or not a.strip()]
    if bad or not pairs:
        raise ValueError(f"event_map must be a dict or 'your_name:step,...' (e.g. 'view_item:pv,purchase:buy'), "
                         f"got {value!r}")
    return {a.strip(): (b.strip() or None) for a, _, b in pairs}


def _read_events_file(path: Path, contract: Contract, headers: Mapping[str, str | None], *,
                      timezone: str | None, **options: Any) -> tuple[pd.DataFrame, list[str], dict[str, str | None]]:
    """A clickstream export read by :func:`ecomlab.io.read_events` (event names mapped onto
    steps, sessions built when absent); optional columns the export lacks are left out."""
    from ecomlab import io

    bad = sorted(set(options) - {"dayfirst", "encoding", "sep", "sheet_name", "event_map", "session_gap",
                                 "epoch_unit"})
    if bad:
        raise ValueError(f"unknown reading option(s) {bad} for a clickstream file; expected event_map, "
                         "session_gap, epoch_unit, dayfirst, encoding, sep, sheet_name")
    options["event_map"] = _event_map(options.get("event_map"))
    if options.get("session_gap") in (None, "", "None"):
        options.pop("session_gap", None)
    read = io.read_events(path, mapping={k: v for k, v in headers.items() if v is not None} or None,
                          timezone=timezone, **{k: v for k, v in options.items() if v is not None})
    ev = read.events
    notes = [line.strip() for line in str(read.report).splitlines() if line.strip()]
    absent = [c for c in contract.optional_columns.get("events", ()) if c in ev.columns and ev[c].isna().all()]
    if absent:
        ev = ev.drop(columns=absent)
        notes.append(f"events: columns {absent} absent from the export (their sections are skipped)")
    return ev, notes, _section_needs(contract, {"events": ev}, headers)


@dataclass(frozen=True)
class Validation:
    """What ``ecomlab validate`` prints: per table and section, what will run."""

    name: str
    lines: tuple[str, ...]
    ok: bool

    def __str__(self) -> str:
        return "\n".join(self.lines)


def validate(data: Any, name: str, *, preset: str | None = None, engine: str = "pandas",
             **options: Any) -> Validation:
    """Say what template ``name`` will run on ``data``, what it will skip and what must be set.

    Never raises for bad data: a refusal becomes a line saying what to fix (``ok`` False).
    """
    contract = _contract(name)
    where = "the bundled Nestwell data" if data is None else str(data)
    lines = [f"Template {name!r} ({contract.title}) on {where}"
             + ("" if engine == "pandas" else f" with engine {engine}")]
    try:
        loaded = load(name, data, preset=preset, engine=engine, **options)
    except (ValueError, OSError) as exc:
        lines.append(f"  cannot run: {exc}")
        return Validation(name, tuple(lines), False)
    for table, cols in contract.required.items():
        lines.append(f"  required  {table}: {', '.join(cols)}  {loaded.rows(table):,} rows found"
                     + ("" if table in loaded.tables else " (left on disk)"))
    for table, cols in contract.optional.items():
        state = (f"{len(loaded.tables[table]):,} rows found" if table in loaded.tables else
                 f"{loaded.on_disk[table][0]:,} rows found (left on disk)" if table in loaded.on_disk else "absent")
        lines.append(f"  optional  {table}: {', '.join(cols)}  {state}")
    for table, cols in contract.optional_columns.items():
        have = loaded.tables[table].columns if table in loaded.tables else loaded.on_disk.get(table, (0, ()))[1]
        lines.append(f"  optional  {table} columns: " + ", ".join(f"{c} ({'found' if c in have else 'absent'})"
                                                            for c in cols))
    for title, why in loaded.sections.items():
        lines.append(f"  section   {title}: " + ("will run" if why is None else f"skipped ({why})"))
    lines += [f"  note      {n}" for n in loaded.notes]
    return Validation(name, tuple(lines), True)


def render(name: str, out: str | os.PathLike[str], *, data: Any = None, preset: str | None = None,
           params: Mapping[str, Any] | None = None, timeout: float = 600, stream=None,
           engine: str = "pandas") -> Path:
    """Run template ``name`` on ``data`` and write a standalone HTML report to ``out``.

    The report has no code, figures embedded as data URIs, the CJK font subset embedded,
    nothing loaded from outside (:func:`ecomlab.site.standalone_html`), and every sentence
    generated from the results. Progress is printed to ``stream`` (stdout). ``engine``
    ("pandas", "duckdb", "spark") is passed to the template like ``data``; a template
    without :attr:`Contract.engine_metrics` refuses any engine but pandas.
    Raises ``ValueError`` when the data fail validation (nothing is executed then), and
    when the template itself refuses the data or a parameter with a ``ValueError`` (a
    calibration date after the data, say): the message is the template's; no HTML is written.
    """
    import sys

    import nbformat

    from ecomlab.notebooks import execute
    from ecomlab.site import standalone_html

    stream = stream or sys.stdout
    params = dict(params or {})
    if engine != "pandas" and not _contract(name).engine_metrics:
        raise ValueError(f"template {name!r} runs on pandas only; engine={engine!r} is supported by the "
                         f"templates {engine_templates()}")
    check = validate(data, name, preset=preset, engine=engine, **load_options(name, params))
    print(check, file=stream, flush=True)
    if not check.ok:
        raise ValueError(f"template {name!r} cannot run on {data!r}: see the lines above")
    params.update({"data": None if data is None else str(Path(data).resolve()), "preset": preset})
    if engine != "pandas":
        params["engine"] = engine
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ecomlab-report-") as tmp:
        executed = Path(tmp) / f"{name}.ipynb"
        print(f"running {name} ...", file=stream, flush=True)
        from papermill.exceptions import PapermillExecutionError

        try:
            secs = execute(template_path(name), executed, parameters=params, cwd=tmp, timeout=timeout)
        except PapermillExecutionError as exc:  # the data or a parameter refused: no report, the reason
            if exc.ename not in ("ValueError", "DataError"):
                raise
            raise ValueError(f"template {name!r} refused to report: {exc.evalue}") from None
        nb = nbformat.read(str(executed), as_version=4)
    nb.cells = [c for c in nb.cells if "parameters" not in c.metadata.get("tags", [])
                and "injected-parameters" not in c.metadata.get("tags", [])]
    body = standalone_html(nb, CONTRACTS[name].title)
    out_path.write_text(body, encoding="utf-8")
    print(f"wrote {out_path} ({secs:.1f} s)", file=stream, flush=True)
    return out_path
