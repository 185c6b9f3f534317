"""The ABC & margin report template (notebooks/templates/abc.ipynb, DESIGN §8): its contract,
a run on the bundled data whose sentences equal the numbers recomputed here by hand, and a
folder of narrower tables (no category, no returns) whose optional sections are skipped with a
sentence saying why."""

from __future__ import annotations

import io
import re

import nbformat
import pandas as pd
import pytest

from ecomlab import datasets, reports


def _text(page: str) -> str:
    inline = re.sub(r"</?(strong|em|b|i|code)>", "", page)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).replace("**", "")


def test_contract_and_validation(tmp_path):
    c = reports.CONTRACTS["abc"]
    assert c.lesson == "02_product/01_selection"
    assert set(c.required) == {"orders", "order_items", "products"}
    v = reports.validate(None, "abc")
    assert v.ok and "Returns and margin by category: will run" in str(v)
    # a folder without products: refused, naming the table
    datasets.load("orders").to_parquet(tmp_path / "orders.parquet")
    datasets.load("order_items").to_parquet(tmp_path / "order_items.parquet")
    with pytest.raises(ValueError, match="products"):
        reports.load("abc", tmp_path)


def test_template_source_has_no_word_about_the_course_brand_and_no_fixed_dates():
    nb = nbformat.read(str(reports.template_path("abc")), as_version=4)
    src = "\n".join(c.source for c in nb.cells)
    assert "Nestwell" not in src and "栖居" not in src
    assert not re.search(r"20\d\d-\d\d-\d\d", src)
    assert "data = None" in nb.cells[1].source


def _by_hand(start: str, end: str, resold: float = 1.0):
    o, oi, p, r = (datasets.load(n) for n in ("orders", "order_items", "products", "returns"))
    o = o[(o["status"] != "cancelled") & (o["order_ts"] >= start) & (o["order_ts"] < end)]
    x = oi.merge(o[["order_id", "items_amount", "discount_amount"]], on="order_id")
    x["gmv"] = x["quantity"] * x["unit_price"]
    x = x.merge(r[["order_id", "sku_id", "refund_amount"]], on=["order_id", "sku_id"], how="left")
    returned = x["quantity"].where(x["refund_amount"].notna(), 0)
    x = x.merge(p[["sku_id", "unit_cost", "category"]], on="sku_id")
    x["margin"] = (x["gmv"] - x["discount_amount"] * x["gmv"] / x["items_amount"] - x["refund_amount"].fillna(0)
                   - x["unit_cost"] * (x["quantity"] - resold * returned))
    x["returned"] = x["refund_amount"].notna()
    return x


@pytest.mark.notebooks
def test_report_on_bundled_data(tmp_path):
    page = reports.render("abc", tmp_path / "abc.html", params={"upkeep_per_sku": 1500},
                          stream=io.StringIO()).read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page and "sku_margin(" not in page
    text = _text(page)
    x = _by_hand("2025-01-01", "2026-01-01")
    gmv = x.groupby("sku_id")["gmv"].sum().sort_values(ascending=False)
    before = gmv.cumsum().shift(fill_value=0) / gmv.sum()
    n_a = int((before < 0.8).sum())
    n_c = int((before >= 0.95).sum())
    assert "The window runs from 2025-01-01 to 2025-12-31" in text
    assert f"{n_a} SKUs ({n_a / len(gmv):.0%} of those sold) make" in text
    assert f"the C tail is {n_c} SKUs" in text
    cat = x.groupby("category", observed=True).agg(lines=("gmv", "size"), back=("returned", "sum"))
    rate = cat["back"] / cat["lines"]
    assert f"{rate.idxmax()} has the highest return rate: {rate.max():.1%} of its lines come back" in text
    assert rate.idxmax() == "bedding"
    m = x.groupby("category", observed=True)[["margin", "gmv"]].sum()
    net = x.assign(net=x["gmv"] - x["discount_amount"] * x["gmv"] / x["items_amount"]
                   - x["refund_amount"].fillna(0)).groupby("category", observed=True)["net"].sum()
    mr = m["margin"] / net
    assert f"The highest margin rate is {mr.idxmax()} ({mr.max():.1%})" in text
    assert "tail SKUs earn less than their upkeep" in text
    assert "Skipped" not in text


@pytest.mark.notebooks
def test_narrow_folder_skips_the_category_and_returns_sections(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    orders = datasets.load("orders")
    orders = orders[orders["order_ts"] >= "2025-07-01"]
    orders[["order_id", "order_ts", "status", "items_amount", "discount_amount"]].to_csv(folder / "orders.csv", index=False)
    items = datasets.load("order_items")
    items[items["order_id"].isin(orders["order_id"])][["order_id", "sku_id", "quantity", "unit_price"]].to_csv(
        folder / "order_items.csv", index=False)
    datasets.load("products")[["sku_id", "unit_cost"]].to_csv(folder / "products.csv", index=False)
    loaded = reports.load("abc", folder)
    assert loaded.sections["By category"] is not None and "returns" not in loaded.tables
    page = reports.render("abc", tmp_path / "narrow.html", data=folder, stream=io.StringIO())
    text = _text(page.read_text(encoding="utf-8"))
    assert "without a returns table, refunds are not deducted" in text
    assert text.count("Skipped:") == 2
    x = orders[orders["status"] != "cancelled"]
    last = x["order_ts"].max().normalize()
    assert f"to {last:%Y-%m-%d}" in text
    assert pd.Timestamp(last) < pd.Timestamp("2026-01-01")
