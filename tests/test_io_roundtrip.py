"""Round trips: the course's own orders and order_items, written in each preset's layout
(ecomlab.io.to_export, then a CSV file), read back by read_orders identical — on Nestwell
and, as a hypothesis property, on arbitrary small tables (leading zeros, 19-digit ids,
DST-ambiguous wall times, every status a layout can carry)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecomlab import datasets, io, schema

CARRIED = {  # the course columns each layout carries
    "generic": ["order_id", "customer_id", "order_ts", "sales_channel", "traffic_source", "device", "coupon_id",
                "items_amount", "discount_amount", "shipping_fee", "paid_amount"],
    "shopify": ["order_id", "customer_id", "order_ts", "coupon_id", "items_amount", "discount_amount", "shipping_fee",
                "paid_amount"],
    "tmall": ["order_id", "customer_id", "order_ts", "items_amount", "shipping_fee", "paid_amount"],
}
ENCODING = {"generic": "utf-8", "shopify": "utf-8", "tmall": "gb18030"}


def round_trip(orders, items, preset, tz, folder: Path):
    path = folder / f"{preset}.csv"
    io.to_export(orders, items, preset=preset, timezone=tz).to_csv(path, index=False, encoding=ENCODING[preset])
    return io.read_orders(path, preset, timezone=tz)


def assert_same(got, orders, items, preset):
    cols = CARRIED[preset]
    want = orders[cols].reset_index(drop=True)
    have = got.orders[cols]
    for c in cols:
        if isinstance(want[c].dtype, pd.CategoricalDtype):
            want[c] = want[c].astype("str")
    pd.testing.assert_frame_equal(have, want, check_dtype=False, check_exact=True)
    assert got.orders["status"].astype(str).tolist() == orders["status"].astype(str).tolist()
    assert got.orders["order_id"].dtype == "str" and str(got.orders["order_ts"].dtype) == "datetime64[us]"
    if items is not None:
        icols = [c for c in ("order_id", "sku_id", "quantity", "unit_price", "list_price") if c in got.order_items]
        key = ["order_id", "sku_id", "quantity", "unit_price"]
        a = got.order_items[icols].sort_values(key).reset_index(drop=True)
        b = items[icols].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=True)


@pytest.fixture(scope="module")
def nestwell():
    return datasets.load("orders"), datasets.load("order_items")


@pytest.mark.parametrize("preset, tz", [("generic", None), ("shopify", "Asia/Shanghai"), ("tmall", None)])
def test_nestwell_round_trip(nestwell, preset, tz, tmp_path):
    orders, items = nestwell
    got = round_trip(orders, items, preset, tz, tmp_path)
    assert_same(got, orders, items, preset)
    assert got.report.rows_out == len(orders)
    assert not got.report.of("excluded")


def test_nestwell_orders_only_export(nestwell, tmp_path):
    orders, _ = nestwell
    got = round_trip(orders, None, "tmall", None, tmp_path)
    assert got.order_items is None
    assert_same(got, orders, None, "tmall")


# --- property ---------------------------------------------------------------------------------
STATUSES = {"generic": schema.EXPORT_ORDER_STATUSES, "tmall": schema.EXPORT_ORDER_STATUSES,
            "shopify": ("completed", "cancelled", "refunded", "unpaid", "awaiting_shipment")}
T0 = int(pd.Timestamp("2023-01-01").timestamp())
T1 = int(pd.Timestamp("2026-12-31").timestamp())


@st.composite
def tables(draw, preset):
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(st.integers(0, 10**19 - 1), min_size=n, max_size=n, unique=True))
    width = draw(st.sampled_from([6, 18, 19]))
    order_id = [str(i % 10**width).zfill(width) for i in ids]
    if len(set(order_id)) < n:
        order_id = [str(i).zfill(19) for i in ids]
    customers = draw(st.lists(st.sampled_from(["0042", "C0000001", "c-7", "00000000000000000009"]), min_size=n,
                              max_size=n))
    secs = np.array(draw(st.lists(st.integers(T0, T1), min_size=n, max_size=n)), dtype="int64")
    utc = pd.to_datetime(secs, unit="s", utc=True)
    ts = utc.tz_convert("America/New_York").tz_localize(None) if preset == "shopify" else utc.tz_localize(None)
    cents = st.integers(1, 10**9)
    money = lambda: np.array(draw(st.lists(cents, min_size=n, max_size=n))) / 100  # noqa: E731
    orders = pd.DataFrame({
        "order_id": pd.array(order_id, dtype="str"), "customer_id": pd.array(customers, dtype="str"),
        "order_ts": pd.Series(ts).astype("datetime64[us]"),
        "sales_channel": "marketplace", "traffic_source": "direct", "device": "ios",
        "coupon_id": pd.array(draw(st.lists(st.sampled_from(["0007", "SPRING10", None]), min_size=n, max_size=n)),
                              dtype="str"),
        "items_amount": money(), "discount_amount": money(), "shipping_fee": money(), "paid_amount": money(),
        "status": draw(st.lists(st.sampled_from(STATUSES[preset]), min_size=n, max_size=n)),
    })
    k = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    m = int(sum(k))
    items = pd.DataFrame({
        "order_id": pd.array(np.repeat(order_id, k), dtype="str"),
        "sku_id": pd.array([f"SKU-{i:04d}" for i in range(m)], dtype="str"),
        "quantity": np.array(draw(st.lists(st.integers(1, 50), min_size=m, max_size=m)), dtype="int64"),
        "unit_price": np.array(draw(st.lists(cents, min_size=m, max_size=m))) / 100,
        "list_price": np.array(draw(st.lists(cents, min_size=m, max_size=m))) / 100,
    })
    return orders, items


@pytest.mark.parametrize("preset, tz", [("generic", None), ("shopify", "America/New_York"), ("tmall", None)])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_round_trip(preset, tz, data):
    orders, items = data.draw(tables(preset))
    with tempfile.TemporaryDirectory() as d:
        got = round_trip(orders, items, preset, tz, Path(d))
    assert_same(got, orders, items, preset)
