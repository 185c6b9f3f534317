"""Exercise bank ch00_start: right answers pass, typical wrong answers fail with a reason,
and the placeholder means "not attempted"."""

from __future__ import annotations

import pandas as pd
import pytest

from ecomlab import datasets, metrics
from ecomlab.exercises import ch00_start as ex
from ecomlab.exercises import use_data


@pytest.fixture(scope="module", autouse=True)
def bundled_data():
    use_data(None)
    yield
    use_data(None)


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return datasets.load("orders")


@pytest.fixture(scope="module")
def orders_2025(orders) -> pd.DataFrame:
    return orders[orders["order_ts"].dt.year == 2025]


def _incorrect(result, *fragments: str) -> None:
    assert result.status == "incorrect", str(result)
    for fragment in fragments:
        assert fragment in result.message, (fragment, result.message)


def test_q1_orders_in_2025(orders, orders_2025):
    assert ex.q1.check(len(orders_2025))
    _incorrect(ex.q1.check(len(orders)), "too high")  # all years
    _incorrect(ex.q1.check(len(metrics.valid_orders(orders_2025))), "too low")  # completed only
    _incorrect(ex.q1.check(orders_2025), "expected a number")


def test_q2_gmv_2025(orders, orders_2025):
    assert ex.q2.check(metrics.gmv(orders_2025))
    # summing every order keeps the cancelled ones
    _incorrect(ex.q2.check(orders_2025["paid_amount"].sum()), "too high")
    # completed only drops the refunded orders, which GMV keeps
    _incorrect(ex.q2.check(metrics.valid_orders(orders_2025)["paid_amount"].sum()), "too low")
    _incorrect(ex.q2.check(metrics.gmv(orders)), "too high")  # both years


def test_q3_categories():
    products = datasets.load("products")
    assert ex.q3.check(set(products["category"].astype(str)))
    assert ex.q3.check(products["category"].unique())
    assert ex.q3.check(list(products["category"].astype(str))[::-1])
    wrong = set(products["category"].astype(str)) - {"decor"}
    _incorrect(ex.q3.check(wrong), "missing 1", "`decor`")
    _incorrect(ex.q3.check({"收纳", "厨房", "床品", "卫浴", "家饰", "清洁"}), "extra")
    _incorrect(ex.q3.check("storage"), "collection")


def test_q4_cancelled_share(orders, orders_2025):
    share = (orders_2025["status"] == "cancelled").mean()
    assert 0 < share < 0.05
    assert ex.q4.check(share)
    _incorrect(ex.q4.check(share * 100), "percentage")
    _incorrect(ex.q4.check((orders_2025["status"] != "completed").mean()), "too high")
    _incorrect(ex.q4.check((orders_2025["status"] == "cancelled").sum()), "too high")


def test_expected_answers_follow_use_data(tmp_path, orders):
    """A lesson run on another export checks against that export."""
    small = orders[orders["customer_id"].isin(orders["customer_id"].unique()[:500])]
    small.to_parquet(tmp_path / "orders.parquet")
    datasets.load("products").to_parquet(tmp_path / "products.parquet")
    use_data(tmp_path)
    try:
        want = int((small["order_ts"].dt.year == 2025).sum())
        assert ex.q1.expected == want
        assert ex.q1.check(want)
    finally:
        use_data(None)
    assert ex.q1.expected == int((orders["order_ts"].dt.year == 2025).sum())


def test_orders_in_year_names_missing_column():
    with pytest.raises(ValueError, match="order_ts"):
        ex.orders_in_year(pd.DataFrame({"ts": []}))
