"""One engine-neutral definition per core metric: SQL written once (DuckDB dialect).

Each ``*_sql`` function returns the query of one metric with its parameters validated
and inlined as literals; :mod:`ecomlab.engines` runs it on DuckDB as written and on Spark
after ``sqlglot.transpile(sql, read="duckdb", write="spark")``. The pandas helper whose
semantics each query reproduces is named in its docstring; ``tests/test_engines*.py``
check that the three engines agree (exact counts, sums to 1e-9 relative).

Portability rules the queries follow (the known traps):

* **exact aggregates only** — ``COUNT(DISTINCT ...)``, never ``approx_count_distinct`` /
  ``percentile_approx`` (Spark's fast defaults are approximate); the RFM thresholds are
  means, not quantiles;
* **no row-order dependence** — the strict funnel is built from per-step minimum times
  and ``>=`` joins, not ``ROW_NUMBER``/``LAG`` over ``ORDER BY ts`` (ties in ``ts`` would
  make a window's order, and so the answer, engine- and run-dependent);
* **NULL group keys** — SQL keeps a NULL key as a group, pandas drops it: the metrics
  whose pandas helper drops them filter ``IS NOT NULL`` explicitly and count the rows;
  the others refuse NULL keys up front, as their helper does (:mod:`ecomlab.engines`);
* **days** — ``CAST(ts AS DATE)`` of a naive (wall-clock) timestamp; the sessions run in
  UTC so a zone-aware column or literal is never shifted across midnight;
* **integer division** — rates are divided in Python from exact integer counts, periods
  use ``FLOOR(x / 7.0)``; never ``/`` between integers (integer in some dialects).

>>> print(repurchase_sql(("completed",), "2025-01-01", None).splitlines()[0])
WITH o AS (
"""

from __future__ import annotations

from collections.abc import Sequence

from ecomlab import metrics
from ecomlab.users._common import _ts

__all__ = [
    "sql_literal", "timestamp_literal", "rfm_sql", "cohort_sql", "rfm_summary_sql", "funnel_sql",
    "daily_kpis_sql", "kpi_visitors_sql", "kpi_orders_sql", "repurchase_sql", "return_purchase_sql",
    "second_purchase_sql", "orders_overview_sql", "by_column",
    "period_expr", "SEGMENT_CASE", "clean_events_sql", "event_days_sql", "events_quality_sql",
    "clean_summary_sql", "cart_abandonment_sql", "hourly_activity_sql", "top_paths_sql",
    "log_counts_sql", "removed_distinct_sql", "cleaned_counts_sql", "unit_segment_expr",
]

_EPOCH_DAYS = "DATE_DIFF('day', DATE '1970-01-01', CAST({col} AS DATE))"


def sql_literal(value: str, arg: str) -> str:
    """A single-quoted SQL string literal; quotes doubled, control characters refused.

    >>> sql_literal("it's", "status")
    "'it''s'"
    """
    if not isinstance(value, str):
        raise ValueError(f"{arg} must be a string, got {type(value).__name__} {value!r}")
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"{arg} must not contain control characters, got {value!r}")
    return "'" + value.replace("'", "''") + "'"


def _in_list(values: Sequence[str], arg: str) -> str:
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    if not values:
        raise ValueError(f"{arg} must list at least one value, e.g. ('completed',); got ()")
    return "(" + ", ".join(sql_literal(v, arg) for v in values) + ")"


def timestamp_literal(value, arg: str) -> str:
    """A naive ``TIMESTAMP '...'`` literal (microseconds kept; a zone-aware value is
    converted to its wall-clock time, as the pandas helpers do).

    >>> timestamp_literal("2025-11-01", "start")
    "TIMESTAMP '2025-11-01 00:00:00.000000'"
    """
    t = _ts(value, arg)
    return f"TIMESTAMP '{t.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def period_expr(col: str, freq: str) -> str:
    """Integer period of a timestamp column, numbered as :mod:`ecomlab.users` numbers them.

    ``"M"``: months since 1970-01 (``datetime64[M]``); ``"W"``: Monday weeks,
    ``floor((days - 4) / 7)`` (1970-01-05 was a Monday); ``"D"``: days since 1970-01-01.

    >>> period_expr("order_ts", "M")
    '((YEAR(order_ts) - 1970) * 12 + MONTH(order_ts) - 1)'
    """
    if freq == "M":
        return f"((YEAR({col}) - 1970) * 12 + MONTH({col}) - 1)"
    days = _EPOCH_DAYS.format(col=col)
    if freq == "W":
        return f"CAST(FLOOR(({days} - 4) / 7.0) AS BIGINT)"
    if freq == "D":
        return days
    raise ValueError(f"freq must be 'M', 'W' or 'D', got {freq!r}")


#: Segment index of :data:`ecomlab.users.rfm.SEGMENTS` from the three high/low flags
#: (the table in :func:`ecomlab.users.rfm_segments`: M decides important/general, then R, F).
SEGMENT_CASE = "(4 * (1 - m_high) + 2 * (1 - r_high) + (1 - f_high))"


