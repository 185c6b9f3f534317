"""The pricing template (notebooks/templates/pricing.ipynb) and its data contract: the
bundled data (every section runs; the sentences checked against numbers recomputed here
with pandas or against the planted truth), a folder of course-layout CSV tables without the
optional columns (promotion flags, list price, launch date: those sections say why they are
skipped), and the contract refusing a price history without prices."""

from __future__ import annotations

import html
import io
import re

import pandas as pd
import pytest

from ecomlab import datasets, reports


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.fixture(scope="module")
def bare_folder(tmp_path_factory):
    """Course-layout CSVs with only the required columns (a shop's minimal export)."""
    folder = tmp_path_factory.mktemp("pricing_bare")
    datasets.load("orders")[["order_id", "order_ts", "status"]].to_csv(folder / "orders.csv", index=False)
    datasets.load("order_items")[["order_id", "sku_id", "quantity"]].to_csv(folder / "order_items.csv", index=False)
    datasets.load("daily_prices")[["sku_id", "date", "price"]].to_csv(folder / "daily_prices.csv", index=False)
    datasets.load("products")[["sku_id", "category", "unit_cost"]].to_csv(folder / "products.csv", index=False)
    return folder


def test_contract_on_bundled_and_bare_data(bare_folder):
    v = reports.validate(None, "pricing")
    assert v.ok and "Promotions: lift and the days around them: will run" in str(v)
    d = reports.load("pricing", bare_folder)
    assert d.sections["Promotions: lift and the days around them"].startswith("it needs")
    assert d.sections["Price moves against the list price"].startswith("it needs")


def test_a_price_history_without_prices_is_refused(tmp_path, bare_folder):
    for name in ("orders", "order_items", "products"):
        (tmp_path / f"{name}.csv").write_bytes((bare_folder / f"{name}.csv").read_bytes())
    pd.read_csv(bare_folder / "daily_prices.csv").drop(columns="price").to_csv(tmp_path / "daily_prices.csv", index=False)
    with pytest.raises(ValueError, match="price"):
        reports.load("pricing", tmp_path)


@pytest.mark.notebooks
def test_report_on_bundled_data(tmp_path):
    page = reports.render("pricing", tmp_path / "p.html", stream=io.StringIO()).read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page and "product.poisson_elasticity" not in page
    text = _text(page)
    dp, prods = datasets.load("daily_prices"), datasets.load("products")
    assert f"{dp['sku_id'].nunique()} SKUs over {dp['date'].nunique()} days" in text
    planted = pd.Series(datasets.truth()["elasticity"])
    assert f"The most price-sensitive category is {planted.idxmin()}" in text
    assert f"the least {planted.idxmax()}" in text
    rel = dp["price"] / dp["sku_id"].map(prods.set_index("sku_id")["list_price"])
    rel = rel[~dp["on_promotion"]]
    assert f"ranged from {rel.quantile(0.01):.2f} to {rel.quantile(0.99):.2f} × list" in text
    assert "decor: demand is inelastic" in text
    assert "Skipped" not in text
    from ecomlab import product

    pf = product.promotion_dip(product.daily_demand(datasets.load("orders"), dp), around=7, alpha=0.05)
    assert f"Promotions pulled forward {pf.share:.0%} of their extra orders (95% CI {pf.ci_low:.0%}–{pf.ci_high:.0%}" in text
    assert pf.ci_low <= datasets.truth()["promo_pull_forward"]["share"] + 0.1 and pf.ci_low > 0
    assert f"about {1 - pf.share:.0%} of its extra orders are new demand" in text


@pytest.mark.notebooks
def test_report_on_a_bare_folder_skips_with_reasons(tmp_path, bare_folder):
    page = reports.render("pricing", tmp_path / "p.html", data=bare_folder,
                          stream=io.StringIO()).read_text(encoding="utf-8")
    text = _text(page)
    assert text.count("Skipped: it needs") == 2
    assert "The most price-sensitive category is" in text
