"""ecomlab.io.parse: every strict rule converts what it states, reports it, and refuses the rest
with a message naming table, column, the expected form and an example found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab.io import parse as P
from ecomlab.io.report import DataError, Report


def S(*values, dtype="str"):
    return pd.Series(list(values), dtype=dtype)


# --- ids -----------------------------------------------------------------------------------
def test_ids_stay_text_with_leading_zeros_and_guards_removed():
    r = Report("orders")
    got = P.parse_id(S('="0123456789012345678"', " 007\t", "'0042", "A-1"), "orders", "order_id", r)
    assert got.tolist() == ["0123456789012345678", "007", "0042", "A-1"]
    assert isinstance(got.dtype, pd.StringDtype)
    kinds = {line.detail.split(" ")[0] for line in r.of("coerced")}
    assert {"Excel", "surrounding", "leading"} <= kinds


def test_float_ids_with_nan_never_become_1_0():
    r = Report("orders")
    got = P.parse_id(pd.Series([1.0, np.nan, 30.0]), "orders", "coupon_id", r, nullable=True)
    assert got.iloc[0] == "1" and pd.isna(got.iloc[1]) and got.iloc[2] == "30"
    assert r.count("coerced") == 2
    txt = P.parse_id(S("1.0", None, "30.0"), "orders", "coupon_id", Report("o"), nullable=True)
    assert txt.iloc[0] == "1" and txt.iloc[2] == "30"


@pytest.mark.parametrize("values, match", [
    (["2.02411E+17"], r"orders\.order_id: expected ids written in full; found '2.02411E\+17' in scientific"),
    ([2.0 ** 60], r"orders\.order_id: expected ids stored as text; found 1152921504606846976 in a float column"),
    ([1.5], r"orders\.order_id: expected whole-number ids; found 1.5"),
    (["17.0", "18"], r"orders\.order_id: expected ids in one form; found both '17.0' and '18'"),
    (["a", None], r"orders\.order_id: expected a value on every row; found 1 missing value\(s\), the first on data row 2"),
])
def test_bad_ids_are_refused(values, match):
    s = pd.Series(values) if not isinstance(values[0], str) else S(*values)
    with pytest.raises(DataError, match=match):
        P.parse_id(s, "orders", "order_id", Report("o"))


# --- timestamps ----------------------------------------------------------------------------
def test_iso_and_year_first_and_chinese_dates():
    r = Report("orders")
    assert P.parse_datetime(S("2025-01-31 13:05:00", "2025-02-01"), "orders", "order_ts", r).astype(str).tolist() == [
        "2025-01-31 13:05:00", "2025-02-01 00:00:00"]
    assert P.parse_datetime(S("2025/1/31 13:05", "2025/2/1 9:00:07"), "o", "t", r).astype(str).tolist() == [
        "2025-01-31 13:05:00", "2025-02-01 09:00:07"]
    assert P.parse_datetime(S("2025年1月31日", "2025年2月1日 08:00"), "o", "t", r).astype(str).tolist() == [
        "2025-01-31 00:00:00", "2025-02-01 08:00:00"]
    got = P.parse_datetime(S("2025-01-31 13:05:00.250"), "o", "t", r)
    assert got.iloc[0] == pd.Timestamp("2025-01-31 13:05:00.250") and str(got.dtype) == "datetime64[us]"


def test_day_month_dates_need_dayfirst_and_are_read_as_told():
    s = S("03/04/2025", "24/01/2025 10:00")
    with pytest.raises(DataError, match=r"orders\.order_ts: expected dates in one unambiguous format; found day/month "
                                        r"dates such as '03/04/2025'.*suggest the day comes first: pass dayfirst=True"):
        P.parse_datetime(s, "orders", "order_ts", Report("o"))
    got = P.parse_datetime(s, "orders", "order_ts", Report("o"), dayfirst=True)
    assert got.astype(str).tolist() == ["2025-04-03 00:00:00", "2025-01-24 10:00:00"]
    us = P.parse_datetime(S("03/04/2025", "01/24/2025"), "orders", "order_ts", Report("o"), dayfirst=False)
    assert us.dt.strftime("%Y-%m-%d").tolist() == ["2025-03-04", "2025-01-24"]
    with pytest.raises(DataError, match=r"expected day-first calendar dates; found '01/24/2025'"):
        P.parse_datetime(S("01/24/2025"), "orders", "order_ts", Report("o"), dayfirst=True)
    with pytest.raises(DataError, match="suggest the month comes first: pass dayfirst=False"):
        P.parse_datetime(S("01/24/2025"), "orders", "order_ts", Report("o"))


@pytest.mark.parametrize("values, match", [
    (["1735689600", "1735689700"], r"expected dates written as text .*; found numbers such as '1735689600'.*epoch"),
    (["2025-01-02", "02/01/2025"], r"expected one date format per column; found mixed formats: '2025-01-02' .*'02/01/2025'"),
    (["2025-01-02 10:00:00+08:00", "2025-01-02 10:00:00"], r"expected one date format per column; found mixed"),
    (["yesterday"], r"expected dates in one of these forms: .*; found 'yesterday'"),
    (["2025-02-30"], r"expected valid calendar dates; found '2025-02-30'"),
    (["2025-01-02T10:00:00-05:00"], r"expected a timezone= to convert UTC offsets to local time; found timestamps with "
                                    r"offsets \['-05:00'\]"),
])
def test_bad_dates_are_refused(values, match):
    with pytest.raises(DataError, match=r"orders\.order_ts: " + match):
        P.parse_datetime(S(*values), "orders", "order_ts", Report("o"))


def test_numbers_and_aware_timestamps_in_typed_columns():
    with pytest.raises(DataError, match=r"orders\.order_ts: expected dates .*; found numbers such as '1735689600'"):
        P.parse_datetime(pd.Series([1735689600, 1735689700]), "orders", "order_ts", Report("o"))
    aware = pd.Series(pd.to_datetime(["2025-01-01 02:00:00"], utc=True))
    with pytest.raises(DataError, match="expected a timezone= to convert to; found timestamps in UTC"):
        P.parse_datetime(aware, "orders", "order_ts", Report("o"))
    got = P.parse_datetime(aware, "orders", "order_ts", Report("o"), timezone="Asia/Shanghai")
    assert got.iloc[0] == pd.Timestamp("2025-01-01 10:00:00")


def test_offsets_across_dst_come_back_as_local_wall_time():
    r = Report("orders")
    s = S("2024-03-10 01:59:00 -0500", "2024-03-10 03:01:00 -0400", "2024-11-03 01:30:00 -0400",
          "2024-11-03 01:30:00 -0500", "2024-06-01T16:00:00Z")
    got = P.parse_datetime(s, "orders", "order_ts", r, timezone="America/New_York")
    assert got.astype(str).tolist() == ["2024-03-10 01:59:00", "2024-03-10 03:01:00", "2024-11-03 01:30:00",
                                        "2024-11-03 01:30:00", "2024-06-01 12:00:00"]
    assert "America/New_York" in r.of("coerced")[0].detail
    # the wrong zone gives other wall times: the report names the zone used
    sh = P.parse_datetime(s, "orders", "order_ts", Report("o"), timezone="Asia/Shanghai")
    assert sh.iloc[0] == pd.Timestamp("2024-03-10 14:59:00")


def test_epoch_only_on_request_and_with_a_zone():
    r = Report("events")
    got = P.parse_datetime(S("1735689600"), "events", "ts", r, epoch_unit="s", timezone="Asia/Shanghai")
    assert got.iloc[0] == pd.Timestamp("2025-01-01 08:00:00")
    with pytest.raises(DataError, match="a timezone= for epoch timestamps"):
        P.parse_datetime(S("1735689600"), "events", "ts", Report("e"), epoch_unit="s")


def test_date_columns_drop_time_and_say_so():
    r = Report("returns")
    got = P.parse_datetime(S("2025-01-02 10:00:00", "2025-01-03"), "returns", "return_date", r, date_only=True)
    assert got.astype(str).tolist() == ["2025-01-02", "2025-01-03"]
    assert r.count("coerced") == 1


# --- amounts, counts, booleans ---------------------------------------------------------------
def test_amounts_by_the_stated_rule():
    r = Report("orders")
    got = P.parse_amount(S("¥1,229.80", "￥35", "1229.8元", "-¥3.50", "RMB 12", " 7 ", None), "orders", "paid_amount", r,
                         nullable=True, currency="CNY")
    assert got.tolist()[:6] == [1229.8, 35.0, 1229.8, -3.5, 12.0, 7.0] and np.isnan(got.iloc[6])
    assert {line.detail for line in r.of("coerced")} == {"currency sign(s) RMB ¥ 元 ￥ removed",
                                                         "thousands separators removed"}
    eu = P.parse_amount(S("1.229,80 €", "35,5", "1 229,80"), "o", "a", Report("o"), decimal=",")
    assert eu.tolist() == [1229.8, 35.5, 1229.8]


@pytest.mark.parametrize("values, kw, match", [
    (["1,5"], {}, r".*; found '1,5' \(1 values\): the file seems to use decimal commas: pass decimal=','"),
    (["1,22,9.80"], {}, r"expected numbers with '\.' as decimal point, ',' grouping thousands in threes"),
    (["$3", "¥4"], {}, r"expected one currency per column; found signs \['\$', '¥'\]"),
    (["$3"], {"currency": "CNY"}, r"expected amounts in CNY; found currency sign\(s\) \['\$'\]"),
    (["¥$3"], {}, r"expected numbers"),
    (["N/A"], {}, r"expected numbers .*; found 'N/A'"),
    (["12", None], {}, r"expected a value on every row; found 1 missing"),
])
def test_bad_amounts_are_refused(values, kw, match):
    with pytest.raises(DataError, match=r"orders\.paid_amount: " + match):
        P.parse_amount(S(*values), "orders", "paid_amount", Report("o"), **kw)


@given(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from(["", "¥", "$", "€"]))
@settings(max_examples=60, deadline=None)
def test_amount_text_round_trips(cents, sign):
    """Any amount written with thousands separators and a sign reads back exactly."""
    value = cents / 100
    text = f"{'-' if value < 0 else ''}{sign}{abs(value):,.2f}"
    got = P.parse_amount(S(text), "orders", "paid_amount", Report("o"))
    assert got.iloc[0] == pytest.approx(value, abs=1e-9)


def test_counts_whole_only():
    r = Report("order_items")
    assert P.parse_count(S("2", "2.0", "1,200"), "order_items", "quantity", r).tolist() == [2, 2, 1200]
    assert P.parse_count(S("2", None), "order_items", "quantity", r, nullable=True).dtype == "Int64"
    with pytest.raises(DataError, match=r"order_items\.quantity: expected whole numbers \(a count\); found 1\.7"):
        P.parse_count(S("2", "1.7"), "order_items", "quantity", Report("o"))
    with pytest.raises(DataError, match=r"found 1\.7"):
        P.parse_count(pd.Series([2.0, 1.7]), "order_items", "quantity", Report("o"))
    with pytest.raises(DataError, match="expected numbers"):
        P.parse_count(S("¥2"), "order_items", "quantity", Report("o"))


def test_booleans_only_from_the_vocabulary():
    r = Report("t")
    assert P.parse_bool(S("yes", "no", "False", "TRUE", "1", "0", "是", "否"), "t", "flag", r).tolist() == [
        True, False, False, True, True, False, True, False]
    with pytest.raises(DataError, match=r"t\.flag: expected a value on every row; found 1 missing"):
        P.parse_bool(S("yes", ""), "t", "flag", Report("t"))
    with pytest.raises(DataError, match=r"t\.flag: expected one of \[.*\] or \[.*\]; found 'maybe'"):
        P.parse_bool(S("yes", "maybe"), "t", "flag", Report("t"))
    with pytest.raises(DataError, match=r"expected 0/1 or true/false; found '2'"):
        P.parse_bool(pd.Series([0, 1, 2]), "t", "flag", Report("t"))
    own = P.parse_bool(S("Y", "N"), "t", "flag", Report("t"), true_words=["y"], false_words=["n"])
    assert own.tolist() == [True, False]


def test_categories_refuse_unknown_values():
    with pytest.raises(DataError, match=r"orders\.device: expected one of \['ios', 'pc'\]; found unexpected values "
                                        r"\['tablet'\]"):
        P.parse_category(S("ios", "tablet"), "orders", "device", ["ios", "pc"])


# --- files -----------------------------------------------------------------------------------
def test_empty_and_header_only_files_are_named(tmp_path):
    (tmp_path / "o.csv").write_bytes(b"")
    with pytest.raises(DataError, match=r"orders: file 'o\.csv' is empty \(0 bytes\)"):
        P.read_table_file(tmp_path / "o.csv", table="orders", report=Report("o"))
    (tmp_path / "h.csv").write_text("order_id,customer_id\n")
    with pytest.raises(DataError, match=r"orders: file 'h\.csv' has a header .* but no data rows"):
        P.read_table_file(tmp_path / "h.csv", table="orders", report=Report("o"))
    with pytest.raises(FileNotFoundError, match="no file"):
        P.read_table_file(tmp_path / "nope.csv", table="orders", report=Report("o"))


def test_gbk_file_is_named_unless_allowed(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("订单编号,买家会员名\n1,张三\n".encode("gbk"))
    with pytest.raises(DataError, match=r"orders: file 'gbk\.csv' could not be decoded; tried utf-8 \(byte .* at "
                                        r"position 0\): Chinese Windows exports are usually GBK: pass encoding='gb18030'"):
        P.read_table_file(p, table="orders", report=Report("o"))
    df = P.read_table_file(p, table="orders", report=Report("o"), encoding="gb18030")
    assert df.columns.tolist() == ["订单编号", "买家会员名"] and df.iloc[0].tolist() == ["1", "张三"]


def test_csv_reads_every_column_as_text(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("id;amount;flag\n007;1,5;NA\n123456789012345678901;2;\n")
    df = P.read_table_file(p, table="t", report=Report("t"))
    assert df["id"].tolist() == ["007", "123456789012345678901"]
    assert df["amount"].tolist() == ["1,5", "2"]
    assert df["flag"].iloc[0] == "NA" and pd.isna(df["flag"].iloc[1])  # only empty cells are missing
    (tmp_path / "d.csv").write_text("a,a\n1,2\n")
    with pytest.raises(DataError, match=r"repeats header\(s\) \['a'\]"):
        P.read_table_file(tmp_path / "d.csv", table="t", report=Report("t"))


def test_report_reads_in_terminal_and_notebook():
    r = Report("orders", source="x.csv")
    r.add("excluded", "", "total rows", count=1)
    r.add("coerced", "paid_amount", "currency sign(s) ¥ removed", count=3)
    r.add("coerced", "paid_amount", "nothing", count=0)  # zero counts are not reported
    text = str(r)
    assert text.splitlines()[0] == "Reading report: orders from x.csv"
    assert "currency sign(s) ¥ removed  (3 values)" in text and "total rows  (1 rows)" in text and "nothing" not in text
    html = r._repr_html_()
    assert "<table>" in html and "¥ removed" in html
    f = r.to_frame()
    assert f["count"].tolist() == [1, 3] and f["unit"].tolist() == ["rows", "values"]
    with pytest.raises(ValueError, match="report kind"):
        r.add("dropped", "x", "y")


FORMATS = {  # strftime form, keyword arguments the reader needs
    "iso": ("%Y-%m-%d %H:%M:%S", {}),
    "iso_t": ("%Y-%m-%dT%H:%M:%S", {}),
    "ymd_slash": ("%Y/%m/%d %H:%M:%S", {}),
    "cn": ("%Y年%m月%d日 %H:%M:%S", {}),
    "dmy": ("%d/%m/%Y %H:%M:%S", {"dayfirst": True}),
    "mdy": ("%m/%d/%Y %H:%M:%S", {"dayfirst": False}),
    "dmy_dot": ("%d.%m.%Y %H:%M:%S", {"dayfirst": True}),
}


@given(st.lists(st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                             max_value=pd.Timestamp("2035-12-31").to_pydatetime()), min_size=1, max_size=20),
       st.sampled_from(sorted(FORMATS)))
@settings(max_examples=80, deadline=None)
def test_every_supported_date_form_reads_back_the_same_instant(values, form):
    """No silent day/month swap, no shifted time: what was written is what comes back."""
    fmt, kw = FORMATS[form]
    ts = pd.Series(pd.to_datetime(values)).dt.floor("s")
    got = P.parse_datetime(S(*ts.dt.strftime(fmt)), "orders", "order_ts", Report("o"), **kw)
    assert got.tolist() == ts.tolist()
