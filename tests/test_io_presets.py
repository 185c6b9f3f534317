"""read_orders / read_events on realistic exports (tests/fixtures/exports/, see make_exports.py):
every blemish read as stated, every hostile input refused with a message naming what and where."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecomlab import io, metrics, schema
from ecomlab.io import DataError

EX = Path(__file__).parent / "fixtures" / "exports"
NY = "America/New_York"


def ts(*values):
    return [pd.Timestamp(v) for v in values]


# --- Shopify ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shopify():
    return io.read_orders(EX / "shopify_orders.csv", "shopify", timezone=NY)


def test_shopify_lines_grouped_into_orders(shopify):
    o = shopify.orders
    assert o["order_id"].tolist() == [f"#100{i}" for i in range(1, 9)]
    assert o["customer_id"].tolist() == ["ann@example.com", "bo@example.com", "ann@example.com", "cy@example.com",
                                         "dee@example.com", "eve@example.com", "fay@example.com", "gil@example.com"]
    assert o["paid_amount"].tolist() == [59.40, 24.84, 130.80, 1229.80, 25.00, 45.00, 60.00, 40.00]
    assert o["items_amount"].iloc[3] == 1229.8 and o["discount_amount"].iloc[2] == 12.0
    assert o["coupon_id"].iloc[2] == "SPRING10" and o["coupon_id"].isna().sum() == 7
    assert o["refund_amount"].tolist() == [0, 0, 0, 10, 25, 0, 60, 0]
    items = shopify.order_items
    assert len(items) == 11 and items.groupby("order_id").size().to_dict() == {
        "#1001": 2, "#1002": 1, "#1003": 1, "#1004": 3, "#1005": 1, "#1006": 1, "#1007": 1, "#1008": 1}
    assert items["quantity"].dtype == "int64" and items["quantity"].sum() == 15
    assert items["sku_id"].isna().sum() == 1  # the custom engraving line, reported
    assert shopify.currency == "USD" and shopify.timezone == NY


def test_shopify_statuses(shopify):
    st = dict(zip(shopify.orders["order_id"], shopify.orders["status"].astype(str), strict=True))
    assert st == {"#1001": "completed", "#1002": "unpaid", "#1003": "unpaid", "#1004": "completed",
                  "#1005": "refunded", "#1006": "cancelled", "#1007": "cancelled", "#1008": "awaiting_shipment"}
    assert list(shopify.orders["status"].cat.categories) == list(schema.EXPORT_ORDER_STATUSES)
    kept = shopify.orders[shopify.orders["status"].isin(metrics.VALID_STATUSES)]
    assert kept["order_id"].tolist() == ["#1001", "#1004"]


def test_shopify_dst_offsets_become_new_york_wall_time(shopify):
    assert shopify.orders["order_ts"].tolist() == ts(
        "2024-03-09 23:30", "2024-03-10 01:59", "2024-03-10 03:01", "2024-06-01 12:00", "2024-11-03 01:30",
        "2024-11-03 01:10", "2024-12-24 20:00", "2024-12-31 23:59")
    assert str(shopify.orders["order_ts"].dtype) == "datetime64[us]"
    assert "naive local time in America/New_York" in str(shopify.report)


def test_shopify_report_counts(shopify):
    text = str(shopify.report)
    assert "11 line rows grouped into 8 orders" in text
    assert "`Cancelled at` set → cancelled (whatever the Financial Status)  (1 orders)" in text
    assert "paid and unfulfilled → awaiting_shipment  (1 orders)" in text
    assert "e-mail addresses lower-cased" in text
    assert "lines without a SKU" in text
    html = shopify._repr_html_()
    assert html.startswith("<div>") and "Financial Status" in html


def test_shopify_without_a_zone_is_refused():
    with pytest.raises(DataError, match=r"orders\.order_ts \(column 'Created at'\): expected a timezone= to convert "
                                        r"UTC offsets to local time; found timestamps with offsets \['-04:00', '-05:00'\]"):
        io.read_orders(EX / "shopify_orders.csv", "shopify")


def test_shopify_conflicting_order_fields_on_a_later_row(tmp_path):
    text = (EX / "shopify_orders.csv").read_text()
    bad = text.replace("#1001,ann@example.com,,,,,,,,,,,,,,", "#1001,ann@example.com,,,,,,,,,,99.00,,,,", 1)
    p = tmp_path / "s.csv"
    p.write_text(bad)
    with pytest.raises(DataError, match=r"orders\.paid_amount: expected order fields only on an order's first row "
                                        r"or repeated unchanged; found order '#1001' with 59\.4 on its first row and "
                                        r"99\.0 on data row 2"):
        io.read_orders(p, "shopify", timezone=NY)


def test_shopify_currency_must_agree(tmp_path):
    with pytest.raises(DataError, match=r"orders\.currency \(column 'Currency'\): expected EUR \(currency=\); found 'USD'"):
        io.read_orders(EX / "shopify_orders.csv", "shopify", timezone=NY, currency="EUR")


# --- Tmall / Taobao --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tmall_csv():
    return io.read_orders(EX / "tmall_orders_2019_gbk.csv", "tmall")


def test_tmall_gbk_csv(tmall_csv):
    o = tmall_csv.orders
    assert o["order_id"].tolist() == ["2024111100012345678", "202411110001234567", "2024111100012345699",
                                      "2024111200012345700", "2024111200012345701", "2024111300012345702"]
    assert o["customer_id"].tolist() == ["t**8", "小**", "t**8", "j**n", "林**", "w**2"]
    assert o["paid_amount"].tolist() == [1229.8, 43.0, 99.0, 2450.0, 58.5, 21.9]
    assert o["items_amount"].tolist() == [1229.8, 35.0, 99.0, 2450.0, 58.5, 15.9]
    assert o["status"].astype(str).tolist() == ["completed", "refunded", "cancelled", "awaiting_shipment",
                                                "in_transit", "unpaid"]
    assert o["order_ts"].iloc[0] == pd.Timestamp("2024-11-11 00:00:05")
    assert o["paid_ts"].isna().tolist() == [False, False, True, False, False, True]
    assert tmall_csv.order_items is None
    assert (tmall_csv.timezone, tmall_csv.currency) == ("Asia/Shanghai", "CNY")
    text = str(tmall_csv.report)
    assert "encoding gb18030" in text and "Excel text guard" in text
    assert "from column '买家实际支付金额' (header written '买家实际支付金额 ')" in text
    warn = tmall_csv.report.of("warning")[0]
    assert warn.column == "customer_id" and warn.count == 6 and "5 distinct masked names" in warn.detail


def test_tmall_excel_with_title_and_total_rows():
    r = io.read_orders(EX / "tmall_orders_2024.xlsx", "taobao")
    o = r.orders
    assert o["order_id"].tolist() == ["0202501050000000001", "202501050000000002", "2025010600000000003"]
    assert o["paid_amount"].tolist() == [1229.8, 43.0, 99.0]
    assert o["status"].astype(str).tolist() == ["completed", "refunded", "unpaid"]
    excluded = {line.detail: line.count for line in r.report.of("excluded")}
    assert excluded == {"title rows above the header row": 2, "total rows (合计/总计/Total in ' 订单编号')": 1}
    assert "header written '买家昵称 '" in str(r.report)


def test_tmall_excel_numeric_order_numbers_are_refused(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["订单编号", "买家会员名", "订单创建时间", "买家实际支付金额", "订单状态"])
    # Excel keeps 15 significant digits: an order number typed into a number cell is stored rounded
    ws.append([2.0241111000123456e17, "a", "2024-11-11 00:00:00", 10, "交易成功"])
    wb.save(tmp_path / "t.xlsx")
    with pytest.raises(DataError, match=r"orders\.order_id \(column '订单编号'\): expected ids written in full; found "
                                        r"'2\.02411110001234\d*e\+17' in scientific notation"):
        io.read_orders(tmp_path / "t.xlsx", "tmall")


def test_tmall_scientific_ids_from_a_resaved_csv(tmp_path):
    text = (EX / "tmall_orders_2019_gbk.csv").read_bytes().decode("gbk")
    p = tmp_path / "t.csv"
    resaved = text.replace('"=""2024111100012345678"""', "2.02411E+18")
    assert resaved != text
    p.write_text(resaved, encoding="utf-8")
    with pytest.raises(DataError, match=r"expected ids written in full; found '2\.02411E\+18' in scientific notation"):
        io.read_orders(p, "tmall")


