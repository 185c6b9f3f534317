"""Report templates (DESIGN §8): contracts, validation first, standalone HTML without code,
sentences generated from the user's data — on the bundled data, a course-layout folder with
only some tables, and a Shopify-layout export."""

from __future__ import annotations

import re

import nbformat
import pytest

from ecomlab import datasets, io, reports
from ecomlab.cli import main

TZ = "America/New_York"


@pytest.fixture(scope="module")
def shopify_csv(tmp_path_factory):
    """A Shopify orders export (one row per line item, UTC offsets) of 3,000 orders."""
    orders = datasets.load("orders").head(3000)
    items = datasets.load("order_items")
    items = items[items["order_id"].isin(orders["order_id"])]
    path = tmp_path_factory.mktemp("shopify") / "orders_export.csv"
    io.to_export(orders, items, preset="shopify", timezone=TZ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def orders_only_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course_layout")
    datasets.load("orders").to_csv(folder / "orders.csv", index=False)
    return folder


def test_every_contract_has_its_template_and_lesson():
    from ecomlab.notebooks import notebooks_dir

    for name, c in reports.CONTRACTS.items():
        path = reports.template_path(name)
        assert (notebooks_dir() / f"{c.lesson}.ipynb").is_file(), c.lesson
        nb = nbformat.read(str(path), as_version=4)
        source = "\n".join(cell.source for cell in nb.cells)
        assert "Nestwell" not in source, f"template {name} mentions Nestwell"
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1 and re.search(r"^data = None", params[0].source, re.M)
        for needs in c.sections.values():
            for need in needs:
                table, _, col = need.partition(".")
                if col:
                    assert col in c.optional_columns.get(table, ()), f"{name}: {need} is not an optional column"
                else:
                    assert table in c.optional, f"{name}: a section may only need optional tables, not {table}"
        columns = {col for t in [*c.required, *c.optional_columns]
                   for col in [*c.required.get(t, ()), *c.optional_columns.get(t, ())]}
        assert set(c.column_params.values()) <= columns, f"{name}: a column parameter names no contract column"
        for param in c.column_params:
            assert re.search(rf"^{param} = ", params[0].source, re.M), f"{name}: parameter {param} not declared"


def test_validate_bundled_data():
    v = reports.validate(None, "rfm")
    text = str(v)
    assert v.ok
    assert "required  orders" in text and "rows found" in text
    assert "section   Value segments by acquisition channel: will run" in text


def test_validate_folder_with_orders_only_skips_the_channel_section(orders_only_folder):
    v = reports.validate(orders_only_folder, "rfm")
    assert v.ok
    assert "optional  customers: customer_id, acquisition_channel  absent" in str(v)
    assert "skipped (it needs the customers table" in str(v)


def test_validate_names_what_must_be_set(shopify_csv):
    v = reports.validate(shopify_csv, "rfm", preset="shopify")
    assert not v.ok and "timezone=" in str(v)
    v = reports.validate(shopify_csv, "rfm", preset="shopify", timezone=TZ)
    assert v.ok and "Created at" in str(v)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: reports.load("nope"), "template must be one of"),
        (lambda: reports.load("rfm", "datasets", preset="shopify"), "applies to an export file"),
        (lambda: reports.load("rfm", "/no/such/place"), "does not exist"),
    ],
)
def test_load_refuses_clearly(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_load_refuses_a_folder_without_the_required_table(tmp_path):
    (tmp_path / "customers.csv").write_text("customer_id\nC1\n")
    with pytest.raises(ValueError, match="needs table 'orders'"):
        reports.load("rfm", tmp_path)


@pytest.mark.notebooks
def test_report_on_a_shopify_export_is_standalone_and_computed(shopify_csv, tmp_path, capsys):
    out = tmp_path / "rfm.html"
    code = main(["report", "rfm", "--data", str(shopify_csv), "--preset", "shopify",
                 "--timezone", TZ, "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "running rfm" in printed and f"wrote {out}" in printed
    page = out.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page          # figures embedded
    assert "reports.load(" not in page and "rfm_table(" not in page  # no code
    assert "Nestwell" not in page
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    rfm = reports.load("rfm", shopify_csv, preset="shopify", timezone=TZ)
    from ecomlab import users

    table = users.rfm_table(rfm.tables["orders"])
    assert f"{len(table.table):,} customers made {table.n_orders_used:,} purchases" in text
    assert "Skipped: it needs the customers table" in text


def test_cli_validate_and_report_errors(shopify_csv, tmp_path, capsys):
    assert main(["validate", str(shopify_csv), "--template", "rfm", "--preset", "shopify"]) == 1
    assert "cannot run" in capsys.readouterr().out
    assert main(["validate", "x", "--template", "nope"]) == 2
    assert main(["report", "rfm", "--param", "as_of", "--out", str(tmp_path / "r.html")]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_load_options_keeps_what_load_reads():
    params = {"unit_col": "u", "mde": "0.01", "currency": "CNY", "true_values": "ja"}
    assert reports.load_options("ab_test", params) == {"unit_col": "u", "currency": "CNY", "true_values": "ja"}
    assert reports.load_options("rfm", params) == {"currency": "CNY", "true_values": "ja"}
    with pytest.raises(ValueError, match="template must be one of"):
        reports.load_options("nope", params)


def test_validate_lists_optional_columns_and_the_parameter_to_set():
    v = reports.validate(None, "ab_test", revenue_col=None)
    assert v.ok and "revenue (absent)" in str(v) and "pre_revenue (found)" in str(v)
    assert ("section   Revenue per visitor: skipped (it needs a revenue column (parameter revenue_col not set)"
            in str(v))


def test_an_orders_export_read_with_a_column_mapping(tmp_path):
    orders = datasets.load("orders").head(200)
    path = tmp_path / "orders.csv"
    orders.rename(columns={"order_id": "Order No", "customer_id": "Client", "order_ts": "Date",
                           "paid_amount": "Total", "status": "State"})[
        ["Order No", "Client", "Date", "Total", "State"]].to_csv(path, index=False)
    d = reports.load("rfm", path, preset="generic", mapping={"order_id": "Order No", "customer_id": "Client",
                                                            "order_ts": "Date", "paid_amount": "Total",
                                                            "status": "State"})
    got = d.tables["orders"]
    assert got["order_id"].tolist() == orders["order_id"].tolist()
    assert got["paid_amount"].tolist() == orders["paid_amount"].tolist()
    with pytest.raises(ValueError, match="mapping keys must be columns of its contract"):
        reports.load("rfm", path, preset="generic", mapping={"Order No": "order_id"})
