"""The CLV report template (notebooks/templates/clv.ipynb, DESIGN §8): its contract, its
committed run on the bundled data, an orders-only export in each preset's layout (Shopify with a
time zone, Tmall, generic) rendered with ``reports.render`` — the hold-out taken from the data
and its length a parameter, "validated" only within the stated tolerance, the margin and LTV:CAC
sections skipped with a sentence — and a calibration date outside the data refused with a clear
error instead of a report (an analyst once got "converged" with r = 0.114 and CLV 0.0)."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from ecomlab import datasets, io, reports, users
from ecomlab.cli import main

TZ = "America/New_York"
ENCODING = {"shopify": "utf-8", "tmall": "gb18030", "generic": "utf-8"}


def _text(page: str) -> str:
    """The report's visible words (inline tags, other tags and repeated blanks removed)."""
    inline = re.sub(r"</?(strong|em|b|i|code)>", "", page)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).replace("**", "")


def _markdown_outputs(nb) -> str:
    return " ".join(o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
                    for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})).replace("**", "")


def _expected(orders: pd.DataFrame, holdout_weeks: int = 26, amount: str = "paid_amount"):
    """The hold-out check and the end-of-data fit, recomputed with the helpers."""
    end = orders["order_ts"].max().normalize() + pd.Timedelta(days=1)
    cal = end - pd.Timedelta(weeks=holdout_weeks)
    s = users.rfm_summary(orders, calibration_end=cal, observation_end=end, freq="D", amount=amount)
    bg = users.fit_bgnbd(s)
    pred = float(users.expected_purchases(bg, s["duration_holdout"], s["frequency"], s["recency"], s["T"]).sum())
    actual = float(s["frequency_holdout"].sum())
    s_end = users.rfm_summary(orders, calibration_end=end, freq="D", amount=amount)
    return cal, end, bg, pred, actual, s_end


@pytest.fixture(scope="module")
def sample():
    """Every order of a random 30% of the bundled customers (two full years), and their lines."""
    orders = datasets.load("orders")
    ids = orders["customer_id"].drop_duplicates().sample(frac=0.3, random_state=11)
    orders = orders[orders["customer_id"].isin(ids)].reset_index(drop=True)
    items = datasets.load("order_items")
    return orders, items[items["order_id"].isin(orders["order_id"])]


@pytest.fixture(scope="module")
def exports(sample, tmp_path_factory):
    """Orders-only exports: Shopify (lines, UTC offsets -05:00/-04:00), Tmall (GBK), generic CSV."""
    orders, items = sample
    folder = tmp_path_factory.mktemp("clv_exports")
    # a New York shop: the same instants as New York wall times (the export's UTC offset changes at DST)
    ny = orders.assign(order_ts=orders["order_ts"].dt.tz_localize("Asia/Shanghai").dt.tz_convert(TZ)
                       .dt.tz_localize(None).astype("datetime64[us]"))
    made = {}
    for preset, frame in (("shopify", io.to_export(ny, items, preset="shopify", timezone=TZ)),
                          ("tmall", io.to_export(orders, preset="tmall")),
                          ("generic", io.to_export(orders, preset="generic"))):
        path = folder / f"{preset}.csv"
        frame.to_csv(path, index=False, encoding=ENCODING[preset])
        made[preset] = path
    return made


def test_contract_and_validation(exports):
    c = reports.CONTRACTS["clv"]
    assert c.lesson == "04_private_domain/03_clv"
    v = reports.validate(None, "clv")
    assert v.ok
    assert "section   Gross margin after discounts: will run" in str(v)
    assert "section   LTV : CAC by acquisition channel: will run" in str(v)
    v = str(reports.validate(exports["tmall"], "clv", preset="tmall"))
    assert "Gross margin after discounts: skipped (it needs the order_items table and the products table and " \
           "a discount_amount column" in v
    assert "LTV : CAC by acquisition channel: skipped (it needs the customers table and the marketing_daily table" in v