def test_tmall_unknown_status_is_listed_and_can_be_mapped(tmp_path):
    text = (EX / "tmall_orders_2019_gbk.csv").read_bytes().decode("gbk")
    p = tmp_path / "t.csv"
    p.write_text(text.replace("等待买家付款", "部分退款中"), encoding="utf-8")
    with pytest.raises(DataError, match=r"orders\.status \(column '订单状态'\): expected one of .*; found \['部分退款中'\] "
                                        r"\(1 rows\): map them with status_map="):
        io.read_orders(p, "tmall")
    r = io.read_orders(p, "tmall", status_map={"部分退款中": "completed"})
    assert r.orders["status"].astype(str).iloc[5] == "completed"


def test_tmall_gbk_file_under_the_generic_preset_is_named():
    with pytest.raises(DataError, match=r"orders: file 'tmall_orders_2019_gbk\.csv' could not be decoded; tried utf-8 .*"
                                        r"usually GBK: pass encoding='gb18030'"):
        io.read_orders(EX / "tmall_orders_2019_gbk.csv", "generic")


def test_tmall_lines_in_one_file():
    raw = pd.DataFrame({"订单编号": ['="1"', '="1"', '="2"'], "买家会员名": ["a", "a", "b"],
                        "订单创建时间": ["2024-11-11 00:00:00"] * 2 + ["2024-11-12 00:00:00"],
                        "买家实际支付金额": ["30", "30", "5"], "订单状态": ["交易成功"] * 3,
                        "商家编码": ["S1", "S2", "S1"], "购买数量": ["1", "2", "1"], "价格": ["10", "10", "5"]})
    r = io.read_orders(raw, "tmall")
    assert r.orders["order_id"].tolist() == ["1", "2"] and r.orders["paid_amount"].tolist() == [30.0, 5.0]
    assert r.order_items["quantity"].tolist() == [1, 2, 1]


