"""datasets.load(data_dir=...) on hostile files: each input that used to give a silent wrong
answer or a raw pandas error now gives a clear error or a reported conversion (issue 11)."""

from __future__ import annotations

import pandas as pd
import pytest

from ecomlab import datasets
from ecomlab.io import DataError, Report


@pytest.fixture(scope="module")
def returns():
    return datasets.load("returns").head(50)


@pytest.fixture(scope="module")
def inventory():
    return datasets.load("inventory").head(20)


def write(df: pd.DataFrame, path, **kw) -> None:
    df.to_csv(path, index=False, **kw)


def test_day_first_dates_refused_then_read_as_told(tmp_path, returns):
    df = returns.copy()
    df["return_date"] = df["return_date"].dt.strftime("%d/%m/%Y")
    write(df, tmp_path / "returns.csv")
    with pytest.raises(DataError, match=r"returns\.return_date: expected dates in one unambiguous format"):
        datasets.load("returns", data_dir=tmp_path)
    rep = Report("returns")
    got = datasets.load("returns", data_dir=tmp_path, dayfirst=True, report=rep)
    pd.testing.assert_series_equal(got["return_date"], returns["return_date"].reset_index(drop=True))
    assert "day/month dates read day first" in str(rep)


def test_unix_seconds_refused(tmp_path, returns):
    df = returns.copy()
    df["return_date"] = (df["return_date"] - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    write(df, tmp_path / "returns.csv")
    with pytest.raises(DataError, match=r"returns\.return_date: expected dates written as text .*; found numbers such "
                                        r"as '\d+'"):
        datasets.load("returns", data_dir=tmp_path)


def test_mixed_date_formats_refused(tmp_path, returns):
    df = returns.copy().astype({"return_date": "str"})
    df.loc[0, "return_date"] = "05/01/2024"
    write(df, tmp_path / "returns.csv")
    with pytest.raises(DataError, match=r"returns\.return_date: expected one date format per column; found mixed formats"):
        datasets.load("returns", data_dir=tmp_path)


def test_text_booleans_only_from_the_vocabulary(tmp_path, inventory):
    df = inventory.copy().astype({"stockout": "str"})
    n = len(df)
    df["stockout"] = (["yes", "no", "False", "TRUE"] * n)[:n]
    write(df, tmp_path / "inventory.csv")
    got = datasets.load("inventory", data_dir=tmp_path)
    assert got["stockout"].tolist() == ([True, False, False, True] * n)[:n] and got["stockout"].dtype == bool
    df.loc[1, "stockout"] = ""
    write(df, tmp_path / "inventory.csv")
    with pytest.raises(DataError, match=r"inventory\.stockout: expected a value on every row; found 1 missing"):
        datasets.load("inventory", data_dir=tmp_path)
    df.loc[1, "stockout"] = "sometimes"
    write(df, tmp_path / "inventory.csv")
    with pytest.raises(DataError, match=r"inventory\.stockout: expected one of .*; found 'sometimes'"):
        datasets.load("inventory", data_dir=tmp_path)


def test_fractional_counts_refused(tmp_path):
    items = datasets.load("order_items").head(10).astype({"quantity": "float64"})
    items.loc[3, "quantity"] = 1.7
    write(items, tmp_path / "order_items.csv")
    with pytest.raises(DataError, match=r"order_items\.quantity: expected whole numbers \(a count\); found 1\.7"):
        datasets.load("order_items", data_dir=tmp_path)


def test_integer_ids_with_nan_do_not_become_1_0(tmp_path):
    orders = datasets.load("orders").head(5).copy()
    orders["coupon_id"] = [1.0, None, 3.0, None, 5.0]  # a numeric id column with gaps: floats
    orders.to_parquet(tmp_path / "orders.parquet")
    rep = Report("orders")
    got = datasets.load("orders", data_dir=tmp_path, report=rep)
    assert got["coupon_id"].tolist()[::2] == ["1", "3", "5"] and got["coupon_id"].isna().sum() == 2
    assert "numeric ids written as whole numbers" in str(rep)
    (tmp_path / "orders.parquet").unlink()
    write(orders, tmp_path / "orders.csv")  # pandas writes the floats as 1.0, 3.0...
    rep = Report("orders")
    got = datasets.load("orders", data_dir=tmp_path, report=rep)
    assert got["coupon_id"].tolist()[::2] == ["1", "3", "5"] and "trailing '.0' removed" in str(rep)
    orders["coupon_id"] = ["001", None, "003", None, "005"]  # text ids with gaps keep their zeros
    write(orders, tmp_path / "orders.csv")
    got = datasets.load("orders", data_dir=tmp_path)
    assert got["coupon_id"].tolist()[::2] == ["001", "003", "005"]


def test_currency_and_thousands_parsed_by_rule(tmp_path, returns):
    df = returns.copy().astype({"refund_amount": "str"})
    df.loc[0, "refund_amount"] = "¥1,229.80"
    df.loc[1, "refund_amount"] = "1,229.80"
    write(df, tmp_path / "returns.csv")
    rep = Report("returns")
    got = datasets.load("returns", data_dir=tmp_path, report=rep)
    assert got["refund_amount"].tolist()[:2] == [1229.8, 1229.8]
    assert rep.of("coerced")[0].detail == "currency sign(s) ¥ removed"
    df.loc[2, "refund_amount"] = "12,5"
    write(df, tmp_path / "returns.csv")
    with pytest.raises(DataError, match=r"returns\.refund_amount: expected numbers .*; found '12,5'"):
        datasets.load("returns", data_dir=tmp_path)


def test_gbk_and_empty_files_are_named(tmp_path):
    products = datasets.load("products").head(5)
    write(products, tmp_path / "products.csv", encoding="gbk")
    with pytest.raises(DataError, match=r"products: file 'products\.csv' could not be decoded; tried utf-8-sig .*GBK"):
        datasets.load("products", data_dir=tmp_path)
    got = datasets.load("products", data_dir=tmp_path, encoding="gb18030")
    assert got["name_zh"].tolist() == products["name_zh"].tolist()
    (tmp_path / "products.csv").write_bytes(b"")
    with pytest.raises(DataError, match=r"products: file 'products\.csv' is empty \(0 bytes\)"):
        datasets.load("products", data_dir=tmp_path)
    (tmp_path / "products.csv").write_text(",".join(products.columns) + "\n")
    with pytest.raises(DataError, match=r"products: file 'products\.csv' has a header .* but no data rows"):
        datasets.load("products", data_dir=tmp_path)


def test_missing_value_in_a_non_nullable_column(tmp_path, returns):
    df = returns.copy()
    df.loc[4, "order_id"] = None
    write(df, tmp_path / "returns.csv")
    with pytest.raises(DataError, match=r"returns\.order_id: expected a value on every row; found 1 missing value\(s\), "
                                        r"the first on data row 5"):
        datasets.load("returns", data_dir=tmp_path)


def test_csv_round_trip_of_every_dtype(tmp_path):
    """A bundled table written as CSV by pandas loads back equal (types from the schema)."""
    for name in ("orders", "inventory", "customers"):
        df = datasets.load(name).head(200)
        write(df, tmp_path / f"{name}.csv")
        got = datasets.load(name, data_dir=tmp_path)
        pd.testing.assert_frame_equal(got, df.reset_index(drop=True), check_exact=False)
