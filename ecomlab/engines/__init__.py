"""The core metrics beyond one pandas process: DuckDB (embedded) and Spark (DESIGN §9).

Each metric has **one definition**, a SQL query in :mod:`ecomlab.engines.definitions`
(DuckDB dialect). :func:`compute` runs it where the data are:

* ``engine="duckdb"`` (default) — embedded DuckDB reading Parquet/CSV files or folders
  (hive-partitioned ``key=value/`` folders included) straight from disk, out of core
  (``memory_limit`` and a spill directory set explicitly);
* ``engine="spark"`` — the same SQL transpiled to Spark SQL by ``sqlglot``, on a local
  Spark (``local[2]``) or a cluster given by its master URL (``spark_session``);
* ``engine="pandas"`` — the course's NumPy/pandas helpers on the tables read into memory
  (the reference the other two are tested against).

Every engine returns the same pandas frame (small: one row per customer, day, cell or
step) with ``attrs["excluded"]`` (rows left out, by reason) and ``attrs["engine"]``.
Sessions run in UTC (``TimeZone`` / ``spark.sql.session.timeZone``), so a day is the
calendar day of the naive, wall-clock timestamps the course's tables hold.

Metrics (:data:`METRICS`): ``rfm`` (RFM table + value segments), ``rfm_thresholds``,
``cohort_matrix`` (with ``end=`` and ``by=`` a column of the ``customers`` table),
``second_purchase`` (time to the second purchase, censored), ``orders_overview``,
``rfm_summary`` (BG/NBD + Gamma-Gamma inputs), ``funnel`` (strict,
unordered, loose; by a segment; on the cleaned log with ``start``/``end``), ``events_quality``
(the log's cleaning report), ``cart_abandonment``, ``hourly_activity``, ``top_paths``, ``daily_kpis`` (``by=`` a segment), ``period_kpis``,
``orders_kpis`` (the orders-only tree, days without orders kept as zeros), ``repurchase_rate``, ``return_purchase_rate``. Model
fits stay local: :func:`fit_bgnbd` and :func:`fit_gamma_gamma` fit on the engine's summary
compressed to distinct rows with counts.

A report with several behaviour metrics cleans the event log once: :func:`clean_log`
writes the cleaned log to a temporary Parquet folder (with its cleaning report) that the
later ``compute`` calls read, instead of deduplicating the whole log in every query.

Where a source is: a folder holding ``orders`` / ``events`` as ``NAME.parquet``,
``NAME.csv`` or a folder ``NAME/`` of Parquet/CSV parts (hive ``day=2025-11-01/`` layout
allowed); or a mapping ``{"orders": path, "events": path}``.

For ``ecomlab report NAME --engine pandas|duckdb|spark --data PATH`` (``ecomlab.reports``):
with ``engine != "pandas"``, ``reports.load`` should not read the tables into memory but
pass ``PATH`` on (after :func:`resolve_source` checks it), and the template's cells call
``compute(metric, data, engine=engine, **params)`` for the metrics of :data:`METRICS`
(``fit_bgnbd`` / ``fit_gamma_gamma`` for the CLV fits) instead of the helpers; the frames
returned are the helpers' outputs (``rfm`` = ``rfm_segments(rfm_table(...))`` columns,
``cohort_matrix`` = ``CohortResult.matrix``, ``rfm_summary``, ``funnel``, ``daily_kpis``;
:func:`cohort_result` and :func:`second_purchase_result` give back the helpers' result
objects), so the rest of a template is unchanged. ``render`` needs an ``engine`` parameter passed to
papermill like ``data``.

>>> from ecomlab.datasets import data_path
>>> compute("repurchase_rate", data_path(), start="2025-01-01", end="2026-01-01")[["buyers", "rate"]]
... # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecomlab import metrics
from ecomlab.engines import definitions as d

__all__ = [
    "ENGINES", "METRICS", "compute", "resolve_source", "duckdb_connection", "spark_session",
    "stop_spark", "fit_bgnbd", "fit_gamma_gamma", "to_spark_sql", "sql_of", "cohort_result",
    "second_purchase_result", "window_from_day_counts", "clean_log", "CleanedLog",
]

ENGINES = ("pandas", "duckdb", "spark")
_DAY_US = 86_400_000_000
_TABLE_COLUMNS = {
    "orders": ("order_id", "customer_id", "order_ts", "status", "paid_amount"),
    "events": ("visitor_id", "session_id", "ts", "event"),
    "customers": ("customer_id",),
}
_TS = {"orders": "order_ts", "events": "ts"}


# =====================================================================================
# Sources
# =====================================================================================
@dataclass(frozen=True)
class TablePath:
    """Where one table is: ``path`` (file or folder) and ``fmt`` ("parquet" or "csv")."""

    name: str
    path: Path
    fmt: str
    is_dir: bool


def _fmt_of_dir(p: Path) -> str:
    for fmt in ("parquet", "csv"):
        if next(p.rglob(f"*.{fmt}"), None) is not None:
            return fmt
    raise ValueError(f"folder {str(p)!r} holds no *.parquet or *.csv files; expected the parts of one table")


def resolve_source(source: str | os.PathLike[str] | Mapping[str, Any], table: str) -> TablePath:
    """Find table ``table`` in ``source`` (see the module docstring for the layouts).

    >>> from ecomlab.datasets import data_path
    >>> resolve_source(data_path(), "orders").fmt
    'parquet'
    """
    if isinstance(source, Mapping):
        if table not in source:
            raise ValueError(f"source mapping has no {table!r} table; it has {sorted(source)}")
        p = Path(source[table])
        if not p.exists():
            raise ValueError(f"source[{table!r}] = {str(p)!r} does not exist")
    else:
        root = Path(source)
        if not root.is_dir():
            raise ValueError(f"source {str(root)!r} is not a folder; expected a folder holding "
                             f"{table}.parquet, {table}.csv or {table}/")
        cands = [root / f"{table}.parquet", root / f"{table}.csv", root / table]
        found = [c for c in cands if c.exists()]
        if not found:
            raise ValueError(f"source {str(root)!r} has no {table} table: expected one of "
                             f"{[c.name for c in cands]}, found {sorted(x.name for x in root.iterdir())[:10]}")
        p = found[0]
    if p.is_dir():
        return TablePath(table, p, _fmt_of_dir(p), True)
    suffix = p.suffix.lower().lstrip(".")
    if suffix not in ("parquet", "csv"):
        raise ValueError(f"{table} file {str(p)!r} must be .parquet or .csv, got {p.suffix!r}")
    return TablePath(table, p, suffix, False)


# =====================================================================================
# Engines: connections and SQL execution
# =====================================================================================
def duckdb_connection(*, memory_limit: str = "3GB", threads: int | None = None,
                      temp_directory: str | None = None):
    """A DuckDB connection set up for out-of-core work: UTC session, a memory limit and a
    spill folder (DuckDB spills joins, aggregates and sorts there beyond the limit).

    >>> con = duckdb_connection()
    >>> con.execute("SELECT current_setting('TimeZone')").fetchone()[0]
    'UTC'
    """
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {d.sql_literal(memory_limit, 'memory_limit')}")
    spill = temp_directory or str(Path(tempfile.gettempdir()) / "ecomlab_duckdb_spill")
    con.execute(f"SET temp_directory = {d.sql_literal(spill, 'temp_directory')}")
    con.execute("SET preserve_insertion_order = false")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _duckdb_scan(t: TablePath) -> str:
    p = str(t.path).replace("'", "''")
    pattern = f"{p}/**/*.{t.fmt}" if t.is_dir else p
    if t.fmt == "parquet":
        return f"read_parquet('{pattern}', hive_partitioning = {str(t.is_dir).lower()}, union_by_name = true)"
    return f"read_csv('{pattern}', header = true, hive_partitioning = {str(t.is_dir).lower()}, union_by_name = true)"


_SPARK = None


def _require_java() -> None:
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    raise RuntimeError(
        "Spark needs a Java runtime and none was found (no `java` on PATH, JAVA_HOME unset); "
        "install one, e.g. `apt-get install default-jre-headless` (Debian/Ubuntu)")


def spark_session(master: str | None = None, *, shuffle_partitions: int | None = None,
                  driver_memory: str = "2g"):
    """The Spark session the engine uses (created once; UTC session time zone).

    ``master``: a cluster's URL (``spark://host:7077``, ``yarn``, ``k8s://...``) or
    ``local[N]``; default ``$ECOMLAB_SPARK_MASTER`` or ``local[2]``. Exact aggregates and
    Arrow transfer are set; the UI is off. Raises RuntimeError without a Java runtime.
    """
    global _SPARK
    if _SPARK is not None:
        return _SPARK
    _require_java()
    from pyspark.sql import SparkSession

    master = master or os.environ.get("ECOMLAB_SPARK_MASTER", "local[2]")
    parts = shuffle_partitions or (4 if master.startswith("local") else 200)
    _SPARK = (
        SparkSession.builder.master(master).appName("ecomlab")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(parts))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )
    _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def stop_spark() -> None:
    """Stop the engine's Spark session (the JVM stays until the process exits)."""
    global _SPARK
    if _SPARK is not None:
        _SPARK.stop()
        _SPARK = None


def to_spark_sql(sql: str) -> str:
    """A DuckDB-dialect definition transpiled to Spark SQL with sqlglot.

    >>> to_spark_sql("SELECT DATE_DIFF('day', DATE '1970-01-01', CAST(ts AS DATE)) FROM t")
    "SELECT DATEDIFF(DAY, CAST('1970-01-01' AS DATE), CAST(ts AS DATE)) FROM t"
    """
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


class _Runner:
    """Runs definitions on one engine over registered ``orders`` / ``events`` views."""

    def __init__(self, engine: str, source, tables: tuple[str, ...], *, con=None, master: str | None = None):
        self.engine = engine
        self.tables = {t: resolve_source(source, t) for t in tables}
        if engine == "duckdb":
            self.con = con or duckdb_connection()
            for t, tp in self.tables.items():
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW {t} AS SELECT * FROM {_duckdb_scan(tp)}")
        elif engine == "spark":
            self.spark = spark_session(master)
            for t, tp in self.tables.items():
                reader = self.spark.read
                if tp.fmt == "parquet":
                    df = reader.parquet(str(tp.path))
                else:
                    df = reader.csv(str(tp.path), header=True, inferSchema=True)
                df.createOrReplaceTempView(t)
        else:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")

    def sql(self, query: str) -> pd.DataFrame:
        import warnings

        if self.engine == "duckdb":
            with warnings.catch_warnings():  # duckdb 2.0's conversion of zone-aware columns
                warnings.filterwarnings("ignore", message=".*inplace keyword.*", module="duckdb")
                return self.con.sql(query).df()
        with warnings.catch_warnings():  # pyspark 4.3 warns that it does not fully support pandas 3
            warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
            warnings.filterwarnings("ignore", message=".*copy keyword is deprecated.*", module="pyspark")
            return self.spark.sql(to_spark_sql(query)).toPandas()

    def columns(self, table: str) -> dict[str, str]:
        if self.engine == "duckdb":
            rows = self.con.sql(f"DESCRIBE SELECT * FROM {table}").fetchall()
            return {r[0]: str(r[1]).lower() for r in rows}
        return {n: t.lower() for n, t in self.spark.table(table).dtypes}


# =====================================================================================
# Input checks (the same refusals as the pandas helpers, computed in the engine)
# =====================================================================================
_NUMERIC = ("double", "float", "decimal", "int", "bigint", "smallint", "tinyint", "hugeint", "real", "long")