# --- generic ---------------------------------------------------------------------------------
EU = dict(mapping={"order_id": "Order No", "customer_id": "Client", "order_ts": "Date", "paid_amount": "Total",
                   "status": "State"},
          status_map={"Shipped": "completed", "Returned": "refunded", "Cancelled": "cancelled",
                      "Awaiting payment": "unpaid"},
          decimal=",", currency="EUR", timezone="Europe/Paris")


def test_generic_eu_export():
    r = io.read_orders(EX / "generic_orders_eu.csv", dayfirst=True, **EU)
    o = r.orders
    assert o["order_id"].tolist() == ["000123", "000124", "000125", "000126"]
    assert o["customer_id"].tolist() == ["0042", "0042", "0107", "0311"]
    assert o["order_ts"].tolist() == ts("2025-01-24 10:00", "2025-02-02 09:30", "2025-02-13 18:45", "2025-03-01 08:05")
    assert o["paid_amount"].tolist() == [1229.8, 35.5, 12.0, 99.9]
    assert o["status"].astype(str).tolist() == ["completed", "refunded", "cancelled", "unpaid"]
    assert r.order_items is None
    assert "separator ';'" in str(r.report) and "day/month dates read day first" in str(r.report)


def test_generic_refusals():
    with pytest.raises(DataError, match=r"orders\.order_ts \(column 'Date'\): expected dates in one unambiguous format.*"
                                        r"pass dayfirst=True"):
        io.read_orders(EX / "generic_orders_eu.csv", **EU)
    with pytest.raises(DataError, match=r"orders\.paid_amount \(column 'Total'\): expected numbers with '\.' as decimal "
                                        r"point.*found '€1\.229,80'"):
        io.read_orders(EX / "generic_orders_eu.csv", dayfirst=True, **{**EU, "decimal": "."})
    with pytest.raises(DataError, match=r"orders\.paid_amount \(column 'Total'\): expected amounts in CNY; found "
                                        r"currency sign\(s\) \['€'\]"):
        io.read_orders(EX / "generic_orders_eu.csv", dayfirst=True, **{**EU, "currency": "CNY"})
    no_map = {k: v for k, v in EU.items() if k != "status_map"}
    with pytest.raises(DataError, match=r"orders\.status \(column 'State'\): expected one of .*; found \['Awaiting "
                                        r"payment', 'Returned', 'Shipped'\]"):
        io.read_orders(EX / "generic_orders_eu.csv", dayfirst=True, **no_map)
    with pytest.raises(DataError, match=r"orders: the generic export has no column for \['order_id', 'customer_id', "
                                        r"'order_ts', 'paid_amount', 'status'\]; looked for .*pass mapping="):
        io.read_orders(EX / "generic_orders_eu.csv")
    with pytest.raises(DataError, match=r"mapping\['order_id'\] = 'Order' is not a column of the file"):
        io.read_orders(EX / "generic_orders_eu.csv", dayfirst=True, **{**EU, "mapping": {**EU["mapping"], "order_id": "Order"}})
    with pytest.raises(ValueError, match="preset must be one of"):
        io.read_orders(EX / "generic_orders_eu.csv", "amazon")
    with pytest.raises(ValueError, match="mapping keys must be course columns"):
        io.read_orders(EX / "generic_orders_eu.csv", mapping={"orderid": "Order No"})
    with pytest.raises(ValueError, match="status_map values must be in"):
        io.read_orders(EX / "generic_orders_eu.csv", status_map={"Shipped": "done"})


