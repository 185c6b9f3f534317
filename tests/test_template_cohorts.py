"""The repurchase & cohorts report template (notebooks/templates/cohorts.ipynb, DESIGN §8):
its contract, its committed run on the bundled data, and an orders-only export in each preset's
layout (Shopify with a time zone, Tmall, generic) rendered with ``reports.render`` — no code,
figures embedded, the customers section skipped with a sentence, windows taken from the data,
and every checked sentence equal to the number recomputed here from the same data."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from ecomlab import datasets, io, metrics, reports, users

TZ = "America/New_York"
ENCODING = {"shopify": "utf-8", "tmall": "gb18030", "generic": "utf-8"}


def _text(page: str) -> str:
    """The report's visible words (tags, markdown bold and repeated blanks removed)."""
    inline = re.sub(r"</?(strong|em|b|i|code)>", "", page)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).replace("**", "")


def _complete_months(orders: pd.DataFrame) -> tuple[pd.Timestamp, int]:
    """End (exclusive) of the last complete calendar month and the number of complete months."""
    end = orders["order_ts"].max().normalize() + pd.Timedelta(days=1)
    first = orders["order_ts"].min().normalize()
    start_m = first.to_period("M") + (0 if first.day == 1 else 1)
    return end.to_period("M").to_timestamp(), max((end.to_period("M") - start_m).n, 0)


@pytest.fixture(scope="module")
def sample():
    """Every order of a random 30% of the bundled customers (two full years), and their lines."""
    orders = datasets.load("orders")
    ids = orders["customer_id"].drop_duplicates().sample(frac=0.3, random_state=7)
    orders = orders[orders["customer_id"].isin(ids)].reset_index(drop=True)
    items = datasets.load("order_items")
    return orders, items[items["order_id"].isin(orders["order_id"])]


@pytest.fixture(scope="module")
def exports(sample, tmp_path_factory):
    """Orders-only exports: Shopify (lines, UTC offsets -05:00/-04:00), Tmall (GBK, no lines) and a generic CSV
    holding only March-August 2025 (too short for the calendar model)."""
    orders, items = sample
    folder = tmp_path_factory.mktemp("cohort_exports")
    short = orders[(orders["order_ts"] >= "2025-03-10") & (orders["order_ts"] < "2025-08-21")]
    made = {}
    # a New York shop: the same instants as New York wall times (the export's UTC offset changes at DST)
    ny = orders.assign(order_ts=orders["order_ts"].dt.tz_localize("Asia/Shanghai").dt.tz_convert(TZ)
                       .dt.tz_localize(None).astype("datetime64[us]"))
    for preset, frame in (("shopify", io.to_export(ny, items, preset="shopify", timezone=TZ)),
                          ("tmall", io.to_export(orders, preset="tmall")),
                          ("generic", io.to_export(short, preset="generic"))):
        path = folder / f"{preset}.csv"
        frame.to_csv(path, index=False, encoding=ENCODING[preset])
        made[preset] = path
    return made


def test_contract_and_validation(exports):
    c = reports.CONTRACTS["cohorts"]
    assert c.lesson == "04_private_domain/02_cohorts_repurchase"
    assert set(c.required["orders"]) == {"order_id", "customer_id", "order_ts", "paid_amount", "status"}
    v = reports.validate(None, "cohorts")
    assert v.ok and "section   Retention by acquisition channel: will run" in str(v)
    v = reports.validate(exports["tmall"], "cohorts", preset="tmall")
    assert v.ok and "skipped (it needs the customers table" in str(v)
    v = reports.validate(exports["shopify"], "cohorts", preset="shopify")
    assert not v.ok and "timezone=" in str(v)


def test_template_source_has_no_fixed_dates():
    nb = nbformat.read(str(reports.template_path("cohorts")), as_version=4)
    source = "\n".join(c.source for c in nb.cells)
    assert "Nestwell" not in source
    assert not re.search(r"20\d\d-\d\d", "\n".join(c.source for c in nb.cells if c.cell_type == "code")), \
        "a date typed into the template's code"
    assert "04_private_domain/02_cohorts_repurchase" in nb.cells[0].source


