"""Exercise bank ch05_behaviour (lesson 05-3): right answers pass, typical wrong ones fail
with a helpful message, and the placeholder ``____`` reports "not attempted"."""

from __future__ import annotations

import pandas as pd
import pytest

from ecomlab import datasets as ds
from ecomlab import traffic
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch05_behaviour as ex


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    use_data(None)
    return ds.load("events")


@pytest.fixture(scope="module")
def clean(events) -> pd.DataFrame:
    return traffic.clean_events(events)[0]


@pytest.fixture(scope="module")
def page_clicks() -> pd.DataFrame:
    return ds.load("page_clicks")


def test_q1_duplicates(events):
    assert ex.q1.check(int(events.duplicated(keep="first").sum())).correct
    wrong = ex.q1.check(int(events.duplicated(keep=False).sum()))  # both copies counted
    assert wrong.status == "incorrect" and "too high" in wrong.message


def test_q2_buy_now_line_share(clean):
    buys = clean.loc[clean["event"] == "buy", ["session_id", "sku_id"]]
    carts = clean.loc[clean["event"] == "cart", ["session_id", "sku_id"]].drop_duplicates()
    m = buys.merge(carts, on=["session_id", "sku_id"], how="left", indicator=True)
    right = (m["_merge"] == "left_only").mean()
    assert 0.2 < right < 0.4 and ex.q2.check(right).correct
    # typical wrong answer: the share of buying *sessions* without any cart event
    s = traffic.sessions(clean)
    per_session = (s["reached_buy"] & ~s["reached_cart"]).sum() / s["reached_buy"].sum()
    wrong = ex.q2.check(per_session)
    assert wrong.status == "incorrect" and "too low" in wrong.message
    assert "percentage" in ex.q2.check(right * 100).message


def test_q3_strict_step_by_hand(clean):
    f = traffic.funnel(clean, by="device", mode="strict")
    right = f.loc[(f["device"] == "pc") & (f["step"] == "buy"), "step_conversion"].item()
    assert 0.05 < right < 0.5
    assert ex.q3.check(right).correct
    assert ex.q3.check(ex.strict_cart_to_buy(clean, "pc")).correct  # the by-hand route agrees
    assert ex.strict_cart_to_buy(clean, "ios") == pytest.approx(
        f.loc[(f["device"] == "ios") & (f["step"] == "buy"), "step_conversion"].item(), abs=1e-12)
    # typical wrong answers: the drop-off (1 - rate), the loose ratio, the overall conversion
    assert "drop-off" in ex.q3.check(1 - right).message
    loose = traffic.funnel(clean[clean["device"] == "pc"], mode="loose")
    assert ex.q3.check(loose.loc[loose["step"] == "buy", "step_conversion"].item()).status == "incorrect"
    overall = f.loc[(f["device"] == "pc") & (f["step"] == "buy"), "overall_conversion"].item()
    assert "overall conversion" in ex.q3.check(overall).message
    assert ex.q3.check(____).status == "not_attempted"


def test_strict_cart_to_buy_on_a_toy_log():
    toy = pd.DataFrame({
        "session_id": ["a", "a", "a", "b", "b", "c", "c", "c", "d", "d"],
        "ts": pd.to_datetime(["2025-11-01 10:00", "2025-11-01 10:01", "2025-11-01 10:02",  # pv cart buy
                              "2025-11-01 11:00", "2025-11-01 11:01",                      # pv cart
                              "2025-11-01 12:00", "2025-11-01 12:01", "2025-11-01 12:02",  # pv buy cart
                              "2025-11-01 13:00", "2025-11-01 13:01"]),                    # cart pv (ios)
        "event": ["pv", "cart", "buy", "pv", "cart", "pv", "buy", "cart", "cart", "pv"],
        "device": ["pc"] * 8 + ["ios", "ios"],
    })
    assert ex.strict_cart_to_buy(toy, "pc") == pytest.approx(1 / 3)  # a bought; b, c did not (c bought first)
    with pytest.raises(ValueError, match="ios"):
        ex.strict_cart_to_buy(toy, "ios")  # d carted before its first page view


def test_q4_moved_elements(page_clicks):
    r = traffic.element_click_share(page_clicks)
    moved = set(r.residuals.index[(r.residuals.abs() > 2).any(axis=1)])
    assert {"add_to_cart", "buy_now"} <= moved and ex.q4.check(moved).correct
    wrong = ex.q4.check({"add_to_cart", "buy_now"})  # forgot the elements that lost share
    assert wrong.status == "incorrect" and "missing" in wrong.message


def test_q5_bounce_rate_function():
    assert ex.q5.check(ex.bounce_rate).correct

    def per_event(events):  # typical mistake: share of events, not of sessions
        counts = events.groupby("session_id").size()
        return float((counts == 1).sum() / len(events))

    wrong = ex.q5.check(per_event)
    assert wrong.status == "incorrect" and "case 1" in wrong.message
    assert ex.q5.check(lambda events: ____).status == "not_attempted"
    assert "expected a function" in ex.q5.check(0.33).message