def base_orders(**cols):
    d = {"order_id": ["1", "2"], "customer_id": ["a", "b"], "order_ts": ["2025-01-01 10:00:00", "2025-01-02 10:00:00"],
         "paid_amount": ["10", "20"], "status": ["completed", "completed"]}
    d.update(cols)
    return pd.DataFrame(d, dtype="str")


def test_generic_duplicates_exact_are_excluded_conflicting_refused():
    raw = pd.concat([base_orders(), base_orders().iloc[[0]]], ignore_index=True)
    r = io.read_orders(raw)
    assert r.orders["order_id"].tolist() == ["1", "2"]
    assert r.report.of("excluded")[0].count == 1
    raw.loc[2, "paid_amount"] = "11"
    with pytest.raises(DataError, match=r"orders\.order_id: expected one row per order \(or exact repeats\); found "
                                        r"order '1' twice with different 'paid_amount' \(data rows 1 and 3\)"):
        io.read_orders(raw)


@pytest.mark.parametrize("col, value, match", [
    ("order_ts", "1735689600", r"orders\.order_ts: expected dates written as text"),
    ("paid_amount", "1,5", r"orders\.paid_amount: .*decimal=','"),
    ("customer_id", None, r"orders\.customer_id: expected a value on every row; found 1 missing value\(s\), the first "
                          r"on data row 2"),
    ("status", "shipped", r"orders\.status \(column 'status'\): expected one of"),
])
def test_generic_hostile_values(col, value, match):
    raw = base_orders()
    raw.loc[1, col] = value
    if col == "order_ts":
        raw[col] = ["1735600000", value]
    with pytest.raises(DataError, match=match):
        io.read_orders(raw)


def test_generic_parquet_typed_columns(tmp_path):
    df = pd.DataFrame({"order_id": pd.array(["007", "008"], dtype="str"), "customer_id": [17.0, np.nan],
                       "order_ts": pd.to_datetime(["2025-01-01 02:00", "2025-01-01 03:00"], utc=True),
                       "paid_amount": [10.0, 20.0], "status": ["completed", "refunded"]})
    df.to_parquet(tmp_path / "o.parquet")
    with pytest.raises(DataError, match=r"orders\.customer_id: expected a value on every row"):
        io.read_orders(tmp_path / "o.parquet", timezone="Asia/Shanghai")
    df["customer_id"] = [17.0, 18.0]
    df.to_parquet(tmp_path / "o.parquet")
    with pytest.raises(DataError, match=r"orders\.order_ts: expected a timezone= to convert to; found timestamps in UTC"):
        io.read_orders(tmp_path / "o.parquet")
    r = io.read_orders(tmp_path / "o.parquet", timezone="Asia/Shanghai")
    assert r.orders["customer_id"].tolist() == ["17", "18"]  # never "17.0"
    assert r.orders["order_id"].tolist() == ["007", "008"]
    assert r.orders["order_ts"].tolist() == ts("2025-01-01 10:00", "2025-01-01 11:00")
    assert "numeric ids written as whole numbers" in str(r.report)


def test_generic_excel_and_empty_inputs(tmp_path):
    base_orders().to_excel(tmp_path / "o.xlsx", index=False)
    r = io.read_orders(tmp_path / "o.xlsx")
    assert r.orders["paid_amount"].tolist() == [10.0, 20.0]
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match=r"orders: file 'e\.csv' is empty"):
        io.read_orders(tmp_path / "e.csv")
    with pytest.raises(DataError, match="has no rows"):
        io.read_orders(base_orders().iloc[:0])


# --- events ----------------------------------------------------------------------------------
GA = dict(mapping={"visitor_id": "user_pseudo_id", "ts": "event_timestamp"},
          event_map={"session_start": None, "page_view": "pv", "view_item": "pv", "add_to_cart": "cart",
                     "begin_checkout": "checkout", "add_payment_info": "payment", "purchase": "buy"})


