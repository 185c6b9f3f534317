"""Exercises for 05_data_iteration/03_behaviour (user behaviour analysis 用户行为分析).

Every expected answer is computed at run time from the data chosen by
``exercises.use_data(data_dir)``: the ``events`` log (cleaned with
:func:`ecomlab.traffic.clean_events`) and the ``page_clicks`` table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import traffic
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
    data,
    derived,
)


def _events() -> pd.DataFrame:
    return data("events")


def _cleaned() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``clean_events`` of the raw log (clean, report), once per data choice (``use_data`` clears it)."""
    return derived(("ch05_behaviour", "clean"), lambda: traffic.clean_events(_events()))


def _clean() -> pd.DataFrame:
    return _cleaned()[0]


def _n_exact_duplicates() -> int:
    """Rows duplicating an earlier row: the report's count before any other rule."""
    report = _cleaned()[1].set_index("reason")
    return int(report.loc["exact duplicate row", "flagged"])


def buy_now_line_share(events: pd.DataFrame) -> float:
    """Share of bought lines (``buy`` events) whose session has no ``cart`` event of the
    same SKU: lines bought with "buy now" (立即购买) instead of through the cart."""
    buys = events.loc[events["event"] == "buy", ["session_id", "sku_id"]]
    carts = events.loc[events["event"] == "cart", ["session_id", "sku_id"]].drop_duplicates()
    via_cart = buys.merge(carts, on=["session_id", "sku_id"], how="left", indicator=True)
    return float((via_cart["_merge"] == "left_only").mean())


def bounce_rate(events: pd.DataFrame) -> float:
    """Bounce rate 跳出率: share of sessions with exactly one event."""
    per_session = events.groupby("session_id", observed=True).size()
    return float((per_session == 1).mean())


def strict_cart_to_buy(events: pd.DataFrame, device: str) -> float:
    """The strict funnel's cart → buy step for sessions whose first event has ``device``:
    among sessions with a cart at or after their first page view, the share with a buy at
    or after that first cart (what :func:`ecomlab.traffic.funnel` computes per segment)."""
    first_pv = events[events["event"] == "pv"].groupby("session_id", observed=True)["ts"].min()
    carts = events[events["event"] == "cart"].join(first_pv.rename("pv_ts"), on="session_id")
    first_cart = carts[carts["ts"] >= carts["pv_ts"]].groupby("session_id", observed=True)["ts"].min()
    buys = events[events["event"] == "buy"].join(first_cart.rename("cart_ts"), on="session_id")
    bought = buys.loc[buys["ts"] >= buys["cart_ts"], "session_id"].unique()
    dev = events.sort_values("ts", kind="stable").groupby("session_id", observed=True)["device"].first()
    carted = first_cart.index[dev.reindex(first_cart.index).to_numpy() == device]
    if len(carted) == 0:
        raise ValueError(f"no session of device {device!r} carted after a page view: the step is undefined")
    return float(np.isin(carted, bought).mean())


def _pc_overall() -> float:
    f = traffic.funnel(_clean(), ("pv", "cart", "buy"), by="device", mode="strict")
    return float(f.loc[(f["device"] == "pc") & (f["step"] == "buy"), "overall_conversion"].item())


def _pc_cart_to_buy() -> float:
    f = traffic.funnel(_clean(), ("pv", "cart", "buy"), by="device", mode="strict")
    return float(f.loc[(f["device"] == "pc") & (f["step"] == "buy"), "step_conversion"].item())


def _moved_elements() -> list[str]:
    r = traffic.element_click_share(data("page_clicks"))
    return r.residuals.index[(r.residuals.abs() > 2).any(axis=1)].tolist()


def _bounce_cases() -> list[Case]:
    clean = _clean()
    small = pd.DataFrame({"session_id": ["s1", "s1", "s2", "s3", "s3", "s3"],
                          "event": ["pv", "cart", "pv", "pv", "pv", "buy"]})
    return [Case(small), Case(clean.head(20_000)), Case(clean[clean["device"] == "pc"])]


q1 = Question(
    prompt="How many rows of the **raw** `events` table are exact duplicates of an earlier "
    "row (the copy a double-firing tracker added; the first copy is genuine)?",
    kind=NumberAnswer(expected=_n_exact_duplicates, abs_tol=0),
    hints=["`DataFrame.duplicated()` compares all columns of a row.",
           "`keep='first'` marks only the second and later copies; `keep=False` marks "
           "both copies and so counts every duplicate twice."],
    solution="n_dup = int(events.duplicated(keep='first').sum())",
)