def _check_schema(run: _Runner, table: str, needed: tuple[str, ...]) -> None:
    cols = run.columns(table)
    missing = [c for c in needed if c not in cols]
    if missing:
        raise ValueError(f"{table} is missing column(s) {missing}; it has {list(cols)}")
    ts = _TS.get(table)
    if ts in needed and "timestamp" not in cols[ts]:
        raise ValueError(f"{table}[{ts!r}] must be a timestamp, got {cols[ts]}")
    if "paid_amount" in needed and not any(cols["paid_amount"].startswith(n) for n in _NUMERIC):
        raise ValueError(f"{table}['paid_amount'] must be numeric, got {cols['paid_amount']}")


def _naive(x) -> pd.Timestamp:
    t = pd.Timestamp(x)
    return t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t


def _parquet_footer_profile(run: _Runner, table: str, needed: tuple[str, ...]) -> dict[str, Any] | None:
    """Rows and missing values per column from the Parquet footers (DuckDB's
    ``parquet_metadata``: every row group's ``stats_null_count``), without a scan; None
    when a footer cannot answer exactly (a CSV source, a row group without statistics, a
    file lacking a column, a column from the folder names) — then the caller scans."""
    tp = run.tables.get(table)
    if run.engine != "duckdb" or tp is None or tp.fmt != "parquet":
        return None
    p = str(tp.path).replace("'", "''")
    pattern = f"{p}/**/*.parquet" if tp.is_dir else p
    total = run.sql(f"SELECT COALESCE(SUM(num_rows), 0) AS n, COALESCE(SUM(num_row_groups), 0) AS g "
                    f"FROM parquet_file_metadata('{pattern}')").iloc[0]
    cols = run.sql(f"SELECT path_in_schema AS c, COUNT(*) AS groups, COUNT(stats_null_count) AS with_stats, "
                   f"SUM(stats_null_count) AS nulls, SUM(row_group_num_rows) AS n "
                   f"FROM parquet_metadata('{pattern}') GROUP BY path_in_schema").set_index("c")
    n, groups = int(total["n"]), int(total["g"])
    for c in needed:
        if c not in cols.index or int(cols.loc[c, "groups"]) != groups or int(cols.loc[c, "with_stats"]) != groups \
                or int(cols.loc[c, "n"]) != n:
            return None
    return {"n_rows": n, "nulls": {c: int(cols.loc[c, "nulls"]) for c in needed}, "count": {}}