def test_events_with_own_names_and_no_sessions():
    r = io.read_events(EX / "events_ga.csv", timezone="Asia/Shanghai", **GA)
    ev = r.events
    assert r.steps == ("pv", "cart", "checkout", "payment", "buy")  # checkout steps kept, in order
    assert ev["event"].cat.ordered and list(ev["event"].cat.categories) == list(r.steps)
    assert len(ev) == 10 and "session_start" not in set(ev["source_event"])
    assert ev["session_id"].tolist() == ["u-01-1"] * 5 + ["u-01-2"] * 2 + ["u-02-1"] * 3
    assert ev["device"].tolist()[:1] == ["web"] and ev["sku_id"].iloc[2] == "SKU-001"
    assert r.report.of("excluded")[0].count == 1
    assert "3 sessions" in str(r.report) and "30 min" in str(r.report)
    short = io.read_events(EX / "events_ga.csv", session_gap="10min", **GA)
    assert short.events["session_id"].nunique() == 5


def test_events_refusals():
    with pytest.raises(DataError, match=r"events\.event \(column 'event_name'\): expected event names in event_map .*; "
                                        r"found \['session_start'\]"):
        io.read_events(EX / "events_ga.csv", mapping=GA["mapping"],
                       event_map={k: v for k, v in GA["event_map"].items() if k != "session_start"})
    with pytest.raises(DataError, match=r"events\.event \(column 'event_name'\): expected funnel steps \['pv', 'fav', "
                                        r"'cart', 'buy'\]; found \['add_payment_info'"):
        io.read_events(EX / "events_ga.csv", mapping=GA["mapping"])
    with pytest.raises(DataError, match=r"events: no column for \['visitor_id'\]; looked for .*user_id"):
        io.read_events(EX / "events_ga.csv", event_map=GA["event_map"])
    with pytest.raises(ValueError, match="session_gap must be a positive duration"):
        io.read_events(EX / "events_ga.csv", session_gap="0min", **GA)
    with pytest.raises(DataError, match=r"expected funnel steps \['pv', 'buy'\]; found \['cart'"):
        io.read_events(EX / "events_ga.csv", steps=["pv", "buy"], **GA)


def test_events_epoch_seconds_on_request():
    raw = pd.DataFrame({"user_id": ["1", "1"], "timestamp": ["1735689600", "1735689660"], "behavior_type": ["pv", "buy"]})
    with pytest.raises(DataError, match=r"events\.ts \(column 'timestamp'\): expected dates written as text"):
        io.read_events(raw)
    r = io.read_events(raw, epoch_unit="s", timezone="Asia/Shanghai")
    assert r.events["ts"].tolist() == ts("2025-01-01 08:00", "2025-01-01 08:01")
    assert r.steps == ("pv", "fav", "cart", "buy") and r.events["session_id"].tolist() == ["1-1", "1-1"]


def test_events_session_ids_kept_when_present():
    raw = pd.DataFrame({"visitor_id": ["v", "v"], "session_id": ["s9", "s9"], "ts": ["2025-01-01 10:00:00"] * 2,
                        "event": ["pv", "pv"]})
    r = io.read_events(raw)
    assert r.events["session_id"].tolist() == ["s9", "s9"] and not r.report.of("derived")
    assert "exact duplicate rows kept" in str(r.report)


def test_what_is_read_feeds_the_course_helpers(shopify, tmall_csv):
    """The contract templates rely on: the readers' output goes straight into the helpers."""
    from ecomlab import traffic, users

    rfm = users.rfm_table(shopify.orders).table
    assert rfm["customer_id"].tolist() == ["ann@example.com", "cy@example.com"]  # completed orders only
    assert rfm["monetary_amount"].tolist() == [59.4, 1229.8]
    coh = users.cohort_matrix(tmall_csv.orders, metric="customers").matrix
    assert coh.to_numpy().tolist() == [[1.0]]  # one kept purchase (交易成功), November 2024
    ev = io.read_events(EX / "events_ga.csv", **GA)
    f = traffic.funnel(ev.events, steps=ev.steps)
    assert f["step"].astype(str).tolist() == list(ev.steps) and f["units"].tolist() == [3, 2, 1, 1, 1]


def test_tmall_utf8_with_bom_reads_the_same(tmp_path, tmall_csv):
    text = (EX / "tmall_orders_2019_gbk.csv").read_bytes().decode("gbk")
    (tmp_path / "t.csv").write_bytes(text.encode("utf-8-sig"))
    r = io.read_orders(tmp_path / "t.csv", "taobao")
    pd.testing.assert_frame_equal(r.orders, tmall_csv.orders)
    assert "encoding utf-8-sig" in str(r.report)
