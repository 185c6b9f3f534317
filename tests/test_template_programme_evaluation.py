"""The programme evaluation template (notebooks/templates/programme_evaluation.ipynb).

* On the bundled data, with the dates derived from the data, it recovers lesson 04-5's matched
  difference-in-differences (within the interval the lesson recorded) and its ROI section runs;
  the sentences are checked against numbers recomputed here with pandas (cell rates, hand-made
  coarsened exact matching weights), not with the helpers the template calls.
* On a hand-made world where joiners self-select on a rising pre-trend (and look identical on the
  customer list at the snapshot, so balance passes), the leads and placebos fail and the report
  must refuse the causal claim (no effect, no ROI).
* A customers table without the join-date column is refused with an error naming ``join_col``.
"""

from __future__ import annotations

import html
import io
import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from ecomlab import datasets, reports
from ecomlab.cli import main
from ecomlab.notebooks import notebooks_dir


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


def _null():
    return io.StringIO()


# --- a hand-made world: joiners picked for a rising trend --------------------------------

def _world(seed: int = 0, n: int = 3000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers acquired in 2023 H1, one base rate; a quarter are 'risers' whose purchase rate
    climbs month by month from 2024-01; risers join (from 2024-07) far more often. No true effect."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"U{i:05d}" for i in range(n)])
    riser = rng.random(n) < 0.25
    joins = np.where(riser, rng.random(n) < 0.8, rng.random(n) < 0.03)
    months = pd.date_range("2023-01-01", "2024-12-01", freq="MS")
    k = np.arange(len(months))
    since = np.clip(k - 12, 0, None)  # months since 2024-01
    lam = 0.35 * np.where(riser[:, None], 1 + 0.3 * since[None, :], 1.0)
    counts = rng.poisson(lam)
    cust, mon = np.nonzero(counts)
    reps = counts[cust, mon]
    cust, mon = np.repeat(cust, reps), np.repeat(mon, reps)
    first_month = rng.integers(0, 6, n)  # each customer's acquisition order falls in 2023 H1
    later = mon >= first_month[cust]
    cust = np.concatenate([np.arange(n), cust[later]])
    mon = np.concatenate([first_month, mon[later]])
    ts = months[mon] + pd.to_timedelta(rng.random(len(mon)) * months[mon].days_in_month * 86400, unit="s").floor("s")
    orders = pd.DataFrame({"order_id": [f"X{i:07d}" for i in range(len(ts))], "customer_id": ids[cust],
                           "order_ts": ts, "status": np.where(rng.random(len(ts)) < 0.03, "cancelled", "completed"),
                           "paid_amount": rng.gamma(2.0, 60.0, len(ts)).round(2)}).sort_values("order_ts")
    join_day = pd.Timestamp("2024-07-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D")
    customers = pd.DataFrame({"customer_id": ids, "joined_at": pd.Series(join_day).where(joins)})
    return orders, customers


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    orders, customers = _world()
    folder = tmp_path_factory.mktemp("hostile_world")
    orders.to_csv(folder / "orders.csv", index=False)
    customers.assign(joined_at=customers["joined_at"].dt.strftime("%Y-%m-%d")).to_csv(folder / "customers.csv", index=False)
    return folder, orders, customers


def test_a_narrow_folder_is_read_with_the_join_column_named_by_its_parameter(hostile_folder):
    folder, orders, customers = hostile_folder
    d = reports.load("programme_evaluation", folder, join_col="joined_at")
    c = d.tables["customers"]
    assert list(c.columns) == ["customer_id", "joined_fan_group_date"]
    assert c["joined_fan_group_date"].notna().sum() == customers["joined_at"].notna().sum()
    assert len(d.tables["orders"]) == len(orders)
    assert d.sections["Profit ROI versus ROAS"] is None
    assert any("from column 'joined_at'" in n for n in d.notes)


def test_a_missing_join_column_is_refused_naming_the_parameter(hostile_folder, tmp_path):
    folder, orders, customers = hostile_folder
    with pytest.raises(ValueError, match=r"no column 'joined_fan_group_date'.*set join_col= to its header"):
        reports.load("programme_evaluation", folder)
    with pytest.raises(ValueError, match=r"no column 'joined'.*set join_col= to its header.*'joined_at'"):
        reports.load("programme_evaluation", folder, join_col="joined")
    v = reports.validate(folder, "programme_evaluation")
    assert not v.ok and "join_col" in str(v)
    assert main(["validate", str(folder), "--template", "programme_evaluation", "--param", "join_col=joined_at"]) == 0


def test_other_templates_read_a_narrow_or_renamed_folder_table(tmp_path):
    """The folder rule reports.load gained for this template holds for every contract: a required
    table narrower than the course layout, or renamed by column parameters, keeps the contract's
    columns typed strictly; the course layout is still read as before."""
    o = datasets.load("orders").head(50)
    o[["order_id", "customer_id", "order_ts", "paid_amount", "status"]].to_csv(tmp_path / "orders.csv", index=False)
    d = reports.load("rfm", tmp_path)
    assert list(d.tables["orders"].columns) == ["order_id", "customer_id", "order_ts", "paid_amount", "status"]
    assert d.tables["orders"]["paid_amount"].sum() == pytest.approx(o["paid_amount"].sum())
    e = datasets.load("experiments").head(40).rename(columns={"visitor_id": "uid"})
    e.to_csv(tmp_path / "experiments.csv", index=False)
    d = reports.load("ab_test", tmp_path, unit_col="uid")
    assert d.tables["experiments"]["visitor_id"].tolist() == e["uid"].astype(str).tolist()
    with pytest.raises(ValueError, match=r"apply to a single table file"):  # bundled data keep the course names
        reports.load("ab_test", None, unit_col="uid")
    (tmp_path / "experiments.csv").unlink()
    datasets.load("orders").head(5).to_csv(tmp_path / "orders.csv", index=False)
    assert d.tables["experiments"].shape[0] == 40 and reports.load("rfm", tmp_path).tables["orders"].shape[1] == 12


@pytest.mark.notebooks
def test_an_empty_join_column_is_refused_naming_the_parameter(hostile_folder, tmp_path):
    folder, orders, customers = hostile_folder
    orders.to_csv(tmp_path / "orders.csv", index=False)
    customers.assign(joined_at="").to_csv(tmp_path / "customers.csv", index=False)
    with pytest.raises(ValueError, match=r"'joined_at' \(parameter join_col\) is empty on every row"):
        reports.render("programme_evaluation", tmp_path / "r.html", data=tmp_path,
                       params={"join_col": "joined_at", "covariates": None}, stream=_null())
    assert not (tmp_path / "r.html").exists()


@pytest.mark.notebooks
def test_the_report_refuses_the_causal_claim_when_joiners_selected_on_a_pre_trend(hostile_folder, tmp_path):
    folder, orders, customers = hostile_folder
    page = reports.render("programme_evaluation", tmp_path / "h.html", data=folder, stream=_null(),
                          params={"join_col": "joined_at", "covariates": None, "programme_cost": 50000,
                                  "margin_rate": 0.4}).read_text(encoding="utf-8")
    text = _text(page)
    assert "Nestwell" not in page and "data:image/png;base64," in page
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    # dates derived from the data: start = first join, end = day after the last order, 6 months before
    start = customers["joined_at"].min()
    assert f"Programme start {start:%Y-%m-%d} (derived: the earliest join date)" in text
    assert "invitation list (snapshot) 2024-01-01" in text and "post window 2024-07-01 → 2025-01-01" in text
    # the counts and the pre-window ratio, recomputed
    kept = orders[orders["status"] == "completed"]
    snap, s0 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-07-01")
    eligible = kept.groupby("customer_id")["order_ts"].min().lt(snap)
    eligible = eligible[eligible].index
    joined = set(customers.loc[customers["joined_at"].notna(), "customer_id"])
    n_join = sum(c in joined for c in eligible)
    assert f"Of the {len(eligible):,} customers who had bought before 2024-01-01, {n_join:,} joined" in text
    pre = kept[(kept["order_ts"] >= snap) & (kept["order_ts"] < s0) & kept["customer_id"].isin(eligible)]
    is_j = pre["customer_id"].isin(joined)
    ratio = (is_j.sum() / n_join) / ((~is_j).sum() / (len(eligible) - n_join))
    assert f"already bought ×{ratio:.2f} as often as the others" in text
    # balance passes (same profile at the snapshot), the trend diagnostics fail, no claim made
    assert "every covariate is within the bar of 0.1" in text
    assert "the matched groups were already drifting apart before the programme" in text
    assert "exclude 0: the groups moved apart without the programme" in text or "excludes 0" in text
    assert "No causal estimate is reported: the design is not credible on these data." in text
    assert "the event study's leads are not flat" in text.lower()
    assert "Joining raised the purchase rate" not in text and "The diagnostics pass" not in text
    assert "not effects, since the groups already moved apart" in text and "lags run from" not in text
    assert "Skipped: profit ROI needs a credible effect estimate" in text and "profit ROI is" not in text


# --- the bundled data ---------------------------------------------------------------------

def test_no_word_about_the_course_brand_in_the_template_and_the_lesson_links_to_it():
    nb = nbformat.read(notebooks_dir() / "templates" / "programme_evaluation.ipynb", as_version=4)
    assert not any("nestwell" in c.source.lower() or "栖居" in c.source for c in nb.cells)
    lesson = nbformat.read(notebooks_dir() / "04_private_domain" / "05_fan_groups.ipynb", as_version=4)
    assert "notebooks/templates/programme_evaluation.ipynb" in lesson.cells[-2].source
    assert reports.CONTRACTS["programme_evaluation"].lesson == "04_private_domain/05_fan_groups"


def _lesson_matched_did() -> tuple[float, float, float]:
    """The matched DiD lesson 04-5 printed in its committed outputs: (estimate, ci_low, ci_high)."""
    nb = nbformat.read(notebooks_dir() / "04_private_domain" / "05_fan_groups.ipynb", as_version=4)
    out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    m = re.search(r"matched DiD: ([+-]\d+\.\d)% \(95% CI ([+-]\d+\.\d)% to ([+-]\d+\.\d)%", out)
    assert m, "lesson 04-5 no longer prints its matched DiD"
    return tuple(float(x) / 100 for x in m.groups())


def _hand_matched_did(orders, customers, start, snap, end):
    """Matched Poisson DiD = ratio of ratios of CEM-weighted cell rates, in plain pandas."""
    kept = orders[orders["status"] == "completed"]
    first = kept.groupby("customer_id")["order_ts"].min()
    c = customers.set_index("customer_id").reindex(first.index)
    late = c["joined_fan_group_date"] >= end
    units = pd.DataFrame({"joined": c["joined_fan_group_date"].notna() & ~late, "join": c["joined_fan_group_date"]},
                         index=first.index)[(first < snap) & ~late]
    before = kept[kept["order_ts"] < snap]
    units["n"] = before.groupby("customer_id").size().reindex(units.index).fillna(0)
    units["rec"] = (snap - before.groupby("customer_id")["order_ts"].max()).dt.total_seconds().reindex(units.index) / 86400
    units["mem"] = (c.loc[units.index, "member_join_date"] < snap).astype(int)
    nb_ = pd.cut(units["n"], [-np.inf, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 7.5, np.inf], right=False)
    rb = pd.cut(units["rec"], [-np.inf, 15, 30, 45, 60, 90, 120, 150, 180, 240, 300, 365, np.inf], right=False)
    stratum = nb_.astype(str) + rb.astype(str) + units["mem"].astype(str)
    nt = units["joined"].groupby(stratum).sum()
    nc = (~units["joined"]).groupby(stratum).sum()
    w = np.where(units["joined"], (nc.reindex(stratum).to_numpy() > 0).astype(float),
                 nt.reindex(stratum).to_numpy() / np.maximum(nc.reindex(stratum).to_numpy(), 1))
    units["w"] = w
    post_from = units["join"].where(units["joined"]).clip(lower=start).fillna(start)
    o = kept.merge(units[["joined"]].assign(post_from=post_from), left_on="customer_id", right_index=True)
    pre_n = o[(o["order_ts"] >= snap) & (o["order_ts"] < start)].groupby("customer_id").size()
    post_n = o[(o["order_ts"] >= o["post_from"]) & (o["order_ts"] < end)].groupby("customer_id").size()
    units["pre"] = pre_n.reindex(units.index).fillna(0)
    units["post"] = post_n.reindex(units.index).fillna(0)
    units["pre_days"] = (start - snap).days
    units["post_days"] = (end - post_from).dt.total_seconds() / 86400
    rate = {}
    for j in (True, False):
        g = units[units["joined"] == j]
        rate[j] = [(g["w"] * g[k]).sum() / (g["w"] * g[d]).sum() for k, d in (("pre", "pre_days"), ("post", "post_days"))]
    naive_rate = {j: units.loc[units["joined"] == j, "post"].sum() / units.loc[units["joined"] == j, "post_days"].sum()
                  for j in (True, False)}
    return (rate[True][1] / rate[True][0]) / (rate[False][1] / rate[False][0]) - 1, units, naive_rate[True] / naive_rate[False] - 1


@pytest.mark.notebooks
def test_bundled_report_recovers_the_lessons_matched_estimate(tmp_path):
    cost, margin = 108_000.0, 0.45
    page = reports.render("programme_evaluation", tmp_path / "p.html", stream=_null(),
                          params={"programme_cost": cost, "margin_rate": margin}).read_text(encoding="utf-8")
    text = _text(page)
    assert "fan_group_panel(" not in page and page.count("data:image/png;base64,") >= 3
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    orders, customers = datasets.load("orders"), datasets.load("customers")
    start, snap, end = pd.Timestamp("2025-07-01"), pd.Timestamp("2025-01-01"), pd.Timestamp("2026-01-01")
    assert customers["joined_fan_group_date"].min() == start  # the derived start
    did, units, naive = _hand_matched_did(orders, customers, start, snap, end)
    n_join = int(units["joined"].sum())
    assert f"Of the {len(units):,} customers who had bought before 2025-01-01, {n_join:,} joined" in text
    assert f"members bought {naive:+.0%} more often than non-members" in text
    matched = int((units["joined"] & (units["w"] > 0)).sum())
    assert f"{matched:,} of {n_join:,} joiners found non-joiners with the same profile" in text
    m = re.search(r"Joining raised the purchase rate by ([+-]\d+\.\d)% \(95% CI ([+-]\d+\.\d)% to ([+-]\d+\.\d)%", text)
    assert m, "the report made no claim on the bundled data, whose diagnostics pass"
    est, lo, hi = (float(x) / 100 for x in m.groups())
    assert est == pytest.approx(round(did, 3), abs=0.0011)  # the printed number is the hand-made matched DiD
    l_est, l_lo, l_hi = _lesson_matched_did()
    assert l_lo <= est <= l_hi and abs(est - l_est) < 0.02
    assert "The diagnostics pass" in text and "No causal estimate is reported" not in text
    # ROAS and profit ROI, recomputed
    kept = orders[orders["status"] == "completed"]
    j = customers.dropna(subset=["joined_fan_group_date"])
    after = kept.merge(j[["customer_id", "joined_fan_group_date"]], on="customer_id")
    after = after[(after["order_ts"] >= after["joined_fan_group_date"]) & (after["order_ts"] < end)]
    roas = after["paid_amount"].sum() / cost
    assert f"placed {len(after):,} orders after joining" in text and f"= {roas:.2f}:" in text
    inc = len(after) * est / (1 + est)
    roi = (inc * after["paid_amount"].mean() * margin - cost) / cost
    got = re.search(r"the profit ROI is ([+-]\d+)%", text)
    assert got and abs(float(got.group(1)) / 100 - roi) <= 0.011


@pytest.mark.notebooks
def test_short_pre_window_cannot_be_tested_and_no_claim_is_made(tmp_path):
    """A snapshot one month before the start leaves one pre period: parallel trends untestable."""
    page = reports.render("programme_evaluation", tmp_path / "s.html", stream=_null(),
                          params={"snapshot_date": "2025-06-01"}).read_text(encoding="utf-8")
    text = _text(page)
    assert "Skipped: the event study cannot run — the pre window holds 1 whole calendar months" in text
    assert "No causal estimate is reported" in text and "Joining raised the purchase rate" not in text
    assert "Skipped: it needs the parameters programme_cost and margin_rate" in text
