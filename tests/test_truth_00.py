"""Lesson 00 (start here): the tour's numbers match the tables and the planted truth.

Tolerances and why:
- Counts (tables, customers, orders, every blemish) and the orders on 双11: exact. They
  are counts over the whole bundled tables; nothing is sampled or estimated.
- Busiest day: exact. 双11 has the largest planted promotion lift (``promo_lift``), six
  times a normal day against at most three for any other promotion, so the busiest day of
  the last year is its 11 November.
- GMV of the year: within 0.01 CNY of an independent recomputation (sum of
  ``paid_amount`` over orders that are not cancelled). It is a sum, rounded to cents.
- Search growth by category: within ±0.05 of ``market.annual_growth``. The weekly
  search index carries multiplicative noise of a few percent, so a yearly mean of 52
  weeks moves by about ±0.01-0.02. The signs and the ranking (fastest-growing category,
  the shrinking one) must match exactly.
- Return rate by category: within ±0.01 of ``returns.realised_line_return_rate``, the rate
  realised on this seed with the same definition (returned lines / sold lines). It is
  ±0.02 of the planted rate, which is what a sample of ~2-3k lines per category allows.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ecomlab import datasets

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results) -> dict:
    return lesson_results("00")



@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return datasets.load("orders")


def test_counts_equal_the_tables(got, orders):
    assert got["n_tables"] == len(datasets.list_datasets()) == 16
    assert got["n_customers"] == len(datasets.load("customers"))
    assert got["n_orders"] == len(orders)


def test_blemish_counts_equal_truth(got, truth):
    assert got["blemishes"] == truth["blemishes"]


def test_shares_of_cancelled_and_refunded(got, truth, orders):
    assert got["share_cancelled"] == pytest.approx(
        truth["blemishes"]["orders_cancelled"] / len(orders), abs=1e-12)
    assert got["share_refunded"] == pytest.approx(
        truth["blemishes"]["orders_refunded"] / len(orders), abs=1e-12)


def test_biggest_day_is_double11_of_the_last_year(got, truth, orders):
    assert max(truth["promo_lift"], key=truth["promo_lift"].get) == "双11"
    last_year = pd.Timestamp(truth["window"][1]).year
    assert got["year"] == last_year
    assert got["biggest_day"] == f"{last_year}-11-11"
    on_day = orders["order_ts"].dt.normalize() == pd.Timestamp(f"{last_year}-11-11")
    # placed orders (cancelled excluded): the one meaning of "placed" in lesson, helper, exercise
    assert got["double11_orders"] == int((on_day & (orders["status"] != "cancelled")).sum())
    assert got["peak_vs_typical_day"] > 3


def test_orders_and_gmv_of_the_year(got, orders):
    year = got["year"]
    in_year = orders[orders["order_ts"].dt.year == year]
    prev = orders[orders["order_ts"].dt.year == year - 1]
    gmv = in_year.loc[in_year["status"] != "cancelled", "paid_amount"].sum()
    gmv_prev = prev.loc[prev["status"] != "cancelled", "paid_amount"].sum()
    assert got["n_orders_year"] == len(in_year)
    placed = in_year[in_year["status"] != "cancelled"]
    assert got["n_placed_orders_year"] == len(placed) < got["n_orders_year"]
    assert got["buyers_year"] == placed["customer_id"].nunique()
    assert got["spend_per_buyer_year"] == pytest.approx(gmv / placed["customer_id"].nunique())
    assert got["order_value_year"] == pytest.approx(gmv / len(placed))
    # 客单价 (per buyer) exceeds the order value (per order) whenever buyers repeat
    assert got["order_value_year"] < got["spend_per_buyer_year"]
    assert got["placed_orders_per_buyer"] == pytest.approx(len(placed) / placed["customer_id"].nunique())
    assert got["gmv_year"] == pytest.approx(gmv, abs=0.01)
    assert got["gmv_growth"] == pytest.approx(gmv / gmv_prev - 1, abs=1e-9)
    assert 0 < got["share_gmv_double11_window"] < got["share_gmv_promo_days"] < 1


def test_search_growth_recovers_market_trends(got, truth):
    planted = truth["market"]["annual_growth"]
    growth = got["search_growth"]
    assert set(growth) == set(planted)
    for category, value in planted.items():
        assert abs(growth[category] - value) <= 0.05, (category, growth[category], value)
    assert max(growth, key=growth.get) == truth["market"]["fastest_growing"]
    assert min(growth, key=growth.get) == truth["market"]["shrinking"]
    assert growth[truth["market"]["shrinking"]] < 0


def test_return_rates_recover_the_planted_ones(got, truth):
    realised = truth["returns"]["realised_line_return_rate"]
    rates = got["return_rate_by_category"]
    assert set(rates) == set(realised)
    for category, value in realised.items():
        assert abs(rates[category] - value) <= 0.01, (category, rates[category], value)
    planted = truth["returns"]["return_rate_by_category"]
    assert max(rates, key=rates.get) == max(planted, key=planted.get) == "bedding"


def test_promotion_shares_add_up(got):
    assert got["share_gmv_promo_days"] + got["share_gmv_ordinary_days"] == pytest.approx(1.0)
    assert got["n_promo_days"] == 52  # the 2025 calendar passed as a parameter: 19 + 1 + 18 + 1 + 12 + 1
    assert got["promo_vs_ordinary_day"] > 1


def test_committed_tables_show_missing_values():
    """Styler's na_rep is written into the HTML unescaped: '<NA>' would be an unknown tag
    and the cell would look empty. The committed outputs must show &lt;NA&gt; instead."""
    import json

    from ecomlab.notebooks import notebooks_dir

    nb = json.loads((notebooks_dir() / "00_start_here.ipynb").read_text(encoding="utf-8"))
    html = "".join("".join(o["data"]["text/html"]) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []) if "text/html" in o.get("data", {}))
    assert "><NA></td>" not in html
    assert html.count("&lt;NA&gt;</td>") >= 11  # customers' fan-group dates, survey ids, ...
