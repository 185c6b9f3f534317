"""ecomlab.engines, the metrics of the cohorts template (issue 18): the cohort matrix with an
end date and by a customers column (first-purchase cohorts per acquisition channel), the
time to the second purchase and the orders overview — each equal to its pandas helper
through DuckDB (here) and Spark (tests/test_engines_spark.py): exact counts, sums to 1e-9.
Never against fixed values of the bundled world: always pandas against the engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_engines import _ids, assert_same  # tests/ is on sys.path

from ecomlab import engines, users
from ecomlab.datasets import data_path

#: (metric, params) of the cohorts template; shared with tests/test_engines_spark.py by name.
COHORT_CASES = [
    ("cohort_matrix", {"end": "2025-12-01"}),
    ("cohort_matrix", {"end": "2025-12-01", "metric": "customers", "by": "acquisition_channel"}),
    ("cohort_matrix", {"freq": "W", "metric": "revenue", "by": "acquisition_channel"}),
    ("second_purchase", {}),
    ("second_purchase", {"as_of": "2025-06-01 12:00", "statuses": ("completed", "refunded")}),
    ("orders_overview", {}),
]


@pytest.fixture(scope="module")
def bundled_frames():
    return engines._read_pandas(data_path(), ("orders", "customers"))


@pytest.mark.parametrize("case", COHORT_CASES, ids=_ids)
def test_bundled_world_pandas_equals_duckdb(case, bundled_frames) -> None:
    name, params = case
    ref = engines.compute(name, None, engine="pandas", frames=bundled_frames, **params)
    got = engines.compute(name, data_path(), engine="duckdb", **params)
    assert len(ref) > 0
    assert_same(ref, got)
    for key in ("cohort_sizes", "rows_on_after_end", "last_period", "as_of"):
        assert ref.attrs.get(key) == got.attrs.get(key), key


def test_results_are_the_helpers_own(bundled_frames) -> None:
    """compute()'s pandas path and the engine give what the template's helpers give."""
    o = bundled_frames["orders"]
    end = pd.Timestamp("2025-12-01")
    helper = users.cohort_matrix(o[o["order_ts"] < end])
    res = engines.cohort_result(engines.compute("cohort_matrix", data_path(), end=end))
    pd.testing.assert_frame_equal(res.matrix, helper.matrix, check_exact=False, rtol=1e-12)
    pd.testing.assert_series_equal(res.cohort_sizes, helper.cohort_sizes, check_dtype=False)
    assert res.last_period == helper.last_period and res.metric == "retention"
    a = users.calendar_effects(res, max_age=12)
    b = users.calendar_effects(helper, max_age=12)
    np.testing.assert_allclose(a.table["effect"], b.table["effect"], rtol=1e-9)

    sp = users.time_to_second_purchase(o)
    got = engines.second_purchase_result(engines.compute("second_purchase", data_path()))
    assert (got.n_customers, got.n_censored, got.as_of) == (sp.n_customers, sp.n_censored, sp.as_of)
    assert got.median_days_observed == sp.median_days_observed
    pd.testing.assert_frame_equal(got.km(), sp.km(), check_exact=False, rtol=1e-9)

    ov = engines.compute("orders_overview", data_path()).iloc[0]
    kept = o[o["status"] == "completed"]
    assert (ov["orders"], ov["purchases"], ov["customers"]) == (len(o), len(kept), kept["customer_id"].nunique())


# -------------------------------------------------------------------------------------
# Traps and refusals
# -------------------------------------------------------------------------------------
def _orders(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_ts", "status", "paid_amount"])
    df["order_ts"] = pd.to_datetime(df["order_ts"], format="ISO8601")
    return df


def _source(tmp_path, orders: pd.DataFrame, customers: pd.DataFrame | None = None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    orders.to_parquet(tmp_path / "orders.parquet", index=False)
    if customers is not None:
        customers.to_parquet(tmp_path / "customers.parquet", index=False)
    return tmp_path


def _both(name, src, **params) -> pd.DataFrame:
    ref = engines.compute(name, src, engine="pandas", **params)
    got = engines.compute(name, src, engine="duckdb", **params)
    assert_same(ref, got)
    return got


def test_second_purchase_ties_same_moment_and_censoring(tmp_path) -> None:
    """Two orders at the first moment: second purchase at 0 days (the helper's sort); a
    cancelled order is no purchase; a customer with one purchase is censored at as_of."""
    o = _orders([
        ("1", "a", "2025-01-01 10:00", "completed", 1.0), ("2", "a", "2025-01-01 10:00", "completed", 1.0),
        ("3", "a", "2025-01-05 10:00", "completed", 1.0),
        ("4", "b", "2025-01-02 00:00", "completed", 1.0), ("5", "b", "2025-01-03 12:00", "cancelled", 1.0),
        ("6", "b", "2025-01-04 06:00", "completed", 1.0),
        ("7", "c", "2025-01-06 18:00", "completed", 1.0),
    ])
    got = _both("second_purchase", _source(tmp_path, o))
    assert got["duration_days"].tolist() == [0.0, 2.25, 0.25]  # as_of: midnight after the last order
    assert got["observed"].tolist() == [True, True, False]
    assert got.attrs["excluded"] == {"status=cancelled": 1}
    late = _both("second_purchase", tmp_path, as_of="2025-01-04")
    assert late["observed"].tolist() == [True, False]
    assert late.attrs["excluded"] == {"status=cancelled": 1, "on/after 2025-01-04 00:00": 3}


def test_cohorts_by_a_customer_column_count_customers_without_a_value(tmp_path) -> None:
    """SQL would keep customers without a channel as a NULL group; pandas' groupby drops
    them. Both leave them out and count them (missing value and missing from the table)."""
    o = _orders([
        ("1", "a", "2025-01-03", "completed", 10.0), ("2", "a", "2025-02-03", "completed", 20.0),
        ("3", "b", "2025-01-10", "completed", 5.0), ("4", "c", "2025-02-10", "completed", 7.0),
        ("5", "d", "2025-02-11", "completed", 8.0), ("6", "e", "2025-03-01", "completed", 9.0),
        ("7", "b", "2025-03-02", "refunded", 9.0),
    ])
    cust = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "acquisition_channel": ["x", "y", None, "x"]})
    src = _source(tmp_path, o, cust)
    got = _both("cohort_matrix", src, metric="customers", by="acquisition_channel", end="2025-03-01")
    assert got.attrs["excluded"] == {"status=refunded": 1, "on/after 2025-03-01 00:00": 1,
                                     "customers without acquisition_channel": 1}  # c (None); e is after end
    assert got.index.get_level_values(0).unique().tolist() == ["x", "y"]
    assert got.attrs["cohort_sizes"] == [1, 1, 1]  # x: a (Jan), d (Feb); y: b (Jan)
    assert got.loc[("x", pd.Timestamp("2025-01-01")), 1] == 1.0   # a back in February
    # y's own last month is January: its month 1 is not observed (NaN), not zero
    assert np.isnan(got.loc[("y", pd.Timestamp("2025-01-01")), 1])
    assert got.attrs["rows_on_after_end"] == 2


def test_duplicated_customers_are_refused_naming_the_table(tmp_path) -> None:
    o = _orders([("1", "a", "2025-01-03", "completed", 10.0), ("2", "a", "2025-02-03", "completed", 20.0)])
    cust = pd.DataFrame({"customer_id": ["a", "a"], "acquisition_channel": ["x", "y"]})
    src = _source(tmp_path, o, cust)
    for e in ("pandas", "duckdb"):
        with pytest.raises(ValueError, match=r"customers\['customer_id'\] has 1 duplicated id"):
            engines.compute("cohort_matrix", src, engine=e, by="acquisition_channel")
    # a customer listed twice who never bought is not counted anywhere: not refused (the
    # check runs on the buyers' rows of the table only, not a second pass over all of it)
    cust = pd.DataFrame({"customer_id": ["a", "z", "z"], "acquisition_channel": ["x", "x", "y"]})
    got = _both("cohort_matrix", _source(tmp_path / "z", o, cust), by="acquisition_channel")
    assert got.index.get_level_values(0).unique().tolist() == ["x"]


def test_bad_arguments_and_empty_results_are_refused(tmp_path) -> None:
    o = _orders([("1", "a", "2025-01-03", "completed", 10.0), ("2", "b", "2025-02-03", "cancelled", 20.0)])
    src = _source(tmp_path, o, pd.DataFrame({"customer_id": ["a"], "acquisition_channel": ["x"]}))
    for e in ("pandas", "duckdb"):
        with pytest.raises(ValueError, match="as_of=.* is after the end of the data"):
            engines.compute("second_purchase", src, engine=e, as_of="2026-01-01")
        with pytest.raises(ValueError, match="no purchases left"):
            engines.compute("cohort_matrix", src, engine=e, end="2025-01-02")
    with pytest.raises(ValueError, match="by must be a column name"):
        engines.compute("cohort_matrix", src, engine="duckdb", by="acquisition_channel; DROP TABLE x")
    with pytest.raises(ValueError, match=r"customers is missing column\(s\) \['city_tier'\]"):
        engines.compute("cohort_matrix", src, engine="duckdb", by="city_tier")
    with pytest.raises(ValueError, match="no customer with a purchase has a 'acquisition_channel'"):
        engines.compute("cohort_matrix", _source(tmp_path / "n", o, pd.DataFrame(
            {"customer_id": ["b"], "acquisition_channel": ["x"]})), engine="duckdb", by="acquisition_channel")
    with pytest.raises(ValueError, match="must be a cohort_matrix result"):
        engines.cohort_result(pd.DataFrame())
    with pytest.raises(ValueError, match="must be a second_purchase result"):
        engines.second_purchase_result(pd.DataFrame({"x": [1]}))
    ov = _both("orders_overview", src)
    assert ov[["orders", "purchases", "customers"]].iloc[0].tolist() == [2, 1, 1]
    assert ov.attrs["excluded"] == {"status=cancelled": 1}


def test_one_order(tmp_path) -> None:
    src = _source(tmp_path, _orders([("1", "a", "2025-01-03 06:00", "completed", 10.0)]),
                  pd.DataFrame({"customer_id": ["a"], "acquisition_channel": ["x"]}))
    assert _both("second_purchase", src)["duration_days"].tolist() == [0.75]
    m = _both("cohort_matrix", src, by="acquisition_channel")
    assert m.shape == (1, 1) and m.iloc[0, 0] == 1.0


# -------------------------------------------------------------------------------------
# Property: random orders with ties, statuses and missing channels agree
# -------------------------------------------------------------------------------------
_row = st.tuples(st.sampled_from("abcdef"), st.integers(0, 120), st.sampled_from([0, 0, 0, 43200]),
                 st.sampled_from(["completed", "completed", "cancelled"]),
                 st.floats(0.01, 1e4, allow_nan=False).map(lambda x: round(x, 2)))


@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no slow shrinking
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=40),
       channels=st.lists(st.sampled_from(["x", "y", None]), min_size=6, max_size=6))
def test_random_orders_agree(tmp_path_factory, rows, channels) -> None:
    o = pd.DataFrame({
        "order_id": [str(i) for i in range(len(rows))],
        "customer_id": [r[0] for r in rows],
        "order_ts": pd.Timestamp("2025-01-01") + pd.to_timedelta([r[1] * 86400 + r[2] for r in rows], unit="s"),
        "status": [r[3] for r in rows],
        "paid_amount": [r[4] for r in rows],
    })
    if not (o["status"] == "completed").any():
        return
    cust = pd.DataFrame({"customer_id": list("abcde"), "acquisition_channel": channels[:5]})  # f: not listed
    src = _source(tmp_path_factory.mktemp("rand"), o, cust)
    _both("second_purchase", src)
    for freq in ("M", "W"):
        _both("cohort_matrix", src, freq=freq, metric="revenue")
    kept_channel = o.loc[o["status"] == "completed", "customer_id"].map(cust.set_index("customer_id")
                                                                         ["acquisition_channel"])
    if kept_channel.notna().any():
        _both("cohort_matrix", src, metric="customers", by="acquisition_channel")


# -------------------------------------------------------------------------------------
# Speed without a change of result: rows and missing values from the Parquet footers
# -------------------------------------------------------------------------------------
def test_footer_profile_equals_a_scan_and_falls_back_when_it_cannot_answer(tmp_path) -> None:
    """The funnel's check for missing values reads the Parquet footers (no scan of the
    event log); the counts equal a scan's, and a source the footers cannot answer for
    exactly (CSV, a file without the column, no statistics) is scanned instead."""
    ev = pd.DataFrame({"session_id": ["s1", None, "s2", "s3"], "visitor_id": ["v1", "v1", None, "v3"],
                       "ts": pd.to_datetime(["2025-11-01 10:00", "2025-11-01 10:01", None, "2025-11-02 00:00"]),
                       "event": ["pv", "cart", "buy", "pv"]})
    needed = ("session_id", "visitor_id", "ts", "event")
    (tmp_path / "events").mkdir()
    ev.iloc[:2].to_parquet(tmp_path / "events" / "a.parquet", index=False, row_group_size=1)
    ev.iloc[2:].to_parquet(tmp_path / "events" / "b.parquet", index=False)
    run = engines._Runner("duckdb", tmp_path, ("events",))
    fast = engines._parquet_footer_profile(run, "events", needed)
    scan = engines._profile(run, "events", needed, ts_range=True)
    assert fast == {"n_rows": 4, "nulls": {"session_id": 1, "visitor_id": 1, "ts": 1, "event": 0}, "count": {}}
    assert (fast["n_rows"], fast["nulls"]) == (scan["n_rows"], scan["nulls"])
    assert engines._profile(run, "events", needed, ts_range=False) == fast
    ev.iloc[2:].drop(columns="visitor_id").to_parquet(tmp_path / "events" / "b.parquet", index=False)
    run = engines._Runner("duckdb", tmp_path, ("events",))
    assert engines._parquet_footer_profile(run, "events", needed) is None  # b lacks the column: scan
    assert engines._profile(run, "events", needed, ts_range=False)["nulls"]["visitor_id"] == 2  # b: all NULL
    ev.iloc[2:].to_parquet(tmp_path / "events" / "b.parquet", index=False, write_statistics=False)
    run = engines._Runner("duckdb", tmp_path, ("events",))
    assert engines._parquet_footer_profile(run, "events", needed) is None  # no statistics: scan
    ev.to_csv(tmp_path / "ev.csv", index=False)
    run = engines._Runner("duckdb", {"events": tmp_path / "ev.csv"}, ("events",))
    assert engines._parquet_footer_profile(run, "events", needed) is None
    with pytest.raises(ValueError, match=r"events\['session_id'\] has 1 missing value"):
        engines.compute("funnel", tmp_path, mode="strict")  # refused from the footers, as pandas refuses