def rfm_sql(statuses: Sequence[str], as_of_literal: str, as_of_day: str, *, thresholds: bool = False) -> str:
    """RFM per customer and the value-segment flags (:func:`ecomlab.users.rfm_table` +
    :func:`ecomlab.users.rfm_segments`).

    R = days from the last purchase's day to ``as_of``'s day; F = purchase orders;
    M = sum of ``paid_amount``; purchases: status in ``statuses`` and ``order_ts < as_of``.
    Flags against the means over customers: R high when ``recency_days < mean``, F and M
    high when ``> mean`` (equal to the mean is low). ``thresholds=True``: the three means
    and the number of customers instead (one row).

    >>> "AVG(recency_days)" in rfm_sql(("completed",), "TIMESTAMP '2025-01-02'", "DATE '2025-01-02'")
    True
    """
    return f"""WITH o AS (
  SELECT customer_id, order_ts, paid_amount FROM orders
  WHERE status IN {_in_list(statuses, 'statuses')} AND order_ts < {as_of_literal}
), c AS (
  SELECT customer_id,
         DATE_DIFF('day', CAST(MAX(order_ts) AS DATE), {as_of_day}) AS recency_days,
         COUNT(*) AS frequency,
         SUM(paid_amount) AS monetary_amount
  FROM o GROUP BY customer_id
), t AS (
  SELECT AVG(recency_days) AS r_mean, AVG(frequency) AS f_mean, AVG(monetary_amount) AS m_mean,
         COUNT(*) AS customers FROM c
), f AS (
  SELECT c.customer_id, c.recency_days, c.frequency, c.monetary_amount,
         CASE WHEN c.recency_days < t.r_mean THEN 1 ELSE 0 END AS r_high,
         CASE WHEN c.frequency > t.f_mean THEN 1 ELSE 0 END AS f_high,
         CASE WHEN c.monetary_amount > t.m_mean THEN 1 ELSE 0 END AS m_high
  FROM c CROSS JOIN t
)
""" + ("SELECT r_mean, f_mean, m_mean, customers FROM t" if thresholds else f"""SELECT customer_id, recency_days,
       frequency, monetary_amount, r_high, f_high, m_high, {SEGMENT_CASE} AS segment_code
FROM f ORDER BY customer_id""")


def cohort_sql(statuses: Sequence[str], freq: str, end_literal: str | None = None, by: str | None = None) -> str:
    """Cohort cells (:func:`ecomlab.users.cohort_matrix`): customers and revenue of each
    (first-purchase period, periods since) pair, the cohort sizes and the last period.

    ``end_literal``: purchases before this timestamp only (the helper on
    ``orders[orders.order_ts < end]``). ``by``: a column of the ``customers`` table (one
    row per ``customer_id``); one matrix per value, each with its own last period (the
    helper on each value's orders); customers without a value are left out (counted in
    the row with ``g`` NULL and ``k`` 0) and customers listed twice are counted (``g``
    NULL, ``k`` 1): only the buyers' rows of ``customers`` are checked, not the table.

    >>> "COUNT(DISTINCT o.customer_id)" in cohort_sql(("completed",), "M")
    True
    >>> "c.acquisition_channel AS g FROM f0 JOIN customers c" in cohort_sql(
    ...     ("completed",), "M", by="acquisition_channel")
    True
    """
    if freq not in ("M", "W"):
        raise ValueError(f"freq must be 'M' (months) or 'W' (weeks), got {freq!r}")
    before = "" if end_literal is None else f" AND order_ts < {end_literal}"
    head = f"""WITH o0 AS (
  SELECT customer_id, {period_expr('order_ts', freq)} AS p, paid_amount FROM orders
  WHERE status IN {_in_list(statuses, 'statuses')}{before}
), f0 AS (
  SELECT customer_id, MIN(p) AS first_p FROM o0 GROUP BY customer_id
)"""
    if by is None:
        return head + """, cells AS (
  SELECT f0.first_p AS cohort_p, o.p - f0.first_p AS k,
         COUNT(DISTINCT o.customer_id) AS customers, SUM(o.paid_amount) AS revenue
  FROM o0 o JOIN f0 ON o.customer_id = f0.customer_id
  GROUP BY f0.first_p, o.p - f0.first_p
), sizes AS (
  SELECT first_p AS cohort_p, COUNT(*) AS cohort_size FROM f0 GROUP BY first_p
)
SELECT cells.cohort_p, cells.k, cells.customers, cells.revenue, sizes.cohort_size,
       (SELECT MAX(p) FROM o0) AS last_p
FROM cells JOIN sizes ON cells.cohort_p = sizes.cohort_p
ORDER BY cells.cohort_p, cells.k"""
    by = by_column(by)
    return head + f""", j AS (
  SELECT f0.customer_id, f0.first_p, c.{by} AS g FROM f0 JOIN customers c ON f0.customer_id = c.customer_id
), f AS (
  SELECT customer_id, first_p, g FROM j WHERE g IS NOT NULL
), cells AS (
  SELECT f.g, f.first_p AS cohort_p, o.p - f.first_p AS k,
         COUNT(DISTINCT o.customer_id) AS customers, SUM(o.paid_amount) AS revenue, MAX(o.p) AS cell_last
  FROM o0 o JOIN f ON o.customer_id = f.customer_id
  GROUP BY f.g, f.first_p, o.p - f.first_p
), sizes AS (
  SELECT g, first_p AS cohort_p, COUNT(*) AS cohort_size FROM f GROUP BY g, first_p
), lasts AS (
  SELECT g, MAX(cell_last) AS last_p FROM cells GROUP BY g
)
SELECT CAST(cells.g AS VARCHAR) AS g, cells.cohort_p, cells.k, cells.customers, cells.revenue,
       sizes.cohort_size, lasts.last_p
FROM cells JOIN sizes ON cells.g = sizes.g AND cells.cohort_p = sizes.cohort_p
JOIN lasts ON cells.g = lasts.g
UNION ALL
SELECT NULL AS g, NULL AS cohort_p, 0 AS k, COUNT(*) AS customers, NULL AS revenue, NULL AS cohort_size,
       NULL AS last_p
FROM f0 LEFT JOIN f ON f0.customer_id = f.customer_id WHERE f.customer_id IS NULL
UNION ALL
SELECT NULL AS g, NULL AS cohort_p, 1 AS k, COUNT(*) - COUNT(DISTINCT customer_id) AS customers, NULL AS revenue,
       NULL AS cohort_size, NULL AS last_p
FROM j
ORDER BY g, cohort_p, k"""


