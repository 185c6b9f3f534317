"""The inventory plan report template (notebooks/templates/inventory_plan.ipynb, lesson 02-3):
its contract, a run on a folder of narrow tables (a shop's stock records without the
stock-on-hand column and without the simulation's true demand) rendered with
``reports.render`` — no code, figures embedded, the stock section skipped with a sentence, and
the checked sentences equal to the numbers recomputed here — and clear refusals."""

from __future__ import annotations

import io
import re

import nbformat
import pandas as pd
import pytest

from ecomlab import datasets, inventory, reports


def _text(page: str) -> str:
    inline = re.sub(r"</?(strong|em|b|i|code)>", "", page)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).replace("**", "")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """inventory (sku_id, date, units_sold, stockout only) and products, as CSV files."""
    d = tmp_path_factory.mktemp("inventory_plan")
    inv = datasets.load("inventory")[["sku_id", "date", "units_sold", "stockout"]]
    inv.to_csv(d / "inventory.csv", index=False)
    products = datasets.load("products")
    products[["sku_id", "lead_time_days", "unit_cost", "list_price"]].to_csv(d / "products.csv", index=False)
    return d, inv


def test_contract():
    c = reports.CONTRACTS["inventory_plan"]
    assert c.lesson == "02_product/03_inventory"
    assert set(c.required) == {"inventory", "products"}
    assert "stockout" in c.required["inventory"] and "lead_time_days" in c.required["products"]
    assert reports.template_path("inventory_plan").exists()


def test_validation_reports_the_optional_stock_section(folder):
    d, _ = folder
    loaded = reports.load("inventory_plan", d)
    assert loaded.sections["Stock on hand against the reorder point"]
    assert len(loaded.tables["inventory"]) == 14_620


def test_a_missing_required_column_is_refused(tmp_path, folder):
    _, inv = folder
    inv.drop(columns="stockout").to_csv(tmp_path / "inventory.csv", index=False)
    datasets.load("products").to_csv(tmp_path / "products.csv", index=False)
    with pytest.raises(ValueError, match="stockout"):
        reports.load("inventory_plan", tmp_path)


@pytest.mark.notebooks
def test_report_on_a_folder_of_narrow_tables(tmp_path, folder):
    d, inv = folder
    page = reports.render("inventory_plan", tmp_path / "r.html", data=str(d),
                          stream=io.StringIO()).read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page
    text = _text(page)
    lost = inventory.lost_sales(inv.assign(date=pd.to_datetime(inv["date"])))
    assert f"about {lost.total:,.0f} units were lost" in text
    assert f"On the {lost.n_censored:,} stockout SKU-days" in text
    assert "Skipped: it needs a on_hand_start column" in text
    assert "pre-build" in text and "critical ratios run" in text
    assert "median MASE of" in text


def test_template_source_has_no_word_about_the_course_brand():
    nb = nbformat.read(str(reports.template_path("inventory_plan")), as_version=4)
    src = "\n".join(c.source for c in nb.cells)
    assert "Nestwell" not in src and "栖居" not in src
