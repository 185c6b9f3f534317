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


@pytest.fixture(scope="module")
def orders_2024(orders) -> pd.DataFrame:
    return orders[orders["order_ts"].dt.year == 2024]


def test_q1_placed_orders_2024(orders, orders_2024, orders_2025):
    placed = orders_2024[orders_2024["status"] != "cancelled"]
    assert ex.q1.check(len(placed))
    assert len(placed) == len(metrics.placed_orders(orders_2024))  # one meaning of "placed"
    _incorrect(ex.q1.check(len(orders_2024)), "cancelled ones included")  # every status
    _incorrect(ex.q1.check(len(metrics.valid_orders(orders_2024))), "refunded orders were placed")
    _incorrect(ex.q1.check(len(metrics.placed_orders(orders_2025))), "the lesson's year")
    _incorrect(ex.q1.check(len(placed) + 7), "too high")
    _incorrect(ex.q1.check(placed), "expected a number")


def test_q2_spend_per_buyer_2024(orders_2024):
    placed = orders_2024[orders_2024["status"] != "cancelled"]
    right = placed["paid_amount"].sum() / placed["customer_id"].nunique()
    assert ex.q2.check(right)
    # per order (the English "AOV") instead of per buyer
    _incorrect(ex.q2.check(placed["paid_amount"].sum() / len(placed)), "order value", "not per buyer")
    # cancelled orders kept in GMV
    _incorrect(ex.q2.check(orders_2024["paid_amount"].sum() / placed["customer_id"].nunique()), "cancelled orders kept")
    _incorrect(ex.q2.check(placed["paid_amount"].sum()), "too high")  # GMV, not per buyer


def _kpis_per_order_as_aov(orders):  # spend_per_buyer computed per order
    placed = orders[orders["status"] != "cancelled"]
    gmv = placed["paid_amount"].sum()
    return pd.Series({"gmv": gmv, "placed_orders": len(placed), "buyers": placed["customer_id"].nunique(),
                      "spend_per_buyer": gmv / len(placed), "order_value": gmv / len(placed)})


def _kpis_all_rows(orders):  # cancelled orders counted as placed
    gmv = orders["paid_amount"].sum()
    buyers = orders["customer_id"].nunique()
    return pd.Series({"gmv": gmv, "placed_orders": len(orders), "buyers": buyers,
                      "spend_per_buyer": gmv / buyers, "order_value": gmv / len(orders)})


def test_q3_headline_kpis_function(orders_2025):
    def right(orders):
        placed = orders[orders["status"] != "cancelled"]
        gmv = placed["paid_amount"].sum()
        buyers = placed["customer_id"].nunique()
        return pd.Series({"gmv": gmv, "placed_orders": len(placed), "buyers": buyers,
                          "spend_per_buyer": gmv / buyers, "order_value": gmv / len(placed)})

    assert ex.q3.check(right)
    assert ex.q3.check(ex.headline_kpis)
    k = ex.headline_kpis(orders_2025)
    assert k["order_value"] < k["spend_per_buyer"]
    assert k["gmv"] == pytest.approx(metrics.gmv(orders_2025))
    for wrong in (_kpis_per_order_as_aov, _kpis_all_rows):
        assert ex.q3.check(wrong).status == "incorrect"
    assert ex.q3.check(lambda o: 1 / 0).status == "incorrect"


def test_q4_categories():
    products = datasets.load("products")
    assert ex.q4.check(set(products["category"].astype(str)))
    assert ex.q4.check(products["category"].unique())
    assert ex.q4.check(list(products["category"].astype(str))[::-1])
    wrong = set(products["category"].astype(str)) - {"decor"}
    _incorrect(ex.q4.check(wrong), "missing 1", "`decor`")
    _incorrect(ex.q4.check({"收纳", "厨房", "床品", "卫浴", "家饰", "清洁"}), "extra")
    _incorrect(ex.q4.check("storage"), "collection")


def test_q5_cancelled_share(orders, orders_2025):
    share = (orders_2025["status"] == "cancelled").mean()
    assert 0 < share < 0.05
    assert ex.q5.check(share)
    _incorrect(ex.q5.check(share * 100), "percentage")
    _incorrect(ex.q5.check((orders_2025["status"] != "completed").mean()), "too high")
    _incorrect(ex.q5.check((orders_2025["status"] == "cancelled").sum()), "too high")


def test_expected_answers_follow_use_data(tmp_path, orders):
    """A lesson run on another export checks against that export."""
    small = orders[orders["customer_id"].isin(orders["customer_id"].unique()[:500])]
    small.to_parquet(tmp_path / "orders.parquet")
    datasets.load("products").to_parquet(tmp_path / "products.parquet")
    use_data(tmp_path)
    try:
        want = len(metrics.placed_orders(small[small["order_ts"].dt.year == 2024]))
        assert ex.q1.expected == want
        assert ex.q1.check(want)
    finally:
        use_data(None)
    assert ex.q1.expected == len(metrics.placed_orders(orders[orders["order_ts"].dt.year == 2024]))


def test_orders_in_year_names_missing_column():
    with pytest.raises(ValueError, match="order_ts"):
        ex.orders_in_year(pd.DataFrame({"ts": []}))
