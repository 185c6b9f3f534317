"""Exercise bank ch06_case (lessons 06-1 and 06-2): right answers pass, typical wrong answers fail
with a useful reason, and the placeholder ``____`` reports "not attempted"."""

from __future__ import annotations

import numpy as np
import pytest

from ecomlab import exercises as exr
from ecomlab import review
from ecomlab.exercises import ____
from ecomlab.exercises import ch06_case as ex


@pytest.fixture(scope="module")
def tables():
    exr.use_data(None)
    return {n: exr.data(n) for n in ("orders", "order_items", "products", "customers", "returns")}


@pytest.fixture(scope="module")
def units_2025(tables):
    return review.category_units(tables["orders"], tables["order_items"], tables["products"],
                                 start=ex.CRM_DATE, end=ex.DATA_END)


def test_q1_storage_did_by_hand(units_2025):
    d = units_2025
    tab = d.groupby([d["category"] == "storage", d["date"] >= ex.PROGRAMME_START])["units"].sum()
    right = (tab[True, True] / tab[False, True]) / (tab[True, False] / tab[False, False])
    assert ex.q1.check(right)
    assert 1.1 < right < 1.3  # the push's planted x1.25, censored by stockouts
    # same point as the day-by-day Poisson DiD: its estimate weighs days by their counts
    assert review.category_did(d, treated="storage", start=ex.PROGRAMME_START).ratio == pytest.approx(right, rel=0.02)
    r = ex.q1.check(tab[True, True] / tab[True, False])  # storage's own growth
    assert r.status == "incorrect" and "other categories" in r.message
    assert "minus 1" in ex.q1.check(right - 1).message
    lines = d.groupby([d["category"] == "storage", d["date"] >= ex.PROGRAMME_START])["lines"].sum()
    wrong = (lines[True, True] / lines[False, True]) / (lines[True, False] / lines[False, False])
    assert "units" in ex.q1.check(wrong).message
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_profit_roi_from_an_effect(tables):
    v = review.programme_value(tables["orders"], tables["order_items"], tables["products"], tables["returns"],
                               tables["customers"], (0.2, 0.1, 0.3), start=ex.PROGRAMME_START, end=ex.DATA_END,
                               cost=ex.PROGRAMME_COST)
    n, gp = v.attrs["member_orders"], v.attrs["gross_profit_per_order"]
    right = (n * 0.2 / 1.2 * gp - ex.PROGRAMME_COST) / ex.PROGRAMME_COST
    assert ex.q2.check(right) and right < 0
    assert right == pytest.approx(v.loc["estimate", "profit_roi"], rel=1e-9)
    assert "N/(1 + e)" in ex.q2.check((n * 0.2 * gp - ex.PROGRAMME_COST) / ex.PROGRAMME_COST).message
    assert "subtracts the cost" in ex.q2.check(n * 0.2 / 1.2 * gp / ex.PROGRAMME_COST).message
    wrong = (v.loc["estimate", "incremental_revenue"] - ex.PROGRAMME_COST) / ex.PROGRAMME_COST
    assert "gross profit" in ex.q2.check(wrong).message
    assert ex.q2.check(____).status == "not_attempted"


def test_q4_marketers_repurchase_gap(tables, truth):
    o, c = tables["orders"], tables["customers"]
    old = c[c["first_order_date"] < ex.PROGRAMME_START]
    h2 = o[(o["status"] != "cancelled") & (o["order_ts"] >= ex.PROGRAMME_START) & (o["order_ts"] < ex.DATA_END)]
    rate = old["customer_id"].isin(h2["customer_id"]).groupby(old["joined_fan_group_date"].notna()).mean()
    right = rate[True] / rate[False] - 1
    assert ex.q4.check(right)
    assert right == pytest.approx(truth["programme"]["naive"]["repurchase_gap"], abs=1e-4)
    assert "ratio minus 1" in ex.q4.check(right + 1).message
    assert "percentage points" in ex.q4.check(rate[True] - rate[False]).message
    kept = o[(o["status"] == "completed") & (o["order_ts"] >= ex.PROGRAMME_START) & (o["order_ts"] < ex.DATA_END)]
    r2 = old["customer_id"].isin(kept["customer_id"]).groupby(old["joined_fan_group_date"].notna()).mean()
    assert "not cancelled" in ex.q4.check(r2[True] / r2[False] - 1).message
    assert ex.q4.check(____).status == "not_attempted"


def test_q3_which_figure_decides():
    assert ex.q3.check("profit ROI") and ex.q3.check({"Profit ROI"})
    for wrong in ex.FIGURES[1:]:
        assert ex.q3.check(wrong).status == "incorrect"
    assert ex.q3.check("ROI").status == "incorrect"  # not one of the options
    assert ex.q3.check(____).status == "not_attempted"


def test_expected_answers_are_finite():
    for q in (ex.q1, ex.q2, ex.q4):
        assert np.isfinite(q.kind.expected)


def test_q5_break_even_effect(tables):
    v = review.programme_value(tables["orders"], tables["order_items"], tables["products"], tables["returns"],
                               tables["customers"], (0.2, 0.1, 0.3), start=ex.PROGRAMME_START, end=ex.DATA_END,
                               cost=ex.PROGRAMME_COST)
    n, g, c = v.attrs["member_orders"], v.attrs["gross_profit_per_order"], ex.PROGRAMME_COST
    right = c / (n * g - c)
    assert ex.q5.check(right)
    back = review.programme_value(tables["orders"], tables["order_items"], tables["products"], tables["returns"],
                                  tables["customers"], (right, right, right), start=ex.PROGRAMME_START,
                                  end=ex.DATA_END, cost=c)
    assert back.loc["estimate", "profit_roi"] == pytest.approx(0.0, abs=1e-9)  # it is the break-even
    assert right > 0.5  # far above the measured +30%: the groups do not pay
    assert "N·e/(1 + e)" in ex.q5.check(c / (n * g)).message
    assert "gross profit" in ex.q5.check(c / (n * v.attrs["revenue_per_order"] - c)).message
    assert "1 + e" in ex.q5.check(1 + right).message
    assert ex.q5.check(____).status == "not_attempted"


def test_q6_decision_rule():
    assert ex.q6.check("change") and ex.q6.check(" Change ")
    assert ex.q6.check("continue").status == "incorrect" and ex.q6.check("stop").status == "incorrect"
    assert ex.q6.check("pause").status == "incorrect"
