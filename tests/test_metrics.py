"""The single definition of each KPI: values, edge cases, identities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecomlab import metrics as m


def _orders():
    return pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "c", "c"],
        "order_ts": pd.to_datetime(["2025-01-02", "2025-02-01", "2025-01-05", "2025-01-10", "2025-01-11",
                                    "2025-03-01"]),
        "status": ["completed", "completed", "cancelled", "completed", "refunded", "completed"],
        "paid_amount": [100.0, 50.0, 80.0, 30.0, 20.0, 10.0],
    })


def test_gmv_excludes_cancelled_keeps_refunded():
    assert m.gmv(_orders()) == 100 + 50 + 30 + 20 + 10
    assert len(m.placed_orders(_orders())) == 5
    assert len(m.valid_orders(_orders())) == 4


def test_gmv_validates():
    with pytest.raises(ValueError, match="missing column"):
        m.gmv(_orders().drop(columns="status"))
    with pytest.raises(ValueError, match="must be numeric"):
        m.gmv(_orders().assign(paid_amount="1"))
    with pytest.raises(ValueError, match="DataFrame"):
        m.gmv([1, 2])
    assert m.gmv(_orders().iloc[:0]) == 0.0


def test_rates_and_ratios():
    assert m.conversion_rate(3, 100) == pytest.approx(0.03)
    assert math.isnan(m.conversion_rate(0, 0))
    with pytest.raises(ValueError, match="cannot exceed"):
        m.conversion_rate(5, 4)
    with pytest.raises(ValueError, match=">= 0"):
        m.conversion_rate(-1, 4)
    assert m.spend_per_buyer(300.0, 2) == 150.0 and math.isnan(m.spend_per_buyer(10.0, 0))
    assert m.order_value(300.0, 3) == 100.0 and math.isnan(m.order_value(10.0, 0))
    with pytest.raises(ValueError, match="spend_per_buyer"):
        m.spend_per_buyer(-1.0, 2)
    with pytest.raises(ValueError, match="order_value"):
        m.order_value(10.0, -2)
    assert not hasattr(m, "aov")  # one clearly named function per concept
    assert m.cac(500.0, 10) == 50.0 and math.isnan(m.cac(500.0, 0))
    assert m.roas(900.0, 300.0) == 3.0
    assert m.roi(150.0, 100.0) == pytest.approx(0.5) and math.isnan(m.roi(1.0, 0.0))
    with pytest.raises(ValueError, match="cost must be >= 0"):
        m.roi(1.0, -1.0)
    assert m.gross_margin(200.0, 150.0) == pytest.approx(0.25) and math.isnan(m.gross_margin(0.0, 0.0))
    assert m.retention(2, 8) == 0.25
    with pytest.raises(ValueError, match="cannot exceed"):
        m.retention(9, 8)


def test_vectorised_keeps_the_index():
    s = m.conversion_rate(pd.Series([1, 0], index=["x", "y"]), pd.Series([10, 0], index=["x", "y"]))
    assert list(s.index) == ["x", "y"] and s["x"] == 0.1 and np.isnan(s["y"])
    r = m.roi(pd.Series([20.0, 5.0]), pd.Series([10.0, 10.0]))
    assert list(r) == [1.0, -0.5]


def test_repurchase_rate_counts_orders_in_window():
    o = m.valid_orders(_orders())
    # valid: a x2 (Jan, Feb), c x2 (Jan 10, Mar 1)
    assert m.repurchase_rate(o) == 1.0
    assert m.repurchase_rate(o, "2025-01-01", "2025-02-01") == 0.0   # a once, c once in January
    assert math.isnan(m.repurchase_rate(o, "2030-01-01", "2030-02-01"))
    with pytest.raises(ValueError, match="must be datetime"):
        m.repurchase_rate(o.assign(order_ts="2025-01-01"))


def test_return_purchase_rate():
    o = m.valid_orders(_orders())
    assert m.return_purchase_rate(o, ("2025-01-01", "2025-02-01"), ("2025-02-01", "2025-04-01")) == 1.0
    assert m.return_purchase_rate(o, ("2025-02-01", "2025-03-01"), ("2025-03-01", "2025-04-01")) == 0.0
    assert math.isnan(m.return_purchase_rate(o, ("2030-01-01", "2030-02-01"), ("2030-02-01", "2030-03-01")))


def test_duplicated_customers_and_one_row():
    one = _orders().iloc[:1]
    assert m.repurchase_rate(one) == 0.0
    assert m.gmv(one) == 100.0


@given(buyers=st.integers(0, 10_000), extra=st.integers(0, 10_000),
       gmv=st.floats(0, 1e9, allow_nan=False))
def test_kpi_identity_and_rate_bounds(buyers, extra, gmv):
    uv = buyers + extra
    cr = m.conversion_rate(buyers, uv)
    if uv == 0:
        assert math.isnan(cr)
        return
    assert 0.0 <= cr <= 1.0
    if buyers > 0:
        assert uv * cr * m.spend_per_buyer(gmv, buyers) == pytest.approx(gmv, rel=1e-9, abs=1e-6)


def test_placed_orders_one_meaning():
    """'Placed orders' = every order except cancelled: what GMV sums and order_value divides by."""
    o = _orders()
    placed = m.placed_orders(o)
    assert set(placed["status"]) == {"completed", "refunded"}
    assert len(placed) == int((o["status"] != "cancelled").sum())
    assert m.gmv(o) == placed["paid_amount"].sum()
    buyers = placed["customer_id"].nunique()
    # a and c order more than once: per-order value is below per-buyer spend
    assert m.order_value(m.gmv(o), len(placed)) == pytest.approx(210.0 / 5)
    assert m.spend_per_buyer(m.gmv(o), buyers) == pytest.approx(210.0 / 2)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(0.01, 1e4)), min_size=1, max_size=30))
def test_order_value_never_exceeds_spend_per_buyer(rows):
    o = pd.DataFrame(rows, columns=["customer_id", "paid_amount"]).assign(status="completed")
    g = m.gmv(o)
    ov = m.order_value(g, len(m.placed_orders(o)))
    spb = m.spend_per_buyer(g, o["customer_id"].nunique())
    assert ov <= spb * (1 + 1e-12)
    if o["customer_id"].is_unique:
        assert ov == pytest.approx(spb)


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=40))
def test_repurchase_rate_in_unit_interval(customers):
    o = pd.DataFrame({"customer_id": customers,
                      "order_ts": pd.date_range("2025-01-01", periods=len(customers), freq="D")})
    r = m.repurchase_rate(o)
    counts = pd.Series(customers).value_counts()
    assert 0.0 <= r <= 1.0 and r == pytest.approx((counts >= 2).mean())


def test_repurchase_and_return_purchase_leave_out_orders_without_customer_and_say_so():
    o = pd.DataFrame({"customer_id": pd.array(["a", "a", None, None, "b"], dtype="string"),
                      "order_ts": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05",
                                                  "2025-01-06"])})
    with pytest.warns(UserWarning, match="left out 2 order"):
        assert m.repurchase_rate(o) == 0.5
    with pytest.warns(UserWarning, match="left out 2 order"):
        # period-1 buyers: a (the missing customer is not a buyer); a does not return
        assert m.return_purchase_rate(o, ("2025-01-01", "2025-01-04"), ("2025-01-04", "2025-02-01")) == 0.0
