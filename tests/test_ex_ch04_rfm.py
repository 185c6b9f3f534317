"""Exercise bank ch04_rfm (lesson 04-1): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder ``____`` reports "not attempted"."""

from __future__ import annotations

import pandas as pd
import pytest

from ecomlab import datasets, metrics, users
from ecomlab import exercises as exr
from ecomlab.exercises import ____
from ecomlab.exercises import ch04_rfm as ex


@pytest.fixture(scope="module")
def orders():
    exr.use_data(None)
    return datasets.load("orders")


@pytest.fixture(scope="module")
def rfm(orders):
    return users.rfm_table(orders).table


def _by_hand(orders, statuses, as_of=None):
    kept = orders[orders["status"].isin(statuses)]
    as_of = orders["order_ts"].max().normalize() + pd.Timedelta(days=1) if as_of is None else as_of
    g = kept.groupby("customer_id").agg(last=("order_ts", "max"), frequency=("order_id", "size"),
                                        monetary_amount=("paid_amount", "sum"))
    g["recency_days"] = (as_of - g["last"].dt.normalize()).dt.days
    return g.reset_index()[["customer_id", "recency_days", "frequency", "monetary_amount"]]


def test_q1_rfm_by_hand(orders):
    right = _by_hand(orders, metrics.VALID_STATUSES)
    assert ex.q1.check(right)
    assert ex.q1.check(right.sample(frac=1.0, random_state=0))  # any row order
    r = ex.q1.check(_by_hand(orders, ["completed", "refunded", "cancelled"]))  # nothing excluded
    assert r.status == "incorrect" and "rows" in r.message
    r = ex.q1.check(_by_hand(orders, ["completed", "refunded"]))  # refunds kept as purchases
    assert r.status == "incorrect"
    today = pd.Timestamp("2026-03-01")  # "today" instead of the end of the data
    r = ex.q1.check(_by_hand(orders, metrics.VALID_STATUSES, as_of=today))
    assert r.status == "incorrect" and "recency_days" in r.message
    r = ex.q1.check(right.drop(columns="monetary_amount"))
    assert r.status == "incorrect" and "monetary_amount" in r.message


def test_q2_over_indexed_segments(rfm):
    summ = users.segment_summary(users.rfm_segments(rfm))
    right = set(summ.loc[summ["revenue_share"] > summ["customer_share"], "segment"].astype(str))
    assert "important value" in right
    assert ex.q2.check(right)
    assert ex.q2.check(sorted(right))
    r = ex.q2.check({"important value"})  # only the top segment
    assert r.status == "incorrect" and "missing" in r.message
    r = ex.q2.check(right | {"general develop"})  # the biggest segment is not the most valuable
    assert r.status == "incorrect" and "general develop" in r.message


def test_q3_segment_name():
    assert ex.q3.check(ex.segment_name)

    def r_decides_level(r_high, f_high, m_high):  # confuses which letter decides 重要/一般
        level = "important" if r_high else "general"
        kind = {(True, True): "value", (True, False): "develop",
                (False, True): "retain", (False, False): "win-back"}[(m_high, f_high)]
        return f"{level} {kind}"

    r = ex.q3.check(r_decides_level)
    assert r.status == "incorrect" and "case" in r.message

    def swapped(r_high, f_high, m_high):  # develop and retain swapped
        level = "important" if m_high else "general"
        kind = {(True, True): "value", (True, False): "retain",
                (False, True): "develop", (False, False): "win-back"}[(r_high, f_high)]
        return f"{level} {kind}"

    assert ex.q3.check(swapped).status == "incorrect"

    def unfinished(r_high, f_high, m_high):
        return ____

    assert ex.q3.check(unfinished).status == "not_attempted"


def test_q4_median_thresholds(rfm):
    r_high = rfm["recency_days"] < rfm["recency_days"].median()
    f_high = rfm["frequency"] > rfm["frequency"].median()
    m_high = rfm["monetary_amount"] > rfm["monetary_amount"].median()
    right = (r_high & f_high & m_high).mean()
    assert ex.q4.check(right)
    mean_based = (users.rfm_segments(rfm)["segment"] == "important value").mean()
    r = ex.q4.check(mean_based)  # the mean-based share: the point of the question is the change
    assert r.status == "incorrect" and "too low" in r.message
    f_ge = rfm["frequency"] >= rfm["frequency"].median()  # >= median counts one-time buyers
    assert ex.q4.check((r_high & f_ge & m_high).mean()).status == "incorrect"
    r = ex.q4.check(right * 100)
    assert r.status == "incorrect" and "percentage" in r.message


def test_q5_value_segment_stability(orders):
    assert ex.earlier_date() == pd.Timestamp("2025-07-01")
    mid = users.rfm_segments(users.rfm_table(orders, as_of=ex.earlier_date()))
    end = users.rfm_segments(users.rfm_table(orders))
    m = mid[["customer_id", "segment"]].merge(end[["customer_id", "segment"]],
                                              on="customer_id", suffixes=("_mid", "_end"))
    vip = m[m["segment_mid"] == "important value"]
    right = (vip["segment_end"] == "important value").mean()
    assert 0.3 < right < 0.95
    assert ex.q5.check(right)
    # wrong denominator: all customers who are important value in both snapshots / everyone
    both = ((m["segment_mid"] == "important value") & (m["segment_end"] == "important value")).mean()
    assert ex.q5.check(both).status == "incorrect"
    # the reverse direction: of today's important value, the share that already was at mid-year
    now = m[m["segment_end"] == "important value"]
    assert ex.q5.check((now["segment_mid"] == "important value").mean()).status == "incorrect"


def test_q6_m_quintile_by_hand(rfm):
    m = rfm["monetary_amount"]
    m_score = pd.qcut(m.rank(method="first"), 5, labels=False) + 1
    right = m[m_score == 5].sum() / m.sum()
    assert 0.2 < right < 1
    assert ex.q6.check(right)
    # the helper's score gives the same groups
    scores = users.rfm_scores(rfm)
    assert (scores["m_score"].to_numpy() == m_score.to_numpy()).all()
    res = ex.q6.check(0.2)  # share of customers, not of revenue
    assert res.status == "incorrect" and "share of customers" in res.message
    assert ex.q6.check(100 * right).status == "incorrect"  # a percentage
    assert ex.q6.check(m[m_score == 5].sum()).status == "incorrect"  # revenue, not a share
    # the bottom quintile (score reversed) is a typical slip
    res = ex.q6.check(m[m_score == 1].sum() / m.sum())
    assert res.status == "incorrect" and "bottom group" in res.message
    assert ex.q6.check(____).status == "not_attempted"
