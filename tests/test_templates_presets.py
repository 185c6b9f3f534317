"""Every template that needs only an orders history runs on an orders-only export in each
preset's layout (issue 11): Shopify (line items, UTC offsets across DST, e-mail as customer),
Tmall (GBK, Chinese headers, ="…" ids, ¥ amounts) and generic CSV. cohorts and clv test the
same three layouts in their own files; this covers rfm and kpi_tree."""

from __future__ import annotations

import re
from io import StringIO

import pytest

from ecomlab import datasets, io, reports

pytestmark = pytest.mark.notebooks
TZ = "America/New_York"


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    orders = datasets.load("orders")
    orders = orders[orders["customer_id"].astype(str).str[-1].isin(list("0123"))]  # 40% of customers
    items = datasets.load("order_items")
    items = items[items["order_id"].isin(orders["order_id"])]
    paths = {
        "shopify": folder / "orders_export.csv",
        "tmall": folder / "ExportOrderList.csv",
        "generic": folder / "orders.csv",
    }
    # a New York shop: the same instants as New York wall times (offsets change at DST)
    ny = orders.assign(order_ts=orders["order_ts"].dt.tz_localize("Asia/Shanghai").dt.tz_convert(TZ)
                       .dt.tz_localize(None).astype("datetime64[us]"))
    io.to_export(ny, items, preset="shopify", timezone=TZ).to_csv(paths["shopify"], index=False)
    io.to_export(orders, preset="tmall").to_csv(paths["tmall"], index=False, encoding="gb18030")
    io.to_export(orders, preset="generic").to_csv(paths["generic"], index=False)
    return paths


@pytest.mark.parametrize("preset", ["shopify", "tmall", "generic"])
@pytest.mark.parametrize("name", ["rfm", "kpi_tree"])
def test_orders_only_template_on_each_preset(name, preset, exports, tmp_path):
    params = {"timezone": TZ} if preset == "shopify" else {}
    check = reports.validate(exports[preset], name, preset=preset, **params)
    assert check.ok, str(check)
    out = reports.render(name, tmp_path / f"{name}.html", data=exports[preset], preset=preset,
                         params=params, stream=StringIO())
    page = out.read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert f"read with the {preset} preset" in text
    assert "Nestwell" not in text and "Traceback" not in text
    assert page.count("data:image/png;base64,") >= 1
    assert "Skipped:" in text or name == "rfm"  # kpi_tree without visitors skips the full tree
    if name == "rfm":
        loaded = reports.load(name, exports[preset], preset=preset, **params)
        from ecomlab import users

        r = users.rfm_table(loaded.tables["orders"])
        assert f"{len(r.table):,} customers made {r.n_orders_used:,} purchases" in text