def by_column(by: str) -> str:
    """A grouping column's name, checked to be a plain identifier (it is written into the SQL).

    >>> by_column("acquisition_channel")
    'acquisition_channel'
    """
    if not isinstance(by, str) or not by.isidentifier():
        raise ValueError(f"by must be a column name (letters, digits, _), got {by!r}")
    return by


def second_purchase_sql(statuses: Sequence[str], as_of_literal: str) -> str:
    """Each customer's first and second purchase times (:func:`ecomlab.users.time_to_second_purchase`):
    purchases = status in ``statuses`` and ``order_ts < as_of``; the second is the first
    order after the first one, or the first one again when two orders share its moment
    (0 days, as the helper's sort gives). NULL when there is none (censored). Aggregates
    and one join, no window over ``ORDER BY ts`` (ties would not matter, but an aggregate
    is one pass less).

    >>> "n_first >= 2" in second_purchase_sql(("completed",), "TIMESTAMP '2025-01-01'")
    True
    """
    return f"""WITH o AS (
  SELECT customer_id, order_ts FROM orders
  WHERE status IN {_in_list(statuses, 'statuses')} AND order_ts < {as_of_literal}
), c AS (
  SELECT customer_id, MIN(order_ts) AS first_ts FROM o GROUP BY customer_id
), s AS (
  SELECT o.customer_id, MIN(c.first_ts) AS first_ts,
         SUM(CASE WHEN o.order_ts = c.first_ts THEN 1 ELSE 0 END) AS n_first,
         MIN(CASE WHEN o.order_ts > c.first_ts THEN o.order_ts END) AS next_ts
  FROM o JOIN c ON o.customer_id = c.customer_id GROUP BY o.customer_id
)
SELECT customer_id, first_ts AS first_order_ts,
       CASE WHEN n_first >= 2 THEN first_ts ELSE next_ts END AS second_order_ts
FROM s ORDER BY customer_id"""


def orders_overview_sql(statuses: Sequence[str]) -> str:
    """Purchases (status in ``statuses``) and their distinct customers (missing ids not
    counted, as ``nunique``); the rows per status and the time range come from the profile.

    >>> "COUNT(DISTINCT customer_id) AS customers" in orders_overview_sql(("completed",))
    True
    """
    return (f"SELECT COUNT(*) AS purchases, COUNT(DISTINCT customer_id) AS customers FROM orders\n"
            f"WHERE status IN {_in_list(statuses, 'statuses')}")


def rfm_summary_sql(statuses: Sequence[str], freq: str, cal_literal: str, p_cal_end: int) -> str:
    """BG/NBD + Gamma-Gamma summary (:func:`ecomlab.users.rfm_summary`, no holdout).

    Purchases collapse to distinct periods of ``freq``; ``frequency`` = periods - 1,
    ``recency`` = last - first period, ``T`` = ``p_cal_end`` - first period,
    ``monetary_value`` = spend of the repeat periods / ``frequency`` (0 if none). The
    first period's spend is ``MIN_BY(amount, p)`` in the customer's aggregate (one row per
    period, so no ties), not a join back to the periods: one hash table less.

    >>> "COUNT(*) AS n_periods" in rfm_summary_sql(("completed",), "W", "TIMESTAMP '2025-01-01'", 2800)
    True
    """
    if freq not in ("W", "D"):
        raise ValueError(f"freq must be 'W' (weeks) or 'D' (days), got {freq!r}")
    return f"""WITH o AS (
  SELECT customer_id, {period_expr('order_ts', freq)} AS p, paid_amount FROM orders
  WHERE status IN {_in_list(statuses, 'statuses')} AND order_ts < {cal_literal}
), pc AS (
  SELECT customer_id, p, SUM(paid_amount) AS amount FROM o GROUP BY customer_id, p
), c AS (
  SELECT customer_id, COUNT(*) AS n_periods, MIN(p) AS first_p, MAX(p) AS last_p,
         SUM(amount) AS total, MIN_BY(amount, p) AS first_amount FROM pc GROUP BY customer_id
)
SELECT customer_id,
       CAST(n_periods - 1 AS DOUBLE) AS frequency,
       CAST(last_p - first_p AS DOUBLE) AS recency,
       CAST({int(p_cal_end)} - first_p AS DOUBLE) AS T,
       CASE WHEN n_periods > 1 THEN (total - first_amount) / CAST(n_periods - 1 AS DOUBLE)
            ELSE 0.0 END AS monetary_value
FROM c
ORDER BY customer_id"""


