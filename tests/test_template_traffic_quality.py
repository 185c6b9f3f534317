"""Report template ``traffic_quality`` (lesson 03-3): the bundled data, and a folder with only
an event log without device or customer ids and the orders (no marketing_daily): the sections
that need what is missing are skipped with the reason; the generated sentences are checked
against numbers recomputed here with pandas (GMV / visitors), not with ecomlab.traffic_quality."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest

from ecomlab import datasets, reports, traffic

pytestmark = pytest.mark.notebooks


def _text(html_path) -> str:
    page = html_path.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page
    assert not re.search(r"Traceback|[A-Za-z]+Error:", page)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"</?(strong|em|b|i|span|code)\b[^>]*>", "", page)))


def _by_hand(clean: pd.DataFrame, orders: pd.DataFrame, start, end) -> pd.DataFrame:
    """Visitors, GMV and value per visitor by source, in plain pandas."""
    vis = clean.groupby("source", observed=True)["visitor_id"].nunique()
    o = orders[(orders["order_ts"] >= start) & (orders["order_ts"] < end) & (orders["status"] != "cancelled")]
    gmv = o.groupby("traffic_source", observed=True)["paid_amount"].sum()
    out = pd.DataFrame({"visitors": vis, "gmv": gmv.reindex(vis.index, fill_value=0.0)})
    return out.assign(vpv=out["gmv"] / out["visitors"])


def test_contract_declares_its_sections():
    c = reports.CONTRACTS["traffic_quality"]
    assert c.lesson == "03_traffic/03_quality"
    assert set(c.sections) == {"Value per visitor by device", "New and returning visitors", "What a click is worth"}


def test_report_on_the_bundled_data(tmp_path):
    with open(os.devnull, "w") as sink:
        out = reports.render("traffic_quality", tmp_path / "tq.html", stream=sink, params={"confidence": "0.95"})
    text = _text(out)
    ev, orders, mkt = datasets.load("events"), datasets.load("orders"), datasets.load("marketing_daily")
    clean, rep = traffic.clean_events(ev)
    start, end = rep.attrs["window"]
    h = _by_hand(clean, orders, start, end)
    best, worst = h["vpv"].idxmax(), h["vpv"].idxmin()
    assert f"A visitor from {best} is worth {h.loc[best, 'vpv']:.2f} CNY" in text
    assert f"A visitor from {worst} is worth {h.loc[worst, 'vpv']:.2f} CNY" in text
    m = mkt[(mkt["date"] >= start) & (mkt["date"] < end)].groupby("channel", observed=True)[["spend", "clicks"]].sum()
    cpc = (m["spend"] / m["clicks"]).loc["search_ads"]
    assert f"costs {cpc:.2f} CNY and is worth {h.loc['search_ads', 'vpv']:.2f} CNY of GMV" in text
    assert "Skipped" not in text


def test_report_on_a_folder_without_devices_ids_or_spend(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    ev = datasets.load("events")[["visitor_id", "session_id", "ts", "event", "source"]]
    orders = datasets.load("orders")[["order_id", "customer_id", "order_ts", "status", "paid_amount", "traffic_source"]]
    ev.to_parquet(folder / "events.parquet")
    orders.to_parquet(folder / "orders.parquet")
    loaded = reports.load("traffic_quality", folder)
    assert loaded.sections["What a click is worth"] is not None
    assert loaded.sections["Value per visitor by device"] is not None
    with open(os.devnull, "w") as sink:
        out = reports.render("traffic_quality", tmp_path / "tq.html", data=folder, stream=sink)
    text = _text(out)
    assert text.count("Skipped:") == 3
    clean, rep = traffic.clean_events(loaded.tables["events"])
    h = _by_hand(clean, loaded.tables["orders"], *rep.attrs["window"])
    best = h["vpv"].idxmax()
    assert f"A visitor from {best} is worth {h.loc[best, 'vpv']:.2f}" in text
