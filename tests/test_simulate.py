"""The Nestwell generator: determinism, integrity, and realism calibrated to public data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import datasets, simulate
from ecomlab.metrics import valid_orders

SEED = datasets.truth()["seed"]


def _hashes(tables: dict) -> dict[str, int]:
    return {k: int(pd.util.hash_pandas_object(v, index=False).sum()) for k, v in tables.items()
            if isinstance(v, pd.DataFrame)}


@pytest.fixture(scope="module")
def small():
    return simulate.generate(scale=0.05, seed=3)


@pytest.fixture(scope="module")
def t() -> dict[str, pd.DataFrame]:
    return datasets.load_all()


def test_same_seed_same_tables(small):
    again = simulate.generate(scale=0.05, seed=3)
    assert _hashes(small) == _hashes(again)
    assert small["truth"] == again["truth"]


def test_progress_reports_every_stage():
    msgs: list[str] = []
    simulate.generate(scale=0.02, seed=1, progress=msgs.append)
    assert len(msgs) == simulate.N_STAGES and len(set(msgs)) == len(msgs)


def test_other_seed_other_tables(small):
    other = simulate.generate(scale=0.05, seed=4)
    assert _hashes(small)["orders"] != _hashes(other)["orders"]


def test_bundled_data_is_what_the_generator_makes(t):
    """The committed Parquet files are exactly generate(seed=SEED) at scale 1."""
    fresh = simulate.generate(scale=1.0, seed=SEED)
    truth = fresh.pop("truth")
    assert _hashes(fresh) == _hashes(t)
    assert truth == datasets.truth()


@pytest.mark.parametrize("scale", [0, -1, float("nan"), "2"])
def test_bad_scale(scale):
    with pytest.raises(ValueError, match="scale must be a positive number"):
        simulate.generate(scale=scale)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        simulate.generate(scale=0.05, seed=seed)


def test_all_sixteen_tables_conform(small):
    from ecomlab import schema

    assert set(small) - {"truth"} == set(schema.TABLES)
    for name, df in small.items():
        if name != "truth":
            assert list(df.columns) == schema.table(name).column_names


# ---------------------------------------------------------------- integrity
def test_keys_unique_and_referential_integrity(t):
    c, o, it, e = t["customers"], t["orders"], t["order_items"], t["events"]
    assert c["customer_id"].is_unique and c["visitor_id"].is_unique
    assert o["order_id"].is_unique
    assert o["customer_id"].isin(c["customer_id"]).all()
    assert it["order_id"].isin(o["order_id"]).all()
    assert not it.duplicated(["order_id", "sku_id"]).any()
    assert it["sku_id"].isin(t["products"]["sku_id"]).all()
    assert set(o["order_id"]) == set(it["order_id"]), "every order has lines"
    r = t["returns"].merge(it, on=["order_id", "sku_id"], how="left", indicator=True)
    assert (r["_merge"] == "both").all()
    # one person never has two ids of the same kind
    known = e.dropna(subset=["customer_id"])[["visitor_id", "customer_id"]].drop_duplicates()
    assert known["visitor_id"].is_unique and known["customer_id"].is_unique
    m = known.merge(c[["customer_id", "visitor_id"]], on="customer_id", suffixes=("", "_c"))
    assert len(m) == len(known) and (m["visitor_id"] == m["visitor_id_c"]).all()
    assert t["experiments"].groupby("experiment_id", observed=True)["visitor_id"].apply(lambda s: s.is_unique).all()


def test_order_amounts_add_up(t):
    o, it = t["orders"], t["order_items"]
    items = (it["quantity"] * it["unit_price"]).groupby(it["order_id"]).sum()
    np.testing.assert_allclose(o.set_index("order_id")["items_amount"].reindex(items.index), items, atol=0.02)
    np.testing.assert_allclose(o["paid_amount"], o["items_amount"] - o["discount_amount"] + o["shipping_fee"],
                               atol=0.011)
    assert (o["discount_amount"] >= 0).all() and (o["paid_amount"] > 0).all()


def test_inventory_consistent_with_order_lines(t):
    inv, it, o = t["inventory"], t["order_items"], t["orders"]
    assert (inv["units_sold"] <= inv["units_demanded"]).all()
    assert (inv["units_sold"] <= inv["on_hand_start"]).all()
    assert (inv["stockout"] == (inv["units_demanded"] > inv["units_sold"])).all()
    x = it.merge(o[["order_id", "order_ts"]], on="order_id")
    x["date"] = x["order_ts"].dt.normalize()
    sold = x[x["sku_id"].isin(inv["sku_id"].unique())].groupby(["sku_id", "date"])["quantity"].sum()
    inv_sold = inv.set_index(["sku_id", "date"])["units_sold"]
    joined = inv_sold.to_frame().join(sold.rename("q")).fillna({"q": 0})
    assert (joined["units_sold"] == joined["q"]).all()
    lost = datasets.truth()["stockouts"]
    assert lost["total_lost_units"] == int((inv["units_demanded"] - inv["units_sold"]).sum()) > 0
    assert lost["lost_units_around_double11"] > 0.3 * lost["total_lost_units"], "stockouts cluster around 双11"


# ---------------------------------------------------------------- realism
def test_event_mix_like_taobao_userbehavior(t):
    mix = t["events"]["event"].value_counts(normalize=True)
    assert 0.86 <= mix["pv"] <= 0.90
    assert 0.05 <= mix["cart"] <= 0.07
    assert 0.02 <= mix["fav"] <= 0.04
    assert 0.015 <= mix["buy"] <= 0.03


def test_events_in_causal_order(t):
    """After removing the documented blemishes (duplicates, junk rows outside the month),
    no buy happens without an earlier pv of that SKU by the same visitor."""
    e = t["events"].drop_duplicates()
    e = e[(e["ts"] >= "2025-11-01") & (e["ts"] < "2025-12-01")]
    first_pv = e[e["event"] == "pv"].groupby(["visitor_id", "sku_id"])["ts"].min()
    buys = e[e["event"] == "buy"].set_index(["visitor_id", "sku_id"])["ts"]
    fp = first_pv.reindex(buys.index)
    assert fp.notna().all()
    assert (fp.to_numpy() < buys.to_numpy()).all()


def test_activity_peaks_at_21_and_bottoms_at_4(t):
    hours = t["events"]["ts"].dt.hour.value_counts()
    assert hours.idxmax() == 21 and hours.idxmin() == 4
    oh = t["orders"]["order_ts"].dt.hour.value_counts()
    assert oh.idxmax() in (20, 21, 22) and oh.idxmin() in (3, 4, 5)


def test_repeat_within_39_weeks_like_cdnow(t):
    o = valid_orders(t["orders"])
    first = o.groupby("customer_id")["order_ts"].min()
    eligible = first[first <= pd.Timestamp("2025-12-31") - pd.Timedelta(weeks=39)]
    f = o["customer_id"].map(first)
    again = o[(o["order_ts"] > f) & (o["order_ts"] <= f + pd.Timedelta(weeks=39))]["customer_id"].unique()
    share = eligible.index.isin(again).mean()
    assert 0.35 <= share <= 0.45, share


def test_order_values_lognormal_with_heavier_promo_tail(t):
    o = t["orders"][t["orders"]["status"] != "cancelled"]
    logv = np.log(o["items_amount"])
    assert 0.8 <= logv.std() <= 1.0
    promo_days = set(t["daily_prices"].loc[t["daily_prices"]["on_promotion"], "date"].unique())
    is_promo = o["order_ts"].dt.normalize().isin(promo_days)
    q = o.groupby(is_promo)["items_amount"].quantile(0.99)
    assert q[True] > q[False] * 1.1, "heavier right tail on promotion days"


def test_double11_is_the_biggest_day_each_year(t):
    daily = t["orders"].groupby(t["orders"]["order_ts"].dt.normalize()).size()
    for y in (2024, 2025):
        d = daily[daily.index.year == y]
        assert d.idxmax() == pd.Timestamp(f"{y}-11-11")


def test_blemishes_exist_in_small_documented_numbers(t):
    b = datasets.truth()["blemishes"]
    o, e = t["orders"], t["events"]
    assert b["orders_cancelled"] == (o["status"] == "cancelled").sum()
    assert 0 < b["orders_cancelled"] < 0.03 * len(o)
    assert 0 < b["orders_refunded"] < 0.08 * len(o)
    assert 0 < b["orders_missing_device"] < 0.03 * len(o)
    assert b["events_duplicated_rows"] == e.duplicated().sum() > 0
    assert 0 < b["events_outside_window"] < 0.01 * len(e)
    assert 0 < b["events_missing_device"] < 0.03 * len(e)


def test_truth_is_complete():
    tr = datasets.truth()
    assert set(tr["elasticity"]) == {"storage", "kitchen", "bedding", "bath", "decor", "cleaning"}
    assert set(tr["channels"]) == {"search_ads", "feed_ads", "live_stream", "short_video", "social_seeding"}
    assert set(tr["experiments"]) == {"exp_checkout", "exp_pdp_video", "exp_free_shipping", "lift_short_video"}
    assert set(tr["coupon_uplift"]["uplift_purchase_30d"]) == {"new", "active", "loyal", "at_risk", "lapsing"}
    assert tr["promo_lift"]["双11"] == max(tr["promo_lift"].values())
    assert tr["fan_group_effect"]["rate_multiplier"] == 1.3
    assert tr["returns"]["return_rate_by_category"]["bedding"] == max(tr["returns"]["return_rate_by_category"].values())
    assert tr["market"]["fastest_growing"] == "storage" and tr["market"]["shrinking"] == "decor"


# --- the programme's planted levers and the promotion pull-forward -------------------------
def test_pull_forward_removes_the_planted_share_of_each_promotions_extra_demand():
    cfg = simulate.WorldConfig()
    days = simulate._days()
    base = np.ones(len(days))
    shape, on_promo, dips = simulate._promo_shape(cfg, days, base)
    no_pf = simulate.WorldConfig(promo_pull_forward={**cfg.promo_pull_forward, "share": 0.0})
    shape0, _, dips0 = simulate._promo_shape(no_pf, days, base)
    assert dips0 == {} or all(v == 0 for v in dips0.values())
    assert len(dips) == len(simulate._PROMOS) and all(0 < d < 1 for d in dips.values())
    # removed volume = share x the promotions' extra volume (windows do not overlap)
    removed = float((shape0 - shape)[~on_promo].sum())
    extra = float((shape0 - 1)[on_promo].sum())
    assert removed == pytest.approx(cfg.promo_pull_forward["share"] * extra, rel=1e-9)
    # promotion days themselves are unchanged
    np.testing.assert_allclose(shape[on_promo], shape0[on_promo])


def test_storage_push_adds_storage_lines_only_from_its_start(small):
    t = small
    items = t["order_items"].merge(t["orders"][["order_id", "order_ts"]], on="order_id").merge(
        t["products"][["sku_id", "category"]], on="sku_id")
    start = pd.Timestamp(simulate.WorldConfig().storage_push["start"])
    period = np.where(items["order_ts"] >= start, "after", "before")
    share = (items.assign(period=period, storage=items["category"] == "storage")
             .groupby("period")["storage"].mean())
    k = simulate.WorldConfig().storage_push["demand_multiplier"]
    # odds of a storage line rise by about k (extra storage lines, others unchanged)
    odds = share / (1 - share)
    assert abs(odds["after"] / odds["before"] - k) < 0.2, share   # small world: scale 0.05
    off = simulate.WorldConfig(storage_push={"start": "2025-07-01", "demand_multiplier": 1.0})
    o, s = simulate._storage_push_lines(off, np.random.default_rng(0), None, None, None,
                                        np.arange(3), np.zeros(3, int), np.ones(3))
    assert len(o) == len(s) == 0


def test_lift_test_rows_and_truth(t):
    tr = datasets.truth()["experiments"]["lift_short_video"]
    d = t["experiments"][t["experiments"]["experiment_id"] == "lift_short_video"]
    assert len(d) == tr["n_assigned"] and d["visitor_id"].is_unique
    assert not d["visitor_id"].isin(t["experiments"].loc[t["experiments"]["experiment_id"] != "lift_short_video",
                                                         "visitor_id"]).any()
    share = (d["variant"] == "control").mean()
    assert abs(share - tr["holdout_share"]) < 0.01
    conv = d.groupby("variant", observed=True)["converted"].agg(["sum", "size"])
    extra = conv.loc["treatment", "sum"] - conv.loc["control", "sum"] * conv.loc["treatment", "size"] / conv.loc["control", "size"]
    se = np.sqrt(conv.loc["treatment", "sum"] + conv.loc["control", "sum"])
    assert abs(extra - tr["incremental_conversions_expected"]) < 4 * se
    assert tr["incremental_roas"] == pytest.approx(tr["incremental_revenue"] / tr["spend"], rel=1e-3)