def _unit_col(unit: str) -> str:
    cols = {"session": "session_id", "visitor": "visitor_id"}
    if unit not in cols:
        raise ValueError(f"unit must be 'session' or 'visitor', got {unit!r}")
    return cols[unit]


def _steps(steps: Sequence[str]) -> tuple[str, ...]:
    steps = tuple(steps)
    if len(steps) < 2 or len(set(steps)) != len(steps):
        raise ValueError(f"steps must be >= 2 distinct event types, got {steps!r}")
    return steps


def funnel_sql(steps: Sequence[str], mode: str, unit: str, *, by: str | None = None,
               events: str = "events") -> str:
    """Units reaching each step (:func:`ecomlab.traffic.funnel`, ``by=None``).

    ``strict``: step 1 at its first event; step k at the first step-k event at or after
    the time step k-1 was reached (ties in ``ts`` count as in order) — per-step minimum
    times joined back with ``>=``, so neither row order nor window ordering matters.
    ``loose``: each step counted on its own; ``unordered``: every step 1..k, any order.
    One row, columns ``n1 .. nk``.

    ``by`` (a segment column, e.g. ``device``): one row per segment ``g`` instead, the
    segment of a unit being that of its first event (:func:`unit_segment_expr`, an
    aggregate of the per-unit pass; every unit with an event counts, whether or not it
    reached a step). ``events``: the table read (``events``, or the cleaned log
    :func:`clean_events_sql` as a subquery).

    >>> print(funnel_sql(("pv", "buy"), "loose", "session").splitlines()[-1])
    SELECT COALESCE(SUM(h1), 0) AS n1, COALESCE(SUM(h2), 0) AS n2 FROM f
    >>> funnel_sql(("pv", "buy"), "strict", "session", by="device").splitlines()[-1]
    'SELECT g, SUM(CASE WHEN k = 1 THEN n ELSE 0 END) AS n1, SUM(CASE WHEN k = 2 THEN n ELSE 0 END) AS n2 FROM c GROUP BY g ORDER BY g'
    """
    steps = _steps(steps)
    u = _unit_col(unit)
    lst = _in_list(steps, "steps")
    if by is not None:
        return _funnel_by_sql(steps, mode, u, by_column(by), events)
    base = f"WITH e AS (\n  SELECT {u} AS u, ts, event FROM {events} WHERE event IN {lst}\n)"
    if mode in ("loose", "unordered"):
        flags = ",\n         ".join(
            f"MAX(CASE WHEN event = {sql_literal(s, 'steps')} THEN 1 ELSE 0 END) AS h{i}"
            for i, s in enumerate(steps, 1))
        if mode == "loose":
            sums = ", ".join(f"COALESCE(SUM(h{i}), 0) AS n{i}" for i in range(1, len(steps) + 1))
        else:
            sums = ", ".join(
                "COALESCE(SUM(" + " * ".join(f"h{j}" for j in range(1, i + 1)) + f"), 0) AS n{i}"
                for i in range(1, len(steps) + 1))
        return f"{base}, f AS (\n  SELECT u, {flags}\n  FROM e GROUP BY u\n)\nSELECT {sums} FROM f"
    if mode != "strict":
        raise ValueError(f"mode must be 'strict', 'unordered' or 'loose', got {mode!r}")
    ctes = [f"s1 AS (\n  SELECT u, MIN(ts) AS t FROM e WHERE event = {sql_literal(steps[0], 'steps')} GROUP BY u\n)"]
    for i, s in enumerate(steps[1:], 2):
        ctes.append(
            f"s{i} AS (\n  SELECT e.u, MIN(e.ts) AS t FROM e JOIN s{i - 1} p ON e.u = p.u\n"
            f"  WHERE e.event = {sql_literal(s, 'steps')} AND e.ts >= p.t GROUP BY e.u\n)")
    counts = ", ".join(f"(SELECT COUNT(*) FROM s{i}) AS n{i}" for i in range(1, len(steps) + 1))
    return base + ", " + ", ".join(ctes) + f"\nSELECT {counts}"


def daily_kpis_sql(placed_statuses: Sequence[str] = metrics.PLACED_STATUSES, window: str = "TRUE") -> str:
    """Daily UV, buyers, placed orders and GMV on the days of the behaviour log
    (:func:`ecomlab.kpi.daily_kpis`, ``by=None``); ``window``: a condition on the events' ``ts``.

    >>> "COUNT(DISTINCT visitor_id)" in daily_kpis_sql()
    True
    """
    return f"""WITH d AS (
  {kpi_visitors_sql(window)}
), od AS (
  {kpi_orders_sql(placed_statuses)}
)
SELECT d.day AS date, d.uv, COALESCE(od.buyers, 0) AS buyers, COALESCE(od.orders, 0) AS orders,
       COALESCE(od.gmv, 0.0) AS gmv
FROM d LEFT JOIN od ON d.day = od.day
ORDER BY d.day"""


def _kpi_keys(ts: str, by: str | None, daily: bool) -> list[str]:
    return ([f"CAST({ts} AS DATE)"] if daily else []) + ([f"CAST({by_column(by)} AS VARCHAR)"] if by else [])