def test_template_source_has_no_fixed_dates():
    nb = nbformat.read(str(reports.template_path("clv")), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "Nestwell" not in "\n".join(c.source for c in nb.cells)
    params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert re.search(r"^holdout_weeks = \d+", params, re.M) and re.search(r"^calibration_end = None", params, re.M)
    assert not re.search(r"20\d\d-\d\d-\d\d", code.replace(params, "")), "a date typed into the template's code"


def test_committed_run_on_bundled_data_states_recomputed_numbers():
    """The committed outputs (bundled data, every section) say what the helpers compute now."""
    out = _markdown_outputs(nbformat.read(str(reports.template_path("clv")), as_version=4))
    orders = datasets.load("orders")
    orders["net_amount"] = orders["items_amount"] - orders["discount_amount"]
    cal, end, bg, pred, actual, s_end = _expected(orders, amount="net_amount")
    assert f"fitted on purchases before {cal:%Y-%m-%d}" in out
    assert f"forecasts {pred:,.0f} repeat purchase days in the hold-out against {actual:,.0f} actual " \
           f"({pred / actual - 1:+.1%}). Validated" in out
    assert abs(pred / actual - 1) <= 0.10
    assert "Skipped" not in out and "Not validated" not in out and "Not scored" not in out
    clv = users.clv(users.fit_bgnbd(s_end), users.fit_gamma_gamma(s_end), s_end, 12,
                    margin=float(re.search(r"gross margin after discounts above, ([\d.]+)%", out).group(1)) / 100)
    assert f"{len(clv):,} customers" in out
    assert abs(clv["clv_amount"].mean() - float(re.search(r"bring ([\d,]+) CNY of gross profit on average",
                                                          out).group(1).replace(",", ""))) <= 1


def _render(path, preset, tmp_path, **params):
    out = tmp_path / f"clv-{preset}.html"
    reports.render("clv", out, data=path, preset=preset, params=params)
    return out.read_text(encoding="utf-8")


@pytest.mark.notebooks
@pytest.mark.parametrize(("preset", "params"), [
    ("shopify", {"timezone": TZ}),
    ("tmall", {"holdout_weeks": "13"}),              # a command line gives text
    ("generic", {"tolerance": "0.001", "margin": "0.4"}),
])
def test_report_on_an_orders_only_export(exports, preset, params, tmp_path):
    page = _render(exports[preset], preset, tmp_path, **params)
    assert "data:image/png;base64," in page
    assert "reports.load(" not in page and "fit_bgnbd(" not in page and "Nestwell" not in page
    text = _text(page)
    assert "Skipped: it needs the customers table and the marketing_daily table" in text
    assert "Skipped: it needs the order_items table" in text or "Skipped: it needs the products table" in text

    loaded = reports.load("clv", exports[preset], preset=preset, timezone=params.get("timezone"))
    orders = loaded.tables["orders"].copy()
    net = preset in ("shopify", "generic")  # Tmall reports carry no coupon amount: paid amount is used
    assert ("merchandise revenue after coupons" in text) is net
    if net:
        orders["net_amount"] = orders["items_amount"] - orders["discount_amount"]
    weeks = int(params.get("holdout_weeks", 26))
    cal, end, bg, pred, actual, s_end = _expected(orders, weeks, "net_amount" if net else "paid_amount")
    assert f"fitted on purchases before {cal:%Y-%m-%d} (the end of the data minus the {weeks}-week hold-out)" in text
    assert f"checked on {cal:%Y-%m-%d} to {end - pd.Timedelta(days=1):%Y-%m-%d}" in text
    err = pred / actual - 1
    assert f"forecasts {pred:,.0f} repeat purchase days in the hold-out against {actual:,.0f} actual ({err:+.1%})" in text
    tol = float(params.get("tolerance", 0.10))
    if preset == "generic":  # the tight tolerance: the model must not be called validated
        assert abs(err) > tol
    if abs(err) <= tol and bg.converged:
        assert "Validated: the fit converged" in text and "Not validated" not in text
    else:
        assert "Validated:" not in text
        assert (f"Not validated: the hold-out forecast is off by {err:+.1%}, more than the tolerance of "
                f"±{tol:.1%}") in text
        assert "Not validated on the hold-out (see above): treat these figures as unchecked" in text

    margin = float(params.get("margin", 1.0))
    clv = users.clv(users.fit_bgnbd(s_end), users.fit_gamma_gamma(s_end), s_end, 12, margin=margin)
    worth = "gross profit" if "margin" in params else "revenue"
    assert f"bring {clv['clv_amount'].mean():,.0f} {loaded.currency} of {worth} on average" in text
    order = np.sort(clv["clv_amount"].to_numpy())[::-1]
    top10 = order[: -(-len(order) // 10)].sum() / order.sum()
    assert f"the top 10% of customers hold {top10:.0%}" in text
    if worth == "revenue":
        assert "This is revenue: set margin=" in text


@pytest.mark.notebooks
@pytest.mark.parametrize(("param", "match"), [
    ("calibration_end=2030-01-01", r"refused to report: calibration_end=2030-01-01 00:00:00 is after the end of the data"),
    ("holdout_weeks=400", r"refused to report: calibration_end=.* is on/before the first order"),
])
def test_a_calibration_date_outside_the_data_is_a_clear_error_not_a_report(exports, tmp_path, capsys, param, match):
    out = tmp_path / "clv.html"
    code = main(["report", "clv", "--data", str(exports["tmall"]), "--preset", "tmall", "--param", param,
                 "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert re.search(match, err) and "Traceback" not in err
    assert not out.exists()


def test_the_helpers_refuse_the_same_dates(sample):
    """rfm_summary names a calibration date outside the data first, even with a hold-out end."""
    orders, _ = sample
    end = orders["order_ts"].max().normalize() + pd.Timedelta(days=1)
    with pytest.raises(ValueError, match="calibration_end=2030-01-01 00:00:00 is after the end of the data"):
        users.rfm_summary(orders, calibration_end="2030-01-01", observation_end=end, freq="D")
    with pytest.raises(ValueError, match="after the end of the data"):
        users.rfm_summary(orders, calibration_end="2030-01-01", freq="D")
    with pytest.raises(ValueError, match="on/before the first order"):
        users.rfm_summary(orders, calibration_end="2020-01-01", freq="D")