def _profile(run: _Runner, table: str, needed: tuple[str, ...], *, distinct: str | None = None,
             by_status: bool = False, late: str | None = None,
             counts: Mapping[str, str] | None = None, ts_range: bool = True) -> dict[str, Any]:
    """One scan: rows, missing values per needed column, first/last timestamp, rows per
    status, rows on/after ``late`` per status and rows matching each of ``counts``
    (name -> SQL condition, per status); a second scan counts duplicated ``distinct``.
    Only rows and missing values asked for (``ts_range=False``, nothing else) on Parquet
    with DuckDB: read from the files' footers, no scan (:func:`_parquet_footer_profile`)."""
    _check_schema(run, table, needed)
    if not (ts_range or distinct or by_status or late or counts):
        fast = _parquet_footer_profile(run, table, needed)
        if fast is not None:
            return fast
    ts = _TS.get(table)
    conds = dict(counts or {})
    if late is not None:
        conds["late"] = f"{ts} >= {late}"
    parts = ["COUNT(*) AS n_rows"] + [f"COUNT(*) - COUNT({c}) AS null_{c}" for c in needed]
    if ts_range and ts is not None and ts in needed:
        parts += [f"MIN({ts}) AS ts_min", f"MAX({ts}) AS ts_max"]
    parts += [f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS cnt_{name}" for name, cond in conds.items()]
    if by_status:
        g = run.sql(f"SELECT status, {', '.join(parts)} FROM {table} GROUP BY status")
    else:
        g = run.sql(f"SELECT {', '.join(parts)} FROM {table}")
    out: dict[str, Any] = {"n_rows": int(g["n_rows"].sum())}
    out["nulls"] = {c: int(g[f"null_{c}"].sum()) for c in needed}
    if ts_range and ts is not None and ts in needed and out["n_rows"]:
        out["ts_min"] = min(_naive(x) for x in g["ts_min"] if pd.notna(x))
        out["ts_max"] = max(_naive(x) for x in g["ts_max"] if pd.notna(x))
    out["count"] = {name: int(g[f"cnt_{name}"].fillna(0).sum()) for name in conds}
    if by_status:
        keys = [str(k) for k in g["status"]]
        out["status"] = dict(zip(keys, map(int, g["n_rows"]), strict=True))
        out["by_status"] = {col: dict(zip(keys, map(int, g[col].fillna(0)), strict=True))
                            for col in g.columns if col.startswith(("null_", "cnt_"))}
        if late is not None:
            out["late"] = out["by_status"]["cnt_late"]
    if distinct:
        dup = run.sql(f"SELECT COUNT(*) - COUNT(DISTINCT {distinct}) AS dup FROM {table}")["dup"].iloc[0]
        out["duplicates"] = int(dup)
    return out


def _late_excluded(prof: dict, statuses, t: pd.Timestamp) -> dict[str, int]:
    keep = {statuses} if isinstance(statuses, str) else set(statuses)
    n = sum(v for k, v in prof.get("late", {}).items() if k in keep)
    return {f"on/after {t:%Y-%m-%d %H:%M}": n} if n else {}


def _refuse_nulls(prof: dict, table: str, columns: tuple[str, ...]) -> None:
    for c in columns:
        n = prof["nulls"].get(c, 0)
        if n:
            raise ValueError(f"{table}[{c!r}] has {n} missing value(s); expected none "
                             "(the pandas helper refuses them too: clean or fill them first)")


def _refuse_empty(prof: dict, table: str) -> None:
    if prof["n_rows"] == 0:
        raise ValueError(f"{table} is empty; expected at least one row")


def _refuse_duplicates(prof: dict) -> None:
    if prof.get("duplicates"):
        raise ValueError(f"column 'order_id' has {prof['duplicates']} duplicated order id(s); "
                         "expected one row per order (pass check_ids=False to skip this check)")


def _checked_orders(run: _Runner, needed: tuple[str, ...] = _TABLE_COLUMNS["orders"], *,
                    check_ids: bool = True, late: str | None = None) -> dict[str, Any]:
    """Profile of the orders with the refusals of ``users._prepare_orders``: empty table,
    missing values in ``needed``, duplicated ``order_id`` (with ``check_ids``)."""
    prof = _profile(run, "orders", needed, distinct="order_id" if check_ids else None, by_status=True,
                    late=late)
    _refuse_empty(prof, "orders")
    _refuse_nulls(prof, "orders", needed)
    _refuse_duplicates(prof)
    return prof


def _status_excluded(prof: dict, statuses) -> dict[str, int]:
    keep = {statuses} if isinstance(statuses, str) else set(statuses)
    return {f"status={k}": v for k, v in sorted(prof["status"].items()) if k not in keep and v > 0}


def _us(t: pd.Timestamp) -> int:
    return int(np.datetime64(t.to_datetime64(), "us").view("int64"))


# =====================================================================================
# Metric definitions: parameters -> SQL -> the pandas helper's output
# =====================================================================================
@dataclass(frozen=True)
class Metric:
    """A metric: the tables it reads, its SQL runner and its pandas reference."""

    name: str
    tables: tuple[str, ...]
    run_sql: Callable[..., pd.DataFrame]
    run_pandas: Callable[..., pd.DataFrame]
    doc: str
    #: parameter -> table it needs besides ``tables`` when given (``by`` -> ``customers``)
    param_tables: Mapping[str, str] = field(default_factory=dict)

    def tables_for(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The tables a call with ``params`` reads."""
        extra = tuple(t for k, t in self.param_tables.items() if params.get(k) is not None)
        return self.tables + extra


def _as_of(prof: dict, as_of) -> pd.Timestamp:
    first = prof["ts_min"]
    if as_of is None:
        return prof["ts_max"].normalize() + pd.Timedelta(days=1)
    t = pd.Timestamp(as_of)
    t = t.tz_localize(None) if t.tzinfo is not None else t
    if t <= first:
        raise ValueError(f"as_of={t} is on/before the first order ({first}); expected a date after the first order")
    return t


def _segments_frame(df: pd.DataFrame) -> pd.DataFrame:
    from ecomlab.users.rfm import SEGMENTS, SEGMENTS_ZH

    out = df[["customer_id", "recency_days", "frequency", "monetary_amount"]].copy()
    out["customer_id"] = out["customer_id"].astype(str)
    out["recency_days"] = out["recency_days"].astype(np.int64)
    out["frequency"] = out["frequency"].astype(np.int64)
    out["monetary_amount"] = out["monetary_amount"].astype(np.float64)
    for c in ("r_high", "f_high", "m_high"):
        out[c] = df[c].astype(bool)
    codes = df["segment_code"].to_numpy(np.int64)
    out["segment"] = pd.Categorical.from_codes(codes, categories=list(SEGMENTS), ordered=True)
    out["segment_zh"] = pd.Categorical.from_codes(codes, categories=list(SEGMENTS_ZH), ordered=True)
    return out  # sorted by customer_id in the engine (byte order, as the helper's codes)


def _rfm_sql(run: _Runner, *, as_of=None, statuses=metrics.VALID_STATUSES, check_ids: bool = True,
             _thresholds: bool = False) -> pd.DataFrame:
    # a default as_of (midnight after the last order) leaves no order on/after it
    prof = _checked_orders(run, check_ids=check_ids,
                           late=None if as_of is None else d.timestamp_literal(as_of, "as_of"))
    as_of_t = _as_of(prof, as_of)
    day = f"DATE '{as_of_t:%Y-%m-%d}'"
    raw = run.sql(d.rfm_sql(statuses, d.timestamp_literal(as_of_t, "as_of"), day, thresholds=_thresholds))
    excluded = _status_excluded(prof, statuses) | _late_excluded(prof, statuses, as_of_t)
    if len(raw) == 0 or (_thresholds and int(raw["customers"].iloc[0]) == 0):
        raise ValueError(f"orders has no purchases left after keeping status in {tuple(statuses)} "
                         f"and order_ts < {as_of_t}; excluded: {excluded}")
    if _thresholds:
        out = pd.DataFrame({"recency_days_mean": [float(raw["r_mean"].iloc[0])],
                            "frequency_mean": [float(raw["f_mean"].iloc[0])],
                            "monetary_amount_mean": [float(raw["m_mean"].iloc[0])],
                            "customers": [int(raw["customers"].iloc[0])]})
    else:
        out = _segments_frame(raw)
    out.attrs.update(excluded=excluded, as_of=str(as_of_t))
    return out


def _rfm_pandas(frames, *, as_of=None, statuses=metrics.VALID_STATUSES, check_ids: bool = True,
                _thresholds: bool = False) -> pd.DataFrame:
    from ecomlab import users

    res = users.rfm_table(frames["orders"], as_of, statuses=statuses, check_ids=check_ids)
    seg = users.rfm_segments(res)
    if _thresholds:
        t = res.table
        out = pd.DataFrame({"recency_days_mean": [float(t["recency_days"].mean())],
                            "frequency_mean": [float(t["frequency"].mean())],
                            "monetary_amount_mean": [float(t["monetary_amount"].mean())],
                            "customers": [len(t)]})
    else:
        out = seg[["customer_id", "recency_days", "frequency", "monetary_amount", "r_high", "f_high",
                   "m_high", "segment", "segment_zh"]].copy()
        out["customer_id"] = out["customer_id"].astype(str)
        out = out.sort_values("customer_id", kind="stable").reset_index(drop=True)
    out.attrs.update(excluded=dict(res.excluded), as_of=str(res.as_of))
    return out


def _cohort_matrix_frame(cells: pd.DataFrame, freq: str, metric: str) -> tuple[pd.DataFrame, list[int], int]:
    """The helper's matrix from the engine's cells of one matrix: (matrix, cohort sizes, last period)."""
    from ecomlab.users.cohorts import _period_start  # the helper's own period labels

    coh = cells["cohort_p"].to_numpy(np.int64)
    k = cells["k"].to_numpy(np.int64)
    pmin, pmax = int(coh.min()), int(cells["last_p"].iloc[0])
    n = pmax - pmin + 1
    value = {"retention": "customers", "customers": "customers", "revenue": "revenue"}[metric]
    mat = np.zeros((n, n))
    mat[coh - pmin, k] = cells[value].to_numpy(np.float64)
    sizes = np.zeros(n, np.int64)
    sizes[coh - pmin] = cells["cohort_size"].to_numpy(np.int64)
    if metric == "retention":
        mat = metrics.retention(mat, np.broadcast_to(sizes[:, None], mat.shape))
    ci, kk = np.indices(mat.shape)
    mat = np.where(ci + kk <= n - 1, mat, np.nan)
    present = sizes > 0
    label = "months_since_first" if freq == "M" else "weeks_since_first"
    idx = _period_start(np.arange(pmin, pmax + 1), freq)[present]
    out = pd.DataFrame(mat[present], index=pd.Index(idx, name="cohort"), columns=pd.RangeIndex(n, name=label))
    return out, sizes[present].tolist(), pmax


def _cohort_by_frame(mats: Mapping[str, pd.DataFrame], by: str) -> pd.DataFrame:
    """One matrix per ``by`` value stacked (index ``(by, cohort)``; columns the union)."""
    if not mats:
        raise ValueError(f"no customer with a purchase has a {by!r} value in the customers table")
    return pd.concat(dict(mats), names=[by])


def _cohort_sql(run: _Runner, *, freq: str = "M", metric: str = "retention",
                statuses=metrics.VALID_STATUSES, check_ids: bool = True, end=None,
                by: str | None = None) -> pd.DataFrame:
    from ecomlab.users.cohorts import _period_start

    if metric not in ("retention", "customers", "revenue"):
        raise ValueError(f"metric must be 'retention', 'customers' or 'revenue', got {metric!r}")
    needed = _TABLE_COLUMNS["orders"] if metric == "revenue" else _TABLE_COLUMNS["orders"][:4]
    end_t = None if end is None else _naive(end)
    lit = None if end_t is None else d.timestamp_literal(end_t, "end")
    prof = _checked_orders(run, needed, check_ids=check_ids, late=lit)
    excluded = _status_excluded(prof, statuses) | ({} if end_t is None else _late_excluded(prof, statuses, end_t))
    if by is not None:
        _check_schema(run, "customers", ("customer_id", d.by_column(by)))
    cells = run.sql(d.cohort_sql(statuses, freq, lit, by))
    if by is not None:
        counts = cells[cells["g"].isna()].set_index("k")["customers"]
        _refuse_duplicated_customers(int(counts.get(1, 0)))
        n_none = int(counts.get(0, 0))
        cells = cells[cells["g"].notna()]
        if n_none:
            excluded[f"customers without {by}"] = n_none
    if len(cells) == 0 and by is None:
        raise ValueError(f"orders has no purchases left after keeping status in {tuple(statuses)}"
                         + ("" if end_t is None else f" and order_ts < {end_t}") + f"; excluded: {excluded}")
    if by is None:
        out, sizes, pmax = _cohort_matrix_frame(cells, freq, metric)
        out.attrs["last_period"] = str(_period_start(np.array([pmax]), freq)[0])
    else:
        mats, sizes = {}, []
        for g, part in cells.groupby("g", sort=True):
            mats[str(g)], s_g, _ = _cohort_matrix_frame(part, freq, metric)
            sizes += s_g
        out = _cohort_by_frame(mats, by)
    out.attrs.update(excluded=excluded, cohort_sizes=sizes, cohort_metric=metric, freq=freq)
    if end_t is not None:
        out.attrs["rows_on_after_end"] = int(sum(prof["late"].values()))
    return out


def _cohort_pandas(frames, *, freq: str = "M", metric: str = "retention",
                   statuses=metrics.VALID_STATUSES, check_ids: bool = True, end=None,
                   by: str | None = None) -> pd.DataFrame:
    from ecomlab import users
    from ecomlab.users._common import _prepare_orders

    o = frames["orders"]
    end_t = None if end is None else _naive(end)
    full = o if end_t is None else o[o["order_ts"] < end_t]
    # the helper's own refusals and counts of what is left out, on the whole table
    excluded = dict(_prepare_orders(o, statuses=statuses, amount=None, before=end_t, check_ids=False).excluded)
    if by is None:
        res = users.cohort_matrix(full, freq=freq, metric=metric, statuses=statuses, check_ids=check_ids)
        out, sizes = res.matrix.copy(), res.cohort_sizes.tolist()
        out.attrs["last_period"] = str(res.last_period)
    else:
        cust = frames["customers"]
        kept = full["status"].isin(list((statuses,) if isinstance(statuses, str) else statuses))
        buyers = cust[cust["customer_id"].isin(full.loc[kept, "customer_id"])]  # only the buyers' rows matter
        _refuse_duplicated_customers(int(buyers["customer_id"].duplicated().sum()))
        cust = cust.drop_duplicates("customer_id")
        group = full["customer_id"].map(cust.set_index("customer_id")[by])
        mats, sizes = {}, []
        for g in sorted(group[kept].dropna().astype(str).unique()):  # values of customers with a purchase
            res = users.cohort_matrix(full[group.notna() & (group.astype(str) == g)], freq=freq, metric=metric,
                                      statuses=statuses, check_ids=check_ids)
            mats[g] = res.matrix
            sizes += res.cohort_sizes.tolist()
        out = _cohort_by_frame(mats, by)
    if by is not None:
        n_none = int(full.loc[kept & group.isna(), "customer_id"].nunique())
        if n_none:
            excluded[f"customers without {by}"] = n_none
    out.attrs.update(excluded=excluded, cohort_sizes=sizes, cohort_metric=metric, freq=freq)
    if end_t is not None:
        out.attrs["rows_on_after_end"] = int((o["order_ts"] >= end_t).sum())
    return out


def _refuse_duplicated_customers(n: int) -> None:
    if n:
        raise ValueError(f"customers['customer_id'] has {n} duplicated id(s) among the customers with a purchase; "
                         "expected one row per customer (a customer with two values would be counted in two "
                         "groups): deduplicate first")


def cohort_result(frame: pd.DataFrame):
    """The engine's ``cohort_matrix`` frame (without ``by``) as the helper's
    :class:`ecomlab.users.CohortResult` (for :func:`ecomlab.users.calendar_effects`).

    >>> from ecomlab.datasets import data_path
    >>> res = cohort_result(compute("cohort_matrix", data_path(), end="2025-12-01"))
    >>> res.last_period, res.metric
    (Timestamp('2025-11-01 00:00:00'), 'retention')
    """
    from ecomlab.users.cohorts import CohortResult

    if "last_period" not in frame.attrs or "cohort_sizes" not in frame.attrs:
        raise ValueError("frame must be a cohort_matrix result of compute() without by= "
                         f"(attrs last_period and cohort_sizes); got attrs {sorted(frame.attrs)}")
    return CohortResult(
        matrix=frame, cohort_sizes=pd.Series(frame.attrs["cohort_sizes"], index=frame.index, name="cohort_size"),
        metric=frame.attrs["cohort_metric"], freq=frame.attrs["freq"], last_period=pd.Timestamp(frame.attrs["last_period"]),
        excluded=dict(frame.attrs["excluded"]))


def _second_frame(customer_id, first_us: np.ndarray, second_us: np.ndarray, has2: np.ndarray,
                  as_of: pd.Timestamp) -> pd.DataFrame:
    """The helper's per-customer table from first/second purchase times in microseconds."""
    end = _us(as_of)
    dur = np.where(has2, second_us - first_us, end - first_us) / _DAY_US
    nat = np.iinfo(np.int64).min
    return pd.DataFrame({
        "customer_id": customer_id,
        "first_order_ts": pd.to_datetime(first_us, unit="us"),
        "second_order_ts": pd.to_datetime(np.where(has2, second_us, nat).view("datetime64[us]")),
        "duration_days": dur,
        "observed": has2,
    })


def _to_us(col: pd.Series) -> np.ndarray:
    v = pd.to_datetime(col)
    if getattr(v.dt, "tz", None) is not None:
        v = v.dt.tz_convert("UTC").dt.tz_localize(None)
    return v.astype("datetime64[us]").to_numpy().view("int64")


def _second_sql(run: _Runner, *, as_of=None, statuses=metrics.VALID_STATUSES, check_ids: bool = True):
    as_of_t = None if as_of is None else _naive(as_of)
    prof = _checked_orders(run, _TABLE_COLUMNS["orders"][:4], check_ids=check_ids,
                           late=None if as_of_t is None else d.timestamp_literal(as_of_t, "as_of"))
    if as_of_t is None:
        as_of_t = prof["ts_max"].normalize() + pd.Timedelta(days=1)
    else:
        _check_in_data(as_of_t, prof, "as_of")
    excluded = _status_excluded(prof, statuses) | _late_excluded(prof, statuses, as_of_t)
    raw = run.sql(d.second_purchase_sql(statuses, d.timestamp_literal(as_of_t, "as_of")))
    if len(raw) == 0:
        raise ValueError(f"orders has no purchases left after keeping status in {tuple(statuses)} "
                         f"and order_ts < {as_of_t}; excluded: {excluded}")
    has2 = raw["second_order_ts"].notna().to_numpy()
    first = _to_us(raw["first_order_ts"])
    second = np.where(has2, _to_us(raw["second_order_ts"].fillna(raw["first_order_ts"])), 0)
    out = _second_frame(raw["customer_id"].astype(str).reset_index(drop=True), first, second, has2, as_of_t)
    out.attrs.update(excluded=excluded, as_of=str(as_of_t))
    return out


def _second_pandas(frames, *, as_of=None, statuses=metrics.VALID_STATUSES, check_ids: bool = True):
    from ecomlab import users
    from ecomlab.users._common import _check_unique_ids

    if check_ids:
        _check_unique_ids(frames["orders"], "order_id")
    res = users.time_to_second_purchase(frames["orders"], as_of, statuses=statuses)
    out = res.table.copy()
    out["customer_id"] = out["customer_id"].astype(str)
    out = out.sort_values("customer_id", kind="stable").reset_index(drop=True)
    out.attrs.update(excluded=dict(res.excluded), as_of=str(res.as_of))
    return out


def second_purchase_result(frame: pd.DataFrame):
    """The engine's ``second_purchase`` frame as the helper's
    :class:`ecomlab.users.SecondPurchaseResult` (``.km()`` and the counts).

    >>> from ecomlab.datasets import data_path
    >>> res = second_purchase_result(compute("second_purchase", data_path()))
    >>> res.n_customers > res.n_censored > 0
    True
    """
    from ecomlab.users.cohorts import SecondPurchaseResult

    need = ["customer_id", "first_order_ts", "second_order_ts", "duration_days", "observed"]
    if list(frame.columns) != need or "as_of" not in frame.attrs:
        raise ValueError(f"frame must be a second_purchase result of compute() (columns {need}, attrs as_of); "
                         f"got columns {list(frame.columns)}")
    obs = frame["observed"].to_numpy(bool)
    seen = frame["duration_days"].to_numpy(np.float64)[obs]
    return SecondPurchaseResult(
        table=frame, as_of=pd.Timestamp(frame.attrs["as_of"]), n_customers=len(frame),
        n_censored=int((~obs).sum()), median_days_observed=float(np.median(seen)) if seen.size else float("nan"),
        excluded=dict(frame.attrs["excluded"]))


def _overview_frame(n_orders: int, purchases: int, customers: int, first, last, excluded: dict) -> pd.DataFrame:
    out = pd.DataFrame({"orders": [int(n_orders)], "purchases": [int(purchases)], "customers": [int(customers)],
                        "first_order_ts": [_naive(first)], "last_order_ts": [_naive(last)]})
    out["first_order_ts"] = out["first_order_ts"].astype("datetime64[us]")
    out["last_order_ts"] = out["last_order_ts"].astype("datetime64[us]")
    # left out by status, the largest first (ties by name), as value_counts lists them
    out.attrs["excluded"] = dict(sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def _overview_sql(run: _Runner, *, statuses=metrics.VALID_STATUSES) -> pd.DataFrame:
    prof = _profile(run, "orders", _TABLE_COLUMNS["orders"][:4], by_status=True)
    _refuse_empty(prof, "orders")
    _refuse_nulls(prof, "orders", ("order_ts", "status"))
    row = run.sql(d.orders_overview_sql(statuses)).iloc[0]
    return _overview_frame(prof["n_rows"], row["purchases"], row["customers"], prof["ts_min"], prof["ts_max"],
                           _status_excluded(prof, statuses))


def _overview_pandas(frames, *, statuses=metrics.VALID_STATUSES) -> pd.DataFrame:
    o = frames["orders"]
    if len(o) == 0:
        raise ValueError("orders is empty; expected at least one row")
    keep = o["status"].isin(list((statuses,) if isinstance(statuses, str) else statuses))
    vc = o.loc[~keep, "status"].astype(str).value_counts()
    return _overview_frame(len(o), int(keep.sum()), int(o.loc[keep, "customer_id"].nunique()),
                           o["order_ts"].min(), o["order_ts"].max(),
                           {f"status={k}": int(v) for k, v in vc.items() if v > 0})


def _p_cal_end(cal: pd.Timestamp, freq: str) -> int:
    days = (_us(cal) - 1) // _DAY_US
    return int((days - 4) // 7) if freq == "W" else int(days)


def _check_in_data(t: pd.Timestamp, prof: dict, arg: str) -> None:
    first, last = prof["ts_min"], prof["ts_max"]
    end = last.normalize() + pd.Timedelta(days=1)
    if t <= first:
        raise ValueError(f"{arg}={t} is on/before the first order ({first}); expected a date inside the data")
    if t > end:
        raise ValueError(f"{arg}={t} is after the end of the data (last order {last}; latest allowed {end}); "
                         f"expected a date in ({first}, {end}]")


def _summary_sql(run: _Runner, *, calibration_end, freq: str = "W", statuses=metrics.VALID_STATUSES,
                 check_ids: bool = True) -> pd.DataFrame:
    cal = pd.Timestamp(calibration_end)
    cal = cal.tz_localize(None) if cal.tzinfo is not None else cal
    lit = d.timestamp_literal(cal, "calibration_end")
    prof = _checked_orders(run, check_ids=check_ids, late=lit)
    _check_in_data(cal, prof, "calibration_end")
    raw = run.sql(d.rfm_summary_sql(statuses, freq, lit, _p_cal_end(cal, freq)))
    excluded = _status_excluded(prof, statuses) | _late_excluded(prof, statuses, cal)
    out = raw.set_index(raw["customer_id"].astype(str).rename("customer_id"))
    out = out[["frequency", "recency", "T", "monetary_value"]].astype(np.float64)  # ORDER BY customer_id
    out.attrs.update(excluded=excluded, time_unit=freq, calibration_end=str(cal))
    return out


def _summary_pandas(frames, *, calibration_end, freq: str = "W", statuses=metrics.VALID_STATUSES,
                    check_ids: bool = True) -> pd.DataFrame:
    from ecomlab import users

    out = users.rfm_summary(frames["orders"], calibration_end, freq=freq, statuses=statuses, check_ids=check_ids)
    attrs = dict(out.attrs)
    out = out.set_axis(out.index.astype(str).rename("customer_id")).sort_index(kind="stable")
    out.attrs.update(attrs)
    return out


def _funnel_frame(counts: np.ndarray, steps: tuple[str, ...], mode: str, unit: str) -> pd.DataFrame:
    counts = counts.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prev = np.concatenate([counts[:1], counts[:-1]])
        step_conv = np.where(prev > 0, counts / np.where(prev > 0, prev, 1), np.nan)
        overall = np.where(counts[0] > 0, counts / max(counts[0], 1), np.nan)
    out = pd.DataFrame({
        "step": pd.Categorical(list(steps), categories=list(steps), ordered=True),
        "step_index": np.arange(1, len(steps) + 1),
        "units": counts,
        "step_conversion": step_conv,
        "overall_conversion": overall,
    })
    out["drop_off"] = 1 - out["step_conversion"]
    out.attrs.update(mode=mode, unit=unit)
    return out


def _funnel_args(steps, mode):
    mode = "loose" if mode == "independent" else mode
    if mode not in ("loose", "strict", "unordered"):
        raise ValueError(f"mode must be 'strict', 'unordered' or 'loose', got {mode!r}")
    return d._steps(steps), mode


def _funnel_by_frame(counts: np.ndarray, labels: list[str], steps: tuple[str, ...], mode: str, unit: str,
                     by: str) -> pd.DataFrame:
    """The helper's ``by=`` frame from (segments x steps) counts; segments in label order,
    ``'missing'`` last."""
    parts = [_funnel_frame(counts[i], steps, mode, unit) for i in range(len(labels))]
    out = pd.concat(parts, ignore_index=True)
    out["step"] = pd.Categorical(np.tile(steps, len(labels)), categories=list(steps), ordered=True)
    out.insert(0, by, pd.Categorical(np.repeat(labels, len(steps)), categories=labels))
    out.attrs.update(mode=mode, unit=unit)
    return out


def _label_order(labels) -> list[str]:
    labels = [str(x) for x in labels]
    from ecomlab.traffic import MISSING_LABEL

    return sorted(x for x in labels if x != MISSING_LABEL) + [x for x in labels if x == MISSING_LABEL]


def _clean_from(run: _Runner, start, end) -> str:
    """``events`` or, with a window, the cleaned log (:func:`definitions.clean_events_sql`)."""
    if start is None and end is None:
        return "events"
    if start is None or end is None:
        raise ValueError(f"start and end (the cleaning window) go together; got start={start!r}, end={end!r}")
    return d.clean_events_sql(d.timestamp_literal(start, "start"), d.timestamp_literal(end, "end"))


def _clean_pandas(frames, start, end) -> pd.DataFrame:
    from ecomlab import traffic

    if start is None and end is None:
        return frames["events"]
    if start is None or end is None:
        raise ValueError(f"start and end (the cleaning window) go together; got start={start!r}, end={end!r}")
    return traffic.clean_events(frames["events"], start, end)[0]


def _checked_events(run: _Runner, needed: tuple[str, ...], start=None, end=None) -> str:
    """The log a behaviour metric reads (``events``, or the cleaned log with a window) after
    the pandas helpers' refusals **on that log**: a missing value in ``needed`` refuses, as
    the helper refuses it after :func:`ecomlab.traffic.clean_events` — rows the cleaning
    removes (no timestamp, duplicates, outside the window) may lack a session id, as in
    pandas. Missing values of the whole log come from the Parquet footers (no scan); only
    when there are some is the cleaned log scanned to count those left in it."""
    src = _clean_from(run, start, end)
    prof = _profile(run, "events", needed, ts_range=False)  # footers only on Parquet: no scan of the log
    _refuse_empty(prof, "events")
    if src == "events":
        _refuse_nulls(prof, "events", needed)
        return src
    check = tuple(c for c in needed if c != "ts")  # the cleaning removes rows without a timestamp
    if any(prof["nulls"][c] for c in check):
        left = run.sql("SELECT " + ", ".join(f"COUNT(*) - COUNT({c}) AS {c}" for c in check) + f" FROM {src}")
        for c in check:
            n = int(left[c].iloc[0])
            if n:
                raise ValueError(f"events[{c!r}] has {n} missing value(s) in the cleaned log ({start} to {end}); "
                                 "expected none (the pandas helper refuses them too: fill or drop them first)")
    return src


def _funnel_sql(run: _Runner, *, steps=("pv", "cart", "buy"), mode: str = "loose",
                unit: str = "session", by: str | None = None, start=None, end=None) -> pd.DataFrame:
    steps, mode = _funnel_args(steps, mode)
    ucol = d._unit_col(unit)
    src = _checked_events(run, (ucol, "ts", "event"), start, end)
    if by is not None:
        _check_schema(run, "events", (d.by_column(by),))
        raw = run.sql(d.funnel_sql(steps, mode, unit, by=by, events=src))
        raw["g"] = raw["g"].astype(str)
        labels = _label_order(raw["g"])
        raw = raw.set_index("g").loc[labels]
        counts = raw[[f"n{i}" for i in range(1, len(steps) + 1)]].to_numpy(np.int64)
        out = _funnel_by_frame(counts, labels, steps, mode, unit, by)
    else:
        row = run.sql(d.funnel_sql(steps, mode, unit, events=src)).iloc[0]
        out = _funnel_frame(np.array([int(row[f"n{i}"]) for i in range(1, len(steps) + 1)]), steps, mode, unit)
    out.attrs["excluded"] = {}
    return out


def _funnel_pandas(frames, *, steps=("pv", "cart", "buy"), mode: str = "loose", unit: str = "session",
                   by: str | None = None, start=None, end=None):
    from ecomlab import traffic

    steps, mode = _funnel_args(steps, mode)
    ev = _clean_pandas(frames, start, end)
    res = traffic.funnel(ev, steps, mode=mode, unit=unit, by=by)
    if by is not None:
        labels = _label_order(res[by].astype(str).unique())
        counts = (res.assign(g=res[by].astype(str)).pivot_table(index="g", columns="step_index", values="units",
                                                                 aggfunc="sum", observed=True)
                  .loc[labels].to_numpy(np.int64))
        out = _funnel_by_frame(counts, labels, steps, mode, unit, by)
    else:
        out = _funnel_frame(res["units"].to_numpy(), steps, mode, unit)
    out.attrs["excluded"] = {}
    return out


# --- the event log's cleaning and the behaviour metrics of the funnel template ---------
def window_from_day_counts(days: np.ndarray, counts: np.ndarray, sparse_share: float = 0.05):
    """:func:`ecomlab.traffic.event_window`'s rule on events per day (``days`` since
    1970-01-01, ``counts`` > 0): first and last day with at least ``sparse_share`` x the
    median day's events; returns ``(start, end)`` (end = the day after the last).

    >>> [f"{t:%Y-%m-%d}" for t in window_from_day_counts(np.array([0, 1, 2]), np.array([1, 40, 35]))]
    ['1970-01-02', '1970-01-04']
    """
    days, counts = np.asarray(days, np.int64), np.asarray(counts, np.float64)
    if len(days) == 0:
        raise ValueError("events['ts'] has no timestamps: no window can be derived (pass start= and end=)")
    if not (isinstance(sparse_share, (int, float)) and 0 <= sparse_share < 1):
        raise ValueError(f"sparse_share must be a number in [0, 1), got {sparse_share!r}")
    dense = days[counts >= sparse_share * np.median(counts)]
    day0 = np.datetime64(0, "D")
    return pd.Timestamp(day0 + int(dense.min())), pd.Timestamp(day0 + int(dense.max()) + 1)


def _quality_frame(c: Mapping[str, int], lo: pd.Timestamp, hi: pd.Timestamp, rule: str) -> pd.DataFrame:
    """The report of :func:`ecomlab.traffic.clean_events` from its counts."""
    rows = [
        ("rows in", c["rows_in"], c["rows_in"], "input"),
        ("missing timestamp", c["missing_ts"], c["missing_ts"], "removed"),
        ("exact duplicate row", c["dup"], c["flag_dup"], "removed"),
        (f"before {lo:%Y-%m-%d}", c["before_n"], c["flag_before"], "removed"),
        (f"on/after {hi:%Y-%m-%d}", c["after_n"], c["flag_after"], "removed"),
        ("missing device", c["missing_dev"], c["flag_dev"], "kept (segment 'missing')"),
        ("rows out", c["rows_out"], c["rows_out"], "output"),
    ]
    out = pd.DataFrame([(r, int(a), int(b), t) for r, a, b, t in rows], columns=["reason", "rows", "flagged", "action"])
    out.attrs["window"] = (lo, hi)
    out.attrs["window_rule"] = rule
    return out


def _window_rule(derived: bool, start, end, sparse_share: float) -> str:
    return ("given (start, end)" if not derived else
            f"from the data: whole days, sparse edge days (< {sparse_share:.0%} of the median day's events) outside"
            + ("; start given" if start is not None else "") + ("; end given" if end is not None else ""))


def _event_types(types, n_rows) -> list[str]:
    """The log's event types in the course's causal order when they are the course's."""
    from ecomlab.traffic import EVENT_ORDER

    present = [str(t) for t, n in zip(types, n_rows, strict=True) if n > 0]
    if set(present) <= set(EVENT_ORDER):
        return [t for t in EVENT_ORDER if t in present]
    return sorted(present)


def _log_window(run: _Runner, start, end, sparse_share: float):
    """The log's columns (checked) and its cleaning window: given, or from the events per day."""
    cols = run.columns("events")
    _check_schema(run, "events", ("visitor_id", "session_id", "ts", "event"))
    derived = start is None or end is None
    if derived:
        days = run.sql(d.event_days_sql())
        d_lo, d_hi = window_from_day_counts(days["day"].to_numpy(), days["n"].to_numpy(), sparse_share)
    lo = _naive(start) if start is not None else d_lo
    hi = _naive(end) if end is not None else d_hi
    if not lo < hi:
        raise ValueError(f"start ({lo}) must be before end ({hi})")
    return cols, derived, lo, hi, d.timestamp_literal(lo, "start"), d.timestamp_literal(hi, "end")


def _quality_sql(run: _Runner, *, start=None, end=None, sparse_share: float = 0.05) -> pd.DataFrame:
    cols, derived, lo, hi, lo_l, hi_l = _log_window(run, start, end, sparse_share)
    c = run.sql(d.events_quality_sql(list(cols), lo_l, hi_l, "device" in cols)).iloc[0]
    out = _quality_frame({k: int(v) for k, v in c.items()}, lo, hi, _window_rule(derived, start, end, sparse_share))
    summ = run.sql(d.clean_summary_sql(d.clean_events_sql(lo_l, hi_l)))
    visitors = int(run.sql("SELECT COUNT(DISTINCT visitor_id) AS n FROM events")["n"].iloc[0])
    out.attrs.update(visitors=visitors, sessions=int(summ["sessions"].iloc[0]) if len(summ) else 0,
                     event_types=_event_types(summ["event"], summ["n"]), has_device="device" in cols, excluded={})
    return out


def _quality_pandas(frames, *, start=None, end=None, sparse_share: float = 0.05) -> pd.DataFrame:
    from ecomlab import traffic

    ev = frames["events"]
    clean, out = traffic.clean_events(ev, start, end, sparse_share=sparse_share)
    vc = clean["event"].astype(str).value_counts()
    out.attrs.update(visitors=int(ev["visitor_id"].nunique()), sessions=int(clean["session_id"].nunique()),
                     event_types=_event_types(vc.index, vc.to_numpy()), has_device="device" in ev.columns,
                     excluded={})
    return out


class CleanedLog:
    """The event log cleaned once in an engine (:func:`clean_log`): a temporary Parquet copy.

    ``source``: the copy as a source for :func:`compute` (``{"events": folder}``) — call the
    behaviour metrics on it **without** ``start``/``end`` (it is cleaned already; with them
    it would be deduplicated again); ``report``: the cleaning report, the frame
    ``compute("events_quality", ...)`` returns (``attrs``: window, visitors, sessions,
    event types); ``path``: the temporary folder, deleted by :meth:`close`, at the end of
    a ``with`` block, or at the latest when the object is collected or the process exits.
    """

    def __init__(self, path: Path, engine: str):
        import weakref

        self.path = Path(path)
        self.engine = engine
        self.source: dict[str, Path] = {"events": self.path / "events"}
        self.report: pd.DataFrame | None = None
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def close(self) -> None:
        """Delete the temporary copy (idempotent)."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> CleanedLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CleanedLog(engine={self.engine!r}, path={str(self.path)!r}{', closed' if self.closed else ''})"


def clean_log(source, *, engine: str = "duckdb", start=None, end=None, sparse_share: float = 0.05, con=None,
              master: str | None = None, temp_dir: str | os.PathLike[str] | None = None) -> CleanedLog:
    """Clean the event log once in the engine and write it to a temporary Parquet folder.

    The rules are :func:`ecomlab.traffic.clean_events`' (reference): the window ``[start,
    end)`` given, else from the data (:func:`window_from_day_counts`, whole days, sparse
    edge days outside); rows without a timestamp removed; exact duplicate rows (every
    column equal, missing values equal) kept once; rows outside the window removed; rows
    without a device kept. Method: ``SELECT DISTINCT *`` of the rows in the window written
    by the engine (DuckDB ``COPY ... TO`` in per-thread files, out of core; Spark's
    Parquet writer); the report's counts from one scan of the log (rows, per rule on its
    own, visitors), the distinct rows among the few removed ones and the copy's rows,
    missing devices, sessions and event types — duplicates = rows with a timestamp minus
    their distinct rows. The report is ``compute("events_quality", ...)``'s, row for row.

    The later metrics read the copy (``compute(metric, log.source, engine=...)``) instead
    of deduplicating the whole log again in every query. ``temp_dir``: where the copy goes
    (default: the system's temporary folder; on a Spark cluster, a path every executor
    shares). ``con`` / ``master`` as in :func:`compute`.

    >>> from ecomlab.datasets import data_path
    >>> with clean_log(data_path()) as log:
    ...     strict = compute("funnel", log.source, mode="strict")
    >>> strict["units"].is_monotonic_decreasing, log.report.iloc[-1]["reason"], log.path.exists()
    (True, 'rows out', False)
    """
    if engine not in ("duckdb", "spark"):
        raise ValueError(f"engine must be 'duckdb' or 'spark' (pandas cleans in memory with "
                         f"traffic.clean_events), got {engine!r}")
    run = _Runner(engine, source, ("events",), con=con, master=master)
    cols, derived, lo, hi, lo_l, hi_l = _log_window(run, start, end, sparse_share)
    device = "device" in cols
    if temp_dir is not None and not Path(temp_dir).is_dir():
        raise ValueError(f"temp_dir must be an existing folder, got {str(temp_dir)!r}")
    log = CleanedLog(Path(tempfile.mkdtemp(prefix="ecomlab_clean_", dir=temp_dir)), engine)
    try:  # a failure anywhere removes the copy
        raw = run.sql(d.log_counts_sql(lo_l, hi_l, device)).iloc[0]
        removed = run.sql(d.removed_distinct_sql(lo_l, hi_l)).iloc[0]
        select = f"SELECT * FROM {d.clean_events_sql(lo_l, hi_l)}"
        out = log.source["events"]
        if engine == "duckdb":
            run.con.execute(f"COPY ({select}) TO {d.sql_literal(str(out), 'temp_dir')} "
                            "(FORMAT parquet, PER_THREAD_OUTPUT true)")
            if next(out.glob("*.parquet"), None) is None:  # nothing in the window: one empty file with the schema
                run.con.execute(f"COPY ({select} LIMIT 0) TO "
                                f"{d.sql_literal(str(out / 'empty.parquet'), 'temp_dir')} (FORMAT parquet)")
        else:
            run.spark.sql(to_spark_sql(select)).write.mode("overwrite").parquet(str(out))
        copy = _Runner(engine, log.source, ("events",), con=run.con if engine == "duckdb" else None, master=master)
        per = copy.sql(d.cleaned_counts_sql(device))
        sessions = int(copy.sql("SELECT COUNT(DISTINCT session_id) AS n FROM events")["n"].iloc[0])
    except BaseException:
        log.close()
        raise
    n = {k: int(v) for k, v in raw.items()}
    dist = {k: int(v) for k, v in removed.items()}
    kept = int(per["n"].sum())
    c = {"rows_in": n["rows_in"], "missing_ts": n["missing_ts"],
         "dup": n["rows_in"] - n["missing_ts"] - (kept + dist["d_before"] + dist["d_after"]),
         "flag_dup": n["rows_in"] - (kept + dist["d_before"] + dist["d_after"] + dist["d_null"]),
         "before_n": dist["d_before"], "flag_before": n["flag_before"],
         "after_n": dist["d_after"], "flag_after": n["flag_after"],
         "missing_dev": int(per["missing_dev"].sum()), "flag_dev": n["flag_dev"], "rows_out": kept}
    report = _quality_frame(c, lo, hi, _window_rule(derived, start, end, sparse_share))
    report.attrs.update(visitors=n["visitors"], sessions=sessions, event_types=_event_types(per["event"], per["n"]),
                        has_device=device, excluded={}, engine=engine, metric="events_quality")
    log.report = report
    return log


def _cart_frame(carts: int, abandoned: int) -> pd.DataFrame:
    out = pd.DataFrame({"segment": ["all"], "carts": [float(carts)], "abandoned": [float(abandoned)]})
    out["abandonment_rate"] = out["abandoned"] / out["carts"] if carts else np.nan
    out.attrs["excluded"] = {}
    return out


def _cart_sql(run: _Runner, *, cart: str = "cart", buy: str = "buy", unit: str = "session", start=None,
              end=None) -> pd.DataFrame:
    if cart == buy:
        raise ValueError(f"cart and buy must be different events, got {cart!r} twice")
    src = _checked_events(run, (d._unit_col(unit), "ts", "event"), start, end)
    row = run.sql(d.cart_abandonment_sql(cart, buy, unit, src)).iloc[0]
    return _cart_frame(int(row["carts"]), int(row["abandoned"]))


def _cart_pandas(frames, *, cart: str = "cart", buy: str = "buy", unit: str = "session", start=None, end=None):
    from ecomlab import traffic

    res = traffic.cart_abandonment(_clean_pandas(frames, start, end), cart=cart, buy=buy, unit=unit)
    out = res[["segment", "carts", "abandoned", "abandonment_rate"]].copy()
    out["segment"] = out["segment"].astype(str)
    out.attrs["excluded"] = {}
    return out


def _hourly_frame(hours: np.ndarray, n: np.ndarray) -> pd.DataFrame:
    counts = np.zeros(24, np.int64)
    counts[hours.astype(np.int64)] = n.astype(np.int64)
    out = pd.DataFrame({"events": counts}, index=pd.Index(range(24), name="hour"))
    out.attrs["excluded"] = {}
    return out


def _hourly_sql(run: _Runner, *, start=None, end=None) -> pd.DataFrame:
    raw = run.sql(d.hourly_activity_sql(_checked_events(run, ("ts",), start, end)))
    return _hourly_frame(raw["hour"].to_numpy(), raw["n"].to_numpy())


def _hourly_pandas(frames, *, start=None, end=None) -> pd.DataFrame:
    from ecomlab import traffic

    h = traffic.activity_heatmap(_clean_pandas(frames, start, end)).sum(axis=1)
    return _hourly_frame(h.index.to_numpy(), h.to_numpy())


def _decode_path(code: int, states: tuple[str, ...]) -> tuple[str, bool, str | None]:
    base = len(states) + 1
    trunc, c = code % 2, code // 2
    parts = []
    while c:
        parts.append(states[c % base - 1])
        c //= base
    return " > ".join(parts) + (" > …" if trunc else ""), bool(trunc), parts[-1] if parts else None


def _paths_sql(run: _Runner, *, n: int = 10, max_len: int = 5, buy: str | None = "buy", steps=None,
               start=None, end=None) -> pd.DataFrame:
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not (isinstance(max_len, (int, np.integer)) and 1 <= max_len <= 20):
        raise ValueError(f"max_len must be an int in 1..20, got {max_len!r}")
    src = _checked_events(run, ("session_id", "ts", "event"), start, end)
    types = run.sql(f"SELECT CAST(event AS VARCHAR) AS event, COUNT(*) AS n FROM {src} GROUP BY CAST(event AS VARCHAR)")
    present = [str(x) for x in types["event"]]
    from ecomlab.traffic import EVENT_ORDER

    # the helper's states: steps, else the course's four types when the log's are among them
    states = tuple(steps) if steps is not None else (
        tuple(EVENT_ORDER) if set(present) <= set(EVENT_ORDER) else tuple(sorted(present)))
    other = sorted(set(present) - set(states))
    if other:
        raise ValueError(f"events['event'] has event types {other[:8]} outside steps {list(states)}: "
                         "add them to steps= or filter them out first")
    if buy is not None and buy not in states:
        raise ValueError(f"buy={buy!r}: not among the event types of events['event'] {list(states)}")
    base = len(states) + 1
    if 2 * base ** max_len > np.iinfo(np.int64).max:
        raise ValueError(f"max_len={max_len} with {len(states)} event types does not fit a 64-bit path code")
    raw = run.sql(d.top_paths_sql(states, max_len, n, src))
    if len(raw) == 0:
        raise ValueError("events is empty")
    dec = [_decode_path(int(c), states) for c in raw["code"]]
    units = raw["units"].to_numpy(np.int64)
    out = pd.DataFrame({"path": [p for p, _, _ in dec], "units": units,
                        "share": units / int(raw["total"].iloc[0])})
    if buy is not None:
        out["ends_in_buy"] = [not t and last == buy for _, t, last in dec]
    out.attrs["excluded"] = {}
    return out


def _paths_pandas(frames, *, n: int = 10, max_len: int = 5, buy: str | None = "buy", steps=None,
                  start=None, end=None) -> pd.DataFrame:
    from ecomlab import traffic

    out = traffic.top_paths(_clean_pandas(frames, start, end), n=n, max_len=max_len, buy=buy, steps=steps)
    out["units"] = out["units"].astype(np.int64)
    out.attrs["excluded"] = {}
    return out


def _kpi_finish(out: pd.DataFrame, excluded: dict, on_inconsistent: str) -> pd.DataFrame:
    from ecomlab.kpi import add_rates  # the one rule for CR and spend per buyer (and CR > 1)

    add_rates(out, on_inconsistent=on_inconsistent, unit="day")
    out.attrs["excluded"] = excluded
    return out


def _kpi_segment(by: str) -> tuple[str, str, str]:
    """(output column, events column, orders column) of ``by``, as :func:`ecomlab.kpi.daily_kpis` reads it."""
    from ecomlab.kpi import _SEGMENTS

    if by not in _SEGMENTS:
        raise ValueError(f"by must be None or one of {sorted(_SEGMENTS)}, got {by!r}")
    return _SEGMENTS[by]


def _segment_labels(by: str, observed) -> list[str]:
    """The segments' order in the KPI tables: the categories :mod:`ecomlab.schema` declares
    for the events' column, then the orders' (the order ``kpi.daily_kpis`` gives the typed
    tables, unused categories included), then any other value seen, sorted.

    >>> _segment_labels("device", ["pc", "watch"])
    ['ios', 'android', 'pc', 'watch']
    """
    from ecomlab import schema

    _, ev_col, od_col = _kpi_segment(by)
    labels: list[str] = []
    for table, col in (("events", ev_col), ("orders", od_col)):
        cats = next((c.categories for c in schema.table(table).columns if c.name == col), None) or ()
        labels += [x for x in cats if x not in labels]
    return labels + sorted({str(x) for x in observed} - set(labels))


def _kpi_grid(uv: pd.DataFrame, od: pd.DataFrame, by: str | None, daily: bool) -> pd.DataFrame:
    """The engine's groups (``uv``: day/seg/uv; ``od``: day/seg/buyers/orders/gmv) on the grid
    ``kpi.daily_kpis`` / ``period_kpis`` return: every day of the events x every segment
    (:func:`_segment_labels`, then ``'missing'`` for NULL values), a cell without visitors
    or orders = 0, orders on other days left out; the ``'missing'`` segment kept only when
    it has visitors or orders. Small frames: days x segments."""
    from ecomlab.kpi import MISSING_LABEL

    def keyed(f: pd.DataFrame) -> pd.DataFrame:
        k = f.copy()
        if daily:
            k["date"] = pd.to_datetime(k["day"]).astype("datetime64[us]")
        if by:
            k["seg"] = k["seg"].astype(object).where(k["seg"].notna(), MISSING_LABEL).astype(str)
        return k

    u, o = keyed(uv), keyed(od)
    levels: list[tuple[str, Any]] = []
    if daily:
        levels.append(("date", np.sort(u["date"].unique())))
    if by:
        seen = pd.concat([uv["seg"], od["seg"]]).dropna().astype(str).unique()
        levels.append(("seg", _segment_labels(by, seen) + [MISSING_LABEL]))
    counts = ["buyers", "orders", "gmv"]
    if levels:
        names = [n for n, _ in levels]
        grid = (pd.MultiIndex.from_product([v for _, v in levels], names=names) if len(levels) > 1
                else pd.Index(levels[0][1], name=names[0]))
        out = pd.concat([u.set_index(names)["uv"].reindex(grid), o.set_index(names)[counts].reindex(grid)], axis=1)
        out = out.fillna({"uv": 0, "buyers": 0, "orders": 0, "gmv": 0.0}).reset_index()
    else:
        out = pd.DataFrame({"uv": u["uv"].to_numpy(), **{c: o[c].to_numpy() for c in counts}}).fillna(0)
    for c in ("uv", "buyers", "orders"):
        out[c] = out[c].astype(np.int64)
    out["gmv"] = out["gmv"].astype(np.float64)
    cols = (["date"] if daily else []) + (["seg"] if by else []) + ["uv", *counts]
    out = out[cols]
    if by:
        labels = levels[-1][1]
        missing = out["seg"].to_numpy() == MISSING_LABEL
        if not (out["uv"].to_numpy()[missing].any() or out["orders"].to_numpy()[missing].any()):
            out, labels = out[~missing].reset_index(drop=True), labels[:-1]
        out["seg"] = pd.Categorical(out["seg"], categories=labels)
        out = out.rename(columns={"seg": _kpi_segment(by)[0]})
    return out


def _ts_window(start, end, col: str = "ts") -> str:
    """SQL condition ``col >= start AND col < end`` (either bound optional; TRUE without both)."""
    cond = []
    if start is not None:
        cond.append(f"{col} >= {d.timestamp_literal(start, 'start')}")
    if end is not None:
        cond.append(f"{col} < {d.timestamp_literal(end, 'end')}")
    return " AND ".join(cond) or "TRUE"


def _kpis_sql(run: _Runner, *, start=None, end=None, by: str | None = None, daily: bool = True,
              on_inconsistent: str = "raise") -> pd.DataFrame:
    seg = _kpi_segment(by) if by is not None else None
    window = _ts_window(start, end)
    ev_cols, od_cols = ("visitor_id", "ts"), ("customer_id", "order_ts", "status", "paid_amount")
    if seg:
        _check_schema(run, "events", (seg[1],))
        _check_schema(run, "orders", (seg[2],))
    ev = _profile(run, "events", ev_cols, counts={"in_window": window})
    od = _profile(run, "orders", od_cols, by_status=True)
    _refuse_empty(ev, "events")
    # a missing timestamp lies outside any window (the cleaned log drops it): refused only without one
    _refuse_nulls(ev, "events", ev_cols if window == "TRUE" else ("visitor_id",))
    _refuse_nulls(od, "orders", ("order_ts",))
    placed = [k for k in od["status"] if k in metrics.PLACED_STATUSES]
    if sum(od["by_status"][f"null_{c}"][k] for k in placed for c in ("customer_id", "paid_amount")):
        raise ValueError("orders has missing paid_amount or customer_id on placed orders")
    n_placed = sum(od["status"][k] for k in placed)
    n_in = ev["count"]["in_window"]
    if n_in == 0:
        raise ValueError(f"no events in the window [{start}, {end})")
    by_ev, by_od = (seg[1], seg[2]) if seg else (None, None)
    uv = run.sql(d.kpi_visitors_sql(window, by=by_ev, daily=daily))
    od_groups = run.sql(d.kpi_orders_sql(by=by_od, daily=daily, event_window=None if daily else window))
    out = _kpi_grid(uv, od_groups, by, daily)
    excluded = {"cancelled_orders": od["n_rows"] - n_placed,
                "orders_on_days_without_events": n_placed - int(out["orders"].sum()),
                "events_outside_window": ev["n_rows"] - n_in}
    return _kpi_finish(out, excluded, on_inconsistent)


def _kpis_pandas(frames, *, start=None, end=None, by: str | None = None, daily: bool = True,
                 on_inconsistent: str = "raise") -> pd.DataFrame:
    import warnings

    from ecomlab import kpi

    ev, od = frames["events"], frames["orders"]
    ev = ev.assign(ts=_utc_wall_clock(ev["ts"])) if "ts" in ev else ev  # days as the SQL engines cut them
    od = od.assign(order_ts=_utc_wall_clock(od["order_ts"])) if "order_ts" in od else od
    keep = pd.Series(True, index=ev.index)
    if start is not None:
        keep &= ev["ts"] >= pd.Timestamp(start)
    if end is not None:
        keep &= ev["ts"] < pd.Timestamp(end)
    if not keep.any():
        raise ValueError(f"no events in the window [{start}, {end})")
    ev = ev[keep]
    if by is not None:  # the segments as the typed tables hold them (schema categories first)
        seg_out, e_col, o_col = _kpi_segment(by)
        kpi._require(ev, [e_col], "events")
        kpi._require(od, [o_col], "orders")
        seen = pd.concat([ev[e_col].dropna().astype(str), od[o_col].dropna().astype(str)]).unique()
        cat = pd.CategoricalDtype(_segment_labels(by, seen))
        ev = ev.assign(**{e_col: ev[e_col].astype(object).where(ev[e_col].isna(), ev[e_col].astype(str)).astype(cat)})
        od = od.assign(**{o_col: od[o_col].astype(object).where(od[o_col].isna(), od[o_col].astype(str)).astype(cat)})
    helper = kpi.daily_kpis if daily else kpi.period_kpis
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # _kpi_finish warns once, as the SQL engines do
        res = helper(ev, od, by=by, on_inconsistent="warn")
    cols = (["date"] if daily else []) + ([seg_out] if by else []) + ["uv", "buyers", "orders", "gmv"]
    out = res[cols].reset_index(drop=True)
    if daily:
        out["date"] = out["date"].astype("datetime64[us]")
    for c in ("uv", "buyers", "orders"):
        out[c] = out[c].astype(np.int64)
    excluded = dict(res.attrs["excluded"])
    excluded["events_outside_window"] = int((~keep).sum())
    return _kpi_finish(out, excluded, on_inconsistent)


def _utc_wall_clock(ts: pd.Series) -> pd.Series:
    """A zone-aware timestamp column as the SQL engines read it (their sessions run in UTC:
    a TIMESTAMPTZ falls on its UTC day), naive; a naive column as it is (its wall clock)."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        return ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return ts


def _orders_kpis_frame(raw: pd.DataFrame, daily: bool) -> pd.DataFrame:
    """The orders-only tree from per-day (or whole-window) groups: GMV, placed orders,
    buyers, order value (笔单价) and spend per buyer (客单价) through :mod:`ecomlab.metrics`;
    daily: every calendar day from the first to the last day with a placed order, a day
    without one = 0 (a real zero, not a missing day)."""
    if daily and raw["orders"].sum() == 0:  # a period may be empty (its ratios are then NaN); a table not
        raise ValueError(f"orders has no placed order (status in {metrics.PLACED_STATUSES}) with a timestamp "
                         "in the window; expected at least one to have days")
    if daily:
        r = raw[raw["orders"] > 0].set_index("day")
        days = pd.date_range(r.index.min(), r.index.max(), freq="D").astype("datetime64[us]")
        out = r[["orders", "buyers", "gmv"]].reindex(days, fill_value=0).rename_axis("date").reset_index()
    else:
        out = raw[["gmv", "orders", "buyers"]].reset_index(drop=True)
    out["orders"] = out["orders"].astype(np.int64)
    out["buyers"] = out["buyers"].astype(np.int64)
    out["gmv"] = out["gmv"].astype(np.float64)
    out["order_value"] = metrics.order_value(out["gmv"], out["orders"])
    out["spend_per_buyer"] = metrics.spend_per_buyer(out["gmv"], out["buyers"])
    return out


def _orders_excluded(n_rows: int, n_placed: int, no_customer: int, no_amount: int, no_day: int | None) -> dict:
    out = {"cancelled_orders": n_rows - n_placed, "placed_without_customer_id (not buyers)": no_customer,
           "placed_without_paid_amount (0 in GMV)": no_amount}
    if no_day is not None:
        out["placed_without_order_ts (on no day)"] = no_day
    return {k: int(v) for k, v in out.items() if v}


def _orders_kpis_sql(run: _Runner, *, start=None, end=None, daily: bool = True) -> pd.DataFrame:
    _check_schema(run, "orders", ("customer_id", "order_ts", "status", "paid_amount"))
    raw = run.sql(d.kpi_orders_sql(daily=daily, window=_ts_window(start, end, "order_ts")))
    for c in ("rows_in", "orders", "buyers", "no_customer", "no_amount"):
        raw[c] = raw[c].fillna(0).astype(np.int64)
    raw["gmv"] = raw["gmv"].astype(np.float64)
    totals = [int(raw[c].sum()) for c in ("rows_in", "orders", "no_customer", "no_amount")]
    no_day = None
    if daily:  # SQL keeps the orders without a timestamp as a NULL day: on no day of the table, counted
        null_day = raw["day"].isna().to_numpy()
        no_day = int(raw.loc[null_day, "orders"].sum())
        raw = raw[~null_day].assign(day=lambda f: pd.to_datetime(f["day"]).astype("datetime64[us]"))
    excluded = _orders_excluded(*totals, no_day)
    out = _orders_kpis_frame(raw, daily)
    out.attrs["excluded"] = excluded
    return out


def _orders_kpis_pandas(frames, *, start=None, end=None, daily: bool = True) -> pd.DataFrame:
    from ecomlab.validation import require_columns

    o = frames["orders"]
    require_columns(o, ["customer_id", "order_ts", "status", "paid_amount"], "orders")
    if not pd.api.types.is_datetime64_any_dtype(o["order_ts"]):
        raise ValueError(f"orders['order_ts'] must be a timestamp, got {o['order_ts'].dtype}")
    if not pd.api.types.is_numeric_dtype(o["paid_amount"]):
        raise ValueError(f"orders['paid_amount'] must be numeric, got {o['paid_amount'].dtype}")
    ts = _utc_wall_clock(o["order_ts"])
    keep = pd.Series(True, index=o.index)
    if start is not None:
        keep &= ts >= _naive(start)
    if end is not None:
        keep &= ts < _naive(end)
    o, ts = o[keep], ts[keep]
    placed = metrics.placed_orders(o)
    p_ts = ts[placed.index]
    if daily:  # groupby leaves the orders without a timestamp out: counted below
        g = placed.groupby(p_ts.dt.normalize().astype("datetime64[us]").rename("day"))
        raw = pd.DataFrame({"orders": g.size(), "buyers": g["customer_id"].nunique(),
                            "gmv": g["paid_amount"].sum()}).reset_index()
    else:
        raw = pd.DataFrame({"gmv": [metrics.gmv(o)], "orders": [len(placed)],
                            "buyers": [placed["customer_id"].nunique()]})
    no_day = int(p_ts.isna().sum()) if daily else None
    excluded = _orders_excluded(len(o), len(placed), int(placed["customer_id"].isna().sum()),
                                int(placed["paid_amount"].isna().sum()), no_day)
    out = _orders_kpis_frame(raw, daily)
    out.attrs["excluded"] = excluded
    return out


def _rate_frame(n: int, k: int, names: tuple[str, str], excluded: dict) -> pd.DataFrame:
    out = pd.DataFrame({names[0]: [int(n)], names[1]: [int(k)], "rate": [k / n if n else math.nan]})
    out.attrs["excluded"] = excluded
    return out


def _null_customers(run: _Runner, statuses) -> dict[str, int]:
    n = int(run.sql(f"SELECT COUNT(*) AS n FROM orders WHERE customer_id IS NULL "
                    f"AND status IN {d._in_list(statuses, 'statuses')}")["n"].iloc[0])
    return {"customer_id missing": n} if n else {}


def _repurchase_sql(run: _Runner, *, start=None, end=None, statuses=metrics.VALID_STATUSES) -> pd.DataFrame:
    _check_schema(run, "orders", ("customer_id", "order_ts", "status"))
    row = run.sql(d.repurchase_sql(statuses, start, end)).iloc[0]
    return _rate_frame(row["buyers"], row["repeat_buyers"], ("buyers", "repeat_buyers"),
                       _null_customers(run, statuses))


def _valid_known(frames, statuses) -> tuple[pd.DataFrame, dict]:
    o = frames["orders"]
    o = o[o["status"].isin(list((statuses,) if isinstance(statuses, str) else statuses))]
    miss = o["customer_id"].isna()
    excluded = {"customer_id missing": int(miss.sum())} if miss.any() else {}
    return o[~miss], excluded


def _repurchase_pandas(frames, *, start=None, end=None, statuses=metrics.VALID_STATUSES) -> pd.DataFrame:
    o, excluded = _valid_known(frames, statuses)
    w = metrics._window(o, "order_ts", start, end)
    counts = w.groupby("customer_id", observed=True).size()
    out = _rate_frame(len(counts), int((counts >= 2).sum()), ("buyers", "repeat_buyers"), excluded)
    out["rate"] = metrics.repurchase_rate(o, start, end)  # the helper's own number
    return out


def _return_sql(run: _Runner, *, period1, period2, statuses=metrics.VALID_STATUSES) -> pd.DataFrame:
    _check_schema(run, "orders", ("customer_id", "order_ts", "status"))
    row = run.sql(d.return_purchase_sql(statuses, tuple(period1), tuple(period2))).iloc[0]
    return _rate_frame(row["buyers"], row["returning_buyers"], ("buyers", "returning_buyers"),
                       _null_customers(run, statuses))


def _return_pandas(frames, *, period1, period2, statuses=metrics.VALID_STATUSES) -> pd.DataFrame:
    o, excluded = _valid_known(frames, statuses)
    b1 = pd.Index(metrics._window(o, "order_ts", *period1)["customer_id"].unique())
    b2 = pd.Index(metrics._window(o, "order_ts", *period2)["customer_id"].unique())
    out = _rate_frame(len(b1), int((b2.get_indexer(b1) >= 0).sum()), ("buyers", "returning_buyers"), excluded)
    out["rate"] = metrics.return_purchase_rate(o, tuple(period1), tuple(period2))  # the helper's own number
    return out


METRICS: dict[str, Metric] = {
    m.name: m for m in (
        Metric("rfm", ("orders",), _rfm_sql, _rfm_pandas,
               "RFM per customer with the value segments (users.rfm_table + rfm_segments)"),
        Metric("rfm_thresholds", ("orders",),
               lambda run, **kw: _rfm_sql(run, _thresholds=True, **kw),
               lambda fr, **kw: _rfm_pandas(fr, _thresholds=True, **kw),
               "the value-segment thresholds: mean recency, frequency and monetary amount"),
        Metric("cohort_matrix", ("orders",), _cohort_sql, _cohort_pandas,
               "first-purchase cohorts x periods since (users.cohort_matrix; end=, by= a customers column)",
               {"by": "customers"}),
        Metric("second_purchase", ("orders",), _second_sql, _second_pandas,
               "days from each customer's first to second purchase, censored (users.time_to_second_purchase)"),
        Metric("orders_overview", ("orders",), _overview_sql, _overview_pandas,
               "orders, purchases, their distinct customers, first/last order time, rows left out by status"),
        Metric("rfm_summary", ("orders",), _summary_sql, _summary_pandas,
               "BG/NBD + Gamma-Gamma summary per customer (users.rfm_summary, no holdout)"),
        Metric("funnel", ("events",), _funnel_sql, _funnel_pandas,
               "strict / unordered / loose funnel (traffic.funnel; by= a segment column; start/end: cleaned log)"),
        Metric("events_quality", ("events",), _quality_sql, _quality_pandas,
               "the event log's cleaning report (traffic.clean_events) + visitors, clean sessions, event types"),
        Metric("cart_abandonment", ("events",), _cart_sql, _cart_pandas,
               "sessions with a cart and those without a purchase (traffic.cart_abandonment, by=None)"),
        Metric("hourly_activity", ("events",), _hourly_sql, _hourly_pandas,
               "events per hour of day (traffic.activity_heatmap summed over weekdays)"),
        Metric("top_paths", ("events",), _paths_sql, _paths_pandas,
               "the most common session paths, repeats collapsed (traffic.top_paths)"),
        Metric("daily_kpis", ("events", "orders"), _kpis_sql, _kpis_pandas,
               "daily UV, buyers, placed orders, GMV, CR, spend per buyer (kpi.daily_kpis; by= device or "
               "source; start/end: the events' window, e.g. the cleaned log's)"),
        Metric("period_kpis", ("events", "orders"),
               lambda run, **kw: _kpis_sql(run, daily=False, **kw),
               lambda fr, **kw: _kpis_pandas(fr, daily=False, **kw),
               "the KPI tree over [start, end): UV = distinct visitors of the period (kpi.period_kpis; by=)"),
        Metric("orders_kpis", ("orders",), _orders_kpis_sql, _orders_kpis_pandas,
               "the orders' tree per calendar day, days without orders = 0 (daily=False: over [start, end)): "
               "placed orders, buyers, GMV, order value, spend per buyer"),
        Metric("repurchase_rate", ("orders",), _repurchase_sql, _repurchase_pandas,
               "share of a period's buyers with >= 2 orders (metrics.repurchase_rate)"),
        Metric("return_purchase_rate", ("orders",), _return_sql, _return_pandas,
               "share of period-1 buyers buying again in period 2 (metrics.return_purchase_rate)"),
    )
}


def _read_pandas(source, tables: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    frames = {}
    for t in tables:
        tp = resolve_source(source, t)
        if tp.fmt == "parquet":
            df = pd.read_parquet(tp.path)
        elif not tp.is_dir:
            df = pd.read_csv(tp.path, parse_dates=[_TS[t]] if t in _TS else None)
        else:
            raise ValueError(f"engine='pandas' reads one CSV file per table; {str(tp.path)!r} is a folder "
                             "(use engine='duckdb')")
        for c, dt in df.dtypes.items():  # partition keys come back as categoricals of strings
            if isinstance(dt, pd.CategoricalDtype) and c in _TABLE_COLUMNS[t] and c not in ("status", "event"):
                df[c] = df[c].astype("str")
        frames[t] = df
    return frames


def compute(name: str, source, *, engine: str = "duckdb", con=None, master: str | None = None,
            frames: Mapping[str, pd.DataFrame] | None = None, **params: Any) -> pd.DataFrame:
    """Compute the core metric ``name`` on ``engine`` from the tables in ``source``.

    ``name``: a key of :data:`METRICS`; ``params``: the metric's options, named as in
    its pandas helper (``as_of``, ``statuses``, ``freq``, ``metric``, ``calibration_end``,
    ``steps``, ``mode``, ``unit``, ``start``/``end``, ``period1``/``period2``,
    ``check_ids``). ``con``: a DuckDB connection to reuse; ``master``: Spark's master URL;
    ``frames``: in-memory tables for ``engine="pandas"`` (instead of reading ``source``).
    Returns a pandas frame; rows left out are counted in ``attrs["excluded"]``.

    >>> from ecomlab.datasets import data_path
    >>> f = compute("funnel", data_path(), mode="strict")
    >>> f["units"].is_monotonic_decreasing, f.attrs["engine"]
    (True, 'duckdb')
    """
    if name not in METRICS:
        raise ValueError(f"name must be one of the metrics {sorted(METRICS)}, got {name!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    m = METRICS[name]
    if engine == "pandas":
        fr = dict(frames) if frames is not None else _read_pandas(source, m.tables_for(params))
        out = m.run_pandas(fr, **params)
    else:
        out = m.run_sql(_Runner(engine, source, m.tables_for(params), con=con, master=master), **params)
    out.attrs["engine"] = engine
    out.attrs["metric"] = name
    return out


def sql_of(metric: str, *, spark: bool = False, **params: Any) -> str:
    """The main query of ``metric`` as run (DuckDB dialect, or Spark SQL with ``spark=True``).

    >>> print(sql_of("repurchase_rate", start="2025-01-01", end="2025-07-01").splitlines()[2])
      WHERE status IN ('completed') AND customer_id IS NOT NULL AND order_ts >= TIMESTAMP '2025-01-01 00:00:00.000000' AND order_ts < TIMESTAMP '2025-07-01 00:00:00.000000'
    """
    st = params.get("statuses", metrics.VALID_STATUSES)
    builders = {
        "cohort_matrix": lambda: d.cohort_sql(
            st, params.get("freq", "M"),
            None if params.get("end") is None else d.timestamp_literal(params["end"], "end"), params.get("by")),
        "second_purchase": lambda: d.second_purchase_sql(st, d.timestamp_literal(params["as_of"], "as_of")),
        "orders_overview": lambda: d.orders_overview_sql(st),
        "funnel": lambda: d.funnel_sql(params.get("steps", ("pv", "cart", "buy")),
                                       params.get("mode", "loose"), params.get("unit", "session")),
        "daily_kpis": lambda: d.daily_kpis_sql(),
        "orders_kpis": lambda: d.kpi_orders_sql(daily=params.get("daily", True),
                                                window=_ts_window(params.get("start"), params.get("end"), "order_ts")),
        "repurchase_rate": lambda: d.repurchase_sql(st, params.get("start"), params.get("end")),
        "return_purchase_rate": lambda: d.return_purchase_sql(st, params["period1"], params["period2"]),
        "rfm": lambda: d.rfm_sql(st, d.timestamp_literal(params["as_of"], "as_of"),
                                 f"DATE '{pd.Timestamp(params['as_of']):%Y-%m-%d}'"),
        "rfm_summary": lambda: d.rfm_summary_sql(
            st, params.get("freq", "W"), d.timestamp_literal(params["calibration_end"], "calibration_end"),
            _p_cal_end(pd.Timestamp(params["calibration_end"]), params.get("freq", "W"))),
    }
    if metric not in builders:
        raise ValueError(f"metric must be one of {sorted(builders)}, got {metric!r}")
    sql = builders[metric]()
    return to_spark_sql(sql) if spark else sql


# =====================================================================================
# Model fits stay local, on the engine's summary compressed to distinct rows
# =====================================================================================
def compressed_summary(summary: pd.DataFrame, columns=("frequency", "recency", "T")) -> pd.DataFrame:
    """Distinct rows of ``columns`` with the number of customers on each (``customers``).

    At scale, run the same ``GROUP BY`` in the engine (:func:`fit_bgnbd` with ``source``)
    and bring back only these rows: weekly data have a few thousand distinct rows
    whatever the number of customers.

    >>> s = pd.DataFrame({"frequency": [0., 0., 1.], "recency": [0., 0., 2.], "T": [5., 5., 5.]})
    >>> compressed_summary(s)["customers"].tolist()
    [2, 1]
    """
    cols = list(columns)
    g = summary.groupby(cols, sort=True).size().rename("customers").reset_index()
    return g


def _compressed_in_engine(metric_sql: str, cols: tuple[str, ...], where: str = "") -> str:
    c = ", ".join(cols)
    return f"WITH s AS (\n{metric_sql}\n)\nSELECT {c}, COUNT(*) AS customers FROM s{where} GROUP BY {c} ORDER BY {c}"


def _expand(comp: pd.DataFrame, cols) -> pd.DataFrame:
    w = comp["customers"].to_numpy(np.int64)
    return pd.DataFrame({c: np.repeat(comp[c].to_numpy(np.float64), w) for c in cols})


def _engine_compressed(source, engine, cols, where, *, calibration_end, freq, statuses, con, master):
    run = _Runner(engine, source, ("orders",), con=con, master=master)
    prof = _checked_orders(run, check_ids=False)
    cal = pd.Timestamp(calibration_end)
    _check_in_data(cal, prof, "calibration_end")
    body = d.rfm_summary_sql(statuses, freq, d.timestamp_literal(cal, "calibration_end"), _p_cal_end(cal, freq))
    body = body.rsplit("ORDER BY", 1)[0]
    return run.sql(_compressed_in_engine(body, cols, where))


def fit_bgnbd(source=None, *, summary: pd.DataFrame | None = None, engine: str = "duckdb",
              calibration_end=None, freq: str = "W", statuses=metrics.VALID_STATUSES, con=None,
              master: str | None = None, **fit_kw):
    """BG/NBD fitted locally (:func:`ecomlab.users.fit_bgnbd`) on the engine's summary.

    With ``source``, the engine computes :data:`METRICS` ``rfm_summary`` and groups it to
    distinct (frequency, recency, T) rows with counts; only those rows leave the engine,
    and ``fit_bgnbd`` fits them with the counts as weights (``weights="customers"``: the
    likelihood is the same sum, memory is the distinct rows, not the customers). With
    ``summary`` (a pandas summary) it fits that directly.

    >>> from ecomlab.datasets import data_path
    >>> fit_bgnbd(data_path(), calibration_end="2025-10-01").converged  # doctest: +SKIP
    True
    """
    from ecomlab import users

    cols = ("frequency", "recency", "T")
    if summary is None:
        if source is None or calibration_end is None:
            raise ValueError("fit_bgnbd needs source and calibration_end, or summary")
        comp = _engine_compressed(source, engine, cols, "", calibration_end=calibration_end, freq=freq,
                                  statuses=statuses, con=con, master=master)
        summary = comp[[*cols, "customers"]].astype("float64")
        summary.attrs["time_unit"] = freq
        return users.fit_bgnbd(summary, weights="customers", **fit_kw)
    return users.fit_bgnbd(summary, **fit_kw)


def fit_gamma_gamma(source=None, *, summary: pd.DataFrame | None = None, engine: str = "duckdb",
                    calibration_end=None, freq: str = "W", statuses=metrics.VALID_STATUSES, con=None,
                    master: str | None = None):
    """Gamma-Gamma fitted locally (:func:`ecomlab.users.fit_gamma_gamma`) on the engine's
    repeat buyers, compressed to distinct (frequency, monetary_value) rows.

    Customers without a repeat purchase are excluded by the model; here they stay in
    the engine and are counted in ``excluded`` by the helper's own rule only for the
    rows brought back, so the engine path reports them separately in the result's
    ``excluded`` under the helper's key.

    >>> from ecomlab.datasets import data_path
    >>> fit_gamma_gamma(data_path(), calibration_end="2025-10-01").converged  # doctest: +SKIP
    True
    """
    from dataclasses import replace

    from ecomlab import users

    cols = ("frequency", "monetary_value")
    if summary is not None:
        return users.fit_gamma_gamma(summary)
    if source is None or calibration_end is None:
        raise ValueError("fit_gamma_gamma needs source and calibration_end, or summary")
    comp = _engine_compressed(source, engine, cols, "", calibration_end=calibration_end, freq=freq,
                              statuses=statuses, con=con, master=master)
    rep = comp["frequency"] > 0
    n_once = int(comp.loc[~rep, "customers"].sum())
    res = users.fit_gamma_gamma(_expand(comp[rep], cols))
    excluded = dict(res.excluded)
    excluded["no repeat purchase (frequency = 0)"] = n_once
    return replace(res, excluded=excluded)


# =====================================================================================
# Comparing engines
# =====================================================================================
def differences(a: pd.DataFrame, b: pd.DataFrame, *, rtol: float = 1e-9) -> list[str]:
    """How two engines' results of one metric differ (empty list: the same result).

    Same shape, labels and row order; integer and boolean columns, labels and
    ``attrs["excluded"]`` exactly equal; float columns equal to ``rtol`` relative (sums
    of floats in another order differ in the last bits), NaN where the other has NaN.

    >>> x = pd.DataFrame({"n": [1, 2], "gmv": [0.1 + 0.2, 1.0]})
    >>> differences(x, pd.DataFrame({"n": [1, 2], "gmv": [0.3, 1.0]}))
    []
    >>> differences(x, pd.DataFrame({"n": [1, 3], "gmv": [0.3, 1.0]}))
    ['column n: 1 value(s) differ, e.g. row 1: 2 vs 3']
    """
    if a.shape != b.shape:
        return [f"shape {a.shape} vs {b.shape}"]
    out = []
    if list(map(str, a.columns)) != list(map(str, b.columns)):
        out.append(f"columns {list(a.columns)} vs {list(b.columns)}")
        return out
    if not a.index.equals(b.index) and not (a.index.astype(str) == b.index.astype(str)).all():
        out.append(f"index differs, e.g. {a.index[:3].tolist()} vs {b.index[:3].tolist()}")
    if a.attrs.get("excluded") != b.attrs.get("excluded"):
        out.append(f"excluded {a.attrs.get('excluded')} vs {b.attrs.get('excluded')}")
    for ca, cb in zip(a.columns, b.columns, strict=True):
        x, y = a[ca], b[cb]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            xv, yv = x.to_numpy(np.float64), y.to_numpy(np.float64)
            both_nan = np.isnan(xv) & np.isnan(yv)
            close = np.isclose(xv, yv, rtol=rtol, atol=0.0) | both_nan
            bad = np.flatnonzero(~close)
        else:
            xs, ys = x.astype(str).to_numpy(), y.astype(str).to_numpy()
            if pd.api.types.is_bool_dtype(x) or pd.api.types.is_integer_dtype(x):
                xs, ys = x.to_numpy(np.int64).astype(str), y.to_numpy(np.int64).astype(str)
            both_na = x.isna().to_numpy() & y.isna().to_numpy()  # NaT/None: equal when both missing
            bad = np.flatnonzero((xs != ys) & ~both_na)
        if len(bad):
            i = int(bad[0])
            xi, yi = (getattr(v, "item", lambda v=v: v)() for v in (x.iloc[i], y.iloc[i]))
            out.append(f"column {ca}: {len(bad)} value(s) differ, e.g. row {i}: {xi!r} vs {yi!r}")
    return out