def kpi_visitors_sql(window: str = "TRUE", *, by: str | None = None, daily: bool = True) -> str:
    """UV, the events' half of the KPI tree (:func:`ecomlab.kpi.daily_kpis` /
    :func:`~ecomlab.kpi.period_kpis`): distinct ``visitor_id`` per calendar day (``daily``)
    and per value of the events column ``by``, over the events whose ``ts`` meets
    ``window``. A NULL ``by`` value is a group of its own (the helpers' segment
    ``'missing'``); columns ``day``, ``seg``, ``uv`` as asked.

    >>> kpi_visitors_sql(by="device").splitlines()[0]
    'SELECT CAST(ts AS DATE) AS day, CAST(device AS VARCHAR) AS seg, COUNT(DISTINCT visitor_id) AS uv'
    """
    keys = _kpi_keys("ts", by, daily)
    names = (["day"] if daily else []) + (["seg"] if by else [])
    sel = "".join(f"{k} AS {n}, " for k, n in zip(keys, names, strict=True))
    group = f"\n  GROUP BY {', '.join(keys)}" if keys else ""
    return f"SELECT {sel}COUNT(DISTINCT visitor_id) AS uv\n  FROM events WHERE {window}{group}"


def kpi_orders_sql(placed_statuses: Sequence[str] = metrics.PLACED_STATUSES, *, by: str | None = None,
                   daily: bool = True, window: str = "TRUE", event_window: str | None = None) -> str:
    """The orders' half of the KPI tree per calendar day of ``order_ts`` (``daily``) and per
    value of the orders column ``by``, over the orders meeting ``window`` (any status):
    ``rows_in`` (orders of any status), ``orders`` (placed: status in ``placed_statuses``),
    ``buyers`` (distinct non-NULL ``customer_id`` of placed orders, as ``nunique``),
    ``gmv`` (sum of their ``paid_amount``, NULL skipped as pandas skips NaN; 0.0 when none),
    ``no_customer`` / ``no_amount`` (placed orders with a NULL id / amount). NULL days and
    NULL ``by`` values stay groups (SQL keeps them; the caller decides, counted).
    ``event_window``: keep only orders on a day the events meeting this condition cover
    (the restriction of :func:`ecomlab.kpi.period_kpis`).

    >>> "COUNT(DISTINCT CASE WHEN status IN ('completed', 'refunded') THEN customer_id END)" in kpi_orders_sql()
    True
    """
    keys = _kpi_keys("order_ts", by, daily)
    names = (["day"] if daily else []) + (["seg"] if by else [])
    sel = "".join(f"{k} AS {n}, " for k, n in zip(keys, names, strict=True))
    p = f"status IN {_in_list(placed_statuses, 'statuses')}"
    where = window
    if event_window is not None:
        where += (f" AND CAST(order_ts AS DATE) IN (SELECT DISTINCT CAST(ts AS DATE) FROM events "
                  f"WHERE {event_window})")
    group = f"\n  GROUP BY {', '.join(keys)}" if keys else ""
    return (f"SELECT {sel}COUNT(*) AS rows_in, SUM(CASE WHEN {p} THEN 1 ELSE 0 END) AS orders,\n"
            f"  COUNT(DISTINCT CASE WHEN {p} THEN customer_id END) AS buyers,\n"
            f"  COALESCE(SUM(CASE WHEN {p} THEN paid_amount END), 0.0) AS gmv,\n"
            f"  SUM(CASE WHEN {p} AND customer_id IS NULL THEN 1 ELSE 0 END) AS no_customer,\n"
            f"  SUM(CASE WHEN {p} AND paid_amount IS NULL THEN 1 ELSE 0 END) AS no_amount\n"
            f"  FROM orders WHERE {where}{group}")


def _window(start, end, arg: str) -> str:
    cond = []
    if start is not None:
        cond.append(f"order_ts >= {timestamp_literal(start, arg + ' start')}")
    if end is not None:
        cond.append(f"order_ts < {timestamp_literal(end, arg + ' end')}")
    return "".join(f" AND {c}" for c in cond)


def repurchase_sql(statuses: Sequence[str], start, end) -> str:
    """Buyers in ``[start, end)`` and those with >= 2 orders (:func:`ecomlab.metrics.repurchase_rate`;
    NULL customers left out, as ``groupby`` leaves them out, and counted by the caller).

    >>> "n >= 2" in repurchase_sql(("completed",), None, None)
    True
    """
    return f"""WITH o AS (
  SELECT customer_id, COUNT(*) AS n FROM orders
  WHERE status IN {_in_list(statuses, 'statuses')} AND customer_id IS NOT NULL{_window(start, end, 'period')}
  GROUP BY customer_id
)
SELECT COUNT(*) AS buyers, COALESCE(SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0) AS repeat_buyers FROM o"""


def return_purchase_sql(statuses: Sequence[str], period1: tuple, period2: tuple) -> str:
    """Period-1 buyers and those who buy again in period 2 (half-open periods;
    :func:`ecomlab.metrics.return_purchase_rate`; NULL customers left out).

    >>> "LEFT JOIN b2" in return_purchase_sql(("completed",), ("2025-01-01", "2025-02-01"),
    ...                                       ("2025-02-01", "2025-03-01"))
    True
    """
    for name, p in (("period1", period1), ("period2", period2)):
        if not isinstance(p, (tuple, list)) or len(p) != 2:
            raise ValueError(f"{name} must be a (start, end) pair, got {p!r}")
    lst = _in_list(statuses, "statuses")
    return f"""WITH b1 AS (
  SELECT DISTINCT customer_id FROM orders
  WHERE status IN {lst} AND customer_id IS NOT NULL{_window(*period1, 'period1')}
), b2 AS (
  SELECT DISTINCT customer_id FROM orders
  WHERE status IN {lst} AND customer_id IS NOT NULL{_window(*period2, 'period2')}
)
SELECT COUNT(*) AS buyers, COUNT(b2.customer_id) AS returning_buyers
FROM b1 LEFT JOIN b2 ON b1.customer_id = b2.customer_id"""


