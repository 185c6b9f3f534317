"""Truth recovery for lesson 04-1 (RFM and value segments): the notebook's results vs the data.

RFM is arithmetic on the orders table, so most checks are exact, against the orders table
itself and the planted blemishes in ``truth.json``:
- the reference date is the day after the last order in the data (midnight after
  ``order_ts.max()``), which is also the day after the planted window's last day;
- the excluded counts equal the numbers of cancelled and refunded orders, which are
  exactly the planted ``truth["blemishes"]`` counts (the generator plants exactly those);
- customers in the RFM table = customers with at least one completed order, and the
  segment counts sum to that number; n_segments is 8 (every segment is non-empty);
- the top segment by revenue share is 重要价值 (important value). This holds with a wide
  margin on the bundled data (about 43% of revenue vs about 14% for the next segment):
  the planted BG/NBD heterogeneity (Gamma shape r = 0.25, a very unequal purchase rate)
  concentrates revenue in the recent, frequent, high-spending customers. Its revenue
  share must exceed twice its customer share (a loose bound: it is about three times);
- k-means: the lesson records k, and its most valuable cluster is mostly 重要价值
  (> 0.6; about 0.86 here) — a loose bound because k-means is a heuristic, not an exact rule.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ecomlab import datasets, metrics

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("04-1")



@pytest.fixture(scope="module")
def orders():
    return datasets.load("orders")


def test_reference_date_is_the_day_after_the_last_order(got, orders, truth):
    day_after = orders["order_ts"].max().normalize() + pd.Timedelta(days=1)
    assert got["as_of"] == f"{day_after:%Y-%m-%d}"
    assert pd.Timestamp(got["as_of"]) == pd.Timestamp(truth["window"][1]) + pd.Timedelta(days=1)


def test_excluded_orders_are_exactly_the_cancelled_and_refunded(got, orders, truth):
    assert got["excluded_cancelled"] == int((orders["status"] == "cancelled").sum())
    assert got["excluded_refunded"] == int((orders["status"] == "refunded").sum())
    assert got["excluded_cancelled"] == truth["blemishes"]["orders_cancelled"]
    assert got["excluded_refunded"] == truth["blemishes"]["orders_refunded"]
    assert got["n_orders_used"] + got["excluded_cancelled"] + got["excluded_refunded"] == len(orders)


def test_customers_and_segment_counts_add_up(got, orders):
    kept = orders[orders["status"].isin(metrics.VALID_STATUSES)]
    assert got["n_customers"] == kept["customer_id"].nunique()
    assert got["n_customers"] + got["n_customers_without_purchase"] == orders["customer_id"].nunique()
    counts = got["segment_customers"]
    assert len(counts) == 8
    assert sum(counts.values()) == got["n_customers"]
    assert got["n_segments"] == 8


def test_important_value_is_the_top_revenue_segment(got):
    assert got["top_revenue_segment"] == "important value"
    assert 0 < got["share_important_value"] < 0.5
    assert got["revenue_share_important_value"] > 2 * got["share_important_value"]


def test_kmeans_top_cluster_is_mostly_important_value(got):
    assert got["kmeans_k"] == 4
    assert got["kmeans_cluster0_important_value_share"] > 0.6


def test_group_and_threshold_figures_are_consistent(got, orders):
    """The figures the decision states come from the same segment table."""
    seg = got["segment_customers"]
    assert got["groups"]["important_retain_win_back_customers"] == seg["important_retain"] + seg["important_win_back"]
    assert got["groups"]["general_develop_win_back_customers"] == seg["general_develop"] + seg["general_win_back"]
    assert got["n_customers_all"] == orders["customer_id"].nunique()
    kept = orders[orders["status"].isin(metrics.VALID_STATUSES)]
    per_customer = kept.groupby("customer_id")["paid_amount"].sum()
    assert got["threshold_m"] == pytest.approx(per_customer.mean())
    assert got["threshold_f"] == pytest.approx(kept.groupby("customer_id").size().mean())
    assert got["max_m_to_mean"] == pytest.approx(per_customer.max() / per_customer.mean())
    assert 0 < got["partial_refund_share"] < 0.1  # returns of kept orders: a small caveat on M
    # 重要价值 spend per head = revenue share / customer share
    assert got["important_value_spend_ratio"] == pytest.approx(
        got["revenue_share_important_value"] / got["share_important_value"], rel=1e-9)
