"""The coupon uplift readout template (notebooks/templates/coupon_uplift.ipynb): a messy
export of a campaign (its own headers, yes/no flags, other segment labels, no money
columns: the profit section skipped with its reason) and the bundled campaign without a
segment column but with a margin rate (profit per coupon; segment sections skipped).
Checked sentences are recomputed here with pandas, not with the helpers the template calls."""

from __future__ import annotations

import html
import io
import re

import numpy as np
import pandas as pd
import pytest

from ecomlab import datasets, reports
from ecomlab.cli import main

MESSY_PARAMS = ["customer_col=Customer", "treatment_col=Got coupon", "outcome_col=Bought", "segment_col=Tier",
                "revenue_col=None", "coupon_value_col=None", "redeemed_col=None", "true_values=yes",
                "false_values=no"]


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.fixture(scope="module")
def campaign() -> pd.DataFrame:
    return datasets.load("coupon_campaign")


@pytest.fixture(scope="module")
def messy_csv(campaign, tmp_path_factory):
    raw = pd.DataFrame({
        "Customer": "00" + campaign["customer_id"].astype(str),
        "Got coupon": np.where(campaign["treatment"], "yes", "no"),
        "Bought": np.where(campaign["purchased_30d"], "yes", "no"),
        "Tier": " " + campaign["segment_at_send"].astype(str).str.upper() + " ",   # stray blanks
        "campaign": "autumn",
    })
    path = tmp_path_factory.mktemp("coupon_export") / "campaign.csv"
    raw.to_csv(path, index=False)
    return path


def _load_messy(path, **extra):
    kw = dict(p.split("=", 1) for p in MESSY_PARAMS)
    kw.update(extra)
    return reports.load("coupon_uplift", path, **kw)


def test_messy_export_is_read_and_sections_follow_the_columns(messy_csv, campaign):
    d = _load_messy(messy_csv)
    c = d.tables["coupon_campaign"]
    assert list(c.columns) == ["customer_id", "treatment", "purchased_30d", "segment_at_send"]
    assert c["treatment"].dtype == bool and c["treatment"].sum() == campaign["treatment"].sum()
    assert set(c["segment_at_send"]) == {s.upper() for s in campaign["segment_at_send"].astype(str)}
    assert "labels: surrounding blanks removed" in "\n".join(d.notes)
    assert d.sections["Uplift by segment"] is None and d.sections["Who to target next"] is None
    assert d.sections["Profit per coupon"] == (
        "it needs a revenue_30d column (parameter revenue_col not set) and a coupon_value column (parameter "
        "coupon_value_col not set) and a redeemed column (parameter redeemed_col not set), which the data do not have")


@pytest.mark.parametrize(
    ("column", "values", "match"),
    [
        ("Got coupon", ["yes", "sometimes"], r"coupon_campaign.treatment \(column 'Got coupon'\).*'sometimes'"),
        ("Tier", ["LOYAL", " "], r"coupon_campaign.segment_at_send.*missing"),
        ("Bought", ["yes", None], r"coupon_campaign.purchased_30d.*missing"),
    ],
)
def test_hostile_cells_get_a_clear_error(tmp_path, column, values, match):
    base = {"Customer": ["01", "02"], "Got coupon": ["yes", "no"], "Bought": ["no", "yes"], "Tier": ["A", "B"]}
    base[column] = values
    path = tmp_path / "c.csv"
    pd.DataFrame(base).to_csv(path, index=False)
    with pytest.raises(ValueError, match=match):
        _load_messy(path)


def test_money_columns_typed_strictly(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"Customer": ["01", "02"], "Got coupon": ["yes", "no"], "Bought": ["yes", "no"],
                  "Tier": ["A", "A"], "paid": ["¥1,299.00", "0"], "value": ["20", "0"],
                  "used": ["yes", "no"]}).to_csv(path, index=False)
    d = _load_messy(path, revenue_col="paid", coupon_value_col="value", redeemed_col="used", currency="CNY")
    c = d.tables["coupon_campaign"]
    assert c["revenue_30d"].tolist() == [1299.0, 0.0] and c["redeemed"].tolist() == [True, False]
    assert d.sections["Profit per coupon"] is None
    with pytest.raises(ValueError, match="amounts in USD"):
        _load_messy(path, revenue_col="paid", coupon_value_col="value", redeemed_col="used", currency="USD")