def _funnel_by_sql(steps: tuple[str, ...], mode: str, u: str, by: str, events: str) -> str:
    """:func:`funnel_sql` per segment, the segment one more aggregate of the per-unit pass.

    One ``GROUP BY u`` over every event of a unit gives its segment
    (:func:`unit_segment_expr`) with its step flags (loose, unordered) or its first
    step-1 time (strict); a strict unit then carries its segment through the step joins
    (``MIN(p.g)``: one value per unit). Counts per segment: units with an event (``k =
    0``: a segment whose units reach no step is still listed), then those reaching each
    step — no join of a per-unit segment table next to the step joins."""
    k = len(steps)
    head = (f"WITH a AS (\n  SELECT {u} AS u, ts, event, COALESCE(CAST({by} AS VARCHAR), 'missing') AS seg "
            f"FROM {events}\n)")
    seg = unit_segment_expr("ts", "seg")
    if mode in ("loose", "unordered"):
        flags = ",\n         ".join(
            f"MAX(CASE WHEN event = {sql_literal(s, 'steps')} THEN 1 ELSE 0 END) AS h{i}"
            for i, s in enumerate(steps, 1))
        reach = [f"h{i}" if mode == "loose" else " * ".join(f"h{j}" for j in range(1, i + 1))
                 for i in range(1, k + 1)]
        sums = ", ".join(f"SUM({r}) AS n{i}" for i, r in enumerate(reach, 1))
        return (f"{head}, f AS (\n  SELECT u, {seg} AS g,\n         {flags}\n  FROM a GROUP BY u\n)\n"
                f"SELECT g, {sums} FROM f GROUP BY g ORDER BY g")
    if mode != "strict":
        raise ValueError(f"mode must be 'strict', 'unordered' or 'loose', got {mode!r}")
    first = sql_literal(steps[0], "steps")
    ctes = [f"f AS (\n  SELECT u, {seg} AS g, MIN(CASE WHEN event = {first} THEN ts END) AS t\n  FROM a GROUP BY u\n)",
            f"e AS (\n  SELECT u, ts, event FROM a WHERE event IN {_in_list(steps[1:], 'steps')}\n)"]
    prev = "f"
    for i, s in enumerate(steps[1:], 2):
        ctes.append(
            f"s{i} AS (\n  SELECT e.u, MIN(p.g) AS g, MIN(e.ts) AS t FROM e JOIN {prev} p ON e.u = p.u\n"
            f"  WHERE e.event = {sql_literal(s, 'steps')} AND e.ts >= p.t GROUP BY e.u\n)")
        prev = f"s{i}"
    counts = ["SELECT g, 0 AS k, COUNT(*) AS n FROM f GROUP BY g",
              "SELECT g, 1 AS k, COUNT(*) AS n FROM f WHERE t IS NOT NULL GROUP BY g"]
    counts += [f"SELECT g, {i} AS k, COUNT(*) AS n FROM s{i} GROUP BY g" for i in range(2, k + 1)]
    union = "\n  UNION ALL ".join(counts)
    sums = ", ".join(f"SUM(CASE WHEN k = {i} THEN n ELSE 0 END) AS n{i}" for i in range(1, k + 1))
    return (head + ", " + ", ".join(ctes) + f", c AS (\n  {union}\n)\n"
            f"SELECT g, {sums} FROM c GROUP BY g ORDER BY g")


def unit_segment_expr(ts: str, seg: str) -> str:
    """The aggregate giving a unit's segment inside its ``GROUP BY``: ``seg`` (a label;
    ``'missing'`` for a missing value, :data:`ecomlab.traffic.MISSING_LABEL`) of its first
    event (earliest ``ts``), as ``MIN`` of the pair ``(ts, seg)`` (a struct: ordered by
    ``ts``, then ``seg``; Spark orders structs the same way).

    Ties (two first events of one unit with different segments at the same ``ts``): the
    pandas helper takes the earlier *row* of its table, which a table read in parallel
    does not have; here the smallest label wins (``'missing'`` compared as text), the same
    on every engine and in any row order.

    >>> unit_segment_expr("ts", "seg")
    "MIN({'t': ts, 'g': seg}).g"
    """
    return f"MIN({{'t': {ts}, 'g': {seg}}}).g"


def clean_events_sql(lo_literal: str, hi_literal: str) -> str:
    """The cleaned event log as a subquery (:func:`ecomlab.traffic.clean_events`): rows
    with a timestamp in ``[lo, hi)``, exact duplicate rows (every column equal, NULLs
    equal as in ``DataFrame.duplicated``) kept once. Use it as ``FROM <this>``.

    >>> clean_events_sql("TIMESTAMP '2025-01-01'", "TIMESTAMP '2025-02-01'")
    "(SELECT DISTINCT * FROM events WHERE ts >= TIMESTAMP '2025-01-01' AND ts < TIMESTAMP '2025-02-01') AS ce"
    """
    return f"(SELECT DISTINCT * FROM events WHERE ts >= {lo_literal} AND ts < {hi_literal}) AS ce"