q2 = Question(
    prompt="On the cleaned log, what share of bought lines (`buy` events) has **no** `cart` "
    "event of the same SKU in the same session (bought with \"buy now\")? A fraction in [0, 1].",
    kind=NumberAnswer(expected=lambda: buy_now_line_share(_clean()), abs_tol=1e-4),
    hints=["Take the `buy` rows and the distinct (`session_id`, `sku_id`) pairs of the "
           "`cart` rows.",
           "Left-merge the buys on the carts with `indicator=True`; the answer is the share "
           "of `left_only` rows. Counting *sessions* without any cart gives a different, "
           "smaller number."],
    solution=(
        "buys = clean.loc[clean['event'] == 'buy', ['session_id', 'sku_id']]\n"
        "carts = clean.loc[clean['event'] == 'cart', ['session_id', 'sku_id']].drop_duplicates()\n"
        "m = buys.merge(carts, on=['session_id', 'sku_id'], how='left', indicator=True)\n"
        "answer = (m['_merge'] == 'left_only').mean()"
    ),
)

q3 = Question(
    prompt="Compute one **strict** funnel step by hand, without `traffic.funnel`: among PC "
    "sessions (the device of the session's first event) that carted at or after their first "
    "page view, what share then bought at or after that first cart? A fraction.",
    kind=NumberAnswer(expected=_pc_cart_to_buy, abs_tol=5e-4, mistakes=[
        ("the drop-off (1 − step rate), not the step rate", lambda: 1 - _pc_cart_to_buy()),
        ("the overall conversion of all PC sessions, not of the carting ones", lambda: _pc_overall()),
    ]),
    hints=["Per session: the first `pv` time; then the first `cart` at or after it "
           "(`groupby('session_id')['ts'].min()` on the qualifying rows).",
           "A session counts as bought if it has a `buy` at or after that first cart. A buy "
           "before the cart, or a buy in a session that never carted (buy now), does not count.",
           "The denominator is carting PC sessions, not all PC sessions (that is the funnel's "
           "overall conversion) and not buy events."],
    solution=(
        "first_pv = clean[clean['event'] == 'pv'].groupby('session_id', observed=True)['ts'].min()\n"
        "carts = clean[clean['event'] == 'cart'].join(first_pv.rename('pv_ts'), on='session_id')\n"
        "first_cart = carts[carts['ts'] >= carts['pv_ts']].groupby('session_id', observed=True)['ts'].min()\n"
        "buys = clean[clean['event'] == 'buy'].join(first_cart.rename('cart_ts'), on='session_id')\n"
        "bought = buys.loc[buys['ts'] >= buys['cart_ts'], 'session_id'].unique()\n"
        "device = clean.sort_values('ts', kind='stable').groupby('session_id', observed=True)['device'].first()\n"
        "pc = first_cart.index[device.reindex(first_cart.index).to_numpy() == 'pc']\n"
        "answer = np.isin(pc, bought).mean()"
    ),
)

q4 = Question(
    prompt="Which page elements' click **share** differs between PDP versions A and B "
    "(adjusted standardised residual |r| > 2 in `traffic.element_click_share`)? "
    "Give the element names (any order).",
    kind=SetAnswer(expected=_moved_elements),
    hints=["`r = traffic.element_click_share(page_clicks)`; look at `r.residuals`.",
           "Shares sum to 1 in each version: when the buttons gain share, other elements "
           "must lose some. Keep every element with |r| > 2 in either column."],
    solution=(
        "r = traffic.element_click_share(page_clicks)\n"
        "answer = set(r.residuals.index[(r.residuals.abs() > 2).any(axis=1)])"
    ),
)

q5 = Question(
    prompt="Write `bounce_rate(events)`: the bounce rate (跳出率), the share of sessions with "
    "exactly one event. Return a float in [0, 1].",
    kind=FunctionAnswer(bounce_rate, cases=_bounce_cases),
    hints=["Count events per session: `events.groupby('session_id').size()`.",
           "`(counts == 1).mean()` — per session, not per event."],
    solution=(
        "def bounce_rate(events):\n"
        "    counts = events.groupby('session_id', observed=True).size()\n"
        "    return float((counts == 1).mean())"
    ),
)
