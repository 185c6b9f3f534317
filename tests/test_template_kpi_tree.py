"""Report template ``kpi_tree`` (DESIGN §8): the bundled data (full tree from the event log),
orders-only exports in the Shopify and Tmall layouts (GMV = orders × order value = buyers ×
spend per buyer, the full tree skipped with a sentence), a daily visitors table, and the
generated sentences checked against numbers recomputed here."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest

from ecomlab import calendar, datasets, io, kpi, metrics, reports, traffic
from ecomlab.io.report import DataError
from ecomlab.io.visitors import read_daily_visitors

TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def sample():
    """Every 10th order of 2025 and its lines; the shop was closed from 10 March to 19 April
    (41 days without orders: the days after reopening have a zero baseline with no spread)."""
    orders = datasets.load("orders")
    o = orders[orders["order_ts"] >= "2025-01-01"].iloc[::10]
    o = o[~o["order_ts"].between("2025-03-10", "2025-04-20", inclusive="left")]
    items = datasets.load("order_items")
    return o, items[items["order_id"].isin(o["order_id"])]


@pytest.fixture(scope="module")
def exports(sample, tmp_path_factory):
    o, items = sample
    folder = tmp_path_factory.mktemp("exports")
    io.to_export(o, items, preset="shopify", timezone=TZ).to_csv(folder / "shopify.csv", index=False)
    io.to_export(o, None, preset="tmall").to_csv(folder / "tmall.csv", index=False, encoding="gb18030")
    return folder


def _render(tmp_path, **kw):
    with open(os.devnull, "w") as sink:
        out = reports.render("kpi_tree", tmp_path / "kpi.html", stream=sink, **kw)
    page = out.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"</?(strong|em|b|i|span|code)\b[^>]*>", "", page)))


def _orders_sentences(orders, cur):
    placed = metrics.placed_orders(orders)
    g, n, b = metrics.gmv(orders), len(placed), placed["customer_id"].nunique()
    first = (f"{n:,} placed orders ({len(orders) - n:,} cancelled orders are not GMV) from {b:,} buyers made a "
             f"GMV of {g:,.0f} {cur}: an order value (笔单价) of {g / n:,.2f} {cur} and a spend per buyer (客单价) of "
             f"{g / b:,.2f} {cur}")
    last = placed["order_ts"].dt.normalize().max()
    a0, b0 = last - pd.Timedelta(days=6), last - pd.Timedelta(days=13)
    before = orders[(orders["order_ts"] >= b0) & (orders["order_ts"] < a0)]
    after = orders[(orders["order_ts"] >= a0) & (orders["order_ts"] < last + pd.Timedelta(days=1))]
    gb, ga = metrics.gmv(before), metrics.gmv(after)
    change = (f"Comparing {a0:%Y-%m-%d} to {last:%Y-%m-%d} with {b0:%Y-%m-%d} to {a0 - pd.Timedelta(days=1):%Y-%m-%d} "
              f"(the last 7 days of the data and the 7 days before): GMV went from {gb:,.0f} to {ga:,.0f} {cur} "
              f"({ga - gb:+,.0f} {cur}")
    nb, na = len(metrics.placed_orders(before)), len(metrics.placed_orders(after))
    eff = kpi.decompose_change({"uv": nb, "cr": 1.0, "spend_per_buyer": gb / nb}, {"uv": na, "cr": 1.0, "spend_per_buyer": ga / na})
    return first, change, f"Placed orders {nb:,} → {na:,} contributed {eff['uv_effect']:+,.0f}"


def test_validate_orders_only_exports(exports):
    for name, preset, kw in (("shopify.csv", "shopify", {"timezone": TZ}), ("tmall.csv", "tmall", {})):
        v = reports.validate(exports / name, "kpi_tree", preset=preset, **kw)
        assert v.ok, str(v)
        assert "optional  events: visitor_id, ts  absent" in str(v)
        assert "section   The full tree: visitors × conversion × spend per buyer: skipped (it needs the events table" in str(v)


@pytest.mark.notebooks
@pytest.mark.parametrize(("name", "preset", "kw"), [("shopify.csv", "shopify", {"timezone": TZ}), ("tmall.csv", "tmall", {})])
def test_report_on_an_orders_only_export(exports, tmp_path, name, preset, kw):
    text = _render(tmp_path, data=exports / name, preset=preset, params=dict(kw))
    assert "Nestwell" not in text
    loaded = reports.load("kpi_tree", exports / name, preset=preset, **kw)
    for sentence in _orders_sentences(loaded.tables["orders"], loaded.currency):
        assert sentence in text, sentence
    assert "Skipped: it needs the events table, which the data do not have; pass visitors=" in text
    assert "promotion days from the Chinese retail calendar for 2025 neither scored" in text
    # the alert sentence, recomputed: a small shop has days without orders (zero baselines are not scored)
    orders = loaded.tables["orders"]
    placed = metrics.placed_orders(orders)
    day = placed["order_ts"].dt.normalize()
    daily = pd.DataFrame({"orders": placed.groupby(day).size(), "buyers": placed.groupby(day)["customer_id"].nunique(),
                          "gmv": placed.groupby(day)["paid_amount"].sum()}).reindex(
        pd.date_range(day.min(), day.max()), fill_value=0).rename_axis("date").reset_index()
    assert (daily["orders"] == 0).sum() == 41  # the closed days are zeros in the series, not gaps
    promo = kpi.promo_days(calendar.promotion_calendar([2025])[["start_date", "end_date"]])
    alerts = kpi.anomaly_alerts(daily, metrics=["orders", "buyers", "gmv"], calendar=promo, z=3.5, baseline="trailing")
    assert f"({alerts.attrs['promo_days_skipped']:,} metric-days skipped)" in text
    assert (f"{len(alerts):,} alerts on {alerts['date'].nunique():,} days" in text) == (len(alerts) > 0)
    zero = alerts.attrs["days_zero_spread"]
    assert zero > 0 and not alerts["robust_z"].abs().eq(float("inf")).any()
    assert (f"{zero:,} metric-days were not scored because their baseline had no spread at all (e.g. zero orders "
            f"every day), {len(alerts.attrs['zero_spread_changes']):,} of them moved off that constant.") in text


@pytest.mark.notebooks
def test_report_with_a_daily_visitors_table_and_another_calendar(exports, tmp_path):
    """Orders from a Tmall export, visitors from a traffic report: the full tree from both;
    a market's own promotion calendar replaces the Chinese one."""
    events, _ = traffic.clean_events(datasets.load("events"))
    uv = events.groupby(events["ts"].dt.normalize())["visitor_id"].nunique() // 10
    path = tmp_path / "visitors.csv"
    pd.DataFrame({"日期": uv.index.strftime("%Y-%m-%d"), "访客数": uv.to_numpy()}).to_csv(path, index=False)
    text = _render(tmp_path, data=exports / "tmall.csv", preset="tmall",
                   params={"visitors": str(path), "promotions": [["Black Friday", "2025-11-28", "2025-12-01"]]})
    table, _ = read_daily_visitors(path)
    orders = reports.load("kpi_tree", exports / "tmall.csv", preset="tmall").tables["orders"]
    placed = metrics.placed_orders(orders)
    placed = placed[placed["order_ts"].dt.normalize().isin(table["date"])]
    buyers = placed.groupby(placed["order_ts"].dt.normalize())["customer_id"].nunique().sum()
    assert f"Visitors come from the daily visitors table ({len(table):,} days" in text
    assert f"{buyers / table['uv'].sum():.2%} bought (CR, 转化率 = buyers / UV)" in text
    assert "promotion days from the promotion calendar you gave neither scored" in text
    assert "Skipped" not in text