def event_days_sql() -> str:
    """Events per calendar day (non-missing ``ts``), the input of the window rule of
    :func:`ecomlab.traffic.event_window`.

    >>> print(event_days_sql().splitlines()[1])
    WHERE ts IS NOT NULL GROUP BY DATE_DIFF('day', DATE '1970-01-01', CAST(ts AS DATE)) ORDER BY day
    """
    day = _EPOCH_DAYS.format(col="ts")
    return f"SELECT {day} AS day, COUNT(*) AS n FROM events\nWHERE ts IS NOT NULL GROUP BY {day} ORDER BY day"


def events_quality_sql(columns: Sequence[str], lo_literal: str, hi_literal: str, device: bool) -> str:
    """The counts of :func:`ecomlab.traffic.clean_events`' report in one pass over the
    groups of identical rows (``GROUP BY`` every column; NULLs form one group, as pandas
    compares missing values equal): ``rows`` (first rule wins: missing timestamp, then
    duplicate, then outside the window) and ``flagged`` (each rule on its own).

    >>> "SUM(n - 1), 0) AS flag_dup" in events_quality_sql(["ts", "event"], "TIMESTAMP '2025-01-01'",
    ...                                                  "TIMESTAMP '2025-02-01'", False)
    True
    """
    cols = ", ".join(by_column(c) for c in columns)
    inside = f"ts >= {lo_literal} AND ts < {hi_literal}"
    dev = (f"SUM(CASE WHEN {inside} AND device IS NULL THEN 1 ELSE 0 END) AS missing_dev,\n"
           "       SUM(CASE WHEN device IS NULL THEN n ELSE 0 END) AS flag_dev") if device else \
        "0 AS missing_dev, 0 AS flag_dev"
    return f"""WITH g AS (
  SELECT {cols}, COUNT(*) AS n FROM events GROUP BY {cols}
)
SELECT COALESCE(SUM(n), 0) AS rows_in,
       COALESCE(SUM(CASE WHEN ts IS NULL THEN n ELSE 0 END), 0) AS missing_ts,
       COALESCE(SUM(CASE WHEN ts IS NOT NULL THEN n - 1 ELSE 0 END), 0) AS dup,
       COALESCE(SUM(n - 1), 0) AS flag_dup,
       COALESCE(SUM(CASE WHEN ts < {lo_literal} THEN 1 ELSE 0 END), 0) AS before_n,
       COALESCE(SUM(CASE WHEN ts < {lo_literal} THEN n ELSE 0 END), 0) AS flag_before,
       COALESCE(SUM(CASE WHEN ts >= {hi_literal} THEN 1 ELSE 0 END), 0) AS after_n,
       COALESCE(SUM(CASE WHEN ts >= {hi_literal} THEN n ELSE 0 END), 0) AS flag_after,
       COALESCE(SUM(CASE WHEN {inside} THEN 1 ELSE 0 END), 0) AS rows_out,
       {dev}
FROM g"""


def log_counts_sql(lo_literal: str, hi_literal: str, device: bool) -> str:
    """The counts of :func:`ecomlab.traffic.clean_events`' report that need no comparison
    of whole rows, in one scan of the log: rows, rows without a timestamp, before / on or
    after the window, without a device (the ``flagged`` column) and distinct visitors.

    >>> "COUNT(DISTINCT visitor_id) AS visitors" in log_counts_sql("TIMESTAMP '2025-01-01'",
    ...                                                           "TIMESTAMP '2025-02-01'", True)
    True
    """
    dev = "COUNT(*) - COUNT(device)" if device else "0"
    return (f"SELECT COUNT(*) AS rows_in, COUNT(*) - COUNT(ts) AS missing_ts,\n"
            f"       COALESCE(SUM(CASE WHEN ts < {lo_literal} THEN 1 ELSE 0 END), 0) AS flag_before,\n"
            f"       COALESCE(SUM(CASE WHEN ts >= {hi_literal} THEN 1 ELSE 0 END), 0) AS flag_after,\n"
            f"       {dev} AS flag_dev, COUNT(DISTINCT visitor_id) AS visitors\nFROM events")


def removed_distinct_sql(lo_literal: str, hi_literal: str) -> str:
    """Distinct rows (NULLs equal, as ``DataFrame.duplicated`` compares them) among those
    the cleaning removes — without a timestamp, before the window, on or after its end.
    With the distinct rows of the cleaned log they give the duplicate counts of the
    report: rows with the same ``ts`` category are the only candidates for equality.

    >>> removed_distinct_sql("TIMESTAMP '2025-01-01'", "TIMESTAMP '2025-02-01'").splitlines()[-1]
    "FROM (SELECT DISTINCT * FROM events WHERE ts IS NULL OR ts < TIMESTAMP '2025-01-01' OR ts >= TIMESTAMP '2025-02-01') AS r"
    """
    return (f"SELECT COALESCE(SUM(CASE WHEN ts IS NULL THEN 1 ELSE 0 END), 0) AS d_null,\n"
            f"       COALESCE(SUM(CASE WHEN ts < {lo_literal} THEN 1 ELSE 0 END), 0) AS d_before,\n"
            f"       COALESCE(SUM(CASE WHEN ts >= {hi_literal} THEN 1 ELSE 0 END), 0) AS d_after\n"
            f"FROM (SELECT DISTINCT * FROM events WHERE ts IS NULL OR ts < {lo_literal} OR ts >= {hi_literal}) AS r")


