"""The Nestwell world: a synthetic home-goods brand with planted, recoverable truth.

Nestwell (栖居良品) sells home goods in a marketplace flagship store, a WeChat
mini-program and a live room, 2024-01-01 to 2025-12-31. The world is generated from
one causal story rather than independent columns::

    marketing spend --adstock+Hill--> new customers (by channel)
    persona --> demographics, category taste, purchase rate, survey answers
    BG/NBD (λ ~ Gamma(r, α), p ~ Beta(a, b)) in promotion-calendar time --> orders
    fan group (from 2025-07-01, self-selected) --> purchase rate x 1.3 after joining
    daily prices (exogenous tests) x category elasticity --> which SKUs are bought
    reorder-point policy --> stockouts before 双11 --> lost or substituted lines
    orders in Nov 2025 + planted funnel rates --> the behaviour event log

Every planted parameter is in :class:`WorldConfig`; :func:`generate` returns the
tables and the ``truth`` dictionary written to ``truth.json``. Everything is
vectorised NumPy/pandas; the only loops run over days (the inventory policy, 730
steps) or over a handful of categories/channels, never over rows or customers.

>>> tables = generate(scale=0.02, seed=7)    # doctest: +SKIP
>>> sorted(tables)[:3]                       # doctest: +SKIP
['coupon_campaign', 'customers', 'daily_prices']
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import signal, special, stats

from ecomlab import schema
from ecomlab.datasets import STR, conform

START = pd.Timestamp("2024-01-01")
END = pd.Timestamp("2025-12-31")
EVENT_START = pd.Timestamp("2025-11-01")
EVENT_END = pd.Timestamp("2025-12-01")  # exclusive
PERSONAS = ("budget_organiser", "design_lover", "busy_parent", "occasional_gifter")
PERSONAS_ZH = {
    "budget_organiser": "实用收纳控",
    "design_lover": "颜值党",
    "busy_parent": "家庭主理人",
    "occasional_gifter": "偶购送礼",
}

# Chinese retail calendar: (name, first day, last day, demand multiplier on the peak day)
_PROMOS = [
    ("年货节 New-Year goods", "2024-01-15", "2024-02-02"),
    ("38节 Women's day", "2024-03-08", "2024-03-08"),
    ("618", "2024-06-01", "2024-06-18"),
    ("99", "2024-09-09", "2024-09-09"),
    ("双11", "2024-10-31", "2024-11-11"),
    ("双12", "2024-12-12", "2024-12-12"),
    ("年货节 New-Year goods", "2025-01-06", "2025-01-24"),
    ("38节 Women's day", "2025-03-08", "2025-03-08"),
    ("618", "2025-06-01", "2025-06-18"),
    ("99", "2025-09-09", "2025-09-09"),
    ("双11", "2025-10-31", "2025-11-11"),
    ("双12", "2025-12-12", "2025-12-12"),
]


#: number of progress messages :func:`generate` emits (one per stage)
N_STAGES = 12


@dataclass(frozen=True)
class WorldConfig:
    """Every planted parameter of the Nestwell world (names as in ``truth.json``)."""

    # --- personas: shares and behaviour ----------------------------------------
    persona_shares: dict = field(default_factory=lambda: {
        "budget_organiser": 0.34, "design_lover": 0.26, "busy_parent": 0.25, "occasional_gifter": 0.15})
    #: strength of the persona -> purchase-rate link (Gaussian-copula loading)
    persona_rate_loading: dict = field(default_factory=lambda: {
        "budget_organiser": 0.0, "design_lover": -0.2, "busy_parent": 0.6, "occasional_gifter": -0.9})
    persona_category_affinity: dict = field(default_factory=lambda: {
        "budget_organiser": [3.0, 1.2, 0.6, 0.8, 0.4, 2.2],
        "design_lover": [0.8, 1.0, 1.8, 1.0, 3.0, 0.4],
        "busy_parent": [1.8, 2.4, 1.2, 1.2, 0.5, 2.0],
        "occasional_gifter": [0.6, 1.4, 1.8, 1.4, 2.4, 0.3],
    })
    persona_order_value_mult: dict = field(default_factory=lambda: {
        "budget_organiser": 0.85, "design_lover": 1.25, "busy_parent": 1.05, "occasional_gifter": 1.15})
    # --- BG/NBD purchase process (weekly units, in promotion-calendar time) -----
    bgnbd: dict = field(default_factory=lambda: {"r": 0.25, "alpha": 4.5, "a": 0.8, "b": 2.4})
    # --- prices ------------------------------------------------------------------
    elasticity: dict = field(default_factory=lambda: {
        "storage": -2.2, "kitchen": -1.6, "bedding": -1.1, "bath": -1.4, "decor": -0.9, "cleaning": -2.5})
    price_test_share: float = 0.8     # share of SKUs with weekly exogenous price tests
    price_test_steps: tuple = (0.75, 0.80, 0.85, 0.90, 0.95, 1.0, 1.0, 1.05, 1.10, 1.15)
    promo_depth: float = 0.15          # promotion-day price cut
    #: demand a promotion pulls forward: ``share`` of its extra demand is taken from the
    #: ``days_before`` days before it (shoppers wait) and the ``days_after`` days after it
    #: (they stocked up), spread evenly over those days
    promo_pull_forward: dict = field(default_factory=lambda: {"share": 0.3, "days_before": 7, "days_after": 7})
    # --- seasonality and promotions ---------------------------------------------
    promo_lift: dict = field(default_factory=lambda: {
        "双11": 6.0, "618": 3.0, "双12": 2.2, "年货节 New-Year goods": 1.6, "99": 1.8, "38节 Women's day": 1.5})
    weekday_shape: tuple = (0.95, 0.93, 0.95, 0.98, 1.02, 1.08, 1.09)   # Mon..Sun
    hour_shape: tuple = (3.0, 1.6, 0.9, 0.55, 0.45, 0.6, 1.1, 2.2, 3.3, 3.9, 4.3, 4.6,
                         4.9, 4.5, 4.2, 4.2, 4.4, 4.6, 4.9, 5.6, 6.6, 8.2, 7.1, 4.9)
    # --- channels: adstock decay, Hill half-saturation (x steady adstock), max ---
    channels: dict = field(default_factory=lambda: {
        # daily spend level (CNY, bundled scale), adstock decay, target incremental ROAS,
        # platform over-attribution factor
        "search_ads": {"spend": 520.0, "decay": 0.3, "roas": 2.4, "over_attribution": 1.35},
        "feed_ads": {"spend": 400.0, "decay": 0.5, "roas": 1.3, "over_attribution": 2.1},
        "live_stream": {"spend": 320.0, "decay": 0.2, "roas": 1.7, "over_attribution": 1.6},
        "short_video": {"spend": 260.0, "decay": 0.6, "roas": 2.2, "over_attribution": 1.8},
        "social_seeding": {"spend": 200.0, "decay": 0.7, "roas": 1.1, "over_attribution": 2.6},
    })
    organic_new_per_day: float = 7.5
    yearly_growth: float = 0.35        # growth of acquisition volume per year
    first_order_value: float = 150.0   # mean items value of a first order (CNY)
    # --- search ------------------------------------------------------------------
    ctr_by_rank: dict = field(default_factory=lambda: {"ctr_rank1": 0.28, "decay_exponent": 0.85})
    # --- funnel: P(cart | session) and P(buy | session) by device & source --------
    session_cr_device: dict = field(default_factory=lambda: {"ios": 0.046, "android": 0.036, "pc": 0.024})
    session_cr_source_mult: dict = field(default_factory=lambda: {
        "search_ads": 1.15, "feed_ads": 0.65, "live_stream": 1.3, "short_video": 0.8,
        "social_seeding": 0.75, "organic_search": 1.1, "private_domain": 1.9, "direct": 1.3})
    cart_rate_nonbuyer: float = 0.11   # P(add to cart) in a session that does not buy
    buy_now_share: float = 0.3          # buy lines with no cart event ("buy now")
    incident: dict = field(default_factory=lambda: {
        "date": "2025-11-20", "device": "android", "drop": 0.6,
        "what": "checkout payment SDK bug: 60% of Android checkouts failed"})
    # --- experiments ---------------------------------------------------------------
    exp_checkout: dict = field(default_factory=lambda: {
        "n": 120_000, "base_cr": 0.032, "lift_abs": 0.004, "rho_pre": 0.5})
    exp_pdp_video: dict = field(default_factory=lambda: {
        "n": 150_000, "base_cr": 0.03, "lift_abs": 0.0, "lost_share": 0.10})
    exp_free_shipping: dict = field(default_factory=lambda: {"n": 60_000, "base_cr": 0.03, "lift_abs": 0.0})
    # --- coupons: true uplift in 30-day purchase probability by segment ------------
    coupon_uplift: dict = field(default_factory=lambda: {
        "new": 0.04, "active": 0.03, "loyal": 0.01, "at_risk": 0.08, "lapsing": 0.10})
    coupon_base_rate: dict = field(default_factory=lambda: {
        "new": 0.10, "active": 0.22, "loyal": 0.45, "at_risk": 0.06, "lapsing": 0.025})
    coupon_value: float = 20.0
    # --- private domain ------------------------------------------------------------
    fan_group_start: str = "2025-07-01"
    fan_group_effect: float = 1.3      # purchase-rate multiplier after joining
    fan_group_join_base: float = 0.06  # join propensity scale
    fan_group_selection: float = 1.2   # log-odds per log(orders before 2025): self-selection
    programme_monthly_cost: float = 18_000.0   # content + community staff, CNY/month (bundled scale)
    #: the programme's storage focus: from ``start`` storage SKUs are ``demand_multiplier``
    #: times as attractive (extra storage lines on top of unchanged other lines), and
    #: Nestwell's storage sales in the market panel rise by the same factor
    storage_push: dict = field(default_factory=lambda: {"start": "2025-07-01", "demand_multiplier": 1.25})
    #: the programme's short-video content: short-video spend x ``spend_multiplier`` from ``start``
    short_video_push: dict = field(default_factory=lambda: {"start": "2025-07-01", "spend_multiplier": 1.6})
    #: a randomised conversion-lift test of one paid channel (the platform withholds its ads
    #: from a random ``holdout_share`` of the channel's audience), recorded in ``experiments``
    lift_test: dict = field(default_factory=lambda: {
        "experiment_id": "lift_short_video", "channel": "short_video", "start": "2025-08-04",
        "days": 28, "n": 120_000, "holdout_share": 0.5, "base_cr": 0.0025, "order_value_shape": 2.0})
    membership_effect: float = 1.0     # members are NOT caused to buy more (selection only)
    # --- returns --------------------------------------------------------------------
    return_rate: dict = field(default_factory=lambda: {
        "storage": 0.04, "kitchen": 0.05, "bedding": 0.12, "bath": 0.06, "decor": 0.07, "cleaning": 0.03})
    # --- market ---------------------------------------------------------------------
    market_growth: dict = field(default_factory=lambda: {
        "storage": 0.32, "kitchen": 0.08, "bedding": 0.04, "bath": 0.06, "decor": -0.12, "cleaning": 0.12})
    # --- data blemishes -----------------------------------------------------------------
    cancel_rate: float = 0.015
    missing_device_rate: float = 0.01
    duplicate_event_rate: float = 0.003
    out_of_window_events: int = 240


def promo_calendar() -> pd.DataFrame:
    """The Chinese promotion calendar of the Nestwell world (one row per promotion window).

    >>> promo_calendar().query("name == '双11'").shape[0]
    2
    """
    df = pd.DataFrame(_PROMOS, columns=["name", "start_date", "end_date"])
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["end_date"] = pd.to_datetime(df["end_date"])
    df["name"] = df["name"].astype("string")
    return df


# ------------------------------------------------------------------------------------
class _Rng:
    """One seed drives everything; each component draws from its own named stream."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __call__(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])


def _days() -> pd.DatetimeIndex:
    return pd.date_range(START, END, freq="D")


def _demand_shape(cfg: WorldConfig, days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, dict]:
    """Daily demand multiplier (mean 1 per year), the promotion flag per day and the
    planted pull-forward dip around each promotion."""
    doy = days.day_of_year.to_numpy()
    yearly = 1 + 0.12 * np.cos(2 * np.pi * (doy - 15) / 365.25) - 0.08 * np.cos(4 * np.pi * (doy - 200) / 365.25)
    weekly = np.asarray(cfg.weekday_shape)[days.day_of_week.to_numpy()]
    shape, on_promo, dips = _promo_shape(cfg, days, yearly * weekly)
    years = days.year.to_numpy()
    for y in np.unique(years):
        shape[years == y] /= shape[years == y].mean()
    return shape, on_promo, dips