@pytest.mark.notebooks
def test_report_on_a_messy_export_via_the_cli(messy_csv, campaign, tmp_path, capsys):
    out = tmp_path / "coupon.html"
    argv = ["report", "coupon_uplift", "--data", str(messy_csv), "--out", str(out)]
    for p in MESSY_PARAMS:
        argv += ["--param", p]
    assert main(argv) == 0
    assert "running coupon_uplift" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "Nestwell" not in page and "uplift_by_segment(" not in page
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page  # no warnings
    text = _text(page)
    t, y = campaign["treatment"], campaign["purchased_30d"]
    assert f"The list holds {len(campaign):,} customers: {int(t.sum()):,} were sent the coupon" in text
    up = y[t].mean() - y[~t].mean()
    assert f"bought at {y[t].mean():.2%} (the response rate), those not sent it at {y[~t].mean():.2%}" in text
    assert f"uplift is {100 * up:+.2f} pp (95% CI" in text
    seg = campaign["segment_at_send"].astype(str).str.upper()
    rates = campaign.assign(seg=seg).pivot_table(index="seg", columns="treatment", values="purchased_30d",
                                                  aggfunc="mean", observed=True)
    uplift = rates[True] - rates[False]
    m = seg.nunique()
    assert f"each interval is at level {1 - 0.05 / m:.1%} (Bonferroni: 0.05 / {m})" in text
    top_resp, top_up = rates[True].idxmax(), uplift.idxmax()
    assert f"{top_resp} customers respond most often ({rates[True].max():.0%} bought" in text
    assert f"the coupon adds {100 * uplift[top_resp]:+.1f} pp for them" in text
    if top_up != top_resp:
        assert f"The largest uplift is in {top_up} ({100 * uplift[top_up]:+.1f} pp" in text
    assert "Skipped: it needs a revenue_30d column (parameter revenue_col not set)" in text
    assert "By the simultaneous intervals on the whole list: send the next coupon to" in text


@pytest.mark.notebooks
def test_report_with_profit_and_no_segment(campaign, tmp_path):
    margin = 0.45
    page = reports.render("coupon_uplift", tmp_path / "c.html", params={"segment_col": None, "margin_rate": margin},
                          stream=io.StringIO()).read_text(encoding="utf-8")
    text = _text(page)
    assert "data:image/png;base64," in page
    cost = campaign["coupon_value"] * campaign["redeemed"]
    gp = margin * (campaign["revenue_30d"] + cost) - cost
    t = campaign["treatment"]
    per_coupon = gp[t].mean() - gp[~t].mean()
    assert f"Each coupon sent adds {per_coupon:+,.2f} CNY of gross profit after the coupon's cost" in text
    assert f"{campaign.loc[t, 'redeemed'].mean():.0%} of coupons sent were redeemed, costing {cost[t].mean():,.2f} CNY" in text
    for title in ("Uplift by segment", "Response versus uplift", "Who to target next"):
        assert "Skipped: it needs a segment_at_send column (parameter segment_col not set)" in text, title
    assert text.count("Skipped: it needs a segment_at_send column") == 3


@pytest.mark.notebooks
def test_tiny_campaign_with_a_one_arm_segment(campaign, tmp_path):
    """Edge case: a segment whose customers are all treated has no uplift; the report says so."""
    lapsing = campaign[campaign["segment_at_send"] == "lapsing"].sample(60, random_state=0)
    loyal = campaign[(campaign["segment_at_send"] == "loyal") & campaign["treatment"]].head(3)
    path = tmp_path / "tiny.parquet"
    pd.concat([lapsing, loyal]).assign(segment_at_send=lambda d: d["segment_at_send"].astype(str)).to_parquet(path)
    page = reports.render("coupon_uplift", tmp_path / "tiny.html", data=path, params={"margin_rate": 0.4},
                          stream=io.StringIO()).read_text(encoding="utf-8")
    text = _text(page)
    assert "The list holds 63 customers" in text
    assert "loyal has customers in one arm only: no uplift can be measured there." in text
    assert "lapsing customers respond most often" in text and not re.search(r"\bnan\b", text, re.I)