def cleaned_counts_sql(device: bool) -> str:
    """Rows and rows without a device per event type of an already cleaned log (the
    ``events`` a :func:`ecomlab.engines.clean_log` copy registers).

    >>> cleaned_counts_sql(False).splitlines()[0]
    'SELECT CAST(event AS VARCHAR) AS event, COUNT(*) AS n, 0 AS missing_dev'
    """
    dev = "COUNT(*) - COUNT(device)" if device else "0"
    return (f"SELECT CAST(event AS VARCHAR) AS event, COUNT(*) AS n, {dev} AS missing_dev\n"
            f"FROM events GROUP BY CAST(event AS VARCHAR) ORDER BY event")


def clean_summary_sql(clean: str) -> str:
    """Sessions of the cleaned log and its event types (one row per type with its rows).

    >>> "COUNT(DISTINCT session_id)" in clean_summary_sql("events")
    True
    """
    return (f"SELECT CAST(event AS VARCHAR) AS event, COUNT(*) AS n, "
            f"(SELECT COUNT(DISTINCT session_id) FROM {clean.replace(') AS ce', ') AS ce2')}) AS sessions\n"
            f"FROM {clean} GROUP BY CAST(event AS VARCHAR) ORDER BY event")


def cart_abandonment_sql(cart: str, buy: str, unit: str, events: str = "events") -> str:
    """Units with a ``cart`` event and those of them without a ``buy`` event
    (:func:`ecomlab.traffic.cart_abandonment`, ``by=None``).

    >>> "hb = 0" in cart_abandonment_sql("cart", "buy", "session")
    True
    """
    u = _unit_col(unit)
    c, b = sql_literal(cart, "cart"), sql_literal(buy, "buy")
    return f"""WITH f AS (
  SELECT {u} AS u, MAX(CASE WHEN event = {c} THEN 1 ELSE 0 END) AS hc,
         MAX(CASE WHEN event = {b} THEN 1 ELSE 0 END) AS hb
  FROM {events} WHERE event IN ({c}, {b}) GROUP BY {u}
)
SELECT COALESCE(SUM(hc), 0) AS carts, COALESCE(SUM(CASE WHEN hc = 1 AND hb = 0 THEN 1 ELSE 0 END), 0) AS abandoned
FROM f"""


def hourly_activity_sql(events: str = "events") -> str:
    """Events per hour of day of the stored (wall-clock) timestamps
    (:func:`ecomlab.traffic.activity_heatmap` summed over weekdays).

    >>> hourly_activity_sql().splitlines()[0]
    'SELECT HOUR(ts) AS hour, COUNT(*) AS n FROM events'
    """
    return f"SELECT HOUR(ts) AS hour, COUNT(*) AS n FROM {events}\nGROUP BY HOUR(ts) ORDER BY hour"


def top_paths_sql(states: Sequence[str], max_len: int, n: int, events: str = "events") -> str:
    """The ``n`` most common session paths (:func:`ecomlab.traffic.top_paths`, repeats
    collapsed), each encoded as the helper encodes it: digit ``state + 1`` at place
    ``base ** position`` (base = states + 1), times 2, plus 1 when cut at ``max_len``.

    Order within a session: ``ts``, then the causal order of the event types, as the
    helper sorts; rows equal in both are the same state, so the remaining ties cannot
    change a path. Paths with equal counts: the one whose first session id is smallest
    comes first (``value_counts`` keeps the order of first appearance over the
    sessions sorted by id).

    >>> "ROW_NUMBER() OVER (PARTITION BY u ORDER BY ts, st)" in top_paths_sql(("pv", "buy"), 5, 3)
    True
    """
    states = tuple(states)
    base = len(states) + 1
    st = "CASE " + " ".join(f"WHEN event = {sql_literal(s, 'steps')} THEN {i}" for i, s in enumerate(states)) + " END"
    return f"""WITH e AS (
  SELECT session_id AS u, ts, {st} AS st FROM {events}
), l AS (
  SELECT u, ts, st, LAG(st) OVER (PARTITION BY u ORDER BY ts, st) AS prev FROM e
), k AS (
  SELECT u, ts, st FROM l WHERE prev IS NULL OR prev <> st
), p AS (
  SELECT u, st, ROW_NUMBER() OVER (PARTITION BY u ORDER BY ts, st) - 1 AS pos FROM k
), c AS (
  SELECT u, SUM(CASE WHEN pos < {int(max_len)} THEN CAST(st + 1 AS BIGINT) * CAST(POWER({base}, pos) AS BIGINT)
                    ELSE 0 END) * 2 + CASE WHEN COUNT(*) > {int(max_len)} THEN 1 ELSE 0 END AS code
  FROM p GROUP BY u
)
SELECT code, COUNT(*) AS units, MIN(u) AS first_u, (SELECT COUNT(*) FROM c) AS total
FROM c GROUP BY code ORDER BY units DESC, first_u LIMIT {int(n)}"""