def test_committed_run_on_bundled_data_states_recomputed_numbers():
    """The committed outputs (bundled data) say what the helpers compute now."""
    nb = nbformat.read(str(reports.template_path("cohorts")), as_version=4)
    out = " ".join(o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})).replace("**", "")
    orders = datasets.load("orders")
    valid = metrics.valid_orders(orders)
    end, n = _complete_months(orders)
    assert n == 24
    b, a = end - pd.DateOffset(months=6), end - pd.DateOffset(months=12)
    assert f"复购率 (buyers with at least two orders in a window / the window's buyers) is " \
           f"{metrics.repurchase_rate(valid, a, end):.0%} over the 12 months" in out
    assert f"is {metrics.return_purchase_rate(valid, (a, b), (b, end)):.0%} of " in out
    km = users.time_to_second_purchase(orders).km()
    at = lambda d: km.loc[km["days"] <= d, "repurchased"].iloc[-1]  # noqa: E731
    assert f"{at(90):.0%} within 90" in out and f"{at(365):.0%} within 365" in out
    half = km.loc[km["repurchased"] >= at(365) / 2, "days"].iloc[0]
    assert f"half have done so by day {half:.0f}" in out
    assert "Skipped" not in out  # every section runs on the full tables


def _render(name, path, preset, tmp_path, **params):
    out = tmp_path / f"{name}-{preset}.html"
    reports.render(name, out, data=path, preset=preset, params=params)
    return out.read_text(encoding="utf-8")


@pytest.mark.notebooks
@pytest.mark.parametrize("preset", ["shopify", "tmall", "generic"])
def test_report_on_an_orders_only_export(exports, preset, tmp_path, capsys):
    tz = TZ if preset == "shopify" else None
    page = _render("cohorts", exports[preset], preset, tmp_path, **({"timezone": tz} if tz else {}))
    assert "data:image/png;base64," in page
    assert "reports.load(" not in page and "cohort_matrix(" not in page
    assert "Nestwell" not in page
    text = _text(page)
    assert "Skipped: it needs the customers table" in text

    orders = reports.load("cohorts", exports[preset], preset=preset, timezone=tz).tables["orders"]
    valid = metrics.valid_orders(orders)
    assert f"{len(orders):,} orders, of which {len(valid):,} kept purchases" in text
    end, n = _complete_months(orders)
    w = min(6, n // 2)
    b, a = end - pd.DateOffset(months=w), end - pd.DateOffset(months=2 * w)
    assert f"is {metrics.repurchase_rate(valid, a, end):.0%} over the {2 * w} months {a:%Y-%m}" in text
    assert (f"is {metrics.return_purchase_rate(valid, (a, b), (b, end)):.0%} of "
            f"{valid.loc[(valid['order_ts'] >= a) & (valid['order_ts'] < b), 'customer_id'].nunique():,} buyers") in text

    cohorts = users.cohort_matrix(orders[orders["order_ts"] < end])
    m1 = cohorts.matrix[1].dropna()
    assert f"{m1.min():.0%} to {m1.max():.0%} of a cohort bought again (mean {m1.mean():.1%} over {len(m1)} cohorts)" in text
    second = users.time_to_second_purchase(orders)
    assert f"{second.n_customers:,} customers made a first kept purchase" in text
    km = second.km()
    at90 = km.loc[km["days"] <= 90, "repurchased"].iloc[-1]
    assert f"{at90:.0%} within 90" in text
    if preset == "generic":  # five months: windows shortened, no calendar model, no year of follow-up
        assert n == 4 and "each window is 2 month(s) instead of the 6 asked for" in text
        assert "Skipped: separating age from calendar months needs cohort cells in every calendar month" in text
        dur = second.table["duration_days"]
        unseen = [d for d in (30, 90, 180, 365) if not (dur >= d).any()]
        assert unseen and f"No customer is observed for {', '.join(map(str, unseen))} days yet" in text
        assert "the Kaplan–Meier median for all new customers is not reached" in text
    else:
        assert n == 24 and ("The calendar matters" in text or "No calendar month stands out" in text)
        cal = users.calendar_effects(cohorts, max_age=12)
        assert f"F({cal.df_num}, {cal.df_denom}) = {cal.f_stat:.1f}" in text


@pytest.mark.notebooks
def test_a_bad_parameter_is_a_clear_error_not_a_report(exports, tmp_path):
    out = tmp_path / "r.html"
    with pytest.raises(ValueError, match="window_months must be a whole number >= 1, got '0'"):
        reports.render("cohorts", out, data=exports["tmall"], preset="tmall", params={"window_months": "0"})
    assert not out.exists()


def test_sample_spans_the_windows(sample):
    """The fixtures are what the tests above assume (two full years, a month-1 for most cohorts)."""
    orders, _ = sample
    end, n = _complete_months(orders)
    assert n == 24 and np.isfinite(users.cohort_matrix(orders).matrix[1]).sum() == 23