@pytest.mark.notebooks
def test_report_on_the_bundled_data(tmp_path):
    text = _render(tmp_path, params={"z": "3.5", "period_days": "7", "baseline": "None"})  # as a command line gives
    events, _ = traffic.clean_events(datasets.load("events"))
    daily = kpi.daily_kpis(events, datasets.load("orders"))
    assert (f"an average day had {daily['uv'].sum() / len(daily):,.0f} visitors, of whom "
            f"{daily['buyers'].sum() / daily['uv'].sum():.2%} bought") in text
    by_device = kpi.daily_kpis(events, datasets.load("orders"), by="device")
    promo = kpi.promo_days(calendar.promotion_calendar([2025])[["start_date", "end_date"]])
    dev = kpi.anomaly_alerts(by_device, by="device", metrics=["cr"], calendar=promo, baseline="centered",
                             rate_denominators={"cr": "uv"})
    w = dev.loc[dev["robust_z"].abs().idxmax()]
    assert f"the strongest: {w['segment']} CR on {w['date']:%Y-%m-%d} was {w['value']:.2%}" in text
    assert "Skipped" not in text


@pytest.mark.notebooks
def test_a_period_outside_the_data_is_refused(tmp_path):
    with pytest.raises(ValueError, match="lies outside the data"):
        _render(tmp_path, params={"after_start": "2030-01-01"})


def test_read_daily_visitors_refuses_clearly(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("date,uv\n2025-03-01,10\n2025-03-01,12\n")
    with pytest.raises(DataError, match="one row per day"):
        read_daily_visitors(p)
    p.write_text("date,uv\n2025-03-01,1.5\n")
    with pytest.raises(DataError, match="uv"):
        read_daily_visitors(p)
    p.write_text("day,visits\n2025-03-01,3\n")
    with pytest.raises(DataError, match=r"mapping=\{'uv'"):
        read_daily_visitors(p)
    t, _ = read_daily_visitors(p, mapping={"uv": "visits"})
    assert t["uv"].tolist() == [3] and str(t["date"].dtype) == "datetime64[us]"
    p.write_text("date,uv\n03/04/2025,3\n")
    with pytest.raises(DataError):
        read_daily_visitors(p)
    assert read_daily_visitors(p, dayfirst=True)[0]["date"].iloc[0] == pd.Timestamp("2025-04-03")
