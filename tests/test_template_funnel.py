"""Report template ``funnel`` (DESIGN §8): the bundled log, and a shop's own clickstream —
its own event names, no session column, another year, no device or source — with the
generated sentences checked against numbers recomputed here."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest

from ecomlab import datasets, reports, traffic

EVENT_MAP = {"view_item": "pv", "add_to_cart": "cart", "begin_checkout": "checkout", "purchase": "buy"}
EVENT_MAP_TEXT = ",".join(f"{k}:{v}" for k, v in EVENT_MAP.items())


@pytest.fixture(scope="module")
def clicks_csv(tmp_path_factory):
    """A hand-made GA4-like export: user_id, event_time, event_name, item_id; April 2021;
    visits of several events 2 minutes apart, a visitor's visits hours or days apart; a
    stray event the evening before the month and a duplicated row."""
    rng = np.random.default_rng(11)
    rows = []
    for u in range(600):
        for _ in range(int(rng.integers(1, 4))):
            t = pd.Timestamp("2021-04-01") + pd.Timedelta(days=int(rng.integers(0, 30)), hours=int(rng.integers(7, 23)),
                                                           minutes=int(rng.integers(0, 60)))
            seq = ["view_item"] * int(rng.integers(1, 4))
            r = rng.random()
            seq += ["add_to_cart"] * (r < 0.3) + ["begin_checkout"] * (r < 0.15) + ["purchase"] * (r < 0.08)
            seq += ["purchase"] * (0.3 <= r < 0.33)  # buy now: no cart
            rows += [(f"u{u:04d}", f"{t + pd.Timedelta(minutes=2 * i):%Y-%m-%d %H:%M:%S}", e, f"P{i:03d}")
                     for i, e in enumerate(seq)]
    rows.append(("u9999", "2021-03-31 23:50:00", "view_item", "P001"))
    rows.append(rows[0])
    path = tmp_path_factory.mktemp("clicks") / "clicks.csv"
    pd.DataFrame(rows, columns=["user_id", "event_time", "event_name", "item_id"]).to_csv(path, index=False)
    return path


def _text(html_path, *, own_data: bool = True) -> str:
    page = html_path.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page
    assert "Nestwell" not in page or not own_data  # the bundled data are named as the source, nothing else
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"</?(strong|em|b|i|span|code)\b[^>]*>", "", page)))


def test_validate_clickstream_with_its_own_names(clicks_csv):
    v = reports.validate(clicks_csv, "funnel", event_map=EVENT_MAP_TEXT)
    text = str(v)
    assert v.ok, text
    assert "section   Funnel by device: skipped (it needs a device column" in text
    assert "section   Funnel by traffic source: skipped (it needs a source column" in text
    assert "sessions built" in text and "'purchase' → buy" in text


def test_unknown_event_names_are_a_clear_error(clicks_csv):
    v = reports.validate(clicks_csv, "funnel")
    assert not v.ok and "pass event_map=" in str(v) and "purchase" in str(v)
    partial = "view_item:pv,add_to_cart:cart,purchase:buy"
    with pytest.raises(ValueError, match=r"expected event names in event_map.*begin_checkout"):
        reports.load("funnel", clicks_csv, event_map=partial)
    dropped = reports.load("funnel", clicks_csv, event_map="view_item:pv,add_to_cart:cart,begin_checkout:,purchase:buy")
    assert list(dropped.tables["events"]["event"].cat.categories) == ["pv", "cart", "buy"]
    assert any("events mapped to None in event_map: ['begin_checkout']" in n for n in dropped.notes)
    with pytest.raises(ValueError, match="event_map must be a dict"):
        reports.load("funnel", clicks_csv, event_map="view_item=pv")
    with pytest.raises(ValueError, match="event_map applies to a clickstream export file"):
        reports.load("funnel", None, event_map=partial)
    with pytest.raises(ValueError, match="preset"):
        reports.load("funnel", clicks_csv, preset="shopify", event_map=EVENT_MAP)


@pytest.mark.notebooks
def test_report_on_a_shops_clickstream(clicks_csv, tmp_path):
    with open(os.devnull, "w") as sink:  # text values, as a command line gives them
        out = reports.render("funnel", tmp_path / "funnel.html", data=clicks_csv, stream=sink,
                             params={"event_map": EVENT_MAP_TEXT, "confidence": "0.95", "window_start": "None"})
    text = _text(out)
    ev = reports.load("funnel", clicks_csv, event_map=EVENT_MAP).tables["events"]
    clean, rep = traffic.clean_events(ev)
    assert rep.attrs["window"] == (pd.Timestamp("2021-04-01"), pd.Timestamp("2021-05-01"))
    r = rep.set_index("reason")["rows"]
    assert r["exact duplicate row"] == 1 and r["before 2021-04-01"] == 1
    assert (f"{int(r['exact duplicate row']):,} rows are exact duplicates of an earlier row (a tracker firing twice) "
            f"and 1 fall outside 2021-04-01 to 2021-04-30") in text
    assert f"leaving {len(clean):,} events in {clean['session_id'].nunique():,} sessions." in text
    steps = ["pv", "cart", "checkout", "buy"]
    strict = traffic.funnel(clean, steps, mode="strict")
    n, last = int(strict["units"].iloc[0]), int(strict["units"].iloc[-1])
    assert f"Of {n:,} sessions reaching pv, {last:,} went on through every step in order to buy ({last / n:.2%}" in text
    loose_last = int(traffic.funnel(clean, steps, mode="loose")["units"].iloc[-1])
    assert loose_last > last and f"The loose funnel counts {loose_last:,} sessions at buy" in text
    a = traffic.cart_abandonment(clean)
    assert (f"{int(a['carts'].iloc[0]):,} sessions added to the cart and {int(a['abandoned'].iloc[0]):,} of them "
            f"ended without a purchase: a cart abandonment rate of {a['abandonment_rate'].iloc[0]:.1%}") in text
    assert text.count("Skipped: it needs a device column") == 1
    assert text.count("Skipped: it needs a source column") == 1
    hourly = traffic.activity_heatmap(clean).sum(axis=1)
    assert f"Activity peaks at {int(hourly.idxmax())}:00" in text


@pytest.mark.notebooks
def test_report_on_the_bundled_log(tmp_path):
    with open(os.devnull, "w") as sink:
        out = reports.render("funnel", tmp_path / "funnel.html", stream=sink)
    text = _text(out, own_data=False)
    clean, rep = traffic.clean_events(datasets.load("events"))
    assert f"leaving {len(clean):,} events in {clean['session_id'].nunique():,} sessions." in text
    strict = traffic.funnel(clean, ["pv", "cart", "buy"], mode="strict")
    assert f"{int(strict['units'].iloc[-1]):,} went on through every step in order to buy" in text
    f = traffic.funnel(clean, ["pv", "cart", "buy"], by="device", mode="strict")
    conv = (f[f["step"] == "buy"].set_index("device")["units"] / f[f["step"] == "pv"].set_index("device")["units"])
    conv = conv.drop(index="missing").sort_values(ascending=False)
    assert f"Sessions with device {conv.index[0]} convert best: {conv.iloc[0]:.2%}" in text
    assert "Skipped" not in text