def _promo_shape(cfg: WorldConfig, days: pd.DatetimeIndex, base: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """``base`` x promotion multipliers, with the planted pull-forward: a share of each
    promotion's extra demand (in ``base`` units) is removed evenly from the days around it.
    Returns the shape, the promotion flag and the dip per promotion (fraction of a day's demand)."""
    promo = np.ones(len(days))
    on_promo = np.zeros(len(days), dtype=bool)
    pf = cfg.promo_pull_forward
    dips = {}
    for name, s, e in _PROMOS:
        s, e = pd.Timestamp(s), pd.Timestamp(e)
        m = np.asarray((days >= s) & (days <= e))
        on_promo |= m
        peak = cfg.promo_lift[name]
        n = int(m.sum())
        if n == 1:
            promo[m] = peak
        else:  # a ramp up to the final peak day, with a pre-sale bump on the first day
            ramp = np.linspace(1.15, 1.6, n)
            ramp[0] = 1 + 0.35 * (peak - 1)
            ramp[-1] = peak
            promo[m] = ramp
        around = np.asarray(((days >= s - pd.Timedelta(days=pf["days_before"])) & (days < s))
                            | ((days > e) & (days <= e + pd.Timedelta(days=pf["days_after"]))))
        extra = float((base[m] * (promo[m] - 1)).sum())
        if around.any() and extra > 0:
            dip = pf["share"] * extra / float(base[around].sum())
            promo[around] *= 1 - dip
            dips[f"{name} {s.year}"] = round(dip, 4)
    return base * promo, on_promo, dips


def _hour_sampler(cfg: WorldConfig, rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds since midnight, hour drawn from the planted hour-of-day shape."""
    w = np.asarray(cfg.hour_shape, dtype=float)
    hours = rng.choice(24, size=n, p=w / w.sum())
    return hours * 3600 + rng.integers(0, 3600, size=n)


# ------------------------------------------------------------------------------------
def _products(rng: np.random.Generator) -> pd.DataFrame:
    n_per = np.array([60, 55, 45, 45, 50, 45])
    cats = np.repeat(np.arange(6), n_per)
    n = len(cats)
    median_price = np.array([59.0, 79.0, 199.0, 69.0, 89.0, 39.0])[cats]
    list_price = np.round(median_price * np.exp(rng.normal(0, 0.55, n)), 0) - 0.1
    list_price = np.maximum(list_price, 9.9)
    margin = np.clip(rng.normal([0.52, 0.48, 0.55, 0.5, 0.6, 0.45], 0.06, (n, 6))[np.arange(n), cats], 0.25, 0.75)
    unit_cost = np.round(list_price * (1 - margin), 2)
    launch = START - pd.to_timedelta(rng.integers(30, 900, n), unit="D")
    new = rng.random(n) < 0.12
    launch = np.where(new, START + pd.to_timedelta(rng.integers(60, 660, n), unit="D"), launch)
    nouns = {
        0: [("storage box", "收纳箱"), ("drawer organiser", "抽屉收纳盒"), ("vacuum bag", "真空压缩袋"),
            ("shoe rack", "鞋架"), ("wardrobe divider", "衣柜分隔板"), ("desk organiser", "桌面收纳架")],
        1: [("knife set", "刀具套装"), ("non-stick pan", "不粘锅"), ("spice rack", "调料架"),
            ("food container", "保鲜盒"), ("cutting board", "砧板"), ("dish rack", "沥水架")],
        2: [("duvet", "羽绒被"), ("pillow", "枕头"), ("sheet set", "四件套"), ("blanket", "毛毯"),
            ("mattress topper", "床垫"), ("pillowcase", "枕套")],
        3: [("bath towel", "浴巾"), ("bath mat", "地垫"), ("shower caddy", "浴室置物架"),
            ("toothbrush holder", "牙刷架"), ("towel rack", "毛巾架"), ("soap dispenser", "皂液器")],
        4: [("vase", "花瓶"), ("wall art", "装饰画"), ("candle", "香薰蜡烛"), ("cushion", "抱枕"),
            ("table lamp", "台灯"), ("photo frame", "相框")],
        5: [("mop", "拖把"), ("lint roller", "粘毛器"), ("cleaning cloth", "抹布"),
            ("toilet brush", "马桶刷"), ("spray bottle", "喷壶"), ("dust brush", "除尘刷")],
    }
    adjs = [("Classic", "经典"), ("Nordic", "北欧"), ("Compact", "小巧"), ("Premium", "优选"),
            ("Cotton", "纯棉"), ("Bamboo", "竹制"), ("Minimal", "极简"), ("Family", "家庭装")]
    noun_i = rng.integers(0, 6, n)
    adj_i = rng.integers(0, len(adjs), n)
    names = [f"{adjs[a][0]} {nouns[c][k][0]} #{i + 1}" for i, (a, c, k) in enumerate(zip(adj_i, cats, noun_i, strict=True))]
    names_zh = [f"{adjs[a][1]}{nouns[c][k][1]} {i + 1}号" for i, (a, c, k) in enumerate(zip(adj_i, cats, noun_i, strict=True))]
    lead = rng.choice([7, 10, 14, 21, 28, 35], size=n, p=[0.15, 0.2, 0.25, 0.2, 0.12, 0.08])
    df = pd.DataFrame({
        "sku_id": [f"SKU{i + 1:04d}" for i in range(n)],
        "name": names,
        "name_zh": names_zh,
        "category": np.asarray(schema.CATEGORIES)[cats],
        "list_price": list_price,
        "unit_cost": unit_cost,
        "launch_date": pd.DatetimeIndex(launch).normalize(),
        "supplier_id": [f"SUP{s:03d}" for s in rng.integers(1, 41, n)],
        "lead_time_days": lead.astype("int64"),
    })
    # popularity: Pareto-like, so ~20% of SKUs make most sales
    df["_pop"] = rng.pareto(1.3, n) + 0.05
    df["_cat"] = cats
    return df


def _daily_prices(cfg: WorldConfig, rng: np.random.Generator, products: pd.DataFrame,
                  days: pd.DatetimeIndex, on_promo: np.ndarray) -> np.ndarray:
    """Price matrix (days x SKUs): list price, weekly exogenous tests, promotion cuts."""
    n_sku = len(products)
    week = ((days - START).days // 7).to_numpy()
    n_week = week.max() + 1
    tested = rng.random(n_sku) < cfg.price_test_share
    steps = np.asarray(cfg.price_test_steps)
    weekly_mult = steps[rng.integers(0, len(steps), (n_week, n_sku))]
    weekly_mult[:, ~tested] = 1.0
    mult = weekly_mult[week]                       # days x skus
    mult = np.where(on_promo[:, None], 1 - cfg.promo_depth, mult)
    price = products["list_price"].to_numpy()[None, :] * mult
    return np.round(price, 1)


def _hill(x: np.ndarray, half: float, vmax: float, shape: float = 1.0) -> np.ndarray:
    return vmax * x**shape / (x**shape + half**shape)


def _marketing(cfg: WorldConfig, rng: np.random.Generator, days: pd.DatetimeIndex, shape: np.ndarray,
               scale: float) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """Spend, true incremental revenue (adstock + Hill) and platform-reported results."""
    n_day = len(days)
    t_years = ((days - START).days / 365.25).to_numpy()
    growth = (1 + cfg.yearly_growth) ** t_years
    week = ((days - START).days // 7).to_numpy()
    rows, truth, incr = [], {}, []
    for c in schema.PAID_CHANNELS:
        p = cfg.channels[c]
        weekly_noise = np.exp(rng.normal(0, 0.35, week.max() + 1))[week]
        spend = scale * p["spend"] * growth * weekly_noise * np.where(shape > 1.5, 1.8, 1.0)
        if c == "short_video":   # the programme's short-video content from H2 2025
            sv = cfg.short_video_push
            spend = spend * np.where(days >= pd.Timestamp(sv["start"]), sv["spend_multiplier"], 1.0)
        spend = np.round(spend * np.exp(rng.normal(0, 0.08, n_day)), 2)
        ad = signal.lfilter([1.0], [1.0, -p["decay"]], spend)
        steady = scale * p["spend"] / (1 - p["decay"])
        half = steady * 1.2
        # choose vmax so that the average incremental ROAS equals the planted target
        raw = _hill(ad, half, 1.0) * shape
        vmax = p["roas"] * spend.sum() / raw.sum()
        inc = _hill(ad, half, vmax) * shape
        incr.append(inc)
        attributed = inc * p["over_attribution"] * np.exp(rng.normal(0, 0.1, n_day))
        cpm = {"search_ads": 35, "feed_ads": 18, "live_stream": 25, "short_video": 22, "social_seeding": 40}[c]
        impressions = rng.poisson(spend / cpm * 1000)
        ctr = {"search_ads": 0.035, "feed_ads": 0.012, "live_stream": 0.02, "short_video": 0.015,
               "social_seeding": 0.01}[c]
        clicks = rng.binomial(impressions, ctr)
        att_orders = rng.poisson(attributed / cfg.first_order_value)
        rows.append(pd.DataFrame({
            "channel": c, "date": days, "spend": spend, "impressions": impressions.astype("int64"),
            "clicks": clicks.astype("int64"), "platform_attributed_orders": att_orders.astype("int64"),
            "platform_attributed_revenue": np.round(attributed, 2)}))
        truth[c] = {
            "adstock_decay": p["decay"], "half_saturation": round(float(half), 2),
            "hill_shape": 1.0, "max_daily_revenue": round(float(vmax), 2),
            "incremental_roas": round(float(inc.sum() / spend.sum()), 4),
            "over_attribution": p["over_attribution"],
            "platform_roas": round(float(attributed.sum() / spend.sum()), 4),
        }
    # organic search: no spend; clicks/impressions only
    org_clicks = rng.poisson(scale * 2500 * growth * shape)
    rows.append(pd.DataFrame({
        "channel": "organic_search", "date": days, "spend": 0.0,
        "impressions": rng.poisson(org_clicks * 22.0).astype("int64"), "clicks": org_clicks.astype("int64"),
        "platform_attributed_orders": np.zeros(n_day, dtype="int64"),
        "platform_attributed_revenue": np.zeros(n_day)}))
    mkt = pd.concat(rows, ignore_index=True)
    return mkt, truth, np.vstack(incr)


# ------------------------------------------------------------------------------------
def _acquisition(cfg, rng, days, shape, incr, scale):
    """New customers per day and channel: paid channels from incremental revenue, plus organic."""
    t_years = ((days - START).days / 365.25).to_numpy()
    growth = (1 + cfg.yearly_growth) ** t_years
    lam = np.vstack([incr / cfg.first_order_value,
                     (scale * cfg.organic_new_per_day * growth * shape)[None, :]])
    counts = rng.poisson(lam)                      # channels x days
    ch_idx, day_idx = np.nonzero(counts)
    reps = counts[ch_idx, day_idx]
    return np.repeat(ch_idx, reps), np.repeat(day_idx, reps)


def _personas_for(cfg, rng, channel_idx):
    # P(persona | channel): design lovers via seeding/short video, parents via live/feed ...
    base = np.asarray([cfg.persona_shares[p] for p in PERSONAS])
    tilt = np.array([
        [1.3, 0.7, 0.9, 1.2],   # search_ads
        [0.9, 1.0, 1.3, 0.8],   # feed_ads
        [1.0, 0.7, 1.6, 0.7],   # live_stream
        [0.8, 1.5, 1.0, 0.9],   # short_video
        [0.6, 1.9, 0.8, 0.9],   # social_seeding
        [1.2, 0.9, 0.9, 1.1],   # organic_search
    ])
    probs = base * tilt
    probs /= probs.sum(1, keepdims=True)
    u = rng.random(len(channel_idx))
    cum = probs.cumsum(1)[channel_idx]
    return (u[:, None] > cum).sum(1)


def _demographics(rng, persona):
    n = len(persona)
    female_p = np.array([0.68, 0.78, 0.72, 0.55])[persona]
    gender = np.where(rng.random(n) < female_p, 0, 1)
    age_mu = np.array([1.6, 1.3, 2.7, 3.0])[persona]
    age = np.clip(np.round(rng.normal(age_mu, 1.0)), 0, 5).astype(int)
    tier_p = np.array([[0.15, 0.2, 0.25, 0.25, 0.15], [0.3, 0.3, 0.2, 0.12, 0.08],
                       [0.2, 0.25, 0.25, 0.18, 0.12], [0.25, 0.25, 0.22, 0.16, 0.12]])
    cum = tier_p.cumsum(1)[persona]
    tier = (rng.random(n)[:, None] > cum).sum(1)
    return gender, age, tier


def _gaussian_rank_gamma(rng, loading, r, alpha):
    """λ with an exact Gamma(r, α) marginal but correlated with persona (rank copula)."""
    z = loading + rng.normal(0, 1, len(loading))
    ranks = stats.rankdata(z, method="ordinal")
    u = (ranks - 0.5) / len(z)
    return stats.gamma.ppf(u, a=r, scale=1 / alpha)


def _op_time(shape: np.ndarray) -> np.ndarray:
    """Cumulative demand ("operational time", in weeks) at the start of each day."""
    return np.concatenate([[0.0], np.cumsum(shape)]) / 7.0


# ------------------------------------------------------------------------------------
def generate(config: WorldConfig | None = None, scale: float = 1.0, seed: int = 20251111,
             progress: Callable[[str], None] | None = None) -> dict[str, pd.DataFrame]:
    """Generate the Nestwell world.

    Parameters
    ----------
    config : the planted parameters (default :class:`WorldConfig`).
    scale : multiplies customers, visitors, events and experiment sizes (1.0 = bundled).
    seed : the one seed that drives every random draw (same seed, same tables).
    progress : optional callback receiving a short message per stage.

    Returns a dict of the sixteen tables (typed as in :mod:`ecomlab.schema`) plus the
    key ``"truth"`` holding the planted-truth dictionary (not a DataFrame).
    """
    cfg = config or WorldConfig()
    if not isinstance(scale, (int, float)) or not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    say = progress or (lambda msg: None)
    R = _Rng(seed)
    days = _days()
    n_day = len(days)
    shape, on_promo, pf_dips = _demand_shape(cfg, days)
    op = _op_time(shape)
    truth: dict = {"seed": int(seed), "scale": float(scale), "window": [str(START.date()), str(END.date())]}

    say("catalogue and prices")
    products = _products(R("products"))
    prices = _daily_prices(cfg, R("prices"), products, days, on_promo)

    say("marketing")
    mkt, ch_truth, incr = _marketing(cfg, R("marketing"), days, shape, scale)
    truth["channels"] = ch_truth

    say("customers")
    rng = R("customers")
    ch_idx, day_idx = _acquisition(cfg, rng, days, shape, incr, scale)
    # order within a day by time; the customer id follows first-order time
    first_sec = _hour_sampler(cfg, rng, len(day_idx))
    order = np.lexsort((first_sec, day_idx))
    ch_idx, day_idx, first_sec = ch_idx[order], day_idx[order], first_sec[order]
    n_cust = len(ch_idx)
    persona = _personas_for(cfg, rng, ch_idx)
    gender, age, tier = _demographics(rng, persona)
    bg = cfg.bgnbd
    loading = np.asarray([cfg.persona_rate_loading[p] for p in PERSONAS])[persona]
    lam = _gaussian_rank_gamma(rng, loading, bg["r"], bg["alpha"])
    p_drop = rng.beta(bg["a"], bg["b"], n_cust)
    first_ts = days[day_idx] + pd.to_timedelta(first_sec, unit="s")
    first_dev = _devices(rng, n_cust, persona)

    # the checkout incident also loses first orders (those visitors never became customers)
    inc = cfg.incident
    inc_day = int((pd.Timestamp(inc["date"]) - START).days)
    lost_first = (day_idx == inc_day) & (first_dev == 1) & (rng.random(n_cust) < inc["drop"])
    keep = ~lost_first
    ch_idx, day_idx, first_sec, persona = ch_idx[keep], day_idx[keep], first_sec[keep], persona[keep]
    gender, age, tier, lam, p_drop = gender[keep], age[keep], tier[keep], lam[keep], p_drop[keep]
    first_ts, first_dev = first_ts[keep], first_dev[keep]
    n_cust = len(ch_idx)
    cust_ids = _ids("C", np.arange(1, n_cust + 1), 7)
    vis_ids = _ids("V", np.arange(1, n_cust + 1), 8)

    # membership (selected on λ, no effect on buying)
    mlogit = np.log(0.18) + 0.7 * np.log(lam / lam.mean())
    member = rng.random(n_cust) < special.expit(mlogit)
    m_day = np.minimum(day_idx + rng.integers(0, 120, n_cust), n_day - 1)
    member_day = np.where(member, m_day, -1)

    say("purchases (BG/NBD)")
    base = _base_purchases(R("bgnbd"), day_idx, first_sec, lam, p_drop, op, n_day)
    join_day = _fan_group_joins(cfg, R("fan_group"), base, day_idx, member_day, n_day)
    rep = _programme_purchases(cfg, R("programme"), base, lam, join_day, op, n_day)
    truth["bgnbd"] = dict(bg)
    truth["bgnbd"].update({
        "time_unit": "week of promotion-calendar ('operational') time; calendar weeks have mean 1",
        "share_repeat_within_39_weeks": None,  # filled after orders exist
    })

    # ---- orders: first + repeat ------------------------------------------------------
    say("orders")
    rng = R("orders")
    o_cust = np.concatenate([np.arange(n_cust), rep["cust"]])
    o_day = np.concatenate([day_idx, rep["day"]])
    o_sec = np.concatenate([first_sec, _hour_sampler(cfg, rng, len(rep["cust"]))])
    o_first = np.concatenate([np.ones(n_cust, bool), np.zeros(len(rep["cust"]), bool)])
    o_post_join = np.concatenate([np.zeros(n_cust, bool), rep["post_join"]])
    o_cf = np.concatenate([np.ones(n_cust, bool), rep["counterfactual"]])
    o_dev = np.concatenate([first_dev, _devices(rng, len(rep["cust"]), persona[rep["cust"]])])
    # incident loses repeat orders too
    lost = (~o_first) & (o_day == inc_day) & (o_dev == 1) & (rng.random(len(o_day)) < inc["drop"])
    keep = ~lost
    o_cust, o_day, o_sec, o_first = o_cust[keep], o_day[keep], o_sec[keep], o_first[keep]
    o_post_join, o_cf, o_dev = o_post_join[keep], o_cf[keep], o_dev[keep]
    truth["incident"] = {**inc, "lost_orders": int(lost.sum() + lost_first.sum()),
                         "lost_first_orders": int(lost_first.sum())}
    ts = days[o_day] + pd.to_timedelta(o_sec, unit="s")
    srt = np.lexsort((o_cust, ts.asi8))
    o_cust, o_day, o_sec, o_first = o_cust[srt], o_day[srt], o_sec[srt], o_first[srt]
    o_post_join, o_cf, o_dev, ts = o_post_join[srt], o_cf[srt], o_dev[srt], ts[srt]
    n_ord = len(o_cust)
    order_ids = _ids("O", np.arange(1, n_ord + 1), 8)

    # channels
    o_persona = persona[o_cust]
    src = np.empty(n_ord, dtype=np.int64)
    src[o_first] = ch_idx[o_cust[o_first]]
    rp = ~o_first
    # repeat orders: organic, direct, ads; members of the fan group come via private domain
    p_src = np.array([0.14, 0.08, 0.06, 0.07, 0.05, 0.30, 0.04, 0.26])
    u = rng.random(rp.sum())
    src_r = (u[:, None] > np.cumsum(p_src)[None, :]).sum(1)
    pj = o_post_join[rp]
    src_r = np.where(pj & (rng.random(rp.sum()) < 0.55), 6, src_r)
    src[rp] = src_r
    sales_ch = np.where(src == 2, 2, 0)  # live_stream traffic buys in the live room
    mini = (rng.random(n_ord) < np.where(o_post_join, 0.55, 0.15)) & (sales_ch == 0)
    sales_ch = np.where(mini, 1, sales_ch)

    # ---- order lines ------------------------------------------------------------------
    say("order lines")
    promo_day = on_promo[o_day]
    # basket size scales with how attractive the shelf is that day (R = Σ w(price) / Σ w(list)
    # per persona), so a SKU's expected units are exactly ∝ price^elasticity rather than a
    # fixed basket being re-shared (which would attenuate own-price elasticity)
    shelf = _attractiveness(cfg, products, prices, days)
    shelf = shelf / shelf[~on_promo].mean(axis=0, keepdims=True)    # ordinary days average 1
    mean_lines = np.where(promo_day, 2.0, 1.55) * shelf[o_day, o_persona]
    n_lines = 1 + rng.poisson(np.maximum(mean_lines - 1, 0))
    line_order = np.repeat(np.arange(n_ord), n_lines)
    l_day = o_day[line_order]
    l_persona = o_persona[line_order]
    sku = _choose_skus(cfg, rng, products, prices, days, l_day, l_persona)
    qty = 1 + rng.poisson(np.where(promo_day[line_order], 0.55, 0.25))
    # the storage push: extra storage lines from their own stream
    rng_push = R("storage_push")
    x_order, x_sku = _storage_push_lines(cfg, rng_push, products, prices, days, o_day, o_persona,
                                         1 + np.maximum(mean_lines - 1, 0))
    line_order = np.concatenate([line_order, x_order])
    sku = np.concatenate([sku, x_sku])
    qty = np.concatenate([qty, 1 + rng_push.poisson(np.where(promo_day[x_order], 0.55, 0.25))])
    lines = pd.DataFrame({"_order": line_order, "_sku": sku, "quantity": qty, "_day": o_day[line_order],
                          "_sec": o_sec[line_order]})
    # one line per SKU per order
    lines = lines.groupby(["_order", "_sku"], as_index=False, sort=True).agg(
        quantity=("quantity", "sum"), _day=("_day", "first"), _sec=("_sec", "first"))

    say("inventory")
    inv, lines, stock_truth = _inventory(R("inventory"), products, lines, days, n_day)
    truth["stockouts"] = stock_truth

    lines["unit_price"] = prices[lines["_day"].to_numpy(), lines["_sku"].to_numpy()]
    lines["list_price"] = products["list_price"].to_numpy()[lines["_sku"].to_numpy()]
    lines["_amount"] = lines["quantity"] * lines["unit_price"]
    items = np.bincount(lines["_order"].to_numpy(), weights=lines["_amount"].to_numpy(), minlength=n_ord)

    # ---- amounts, coupons, status -----------------------------------------------------
    rng = R("amounts")
    has_coupon = rng.random(n_ord) < np.where(o_post_join, 0.35, 0.1)
    coupon_val = np.where(items >= 199, 30.0, np.where(items >= 99, 15.0, 5.0))
    discount = np.where(has_coupon, coupon_val, 0.0)
    full_reduction = np.where(promo_day, np.floor(items / 300.0) * 30.0, 0.0)
    discount = np.minimum(discount + full_reduction, items)
    ship = np.where(items >= 99, 0.0, 8.0)
    paid = np.round(items - discount + ship, 2)
    coupon_codes = _ids("CP", 1000 + o_day // 30, 4)
    status = np.zeros(n_ord, dtype=np.int64)
    cancel = (rng.random(n_ord) < cfg.cancel_rate) & ~o_first
    status[cancel] = 1

    say("returns")
    rets, refunded = _returns(cfg, R("returns"), products, lines, days, status)
    status[refunded] = 2

    dev_missing = rng.random(n_ord) < cfg.missing_device_rate
    orders = pd.DataFrame({
        "order_id": order_ids,
        "customer_id": _take(cust_ids, o_cust),
        "order_ts": ts.as_unit("us"),
        "sales_channel": pd.Categorical.from_codes(sales_ch, categories=list(schema.SALES_CHANNELS)),
        "traffic_source": pd.Categorical.from_codes(src, categories=list(schema.TRAFFIC_SOURCES)),
        "device": pd.Categorical.from_codes(np.where(dev_missing, -1, o_dev), categories=list(schema.DEVICES)),
        "coupon_id": _take(coupon_codes, np.arange(n_ord), valid=has_coupon),
        "items_amount": np.round(items, 2),
        "discount_amount": np.round(discount, 2),
        "shipping_fee": ship,
        "paid_amount": paid,
        "status": pd.Categorical.from_codes(status, categories=list(schema.ORDER_STATUSES)),
    })
    order_items = pd.DataFrame({
        "order_id": _take(order_ids, lines["_order"].to_numpy()),
        "sku_id": _take(products["sku_id"], lines["_sku"].to_numpy()),
        "quantity": lines["quantity"].to_numpy().astype("int64"),
        "unit_price": lines["unit_price"].to_numpy(),
        "list_price": lines["list_price"].to_numpy(),
    })
    rets["order_id"] = _take(order_ids, rets.pop("_order").to_numpy()).array
    rets["sku_id"] = _take(products["sku_id"], rets.pop("_sku").to_numpy()).array
    returns = rets[["order_id", "sku_id", "return_date", "reason", "refund_amount"]]

    customers = pd.DataFrame({
        "customer_id": cust_ids,
        "visitor_id": vis_ids,
        "first_order_date": days[day_idx],
        "acquisition_channel": pd.Categorical.from_codes(ch_idx, categories=list(schema.CHANNELS)),
        "city_tier": pd.Categorical.from_codes(tier, categories=list(schema.CITY_TIERS), ordered=True),
        "gender": pd.Categorical.from_codes(gender, categories=list(schema.GENDERS)),
        "age_band": pd.Categorical.from_codes(age, categories=list(schema.AGE_BANDS), ordered=True),
        "member_join_date": _day_or_nat(days, member_day),
        "joined_fan_group_date": _day_or_nat(days, join_day),
    })

    # ---- truth about customers ---------------------------------------------------------
    truth["personas"] = {
        "names_zh": PERSONAS_ZH,
        "shares": {p: round(float((persona == i).mean()), 4) for i, p in enumerate(PERSONAS)},
        "planted_shares": cfg.persona_shares,
        "mean_weekly_purchase_rate": {p: round(float(lam[persona == i].mean()), 4) for i, p in enumerate(PERSONAS)},
        "category_affinity": {p: dict(zip(schema.CATEGORIES, cfg.persona_category_affinity[p], strict=True)) for p in PERSONAS},
        "order_value_multiplier": cfg.persona_order_value_mult,
    }
    joined = join_day >= 0
    truth["fan_group_effect"] = _fan_truth(cfg, joined, lines, orders, products, o_cust, o_cf, status)
    truth["membership"] = {"effect_on_purchase_rate": cfg.membership_effect,
                           "members": int(member.sum()),
                           "note": "members are selected on a higher purchase rate; joining changes nothing"}
    truth["elasticity"] = dict(cfg.elasticity)
    truth["promo_lift"] = dict(cfg.promo_lift)
    truth["promo_pull_forward"] = {
        **cfg.promo_pull_forward, "dip_by_promotion": pf_dips,
        "note": "share of each promotion's extra demand (over the no-promotion baseline) removed "
                "evenly from the days_before days before it and the days_after days after it; dip = "
                "the fraction of those days' demand removed"}
    truth["storage_push"] = {
        **cfg.storage_push,
        "note": "from start each storage SKU's choice weight x demand_multiplier on top of unchanged "
                "other categories, so expected storage lines (demand) x demand_multiplier; sold units "
                "are censored by stockouts"}
    truth["seasonality"] = {"weekday_shape_mon_to_sun": list(cfg.weekday_shape),
                            "peak_hour": int(np.argmax(cfg.hour_shape)),
                            "trough_hour": int(np.argmin(cfg.hour_shape)),
                            "hour_shape": list(cfg.hour_shape)}
    truth["returns"] = {"return_rate_by_category": dict(cfg.return_rate),
                        "realised_line_return_rate": {
                            c: round(float(v), 4) for c, v in _realised_returns(order_items, returns, products).items()}}

    say("behaviour events")
    nov = np.asarray((days >= EVENT_START) & (days < EVENT_END))
    events, sess_info, ev_truth = _events(cfg, R("events"), orders, order_items, customers, products, scale,
                                          shape[nov])
    truth["funnel"] = ev_truth
    page_clicks, pc_truth = _page_clicks(R("page_clicks"), sess_info, scale)
    truth["page_clicks"] = pc_truth

    say("experiments")
    experiments, exp_truth = _experiments(cfg, R("experiments"), scale, n_cust)
    first_lift_vis = n_cust + 5_000_000 + len(experiments) + 1_000_000
    lift, exp_truth[cfg.lift_test["experiment_id"]] = _lift_test(cfg, R("lift_test"), days, mkt, incr, scale,
                                                                 first_lift_vis)
    experiments = pd.concat([experiments, lift], ignore_index=True)
    truth["experiments"] = exp_truth

    say("coupon campaign")
    campaign, cp_truth = _coupon_campaign(cfg, R("coupons"), orders, customers)
    truth["coupon_uplift"] = cp_truth

    say("keywords, market, search trends, survey")
    keywords, kw_truth = _keywords(cfg, R("keywords"), scale)
    truth["ctr_by_rank"] = kw_truth
    market, search_trends, mk_truth = _market(cfg, R("market"))
    truth["market"] = mk_truth
    survey = _survey(cfg, R("survey"), persona, customers, scale)
    truth["personas"]["survey_respondents"] = int(len(survey))
    truth["personas"]["survey_persona_by_respondent"] = dict(
        zip(survey["respondent_id"].tolist(), survey.attrs.pop("persona").tolist(), strict=True))

    daily_prices = pd.DataFrame({
        "sku_id": np.tile(products["sku_id"].to_numpy(), n_day),
        "date": np.repeat(days.to_numpy(), len(products)),
        "price": prices.reshape(-1),
        "on_promotion": np.repeat(on_promo, len(products)),
    })
    prod_out = products.drop(columns=["_pop", "_cat"])

    tables = {
        "customers": customers, "products": prod_out, "orders": orders, "order_items": order_items,
        "returns": returns, "daily_prices": daily_prices, "inventory": inv, "events": events,
        "page_clicks": page_clicks, "marketing_daily": mkt, "keywords": keywords, "market": market,
        "search_trends": search_trends, "survey": survey, "experiments": experiments,
        "coupon_campaign": campaign,
    }
    tables = {k: conform(k, v) for k, v in tables.items()}
    truth["bgnbd"]["share_repeat_within_39_weeks"] = _share_repeat_39w(o_cust, ts, status, n_cust)
    truth["blemishes"] = _blemish_counts(tables, ev_truth)
    truth["programme"] = _programme_truth(cfg, truth, tables["orders"], tables["customers"])
    tables["truth"] = truth  # type: ignore[assignment]
    return tables


# ------------------------------------------------------------------------------------
def _ids(prefix: str, nums, width: int) -> pd.Series:
    """Fixed-width ids ``prefix + zero-padded number`` as Arrow-backed strings.

    Built by writing the digits straight into an Arrow buffer (a loop over digit
    positions, not rows).
    """
    import pyarrow as pa

    nums = np.asarray(nums, dtype=np.int64)
    n, p = len(nums), len(prefix)
    width_all = p + width
    buf = np.empty((n, width_all), dtype=np.uint8)
    buf[:, :p] = np.frombuffer(prefix.encode(), np.uint8)
    x = np.abs(nums)
    for j in range(width - 1, -1, -1):
        buf[:, p + j] = 48 + x % 10
        x //= 10
    offsets = np.arange(0, (n + 1) * width_all, width_all, dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.ravel()))
    return pd.Series(pd.array(arr, dtype=STR))


def _take(values: pd.Series, idx: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """values[idx] as Arrow strings (missing where ``valid`` is False), no Python objects."""
    import pyarrow as pa

    arr = pa.array(values.array) if not hasattr(values.array, "_pa_array") else values.array._pa_array
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    taken = arr.take(pa.array(np.asarray(idx, dtype=np.int64)))
    if valid is not None:
        import pyarrow.compute as pc

        taken = pc.if_else(pa.array(np.asarray(valid, bool)), taken, pa.scalar(None, taken.type))
    return pd.Series(pd.array(taken, dtype=STR))


def _id_numbers(ids: pd.Series, prefix: str) -> np.ndarray:
    """0-based numbers of ids like ``C0000123`` (inverse of :func:`_ids`)."""
    return ids.astype(STR).str.slice(len(prefix)).astype(np.int64).to_numpy() - 1


def _devices(rng, n, persona):
    p_ios = np.array([0.35, 0.5, 0.4, 0.42])[persona]
    p_pc = np.array([0.14, 0.1, 0.12, 0.2])[persona]
    u = rng.random(n)
    return np.where(u < p_ios, 0, np.where(u < p_ios + p_pc, 2, 1))


def _day_or_nat(days, idx):
    out = pd.Series(pd.NaT, index=range(len(idx)), dtype="datetime64[us]")
    m = idx >= 0
    out[m] = days[idx[m]]
    return out.to_numpy()


def _base_purchases(rng, day_idx, first_sec, lam, p_drop, op, n_day):
    """Repeat purchases by BG/NBD in operational time (no programme).

    Purchase times are a Poisson process with rate λ per operational week; each
    customer makes K ~ Geometric(p) repeat purchases and drops out right after the K-th.
    Returns the purchases (customer, operational time, calendar day) and each
    customer's first-order and drop-out times.
    """
    n = len(lam)
    t0 = op[day_idx] + first_sec / 86400.0 * (op[day_idx + 1] - op[day_idx])
    t_end = op[n_day]
    nb = rng.poisson(lam * (t_end - t0))
    cust = np.repeat(np.arange(n), nb)
    t = t0[cust] + rng.random(len(cust)) * (t_end - t0)[cust]
    order = np.lexsort((t, cust))
    cust, t = cust[order], t[order]
    k = rng.geometric(p_drop)                     # repeat purchases before drop-out (>= 1)
    start = np.searchsorted(cust, np.arange(n))
    rank = np.arange(len(cust)) - start[cust]
    alive = rank < k[cust]
    death = np.full(n, np.inf)
    kth = alive & (rank == k[cust] - 1)
    death[cust[kth]] = t[kth]
    cust, t = cust[alive], t[alive]
    day = np.clip(np.searchsorted(op, t, side="right") - 1, 0, n_day - 1)
    return {"cust": cust, "t": t, "day": day, "t0": t0, "death": death}


def _fan_group_joins(cfg, rng, base, day_idx, member_day, n_day):
    """Who joins the fan groups, and when.

    Invitations (2025-07-01) went to the CRM's year-end 2024 list; acceptance depends
    only on what that list shows — orders before 2025-01-01, days since the last of
    them, membership — so joiners are self-selected heavy buyers, but *on observables*
    (matching on those fields is valid). Customers acquired in 2025 join through a
    parcel insert with a flat probability. The join day is concentrated in the launch
    push (mean 6 days after 2025-07-01) and never before the first order.
    """
    n = len(day_idx)
    crm_day = (pd.Timestamp("2025-01-01") - START).days
    before = base["day"] < crm_day
    prior = np.bincount(base["cust"][before], minlength=n) + (day_idx < crm_day)
    last = np.full(n, -1)
    np.maximum.at(last, base["cust"][before], base["day"][before])
    last = np.where(day_idx < crm_day, np.maximum(last, day_idx), -1)
    recency = np.where(last >= 0, crm_day - last, 9999)
    member_then = (member_day >= 0) & (member_day < crm_day)
    logit = (np.log(cfg.fan_group_join_base) + cfg.fan_group_selection * np.log(prior.clip(1))
             - 0.004 * np.minimum(recency, 730) + 0.8 * member_then)
    p = np.where(day_idx < crm_day, special.expit(logit), 0.04)
    join = rng.random(n) < p
    fg_day0 = (pd.Timestamp(cfg.fan_group_start) - START).days
    delay = np.minimum(rng.exponential(6, n), n_day - fg_day0 - 1).astype(int)
    join_day = np.maximum(fg_day0 + delay, day_idx)
    join &= join_day < n_day
    return np.where(join, join_day, -1)


def _programme_purchases(cfg, rng, base, lam, join_day, op, n_day):
    """Add the programme's purchases: while alive after joining, members buy at
    (effect - 1)·λ on top of the base process, so their rate is effect·λ and the
    no-programme counterfactual is the base process (drop-out unchanged)."""
    n = len(lam)
    t_end = op[n_day]
    joined = join_day >= 0
    tj = np.maximum(np.where(joined, op[np.maximum(join_day, 0)], t_end), base["t0"])
    span = np.where(joined, np.clip(np.minimum(base["death"], t_end) - tj, 0, None), 0.0)
    ne = rng.poisson((cfg.fan_group_effect - 1) * lam * span)
    ecust = np.repeat(np.arange(n), ne)
    et = tj[ecust] + rng.random(len(ecust)) * span[ecust]
    all_c = np.concatenate([base["cust"], ecust])
    all_t = np.concatenate([base["t"], et])
    extra = np.concatenate([np.zeros(len(base["cust"]), bool), np.ones(len(ecust), bool)])
    post_join = joined[all_c] & (all_t >= tj[all_c])
    day = np.clip(np.searchsorted(op, all_t, side="right") - 1, 0, n_day - 1)
    return {"cust": all_c, "day": day, "post_join": post_join, "counterfactual": ~extra}


def _sku_weights(cfg, products, prices, days):
    """Choice weights (days x SKUs) at the day's prices and at list prices, and the
    persona x SKU category affinity."""
    cat = products["_cat"].to_numpy()
    el = np.asarray([cfg.elasticity[c] for c in schema.CATEGORIES])[cat]
    rel = prices / products["list_price"].to_numpy()[None, :]          # days x skus
    launched = days.to_numpy()[:, None] >= products["launch_date"].to_numpy()[None, :]
    at_list = products["_pop"].to_numpy()[None, :] * launched
    aff = np.asarray([cfg.persona_category_affinity[p] for p in PERSONAS])[:, cat]   # personas x skus
    return at_list * rel**el[None, :], at_list, aff


def _attractiveness(cfg, products, prices, days):
    """R[day, persona] = Σ_i w_i(price) / Σ_i w_i(list price)."""
    w, w0, aff = _sku_weights(cfg, products, prices, days)
    return (w @ aff.T) / (w0 @ aff.T)


def _storage_push_lines(cfg, rng, products, prices, days, o_day, o_persona, mean_lines):
    """Extra storage lines of the storage push, on top of the ordinary basket (own stream).

    An order on day d >= start with expected lines m and storage share s(d, persona) of the
    choice weights gets Poisson((k - 1) · m · s) extra storage lines, so its expected storage
    lines are k times the no-push ones and its other lines are unchanged."""
    sp = cfg.storage_push
    k = float(sp["demand_multiplier"])
    if k == 1.0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    storage = products["_cat"].to_numpy() == schema.CATEGORIES.index("storage")
    w, _, aff = _sku_weights(cfg, products, prices, days)
    share = ((w * storage) @ aff.T) / (w @ aff.T)                        # days x personas
    on = np.asarray(days >= pd.Timestamp(sp["start"]))[o_day]
    lam = np.where(on, (k - 1) * mean_lines * share[o_day, o_persona], 0.0)
    extra_order = np.repeat(np.arange(len(o_day)), rng.poisson(lam))
    sku = _choose_skus(cfg, rng, products, prices, days, o_day[extra_order], o_persona[extra_order], mask=storage)
    return extra_order, sku


def _choose_skus(cfg, rng, products, prices, days, l_day, l_persona, mask=None):
    """SKU choice ∝ persona category affinity x popularity x (price/list)^elasticity
    (among the SKUs where ``mask`` is true, if given)."""
    n_sku = len(products)
    base, _, aff = _sku_weights(cfg, products, prices, days)
    if mask is not None:
        base = base * mask[None, :]
    # unique (day, persona) cells used
    cell = l_day * 4 + l_persona
    ucell, inv = np.unique(cell, return_inverse=True)
    w = base[ucell // 4] * aff[ucell % 4]
    cdf = np.cumsum(w, axis=1)
    cdf /= cdf[:, -1:]
    flat = (cdf + np.arange(len(ucell))[:, None]).ravel()
    u = rng.random(len(cell)) * (1 - 1e-12) + inv
    pos = np.searchsorted(flat, u, side="right")
    return np.minimum(pos - inv * n_sku, n_sku - 1)


def _inventory(rng, products, lines, days, n_day):
    """Reorder-point policy for the top-20 SKUs; stockouts lose or substitute lines."""
    n_sku = len(products)
    units = np.bincount(lines["_sku"], weights=lines["quantity"], minlength=n_sku)
    top = np.argsort(-units)[:20]
    # unconstrained daily demand of the top SKUs (days x 20)
    is_top = np.full(n_sku, -1)
    is_top[top] = np.arange(20)
    lt = lines[is_top[lines["_sku"].to_numpy()] >= 0]
    col = is_top[lt["_sku"].to_numpy()]
    demand = np.zeros((n_day, 20), dtype=np.int64)
    np.add.at(demand, (lt["_day"].to_numpy(), col), lt["quantity"].to_numpy())
    lead = products["lead_time_days"].to_numpy()[top]
    # policy: reorder point = trailing-28-day mean x (lead time + 7) + 1.65 sd sqrt(LT)
    # order-up-to 45 days of trailing demand. It does not anticipate promotions.
    on_hand = np.zeros((n_day, 20), dtype=np.int64)
    received = np.zeros((n_day, 20), dtype=np.int64)
    sold = np.zeros((n_day, 20), dtype=np.int64)
    pipeline = np.zeros((n_day + 60, 20), dtype=np.int64)
    stock = (demand[:60].mean(0) * 40).astype(np.int64) + 10
    on_order = np.zeros(20, dtype=np.int64)
    cols = np.arange(20)
    for d in range(n_day):
        arriving = pipeline[d]
        stock = stock + arriving
        on_order -= arriving
        received[d] = arriving
        on_hand[d] = stock
        s = np.minimum(stock, demand[d])
        sold[d] = s
        stock = stock - s
        lo = max(0, d - 27)
        hist = demand[lo:d + 1]
        mean = hist.mean(0)
        sd = hist.std(0)
        rop = mean * (lead + 7) + 1.65 * sd * np.sqrt(lead)
        position = stock + on_order
        need = position < rop
        qty = np.where(need, np.ceil(mean * 45 + rop - position).astype(np.int64), 0)
        qty = np.maximum(qty, 0)
        pipeline[d + lead[need], cols[need]] += qty[need]
        on_order += qty
    lost = demand - sold
    inv = pd.DataFrame({
        "sku_id": np.tile(products["sku_id"].to_numpy()[top], n_day),
        "date": np.repeat(days.to_numpy(), 20),
        "on_hand_start": on_hand.ravel(), "received": received.ravel(),
        "units_demanded": demand.ravel(), "units_sold": sold.ravel(), "stockout": (lost > 0).ravel(),
    })
    # remove lost units from the latest lines of each SKU-day
    lines = lines.sort_values(["_sku", "_day", "_sec"], ascending=[True, True, False]).reset_index(drop=True)
    lostmap = np.zeros((n_day, n_sku), dtype=np.int64)
    lostmap[:, top] = lost
    lday, lsku = lines["_day"].to_numpy(), lines["_sku"].to_numpy()
    L = lostmap[lday, lsku]
    cum = lines.groupby(["_sku", "_day"], sort=False)["quantity"].cumsum().to_numpy()
    prev = cum - lines["quantity"].to_numpy()
    remove = np.clip(np.minimum(cum, L) - prev, 0, None)      # units of this line lost
    new_q = lines["quantity"].to_numpy() - remove
    fully = (new_q == 0)
    # lines lost entirely: substitute (50%) with a non-top SKU of the same category, else drop
    cat = products["_cat"].to_numpy()
    subst = fully & (rng.random(len(lines)) < 0.5)
    cand = [np.setdiff1d(np.flatnonzero(cat == c), top) for c in range(6)]
    line_cat = cat[lsku]
    new_sku = lsku.copy()
    for c in range(6):
        m = subst & (line_cat == c)
        new_sku[m] = rng.choice(cand[c], size=m.sum())
    lines["quantity"] = np.where(subst, lines["quantity"].to_numpy(), new_q)
    lines["_sku"] = new_sku
    drop = fully & ~subst
    # never empty an order: if every line of an order would be dropped, substitute instead
    order_lines = np.bincount(lines["_order"], minlength=lines["_order"].max() + 1)
    order_drops = np.bincount(lines["_order"], weights=drop, minlength=len(order_lines))
    empty = order_drops[lines["_order"].to_numpy()] >= order_lines[lines["_order"].to_numpy()]
    rescue = drop & empty
    for c in range(6):
        m = rescue & (line_cat == c)
        new_sku[m] = rng.choice(cand[c], size=m.sum())
    lines["_sku"] = new_sku
    lines.loc[rescue, "quantity"] = np.maximum(lines.loc[rescue, "quantity"].to_numpy(), 1)
    drop &= ~rescue
    lines = lines[~drop]
    lines = lines.groupby(["_order", "_sku"], as_index=False, sort=True).agg(
        quantity=("quantity", "sum"), _day=("_day", "first"), _sec=("_sec", "first"))
    sku_ids = products["sku_id"].to_numpy()[top]
    lost_by_sku = lost.sum(0)
    t = {
        "policy": "reorder point = 28-day mean demand x (lead time + 7 days) + 1.65 sd sqrt(lead time); "
                  "order up to 45 days of mean demand; no promotion forecast",
        "lost_units_by_sku": {s: int(v) for s, v in zip(sku_ids, lost_by_sku, strict=True) if v > 0},
        "stockout_days_by_sku": {s: int(v) for s, v in zip(sku_ids, (lost > 0).sum(0), strict=True) if v > 0},
        "total_lost_units": int(lost.sum()),
        "lost_units_around_double11": int(lost[(days >= "2024-10-25") & (days <= "2024-11-20")].sum()
                                          + lost[(days >= "2025-10-25") & (days <= "2025-11-20")].sum()),
        "lost_lines_substituted_share": 0.5,
    }
    return inv, lines, t


def _returns(cfg, rng, products, lines, days, status):
    cat = products["_cat"].to_numpy()[lines["_sku"].to_numpy()]
    rate = np.asarray([cfg.return_rate[c] for c in schema.CATEGORIES])[cat]
    ok = status[lines["_order"].to_numpy()] == 0
    ret = ok & (rng.random(len(lines)) < rate)
    r = lines[ret]
    rc = cat[ret]
    # reason mix by category (bedding: fit/size; decor: not as described; kitchen: quality)
    mix = np.array([
        [0.25, 0.2, 0.15, 0.15, 0.25], [0.35, 0.15, 0.05, 0.2, 0.25], [0.15, 0.2, 0.4, 0.05, 0.2],
        [0.3, 0.2, 0.1, 0.15, 0.25], [0.15, 0.4, 0.05, 0.2, 0.2], [0.3, 0.15, 0.05, 0.15, 0.35]])
    reason = (rng.random(len(r))[:, None] > mix.cumsum(1)[rc]).sum(1)
    rdate = days[np.minimum(r["_day"].to_numpy() + rng.integers(3, 16, len(r)), len(days) - 1)]
    out = pd.DataFrame({
        "_order": r["_order"].to_numpy(), "_sku": r["_sku"].to_numpy(),
        "return_date": rdate, "reason": np.asarray(schema.RETURN_REASONS)[reason],
        "refund_amount": np.round(r["quantity"].to_numpy() * r["unit_price"].to_numpy(), 2),
    })
    n_lines = np.bincount(lines["_order"], minlength=len(status))
    n_ret = np.bincount(out["_order"], minlength=len(status))
    refunded = (n_ret == n_lines) & (n_lines > 0)
    return out, refunded


def _realised_returns(order_items, returns, products):
    cat = order_items.merge(products[["sku_id", "category"]], on="sku_id")
    rc = returns.merge(products[["sku_id", "category"]], on="sku_id")
    return (rc.groupby("category", observed=True).size() / cat.groupby("category", observed=True).size()).to_dict()


def _fan_truth(cfg, joined, lines, orders, products, o_cust, o_cf, status):
    """Effect of the fan-group programme on its members' H2-2025 orders (ATT)."""
    h2 = orders["order_ts"].to_numpy() >= np.datetime64(cfg.fan_group_start)
    valid = status == 0
    member_order = joined[o_cust]
    actual = int((h2 & member_order & valid).sum())
    # counterfactual orders of members in H2: observed orders that survive thinning,
    # plus the orders that only the no-programme path would have had
    counterfactual = int((h2 & member_order & valid & o_cf).sum())
    att = actual / counterfactual - 1
    # incremental gross profit: extra orders x mean order gross profit of members in H2
    item_cost = products["unit_cost"].to_numpy()[lines["_sku"].to_numpy()] * lines["quantity"].to_numpy()
    cost_by_order = np.bincount(lines["_order"], weights=item_cost, minlength=len(orders))
    gp = orders["paid_amount"].to_numpy() - orders["shipping_fee"].to_numpy() - cost_by_order
    mean_gp = float(gp[h2 & member_order & valid].mean()) if actual else 0.0
    extra = actual - counterfactual
    return {
        "rate_multiplier": cfg.fan_group_effect,
        "start": cfg.fan_group_start,
        "members": int(joined.sum()),
        "member_orders_h2": actual,
        "member_orders_h2_without_programme": counterfactual,
        "att_orders_h2": round(float(att), 4),
        "note": "members buy at rate x1.3 while alive after joining (drop-out unchanged), so their "
                "H2 orders are x1.3 the no-programme counterfactual in expectation; att_orders_h2 is "
                "the realised ratio on this seed",
        "incremental_orders": int(extra),
        "mean_gross_profit_per_order": round(mean_gp, 2),
        "incremental_gross_profit": round(float(extra * mean_gp), 2),
    }


def _programme_truth(cfg, truth, orders, customers):
    fg = truth["fan_group_effect"]
    cost = cfg.programme_monthly_cost * 6 * truth["scale"]
    igp = fg["incremental_gross_profit"]
    start = pd.Timestamp(cfg.fan_group_start)
    end = pd.Timestamp(END) + pd.Timedelta(days=1)
    # the marketer's figures: 复购率 = share of customers acquired before the programme who
    # ordered (not cancelled) in its six months, members of a fan group vs the rest; "ROI"
    # = revenue (paid amount, 成交金额) of members' orders after joining / the programme's cost
    kept = orders[orders["status"] != "cancelled"]
    h2 = kept[(kept["order_ts"] >= start) & (kept["order_ts"] < end)]
    old = customers[customers["first_order_date"] < start]
    member = old["joined_fan_group_date"].notna().to_numpy()
    bought = old["customer_id"].isin(h2["customer_id"]).to_numpy()
    rep_m, rep_n = float(bought[member].mean()), float(bought[~member].mean())
    join = h2["customer_id"].map(customers.set_index("customer_id")["joined_fan_group_date"])
    rev_members = float(h2.loc[(join.notna() & (h2["order_ts"] >= join)).to_numpy(), "paid_amount"].sum())
    return {
        "period": "2025-07-01..2025-12-31",
        "cost": round(cost, 2),
        "incremental_gross_profit": igp,
        "profit_roi": round((igp - cost) / cost, 4),
        "note": "profit ROI = (incremental gross profit - cost) / cost; not ROAS (投产比)",
        "claim": {"repurchase_rise": 0.30, "roi": 5.0,
                  "text": "within six months repurchase rose 30% and ROI reached 1:5"},
        "naive": {
            "repurchase_rate_members": round(rep_m, 4), "repurchase_rate_non_members": round(rep_n, 4),
            "repurchase_gap": round(rep_m / rep_n - 1, 4),
            "member_revenue_after_joining": round(rev_members, 2), "revenue_roi": round(rev_members / cost, 4),
            "definition": "repurchase rate: customers first ordering before 2025-07-01 with a kept order in "
                          "2025-07-01..2025-12-31, fan-group members vs the rest (gap = ratio - 1); "
                          "ROI (a ROAS): paid amount of members' kept orders on or after their join date / cost",
        },
        "storage_push": dict(cfg.storage_push),
        "short_video_push": dict(cfg.short_video_push),
    }


def _share_repeat_39w(o_cust, ts, status, n_cust):
    """Share of customers (first order >= 39 weeks before the end) who order again
    (not cancelled) within 39 weeks of their first order. Integer arrays, no string keys."""
    keep = status != schema.ORDER_STATUSES.index("cancelled")
    c = o_cust[keep]
    t = pd.DatetimeIndex(ts).as_unit("ns").asi8[keep]
    first = np.full(n_cust, np.iinfo(np.int64).max)
    np.minimum.at(first, c, t)
    w39 = pd.Timedelta(weeks=39).value
    again = (t > first[c]) & (t <= first[c] + w39)
    has_again = np.bincount(c[again], minlength=n_cust) > 0
    eligible = (first < np.iinfo(np.int64).max) & (first <= pd.Timestamp(END).value - w39)
    return round(float(has_again[eligible].mean()), 4)


# ------------------------------------------------------------------------------------
def _events(cfg, rng, orders, order_items, customers, products, scale, day_shape):
    """November 2025 behaviour log built around the month's real orders.

    Traffic (sessions) follows the demand of each day — the 3-day average of its buyers
    (the incident's lost orders added back) times the day's own ``day_shape`` over its 3-day
    average — and the planted session conversion rates, so a day's sessions do not track
    its own order noise; the day's real orders are the buying sessions and the rest do not
    buy. So daily conversion varies with binomial noise, and on the incident day traffic is
    normal while orders are missing.
    """
    inwin = (orders["order_ts"] >= EVENT_START) & (orders["order_ts"] < EVENT_END) & (orders["status"] != "cancelled")
    bo = orders[inwin].reset_index(drop=True)
    src_names = list(schema.TRAFFIC_SOURCES)
    dev_names = list(schema.DEVICES)
    b_dev = pd.Categorical(bo["device"].fillna("android"), categories=dev_names).codes
    b_src = pd.Categorical(bo["traffic_source"], categories=src_names).codes
    cr_dev = np.asarray([cfg.session_cr_device[d] for d in dev_names])
    cr_src = np.asarray([cfg.session_cr_source_mult[s] for s in src_names])
    cr = np.clip(cr_dev[:, None] * cr_src[None, :], 0.002, 0.5)               # device x source
    # buying sessions per day x device x source -> total sessions, non-buying = total - buying
    b_day = (bo["order_ts"].dt.normalize() - EVENT_START).dt.days.to_numpy()
    n_days = 30
    nb = np.zeros((n_days, 3, len(src_names)))
    np.add.at(nb, (b_day, b_dev, b_src), 1)
    # expected buying sessions: the month's buyers per device x source spread over the days
    # by expected demand (the orders lost in the incident added back: traffic was normal)
    inc_day = (pd.Timestamp(cfg.incident["date"]) - EVENT_START).days
    inc_dev = dev_names.index(cfg.incident["device"])
    totals = nb.sum(axis=0)
    totals[inc_dev] += nb[inc_day, inc_dev] * cfg.incident["drop"] / (1 - cfg.incident["drop"])
    # traffic follows the day's demand: its buyers (the incident's lost ones added back),
    # smoothed over three days so that a day's own order noise does not move its traffic
    w = nb.sum(axis=(1, 2))
    w[inc_day] += nb[inc_day, inc_dev].sum() * cfg.incident["drop"] / (1 - cfg.incident["drop"])
    w = pd.Series(w).rolling(3, center=True, min_periods=1).mean().to_numpy() * np.asarray(day_shape) \
        / pd.Series(np.asarray(day_shape)).rolling(3, center=True, min_periods=1).mean().to_numpy()
    expected_buy = totals[None, :, :] * (w / w.sum())[:, None, None]
    n_sess = rng.poisson(expected_buy / cr[None])
    n_non = np.maximum(n_sess - nb.astype(int), 0)
    d_i, v_i, s_i = np.nonzero(n_non)
    reps = n_non[d_i, v_i, s_i]
    nn_day, nn_dev, nn_src = np.repeat(d_i, reps), np.repeat(v_i, reps), np.repeat(s_i, reps)
    n_nb = len(nn_day)
    # on the incident day, a share of non-buying android sessions got to checkout and failed
    failed = (nn_day == inc_day) & (nn_dev == inc_dev)
    failed_count = max(0, int(round(expected_buy[inc_day, inc_dev].sum() - nb[inc_day, inc_dev].sum())))
    fail_idx = np.flatnonzero(failed)[:failed_count]
    checkout_failed = np.zeros(n_nb, bool)
    checkout_failed[fail_idx] = True

    # visitors: buyers are customers; non-buying sessions come from past customers (35%)
    # or from a pool of prospects. Everything below works on integer codes; strings are
    # built once at the end (fast, compact Arrow strings).
    n_cust = len(customers)
    cust_num = _id_numbers(bo["customer_id"], "C")                 # 0-based customer index
    pool = max(int(n_nb * 0.6), 1)
    is_cust = rng.random(n_nb) < 0.35
    first_dates = customers["first_order_date"].to_numpy()
    eligible = np.flatnonzero(first_dates < np.datetime64(EVENT_START))
    pick = eligible[rng.integers(0, len(eligible), n_nb)] if len(eligible) else np.zeros(n_nb, np.int64)
    prospect = n_cust + rng.integers(0, pool, n_nb)
    sess_vis = np.concatenate([cust_num, np.where(is_cust, pick, prospect)])     # visitor number - 1
    sess_cust = np.concatenate([cust_num, np.where(is_cust, pick, -1)])          # customer number - 1

    # --- session start times (µs since epoch)
    US = 1_000_000
    b_ts = bo["order_ts"].to_numpy().astype("datetime64[us]").astype(np.int64)
    ev_start = np.datetime64(EVENT_START, "us").astype(np.int64)
    nn_sec = _hour_sampler(cfg, rng, n_nb)
    nn_start = ev_start + (nn_day * 86400 + nn_sec) * US
    n_b = len(bo)

    # --- buying sessions: pv each bought SKU (+ browsing), cart (unless buy-now), buy
    bo_num = _id_numbers(bo["order_id"], "O")
    it_num = _id_numbers(order_items["order_id"], "O")
    pos = np.full(max(int(it_num.max()), int(bo_num.max()) if len(bo_num) else 0) + 1, -1, np.int64)
    pos[bo_num] = np.arange(len(bo_num))
    it_sess = pos[it_num]
    inwin_items = it_sess >= 0
    it_sess = it_sess[inwin_items]
    it_sku = _id_numbers(order_items["sku_id"], "SKU")[inwin_items]
    n_it = len(it_sess)
    n_sku = len(products)
    lead_us = rng.uniform(2, 25, n_b) * 60 * US
    b_start = np.maximum(b_ts - lead_us.astype(np.int64), ev_start)
    lead_us = (b_ts - b_start).astype(float)
    pop = products["_pop"].to_numpy()
    parts = []   # (session index, event code, sku code, ts µs)

    def add(sess, code, sku, ts):
        parts.append((sess, np.full(len(sess), code, np.int8), sku, ts.astype(np.int64)))

    browse = rng.geometric(0.55, n_b) - 1                   # extra pvs per buying session
    br_s = np.repeat(np.arange(n_b), browse)
    add(br_s, 0, rng.integers(0, n_sku, len(br_s)), b_start[br_s] + rng.uniform(0, 0.4, len(br_s)) * lead_us[br_s])
    add(it_sess, 0, it_sku, b_start[it_sess] + rng.uniform(0.4, 0.7, n_it) * lead_us[it_sess])
    carted = rng.random(n_it) >= cfg.buy_now_share
    cs = it_sess[carted]
    add(cs, 2, it_sku[carted], b_start[cs] + rng.uniform(0.7, 0.95, len(cs)) * lead_us[cs])
    fav = rng.random(n_it) < 0.25
    fs = it_sess[fav]
    add(fs, 1, it_sku[fav], b_start[fs] + rng.uniform(0.4, 0.7, len(fs)) * lead_us[fs])
    add(it_sess, 3, it_sku, b_ts[it_sess])

    # --- non-buying sessions: pvs, maybe fav, maybe cart (all carts on failed checkouts)
    npv = rng.geometric(0.42, n_nb)
    pv_s = np.repeat(np.arange(n_nb), npv)
    cdf = np.cumsum(pop / pop.sum())
    pv_sku = np.minimum(np.searchsorted(cdf, rng.random(len(pv_s))), n_sku - 1)
    dur_us = rng.uniform(1, 15, n_nb) * 60 * US
    add(pv_s + n_b, 0, pv_sku, nn_start[pv_s] + rng.uniform(0, 0.8, len(pv_s)) * dur_us[pv_s])
    first_pv = np.searchsorted(pv_s, np.arange(n_nb))
    c_s = np.flatnonzero((rng.random(n_nb) < cfg.cart_rate_nonbuyer) | checkout_failed)
    add(c_s + n_b, 2, pv_sku[first_pv[c_s]], nn_start[c_s] + 0.9 * dur_us[c_s])
    f_s = np.flatnonzero(rng.random(n_nb) < 0.07)
    add(f_s + n_b, 1, pv_sku[first_pv[f_s]], nn_start[f_s] + 0.85 * dur_us[f_s])

    sess = np.concatenate([x[0] for x in parts])
    code = np.concatenate([x[1] for x in parts])
    sku = np.concatenate([x[2] for x in parts])
    ts = np.concatenate([x[3] for x in parts])
    n_sess_all = n_b + n_nb
    sess_dev = np.concatenate([b_dev, nn_dev]).astype(np.int8)
    sess_src = np.concatenate([b_src, nn_src]).astype(np.int8)
    # missing device (whole sessions, tracker failure)
    sess_dev[rng.random(n_sess_all) < cfg.missing_device_rate] = -1
    true_funnel = _true_funnel(cfg, cr, dev_names, src_names, n_b, n_nb, failed_count)

    # blemishes: junk copies outside the month (a tracker with a wrong clock), duplicates
    n_out = int(round(cfg.out_of_window_events * scale))
    out_idx = rng.choice(len(ts), size=min(n_out, len(ts)), replace=False)
    before = rng.random(len(out_idx)) < 0.5
    junk_ts = np.where(before, ev_start - 3600 * US, ev_start + 30 * 86400 * US) \
        + rng.integers(0, 3600, len(out_idx)) * US
    dup_idx = rng.choice(len(ts), size=int(len(ts) * cfg.duplicate_event_rate), replace=False)
    rows = np.concatenate([np.arange(len(ts)), out_idx, dup_idx])
    ts = np.concatenate([ts, junk_ts, ts[dup_idx]])
    sess, code, sku = sess[rows], code[rows], sku[rows]
    order = np.lexsort((code, sess, ts))
    sess, code, sku, ts = sess[order], code[order], sku[order], ts[order]

    # customer_id appears only from the customer's first order on
    first_us = customers["first_order_date"].to_numpy().astype("datetime64[us]").astype(np.int64)
    c_first = orders.groupby("customer_id", observed=True, sort=False)["order_ts"].min()
    first_us[_id_numbers(pd.Series(c_first.index), "C")] = c_first.to_numpy().astype("datetime64[us]").astype(np.int64)
    cust = sess_cust[sess]
    known = (cust >= 0) & (ts >= first_us[np.maximum(cust, 0)])

    sess_ids = _ids("S", 100_000_001 + rng.permutation(n_sess_all), 9)
    vis_ids = _ids("V", sess_vis + 1, 8)
    cust_ids = _ids("C", sess_cust + 1, 7)
    out = pd.DataFrame({
        "visitor_id": _take(vis_ids, sess),
        "customer_id": _take(cust_ids, sess, valid=known),
        "session_id": _take(sess_ids, sess),
        "ts": ts.astype("datetime64[us]"),
        "event": pd.Categorical.from_codes(code, dtype=pd.CategoricalDtype(list(schema.EVENT_TYPES), ordered=True)),
        "sku_id": _take(products["sku_id"], sku),
        "source": pd.Categorical.from_codes(sess_src[sess], categories=src_names),
        "device": pd.Categorical.from_codes(sess_dev[sess], categories=dev_names),
    })
    sess_info = pd.DataFrame({"session_id": sess_ids, "_dev": sess_dev})
    true_funnel["duplicated_rows"] = int(len(dup_idx))
    true_funnel["out_of_window_rows"] = int(len(out_idx))
    return out, sess_info, true_funnel


def _true_funnel(cfg, cr, dev_names, src_names, n_b, n_nb, failed_count):
    return {
        "unit": "session",
        "planted_session_cr": {d: {s: round(float(cr[i, j]), 5) for j, s in enumerate(src_names)}
                               for i, d in enumerate(dev_names)},
        "cart_rate_non_buying_sessions": cfg.cart_rate_nonbuyer,
        "buy_now_share_of_bought_lines": cfg.buy_now_share,
        "sessions": int(n_b + n_nb), "buying_sessions": int(n_b),
        "incident_failed_checkouts": int(failed_count),
    }


def _page_clicks(rng, sess_info, scale):
    """PDP clicks: version B moves add-to-cart / buy-now into the first screen."""
    mobile = sess_info[sess_info["_dev"] != 2]
    n_sess = min(len(mobile), int(14000 * scale) + 1)
    s_idx = mobile.index.to_numpy()[rng.choice(len(mobile), n_sess, replace=False)]
    version = rng.integers(0, 2, n_sess)
    n_clicks = rng.geometric(0.45, n_sess)
    cs = np.repeat(np.arange(n_sess), n_clicks)
    v = version[cs]
    els = list(schema.PDP_ELEMENTS)
    # (x0, y0, x1, y1) per element for A and B; weights per version
    box_a = {"image_gallery": (0, 44, 375, 420), "video": (300, 360, 370, 410), "title": (12, 430, 363, 480),
             "price": (12, 485, 200, 520), "coupon_banner": (12, 525, 363, 560), "sku_selector": (12, 570, 363, 640),
             "add_to_cart": (12, 1450, 186, 1500), "buy_now": (190, 1450, 363, 1500), "reviews": (12, 900, 363, 1150),
             "details": (12, 1160, 363, 1440), "recommendations": (12, 1520, 363, 1900)}
    box_b = dict(box_a)
    box_b.update({"add_to_cart": (12, 760, 186, 808), "buy_now": (190, 760, 363, 808),
                  "reviews": (12, 820, 363, 1060), "details": (12, 1070, 363, 1350)})
    w_a = np.array([30, 4, 5, 6, 7, 10, 5, 3, 12, 8, 10], float)
    w_b = np.array([28, 4, 5, 6, 7, 10, 10, 6, 11, 6, 7], float)
    el = np.where(v == 0,
                  rng.choice(len(els), size=len(cs), p=w_a / w_a.sum()),
                  rng.choice(len(els), size=len(cs), p=w_b / w_b.sum()))
    boxes = np.array([[box_a[k] for k in els], [box_b[k] for k in els]], float)   # 2 x 11 x 4
    b = boxes[v, el]
    x = b[:, 0] + rng.beta(2, 2, len(cs)) * (b[:, 2] - b[:, 0])
    y = b[:, 1] + rng.beta(2, 2, len(cs)) * (b[:, 3] - b[:, 1])
    df = pd.DataFrame({"session_id": _take(sess_info["session_id"], s_idx[cs]),
                       "page_version": pd.Categorical.from_codes(v.astype(np.int8), categories=["A", "B"]),
                       "x": np.round(x, 1), "y": np.round(y, 1), "element": np.asarray(els)[el]})
    share = {ver: {k: round(float(w[i] / w.sum()), 4) for i, k in enumerate(els)}
             for ver, w in (("A", w_a), ("B", w_b))}
    return df, {"element_click_share": share,
                "moved": "B puts add_to_cart and buy_now in the first screen (y 760-808 instead of 1450-1500)"}


def _experiments(cfg, rng, scale, n_cust):
    frames, truth = [], {}
    base_vis = n_cust + 5_000_000
    offset = 0
    for name, p in (("exp_checkout", cfg.exp_checkout), ("exp_pdp_video", cfg.exp_pdp_video),
                    ("exp_free_shipping", cfg.exp_free_shipping)):
        n = int(p["n"] * scale)
        start = {"exp_checkout": "2025-09-01", "exp_pdp_video": "2025-09-15", "exp_free_shipping": "2025-10-06"}[name]
        days = 28
        treat = rng.random(n) < 0.5
        # latent engagement z: a heavy-tailed purchase rate drives both periods, so the
        # pre-period revenue predicts in-experiment revenue (what makes CUPED work)
        z = rng.normal(0, 1, n)
        slope = 1.7
        pre_sessions = rng.poisson(np.exp(0.8 + 0.7 * z))
        zc = z[:200_000]   # calibration on a fixed subsample: same answer, scale-independent cost
        shift = _calibrate_rate(zc, slope, p["base_cr"], days)
        mu = np.exp(shift + slope * z)                   # purchases per day
        if p["lift_abs"]:
            f = _calibrate_factor(mu[:200_000], days, p["base_cr"] + p["lift_abs"])
            mu = np.where(treat, mu * f, mu)
        n_buy = rng.poisson(mu * days)
        converted = n_buy > 0
        revenue = np.round(_order_values(rng, n_buy, z), 2)
        pre_revenue = np.round(_order_values(rng, rng.poisson(np.exp(shift + slope * z) * 28), z), 2)
        assigned = (np.datetime64(start) + (rng.random(n) * days * 86400e6).astype("timedelta64[us]"))
        keep = np.ones(n, bool)
        if name == "exp_pdp_video":
            # tracking bug: treatment visitors on slow connections whose video failed to load
            # were never logged -- and they were the least engaged ones
            low = z < np.quantile(z, 0.3)
            keep = ~(treat & low & (rng.random(n) < p["lost_share"] / 0.3))
        vis_num = base_vis + offset + np.arange(n) + 1
        offset += n
        # keep logged rows and order by assignment time before building string ids
        sel = np.flatnonzero(keep)
        sel = sel[np.argsort(assigned[sel], kind="stable")]
        df = pd.DataFrame({"experiment_id": pd.Categorical.from_codes(
                               np.full(len(sel), schema.EXPERIMENTS.index(name), np.int8),
                               categories=list(schema.EXPERIMENTS)),
                           "visitor_id": _ids("V", vis_num[sel], 8),
                           "variant": pd.Categorical.from_codes(treat[sel].astype(np.int8),
                                                                categories=["control", "treatment"]),
                           "assigned_at": assigned[sel], "pre_sessions": pre_sessions[sel].astype("int64"),
                           "pre_revenue": pre_revenue[sel], "converted": converted[sel], "revenue": revenue[sel]})
        frames.append(df)
        t = {"design_split": 0.5, "true_lift_abs": p["lift_abs"], "base_cr": p["base_cr"],
             "start": start, "days": days, "n_assigned": int(n), "n_logged": int(keep.sum())}
        if name == "exp_checkout":
            rho = float(np.corrcoef(pre_revenue, revenue)[0, 1])
            t["corr_pre_revenue_revenue"] = round(rho, 4)
            t["true_lift_rel"] = round(p["lift_abs"] / p["base_cr"], 4)
        if name == "exp_pdp_video":
            t["srm"] = "treatment lost ~10% of its visitors (the least engaged) to a tracking bug"
        truth[name] = t
    return pd.concat(frames, ignore_index=True), truth


def _lift_test(cfg, rng, days, mkt, incr, scale, first_vis):
    """A randomised conversion-lift test of one paid channel, as rows of ``experiments``.

    The platform withholds the channel's ads from a random holdout of its audience for
    ``days`` days; the exposed users receive all the channel's spend of those days and its
    planted incremental revenue (adstock + Hill, as in the media-mix data), drawn as extra
    converters on top of a baseline conversion rate shared by both groups."""
    p = cfg.lift_test
    ch = p["channel"]
    n = int(p["n"] * scale)
    start = pd.Timestamp(p["start"])
    win = np.asarray((days >= start) & (days < start + pd.Timedelta(days=p["days"])))
    spend = float(mkt.loc[(mkt["channel"] == ch).to_numpy(), "spend"].to_numpy()[win].sum())
    inc_rev = float(incr[schema.PAID_CHANNELS.index(ch)][win].sum())
    holdout = rng.random(n) < p["holdout_share"]
    n_exp = int((~holdout).sum())
    mean_value = cfg.first_order_value
    q = inc_rev / mean_value / n_exp            # extra conversion probability of an exposed user
    base = rng.random(n) < p["base_cr"]
    extra = (~holdout) & (rng.random(n) < q)
    converted = base | extra
    k = p["order_value_shape"]
    revenue = np.where(converted, np.round(rng.gamma(k, mean_value / k, n), 2), 0.0)
    pre_sessions = rng.poisson(0.4, n)
    pre_revenue = np.where(rng.random(n) < p["base_cr"], np.round(rng.gamma(k, mean_value / k, n), 2), 0.0)
    assigned = np.datetime64(start) + (rng.random(n) * 3 * 86400e6).astype("timedelta64[us]")
    order = np.argsort(assigned, kind="stable")
    df = pd.DataFrame({
        "experiment_id": pd.Categorical.from_codes(np.full(n, schema.EXPERIMENTS.index(p["experiment_id"]), np.int8),
                                                   categories=list(schema.EXPERIMENTS)),
        "visitor_id": _ids("V", first_vis + order + 1, 8),
        "variant": pd.Categorical.from_codes((~holdout[order]).astype(np.int8), categories=["control", "treatment"]),
        "assigned_at": assigned[order], "pre_sessions": pre_sessions[order].astype("int64"),
        "pre_revenue": pre_revenue[order], "converted": converted[order], "revenue": revenue[order]})
    truth = {
        "channel": ch, "start": str(start.date()), "days": int(p["days"]), "n_assigned": n,
        "holdout_share": p["holdout_share"], "control": "holdout (ads withheld)", "treatment": "exposed",
        "base_cr": p["base_cr"], "spend": round(spend, 2), "incremental_revenue": round(inc_rev, 2),
        "incremental_roas": round(inc_rev / spend, 4),
        "incremental_conversions_expected": round(q * n_exp, 2),
        "note": "the exposed group gets the channel's whole spend in the window and its planted "
                "incremental revenue (the media-mix truth on those days); the orders table is not "
                "thinned for the holdout",
    }
    return df, truth


def _calibrate_rate(z, slope, target, days):
    """Intercept of log daily purchase rate so that P(>= 1 purchase in `days`) averages `target`."""
    from scipy.optimize import brentq

    return brentq(lambda m: (-np.expm1(-np.exp(m + slope * z) * days)).mean() - target, -25, 5)


def _calibrate_factor(mu, days, target):
    from scipy.optimize import brentq

    return brentq(lambda f: (-np.expm1(-f * mu * days)).mean() - target, 0.5, 3.0)


def _order_values(rng, counts, z):
    """Sum of `counts` lognormal order values per visitor (vectorised)."""
    idx = np.repeat(np.arange(len(counts)), counts)
    vals = np.exp(rng.normal(np.log(150) + 0.1 * z[idx], 0.7))
    return np.bincount(idx, weights=vals, minlength=len(counts))


def _coupon_campaign(cfg, rng, orders, customers):
    send = pd.Timestamp("2025-09-01")
    o = orders[(orders["status"] == "completed") & (orders["order_ts"] < send)]
    # group on integer customer numbers (C0000001 -> 0), not on the string ids
    num = _id_numbers(o["customer_id"], "C")
    g = pd.DataFrame({"n": num, "ts": o["order_ts"].to_numpy(), "paid": o["paid_amount"].to_numpy()}).groupby("n")
    last = g["ts"].max()
    freq = g.size()
    mon = g["paid"].sum()
    rec = (send - last).dt.days
    first = g["ts"].min()
    tenure = (send - first).dt.days
    ids = _take(customers["customer_id"], freq.index.to_numpy())
    freq.index = last.index = mon.index = rec.index = tenure.index = pd.Index(ids.array)
    # CRM lifecycle rule at send time
    seg = np.select(
        [tenure <= 60, (freq >= 4) & (rec <= 90), rec <= 90, rec <= 240],
        ["new", "loyal", "active", "at_risk"], default="lapsing")
    seg = pd.Series(seg, index=freq.index)
    n = len(seg)
    treat = rng.random(n) < 0.5
    base = np.asarray([cfg.coupon_base_rate[s] for s in seg])
    upl = np.asarray([cfg.coupon_uplift[s] for s in seg])
    # individual heterogeneity around the segment means (frequency helps the base rate)
    base_i = np.clip(base * np.exp(rng.normal(0, 0.3, n)), 0, 0.95)
    p = np.clip(base_i + treat * upl, 0, 1)
    purchased = rng.random(n) < p
    redeemed = treat & purchased & (rng.random(n) < 0.8)
    value = np.where(purchased, np.round(np.exp(rng.normal(np.log(160), 0.8, n)), 2), 0.0)
    value = np.where(redeemed, np.maximum(value - cfg.coupon_value, 0), value)
    df = pd.DataFrame({
        "customer_id": seg.index.array, "campaign_id": "CMP2509", "send_date": send,
        "treatment": treat, "segment_at_send": seg.to_numpy(),
        "recency_days": rec.to_numpy().astype("int64"), "frequency": freq.to_numpy().astype("int64"),
        "monetary_amount": np.round(mon.to_numpy(), 2),
        "coupon_value": np.where(treat, cfg.coupon_value, 0.0),
        "redeemed": redeemed, "purchased_30d": purchased, "revenue_30d": value,
    })
    truth = {s: cfg.coupon_uplift[s] for s in schema.COUPON_SEGMENTS}
    return df, {"uplift_purchase_30d": truth, "base_rate": dict(cfg.coupon_base_rate),
                "coupon_value": cfg.coupon_value,
                "segment_rule": "new: first order <= 60 days before send; loyal: >= 4 orders and last order "
                                "<= 90 days; active: last order <= 90 days; at_risk: 91-240 days; lapsing: > 240 days",
                "segment_sizes": seg.value_counts().to_dict()}


def _keywords(cfg, rng, scale):
    heads = {
        "storage": [("storage box", "收纳箱"), ("closet organizer", "衣柜收纳"), ("vacuum storage bag", "真空压缩袋"),
                    ("drawer divider", "抽屉分隔"), ("shoe storage", "鞋子收纳"), ("under bed storage", "床底收纳")],
        "kitchen": [("nonstick pan", "不粘锅"), ("knife set", "刀具套装"), ("food container", "保鲜盒"),
                    ("spice rack", "调料架"), ("dish drying rack", "沥水架"), ("cutting board", "砧板")],
        "bedding": [("duvet", "被子"), ("pillow", "枕头"), ("bed sheet set", "四件套"), ("summer quilt", "空调被"),
                    ("mattress topper", "床垫"), ("silk pillowcase", "真丝枕套")],
        "bath": [("bath towel", "浴巾"), ("bath mat", "浴室地垫"), ("shower shelf", "浴室置物架"),
                 ("toothbrush holder", "牙刷架"), ("towel rack", "毛巾架"), ("soap dispenser", "洗手液瓶")],
        "decor": [("vase", "花瓶"), ("wall art", "装饰画"), ("scented candle", "香薰蜡烛"), ("throw pillow", "抱枕"),
                  ("table lamp", "台灯"), ("photo frame", "相框")],
        "cleaning": [("spin mop", "旋转拖把"), ("lint roller", "粘毛器"), ("cleaning cloth", "抹布"),
                     ("toilet brush", "马桶刷"), ("spray bottle", "喷壶"), ("dust brush", "除尘刷")],
    }
    mods = [("", ""), ("cheap ", "便宜"), ("large ", "大号"), ("nordic ", "北欧"), ("household ", "家用"),
            ("gift ", "送礼"), ("premium ", "高档")]
    rows = []
    for c, hs in heads.items():
        for h_en, h_zh in hs:
            for m_en, m_zh in mods:
                rows.append((m_en + h_en, m_zh + h_zh, c, m_en == ""))
    df = pd.DataFrame(rows, columns=["keyword", "keyword_zh", "category", "_head"])
    n = len(df)
    searches = np.where(df["_head"], rng.lognormal(np.log(60000), 0.6, n), rng.lognormal(np.log(6000), 0.9, n))
    searches = (searches * scale).astype("int64") + 10
    comp = np.clip(rng.beta(2, 2, n) + 0.2 * df["_head"].to_numpy(), 0, 1)
    cpc = np.round(0.4 + 2.8 * comp * np.exp(rng.normal(0, 0.3, n)), 2)
    rank = np.clip(np.round(np.exp(rng.normal(np.log(8), 0.9, n))), 1, 50).astype("int64")
    kp = cfg.ctr_by_rank
    ctr = kp["ctr_rank1"] * rank.astype(float) ** (-kp["decay_exponent"])
    # exposure: a listing is seen by most searchers on page 1 and fewer further down
    exposure = np.clip(1.0 - 0.018 * (rank - 1), 0.1, 1.0)
    impressions = rng.binomial(searches, exposure)
    clicks = rng.binomial(impressions, ctr)
    cr = np.clip(rng.normal(0.035, 0.01, n), 0.005, 0.1)
    orders = rng.binomial(clicks, cr)
    df = df.drop(columns="_head").assign(monthly_searches=searches, cpc=cpc, competition=np.round(comp, 3),
                                         our_rank=rank, impressions=impressions.astype("int64"),
                                         clicks=clicks.astype("int64"), orders=orders.astype("int64"))
    return df, {"form": "ctr = ctr_rank1 * rank ** -decay_exponent (clicks / impressions)", **kp}


def _market(cfg, rng):
    months = pd.date_range(START, END, freq="MS")
    nm = len(months)
    size0 = {"storage": 42e6, "kitchen": 68e6, "bedding": 75e6, "bath": 30e6, "decor": 40e6, "cleaning": 25e6}
    share0 = {  # brand shares per category at the start (rows: brands in schema.BRANDS)
        "storage": [0.06, 0.3, 0.28, 0.14, 0.1, 0.12], "kitchen": [0.04, 0.32, 0.12, 0.22, 0.18, 0.12],
        "bedding": [0.05, 0.25, 0.1, 0.3, 0.22, 0.08], "bath": [0.05, 0.28, 0.2, 0.2, 0.15, 0.12],
        "decor": [0.08, 0.2, 0.08, 0.3, 0.26, 0.08], "cleaning": [0.04, 0.3, 0.2, 0.1, 0.06, 0.3]}
    brand_price = np.array([1.0, 0.85, 0.75, 1.35, 1.2, 0.7])
    cat_price = {"storage": 62, "kitchen": 85, "bedding": 210, "bath": 70, "decor": 95, "cleaning": 38}
    t = np.arange(nm) / 12
    season = 1 + 0.25 * np.isin(months.month, [6, 11]) + 0.1 * np.isin(months.month, [1, 12])
    rows = []
    for c in schema.CATEGORIES:
        size = size0[c] * (1 + cfg.market_growth[c]) ** t * season * np.exp(rng.normal(0, 0.03, nm))
        sh = np.asarray(share0[c])[None, :].repeat(nm, 0)
        sh = sh / sh.sum(1, keepdims=True)
        sales = size[:, None] * sh * np.exp(rng.normal(0, 0.04, sh.shape))
        if c == "storage":   # Nestwell's storage focus from H2-2025 adds sales on top of the market's
            sp = cfg.storage_push
            sales[:, 0] *= np.where(months >= pd.Timestamp(sp["start"]), sp["demand_multiplier"], 1.0)
        price = cat_price[c] * brand_price[None, :] * np.exp(rng.normal(0, 0.03, sh.shape))
        units = np.round(sales / price).astype("int64")
        for b, brand in enumerate(schema.BRANDS):
            rows.append(pd.DataFrame({"category": c, "brand": brand, "month": months,
                                      "sales_amount": np.round(sales[:, b], 0), "units": units[:, b],
                                      "avg_price": np.round(sales[:, b] / units[:, b], 2)}))
    market = pd.concat(rows, ignore_index=True)
    weeks = pd.date_range("2024-01-01", END, freq="W-MON")
    tw = np.arange(len(weeks)) / 52.18
    srows = []
    base = {"storage": 95, "kitchen": 130, "bedding": 120, "bath": 70, "decor": 90, "cleaning": 60}
    for c in schema.CATEGORIES:
        season_w = 1 + 0.35 * np.exp(-0.5 * ((weeks.day_of_year.to_numpy() - 312) / 6) ** 2) \
                   + 0.2 * np.exp(-0.5 * ((weeks.day_of_year.to_numpy() - 166) / 6) ** 2)
        idx = base[c] * (1 + cfg.market_growth[c]) ** tw * season_w * np.exp(rng.normal(0, 0.04, len(weeks)))
        srows.append(pd.DataFrame({"category": c, "week": weeks, "search_index": idx}))
    st = pd.concat(srows, ignore_index=True)
    norm = st.loc[st["week"].dt.year == 2024, "search_index"].mean()
    st["search_index"] = np.round(st["search_index"] / norm * 100, 1)
    truth = {"annual_growth": dict(cfg.market_growth), "fastest_growing": "storage", "shrinking": "decor",
             "nestwell_storage_push": {**cfg.storage_push, "note": "Nestwell's storage sales in the panel x "
                                       "demand_multiplier from start (added to the category); other brands "
                                       "and categories unchanged"},
             "nestwell_share_2025": {
                 c: round(float(market.query("category == @c and brand == 'Nestwell' and month.dt.year == 2025")["sales_amount"].sum()
                                / market.query("category == @c and month.dt.year == 2025")["sales_amount"].sum()), 4)
                 for c in schema.CATEGORIES}}
    return market, st, truth


def _survey(cfg, rng, persona_all, customers, scale):
    """Survey answers driven by the latent persona (clustering should recover it)."""
    n_c = int(1800 * scale)
    n_p = int(1200 * scale)
    n_cust = len(customers)
    pick = rng.choice(n_cust, size=min(n_c, n_cust), replace=False)
    p_c = persona_all[pick]
    base = np.asarray([cfg.persona_shares[p] for p in PERSONAS])
    p_p = rng.choice(4, size=n_p, p=base / base.sum())
    persona = np.concatenate([p_c, p_p])
    n = len(persona)
    # persona means on the ten Likert items (1-5)
    means = np.array([
        # price wait design share time family gift durab tidy influ
        [4.6, 4.5, 2.4, 1.9, 2.6, 3.2, 1.8, 2.6, 4.7, 2.2],   # budget organiser
        [2.3, 2.6, 4.7, 4.5, 2.4, 2.1, 2.8, 3.4, 3.0, 4.5],   # design lover
        [3.3, 3.2, 2.6, 2.0, 4.6, 4.8, 2.0, 4.3, 3.7, 2.6],   # busy parent
        [2.7, 2.0, 3.6, 2.2, 3.0, 2.0, 4.7, 3.6, 2.3, 2.9],   # occasional gifter
    ])
    raw = means[persona] + rng.normal(0, 0.9, (n, len(schema.LIKERT_ITEMS)))
    lik = np.clip(np.round(raw), 1, 5).astype("int64")
    gender, age, tier = _demographics(rng, persona)
    spend = np.round(np.exp(rng.normal(np.log([300, 650, 520, 380])[persona], 0.5)), 0)
    pref_p = np.array([[0.7, 0.15, 0.1, 0.05], [0.45, 0.25, 0.15, 0.15], [0.5, 0.2, 0.25, 0.05], [0.55, 0.1, 0.1, 0.25]])
    pref = (rng.random(n)[:, None] > pref_p.cumsum(1)[persona]).sum(1)
    cid = np.concatenate([customers["customer_id"].to_numpy()[pick], np.full(n_p, None, dtype=object)])
    order = rng.permutation(n)
    df = pd.DataFrame({"respondent_id": [f"R{i + 1:05d}" for i in range(n)],
                       "customer_id": pd.array(cid[order], dtype="string")})
    for j, q in enumerate(schema.LIKERT_ITEMS):
        df[q] = lik[order, j]
    df["gender"] = np.asarray(schema.GENDERS)[gender[order]]
    df["age_band"] = np.asarray(schema.AGE_BANDS)[age[order]]
    df["city_tier"] = np.asarray(schema.CITY_TIERS)[tier[order]]
    df["monthly_home_spend"] = spend[order]
    df["preferred_channel"] = np.asarray(schema.PREFERRED_CHANNELS)[pref[order]]
    # the latent persona is not a column: keep it only for the truth (by respondent)
    df.attrs["persona"] = np.asarray(PERSONAS)[persona[order]]
    return df


def _blemish_counts(tables, ev_truth):
    o = tables["orders"]
    e = tables["events"]
    return {
        "orders_cancelled": int((o["status"] == "cancelled").sum()),
        "orders_refunded": int((o["status"] == "refunded").sum()),
        "orders_missing_device": int(o["device"].isna().sum()),
        "events_duplicated_rows": int(ev_truth["duplicated_rows"]),
        "events_outside_window": int(((e["ts"] < EVENT_START) | (e["ts"] >= EVENT_END)).sum()),
        "events_missing_device": int(e["device"].isna().sum()),
        "customers_never_in_fan_group": int(tables["customers"]["joined_fan_group_date"].isna().sum()),
    }


# ------------------------------------------------------------------------------------
def write_world(out_dir: str | Path, *, scale: float = 1.0, seed: int = 20251111,
                config: WorldConfig | None = None, progress: bool | Callable[[str], None] = False,
                data_card: bool = True) -> dict:
    """Generate the world and write it to ``out_dir`` (Parquet tables + truth.json + README.md).

    Returns the truth dictionary. Each table is converted to Arrow and written in
    slices of one million rows (one row group each) and released once written, so the
    conversion never holds a second full copy of the event log.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=N_STAGES + 1, desc="generating Nestwell", unit="stage")

        def cb(msg: str) -> None:
            bar.set_postfix_str(msg)
            bar.update(1)
    elif callable(progress):
        cb = progress
    else:
        cb = None
    tables = generate(config, scale=scale, seed=seed, progress=cb)
    truth = tables.pop("truth")
    if bar is not None:
        bar.set_postfix_str("writing Parquet")
    chunk = 1_000_000
    for name in list(tables):
        df = tables.pop(name)   # release each table once written
        schema_ = pa.Schema.from_pandas(df.iloc[:0], preserve_index=False).remove_metadata()
        # dictionary-encode the categoricals only: high-cardinality ids gain nothing from it
        dict_cols = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
        with pq.ParquetWriter(out / f"{name}.parquet", schema_, compression="zstd",
                              use_dictionary=dict_cols or False) as w:
            for i in range(0, max(len(df), 1), chunk):   # large tables go out in 1M-row slices
                part = pa.Table.from_pandas(df.iloc[i:i + chunk], schema=schema_, preserve_index=False)
                w.write_table(part.replace_schema_metadata(None))
        del df
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False, default=_json_default) + "\n",
                                    encoding="utf-8")
    if data_card:
        from ecomlab.datasets import load_all, render_data_card

        (out / "README.md").write_text(render_data_card(load_all(out), truth), encoding="utf-8")
    if bar is not None:
        bar.update(1)
        bar.close()
    return truth


#: Largest scale generated in one piece by :func:`write_world_chunked` (peak ~3 GB at 20).
SHARD_SCALE = 20.0
#: Tables a sharded world writes (those whose rows grow with the scale), and their ids.
SHARDED_TABLES = ("customers", "orders", "order_items", "returns", "events", "page_clicks")
_SHARD_IDS = {"customer_id": "C", "visitor_id": "V", "order_id": "O", "session_id": "S"}
#: Partition key of the partitioned layout: events by day, orders by month.
PARTITIONS = {"events": ("day", "ts", "%Y-%m-%d"), "orders": ("month", "order_ts", "%Y-%m")}


def _shard_ids(df: pd.DataFrame, shard: int, width: int) -> pd.DataFrame:
    """Ids made unique across shards: the shard number after the prefix (``C0000001`` ->
    ``C003`` + ``0000001``); still fixed-width, so ``ecomlab.keys`` stays fast."""
    import pyarrow as pa
    import pyarrow.compute as pc

    tag = f"{shard:0{width}d}"
    for col, prefix in _SHARD_IDS.items():
        if col in df.columns:
            arr = pa.array(df[col].array)
            rest = pc.utf8_slice_codeunits(arr, len(prefix))
            new = pc.if_else(pc.is_null(arr), pa.scalar(None, pa.large_string()),
                             pc.binary_join_element_wise(pa.scalar(prefix + tag, pa.large_string()),
                                                         rest.cast(pa.large_string()),
                                                         pa.scalar("", pa.large_string())))
            df[col] = pd.Series(pd.array(new, dtype=STR), index=df.index)
    return df


def _write_table(df: pd.DataFrame, out: Path, name: str, layout: str, part: str,
                 writers: dict) -> None:
    """One table (or one shard of it): a file (appended to across shards) or hive partitions."""
    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    schema_ = pa.Schema.from_pandas(df.iloc[:0], preserve_index=False).remove_metadata()
    if layout == "partitioned" and name in PARTITIONS:
        key, ts, fmt = PARTITIONS[name]
        df = df.assign(**{key: df[ts].dt.strftime(fmt).fillna("missing")})
        table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
        pads.write_dataset(
            table, out / name, format="parquet",
            partitioning=pads.partitioning(pa.schema([(key, pa.string())]), flavor="hive"),
            basename_template=f"part-{part}-{{i}}.parquet", existing_data_behavior="overwrite_or_ignore",
            max_rows_per_group=1_000_000,
            file_options=pads.ParquetFileFormat().make_write_options(compression="zstd"))
        return
    if name not in writers:
        dict_cols = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
        writers[name] = (pq.ParquetWriter(out / f"{name}.parquet", schema_, compression="zstd",
                                          use_dictionary=dict_cols or False), schema_)
    w, schema0 = writers[name]
    for i in range(0, max(len(df), 1), 1_000_000):
        w.write_table(pa.Table.from_pandas(df.iloc[i:i + 1_000_000], schema=schema0, preserve_index=False)
                      .replace_schema_metadata(None))


def write_world_chunked(out_dir: str | Path, *, scale: float, seed: int = 20251111,
                        layout: str = "partitioned", shard_scale: float = SHARD_SCALE,
                        progress: Callable[[str], None] | None = None) -> dict:
    """Write a world of any ``scale`` with bounded memory, as independent shards.

    The world is generated in ``n = ceil(scale / shard_scale)`` shards of scale
    ``scale / n``, each with its own seed (``seed + 1_000_003 * i``), written and released
    before the next: peak memory is one shard's (~3 GB at scale 20), whatever ``scale``.
    A shard is a full Nestwell world (same calendar, same story) with its own random draws
    — think of one store among ``n`` identical ones; its customer/visitor/order/session ids
    get the shard number after their prefix (``C0000001`` -> ``C0030000001``) so ids are
    unique. With more than one shard only :data:`SHARDED_TABLES` are written (the tables
    that grow with the scale: products, prices and markets would repeat per shard, and
    ``sku_id`` refers to each shard's own catalog) and the planted truths go to
    ``truth_shards.json``, one per shard; with one shard the world is the one
    :func:`write_world` writes (same seed, same rows).

    ``layout="partitioned"`` writes ``events/day=YYYY-MM-DD/`` and ``orders/month=YYYY-MM/``
    hive folders (one file per shard and partition; DuckDB, Spark and pyarrow read them as
    one table); ``"files"`` writes ``events.parquet`` etc., appending each shard's rows.
    Returns ``{"shards": n, "shard_scale": s, "rows": {table: rows}}``.
    """
    import math

    if layout not in ("partitioned", "files"):
        raise ValueError(f"layout must be 'partitioned' or 'files', got {layout!r}")
    if not (isinstance(scale, (int, float)) and scale > 0):
        raise ValueError(f"scale must be a number > 0, got {scale!r}")
    if not shard_scale > 0:
        raise ValueError(f"shard_scale must be > 0, got {shard_scale!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = max(1, math.ceil(scale / shard_scale - 1e-9))
    width = max(3, len(str(n - 1)))
    rows: dict[str, int] = {}
    truths = []
    writers: dict = {}
    try:
        for i in range(n):
            if progress:
                progress(f"shard {i + 1}/{n}: generating (scale {scale / n:g})")
            tables = generate(None, scale=scale / n, seed=seed + 1_000_003 * i)
            truths.append(tables.pop("truth"))
            names = list(tables) if n == 1 else [t for t in SHARDED_TABLES if t in tables]
            for name in list(tables):
                df = tables.pop(name)
                if name in names:
                    if n > 1:
                        df = _shard_ids(df, i, width)
                    _write_table(df, out, name, layout, f"{i:0{width}d}", writers)
                    rows[name] = rows.get(name, 0) + len(df)
                del df
    finally:
        for w, _ in writers.values():
            w.close()
    if n == 1:
        (out / "truth.json").write_text(json.dumps(truths[0], indent=2, ensure_ascii=False, default=_json_default)
                                        + "\n", encoding="utf-8")
    else:
        (out / "truth_shards.json").write_text(json.dumps(truths, ensure_ascii=False, default=_json_default) + "\n",
                                               encoding="utf-8")
    return {"shards": n, "shard_scale": scale / n, "rows": rows}


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, (pd.Timestamp,)):
        return str(o.date())
    raise TypeError(type(o))
