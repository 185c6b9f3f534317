"""Market landscape helpers (市场格局与竞品分析, chapter 01): shares, concentration,
price bands, growth and the growth–share view, on a category × brand × period table
as a market-intelligence tool (生意参谋-like panel) exports it.

Every function takes the column names as keyword arguments (defaults are the course
layout: ``category, brand, month, sales_amount, units, avg_price``); nothing about a
particular brand, category or calendar is built in — the focal brand, the promotion
calendar and the band edges are passed by the caller.

* :func:`brand_shares` — share by value and by units; their ratio is the brand's
  price index (value share ÷ unit share = brand price ÷ market price).
* :func:`hhi` and :func:`concentration` — Herfindahl–Hirschman index and CR-k.
* :func:`price_bands` — each row's price band (价格带), absolute or relative to its
  group's average price; bands partition the sales.
* :func:`promotion_months` and :func:`yoy_growth` — year-on-year growth that compares
  months with the same months (and a promotion's month with its month a year earlier,
  even when the promotion moved month), with an interval from the month pairs.
* :func:`growth_share` — relative share (own ÷ largest rival's) against market growth
  (BCG growth–share matrix, Henderson 1970).
* :func:`granger_lead` — does one series lead another? Granger F tests per group,
  Holm-adjusted for the number of groups.

>>> from ecomlab import datasets as ds
>>> m = ds.load("market")
>>> s = brand_shares(m[m["month"].dt.year == 2025], within=["category"], units="units")
>>> bool(s.groupby("category", observed=True)["value_share"].sum().round(9).eq(1).all())
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ecomlab.validation import require_columns

__all__ = ["brand_shares", "concentration", "granger_lead", "growth_share", "hhi", "price_bands",
           "promotion_months", "yoy_growth"]


# ----------------------------------------------------------------------- checks
def _as_list(value: str | Sequence[str], arg: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{arg} must be a column name or a list of column names, got {value!r}")
    return list(value)


def _numeric(df: pd.DataFrame, col: str, arg: str, *, positive: bool = False) -> pd.Series:
    s = df[col]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise ValueError(f"{arg}: column {col!r} must be numeric, got dtype {s.dtype} "
                         f"(e.g. {s.iloc[0]!r})" if len(s) else f"{arg}: column {col!r} must be numeric")
    v = s.astype(float)
    bad = v.isna() | ~np.isfinite(v.fillna(0).to_numpy())
    if bad.any():
        raise ValueError(f"{arg}: column {col!r} has {int(bad.sum())} missing or infinite value(s), "
                         f"e.g. at row {df.index[bad.to_numpy()][0]!r}; fill or drop them first")
    neg = v < 0 if not positive else v <= 0
    if neg.any():
        raise ValueError(f"{arg}: column {col!r} must be {'positive' if positive else 'non-negative'}; "
                         f"found {int(neg.sum())} value(s) such as {v[neg].iloc[0]!r}")
    return v


def _check_unique(df: pd.DataFrame, keys: list[str], arg: str) -> None:
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        first = df.loc[dup, keys].iloc[0].to_dict()
        raise ValueError(f"{arg} has {int(dup.sum())} rows sharing the same {keys}, e.g. {first}; "
                         "aggregate them first (one row per key)")


# ----------------------------------------------------------------------- shares
def brand_shares(
    market: pd.DataFrame,
    *,
    within: str | Sequence[str] = ("category", "month"),
    brand: str = "brand",
    sales: str = "sales_amount",
    units: str | None = None,
) -> pd.DataFrame:
    """Each brand's share of sales (and of units) within each group of ``within``.

    Rows are first summed per ``within`` × ``brand`` (so passing a year of monthly rows
    with ``within=["category"]`` gives the year's shares). Then

    value_share_b = sales_b / Σ sales,   unit_share_b = units_b / Σ units,
    price_index_b = value_share_b / unit_share_b = (sales_b / units_b) / (Σ sales / Σ units),

    the brand's average price relative to its market's (units-weighted) average price:
    above 1 the brand sells dearer than its market, below 1 cheaper (Kotler & Keller,
    *Marketing Management*, ch. on market share measures).

    Returns one row per group × brand: the ``within`` columns, ``brand``, ``sales``,
    ``value_share`` and, with ``units``, the units, ``unit_share`` and ``price_index``.
    ``ValueError`` for missing columns, negative or missing values, or a group whose
    total sales (or units) is 0 (its shares are undefined).

    >>> toy = pd.DataFrame({"category": "c", "brand": ["A", "B"], "sales_amount": [300.0, 100.0],
    ...                     "units": [2, 2]})
    >>> brand_shares(toy, within="category", units="units")[["brand", "value_share", "unit_share", "price_index"]]
      brand  value_share  unit_share  price_index
    0     A         0.75         0.5          1.5
    1     B         0.25         0.5          0.5
    """
    keys = _as_list(within, "within")
    cols = [*keys, brand, sales, *([units] if units else [])]
    require_columns(market, cols, "market")
    if market.empty:
        raise ValueError("market is empty; it needs at least one row")
    vals = {sales: _numeric(market, sales, "sales")}
    if units:
        vals[units] = _numeric(market, units, "units")
    frame = market[[*keys, brand]].assign(**vals)
    out = frame.groupby([*keys, brand], observed=True, sort=True, dropna=False)[list(vals)].sum().reset_index()
    for col, share in ((sales, "value_share"), *(((units, "unit_share"),) if units else ())):
        total = out.groupby(keys, observed=True, dropna=False)[col].transform("sum")
        if (total <= 0).any():
            g = out.loc[total <= 0, keys].iloc[0].to_dict()
            raise ValueError(f"market: total {col} is 0 in group {g}; its shares are undefined")
        out[share] = out[col] / total
    if units:
        out["price_index"] = out["value_share"] / out["unit_share"]
    return out


# ------------------------------------------------------------------ concentration
def hhi(shares: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Herfindahl–Hirschman index of one market: HHI = Σ (100 · s_i)², in [0, 10,000].

    ``shares`` are fractions summing to 1 (one per firm). 10,000 is a monopoly; n equal
    firms give 10,000 / n. The 2023 US Merger Guidelines (DOJ & FTC, §2.1) call a market
    with HHI above 1,800 highly concentrated; 10,000 / HHI is the "equivalent number" of
    equal-sized firms.

    >>> hhi([0.5, 0.3, 0.2])
    3800.0
    >>> hhi([0.25] * 4)
    2500.0
    """
    s = np.asarray(shares, dtype=float)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"shares must be a non-empty 1-D list of fractions, got {shares!r}")
    if not np.isfinite(s).all() or (s < 0).any():
        raise ValueError(f"shares must be fractions in [0, 1] without missing values, got {s[:5].tolist()}")
    if not np.isclose(s.sum(), 1.0, atol=1e-6):
        raise ValueError(f"shares must sum to 1 (fractions of one market), they sum to {s.sum():.6g}; "
                         "percentages? divide by 100")
    return float(np.sum((100 * s) ** 2))


def concentration(
    market: pd.DataFrame,
    *,
    within: str | Sequence[str] = ("category",),
    brand: str = "brand",
    sales: str = "sales_amount",
    k: Sequence[int] = (1, 3),
) -> pd.DataFrame:
    """Concentration of each market: HHI, CR-k and the equivalent number of firms.

    Shares by value from :func:`brand_shares` (rows summed per group × brand first);
    HHI = Σ (100 s_i)² (see :func:`hhi`); CR-k = sum of the k largest shares (a fraction;
    with fewer than k brands, all of them). One row per group: ``n_brands``, ``hhi``,
    ``equivalent_firms`` = 10,000 / HHI, ``cr1``, ``cr3``, … and ``leader`` (the largest
    brand). Reading: HHI above 1,800 is highly concentrated, 1,000–1,800 moderately,
    below 1,000 unconcentrated (DOJ & FTC 2023 Merger Guidelines; the 2010 guidelines
    used 1,500 and 2,500).

    >>> toy = pd.DataFrame({"category": "c", "brand": list("ABC"), "sales_amount": [50.0, 30, 20]})
    >>> concentration(toy, k=[1, 2])[["hhi", "cr1", "cr2", "leader"]]
          hhi  cr1  cr2 leader
    0  3800.0  0.5  0.8      A
    """
    ks = list(k)
    if not ks or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 1 for x in ks):
        raise ValueError(f"k must list positive integers such as [1, 3], got {k!r}")
    keys = _as_list(within, "within")
    sh = brand_shares(market, within=keys, brand=brand, sales=sales)
    sh = sh.sort_values([*keys, "value_share"], ascending=[True] * len(keys) + [False], kind="stable")
    sh["_rank"] = sh.groupby(keys, observed=True, dropna=False).cumcount() + 1
    g = sh.groupby(keys, observed=True, dropna=False)
    out = pd.DataFrame({
        "n_brands": g.size(),
        "hhi": g["value_share"].agg(lambda s: float(np.sum((100 * s) ** 2))),
    })
    out["equivalent_firms"] = 10_000 / out["hhi"]
    for kk in ks:
        out[f"cr{kk}"] = sh.loc[sh["_rank"] <= kk].groupby(keys, observed=True, dropna=False)["value_share"].sum()
    out["leader"] = g[brand].first().astype(str)
    return out.reset_index()


# -------------------------------------------------------------------- price bands
def price_bands(
    market: pd.DataFrame,
    edges: Sequence[float],
    *,
    labels: Sequence[str] | None = None,
    relative_to: str | Sequence[str] | None = None,
    price: str = "avg_price",
    sales: str = "sales_amount",
    units: str = "units",
) -> pd.DataFrame:
    """Assign each row to a price band (价格带) by its price; the bands partition the rows.

    With ``relative_to=None`` the band is read from ``price`` itself against ``edges``
    (in currency units: one set of edges for one category). With ``relative_to`` (e.g.
    ``["category", "month"]``) it is read from the **price index** = price ÷ the group's
    units-weighted average price (Σ sales ÷ Σ units), so one set of edges such as
    ``[0, 0.9, 1.1, inf]`` (economy / mid / premium) works across categories with
    different price levels. Intervals are left-closed ``[e_i, e_{i+1})``; a row outside
    the edges is a ``ValueError`` (never silently dropped): widen the edges (``0`` and
    ``np.inf`` at the ends).

    Returns a copy of ``market`` with ``price_index`` (when relative) and ``price_band``
    (an ordered categorical with ``labels``, default ``"[a, b)"``). Summing ``sales`` by
    band gives back the total.

    >>> toy = pd.DataFrame({"category": "c", "brand": list("ABC"), "sales_amount": [100.0, 100, 100],
    ...                     "units": [10, 5, 2], "avg_price": [10.0, 20, 50]})
    >>> b = price_bands(toy, [0, 0.8, 1.2, np.inf], labels=["low", "mid", "high"], relative_to="category")
    >>> b[["brand", "price_index", "price_band"]].round(2)
      brand  price_index price_band
    0     A         0.57        low
    1     B         1.13        mid
    2     C         2.83       high
    """
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or np.isnan(e).any() or not (np.diff(e) > 0).all():
        raise ValueError(f"edges must be at least two strictly increasing numbers, got {list(edges)!r}")
    if labels is None:
        labels = [f"[{a:g}, {b:g})" for a, b in zip(e[:-1], e[1:], strict=True)]
    labels = list(labels)
    if len(labels) != e.size - 1 or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be {e.size - 1} distinct names (one per band), got {labels!r}")
    require_columns(market, [price], "market")
    p = _numeric(market, price, "price", positive=True)
    out = market.copy()
    if relative_to is not None:
        keys = _as_list(relative_to, "relative_to")
        require_columns(market, [*keys, sales, units], "market")
        s, u = _numeric(market, sales, "sales"), _numeric(market, units, "units")
        frame = market[keys].assign(_s=s, _u=u)
        g = frame.groupby(keys, observed=True, dropna=False)
        avg = g["_s"].transform("sum") / g["_u"].transform("sum")
        if not np.isfinite(avg).all() or (avg <= 0).any():
            raise ValueError(f"market: a {keys} group has no units or no sales, so its average price is undefined")
        x = p / avg
        out["price_index"] = x
    else:
        x = p
    outside = (x < e[0]) | (x >= e[-1])
    if outside.any():
        raise ValueError(f"{int(outside.sum())} row(s) fall outside the edges [{e[0]:g}, {e[-1]:g}), e.g. "
                         f"{'price index' if relative_to is not None else price} {float(x[outside].iloc[0]):.4g}; "
                         "widen the edges (0 and np.inf at the ends)")
    codes = np.searchsorted(e, x.to_numpy(), side="right") - 1
    out["price_band"] = pd.Categorical.from_codes(codes, categories=labels, ordered=True)
    return out


# ------------------------------------------------------------------------- growth
def promotion_months(calendar: pd.DataFrame, names: Sequence[str], *, on: str = "peak_date") -> pd.DataFrame:
    """The month of each promotion in ``names``: one row per year × promotion.

    ``calendar`` is a frame from :func:`ecomlab.calendar.promotion_calendar` (any market's
    calendar); ``on`` is the date that places the promotion in a month (its main day,
    ``peak_date``, by default: 双11's pre-sale starts on 31 October but its day is in
    November). Returns ``name, year, month`` (first day of the month).

    >>> from ecomlab.calendar import promotion_calendar
    >>> promotion_months(promotion_calendar([2024, 2025]), ["年货节"])["month"].dt.strftime("%Y-%m").tolist()
    ['2024-02', '2025-01']
    """
    require_columns(calendar, ["name", on], "calendar")
    if isinstance(names, str):
        names = [names]
    names = list(names)
    unknown = sorted(set(names) - set(calendar["name"].astype(str)))
    if not names or unknown:
        raise ValueError(f"names must be promotions of the calendar {sorted(set(calendar['name'].astype(str)))}, "
                         f"got {names!r}")
    sel = calendar[calendar["name"].astype(str).isin(names)]
    day = pd.to_datetime(sel[on])
    return pd.DataFrame({"name": sel["name"].astype(str).to_numpy(), "year": day.dt.year.to_numpy(),
                         "month": day.dt.to_period("M").dt.to_timestamp().astype("datetime64[us]").to_numpy()}
                        ).sort_values(["month", "name"], kind="stable").reset_index(drop=True)


def yoy_growth(
    market: pd.DataFrame,
    year: int,
    *,
    by: str | Sequence[str] = ("category",),
    date: str = "month",
    sales: str = "sales_amount",
    promotions: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Year-on-year growth (同比) of ``sales`` in ``year`` against ``year - 1``, per group.

    Seasonality-aware: a month is compared with the same month a year earlier, and only
    months present in both years count (so a partial year is compared with the same
    part of the previous year). With ``promotions`` (a frame from
    :func:`promotion_months`), each promotion's month is also compared with **that
    promotion's** month a year earlier — a promotion that moved month (年货节 follows
    the Spring Festival) is still compared like with like — and the months that hold
    no listed promotion in either year with themselves.

    Per group: ``sales_prev``, ``sales_cur``, ``yoy`` = Σ cur / Σ prev − 1 over the
    matched months, ``n_months``, and an interval from the month pairs: the mean of
    the log ratios ln(cur_m / prev_m) ± t · sd / √n, turned back with exp(·) − 1
    (``yoy_low``, ``yoy_high``; NaN with fewer than 2 pairs). With ``promotions``:
    ``yoy_<name>`` for each promotion and ``yoy_other`` for the rest. Months of only one
    year are left out and counted in ``n_unmatched``.

    >>> toy = pd.DataFrame({"category": "c", "month": pd.date_range("2024-01-01", periods=24, freq="MS"),
    ...                     "sales_amount": [100.0] * 12 + [110.0] * 12})
    >>> yoy_growth(toy, 2025)[["category", "yoy", "n_months"]].round(3)
      category  yoy  n_months
    0        c  0.1        12
    """
    keys = _as_list(by, "by")
    require_columns(market, [*keys, date, sales], "market")
    if not isinstance(year, (int, np.integer)) or isinstance(year, bool):
        raise ValueError(f"year must be an integer year such as 2025, got {year!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not pd.api.types.is_datetime64_any_dtype(market[date]):
        raise ValueError(f"market: column {date!r} must be dates, got dtype {market[date].dtype}")
    s = _numeric(market, sales, "sales")
    m = market[date].dt.to_period("M").dt.to_timestamp()
    frame = market[keys].assign(_month=m, _s=s)
    frame = frame[frame["_month"].dt.year.isin([year - 1, year])]
    monthly = frame.groupby([*keys, "_month"], observed=True, dropna=False)["_s"].sum().reset_index()
    if monthly.empty:
        raise ValueError(f"market has no {date} in {year - 1} or {year}; found "
                         f"{market[date].min()} to {market[date].max()}")
    monthly["_year"] = monthly["_month"].dt.year
    monthly["_moy"] = monthly["_month"].dt.month
    promo_names: list[str] = []
    promo_month: dict[tuple[str, int], pd.Timestamp] = {}
    if promotions is not None:
        require_columns(promotions, ["name", "year", "month"], "promotions")
        p = promotions[promotions["year"].isin([year - 1, year])]
        promo_names = sorted(p["name"].astype(str).unique())
        if not promo_names:
            raise ValueError(f"promotions has no promotion in {year - 1} or {year}")
        for nm, y, mo in zip(p["name"].astype(str), p["year"], pd.to_datetime(p["month"]), strict=True):
            promo_month[(nm, int(y))] = mo
        for nm in promo_names:
            if (nm, year - 1) not in promo_month or (nm, year) not in promo_month:
                raise ValueError(f"promotions: {nm!r} must have a month in both {year - 1} and {year}")
    promo_moy = {mo.month for mo in promo_month.values()}
    wide = monthly.pivot_table(index=[*keys, "_moy"], columns="_year", values="_s", aggfunc="sum",
                               observed=True).reindex(columns=[year - 1, year])
    matched = wide.dropna()
    by_month = monthly.set_index([*keys, "_month"])["_s"]
    n_all = monthly.groupby(keys, observed=True, dropna=False).size()
    rows = []
    for key, grp in matched.groupby(level=list(range(len(keys))), observed=True, dropna=False):
        prev, cur = grp[year - 1].to_numpy(), grp[year].to_numpy()
        n = len(prev)
        ok = (prev > 0).all() and (cur > 0).all()
        if n >= 2 and ok:
            lr = np.log(cur / prev)
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * lr.std(ddof=1) / np.sqrt(n)
            low, high = np.exp(lr.mean() - half) - 1, np.exp(lr.mean() + half) - 1
        else:
            low = high = np.nan
        kt = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, kt, strict=True))
        row.update(sales_prev=prev.sum(), sales_cur=cur.sum(),
                   yoy=cur.sum() / prev.sum() - 1 if prev.sum() > 0 else np.nan,
                   yoy_low=low, yoy_high=high, n_months=n,
                   n_unmatched=int(n_all.loc[key]) - 2 * n)
        for nm in promo_names:
            a = by_month.get((*kt, promo_month[(nm, year - 1)]), np.nan)
            b = by_month.get((*kt, promo_month[(nm, year)]), np.nan)
            row[f"yoy_{nm}"] = b / a - 1 if a > 0 else np.nan
        if promo_names:
            moy = grp.index.get_level_values("_moy")
            sel = ~np.isin(moy, list(promo_moy))
            row["yoy_other"] = grp.loc[sel, year].sum() / grp.loc[sel, year - 1].sum() - 1 if sel.any() else np.nan
        rows.append(row)
    if not rows:
        raise ValueError(f"market: no month of {year} has the same month in {year - 1} to compare with")
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ growth–share
def growth_share(
    market: pd.DataFrame,
    growth: pd.Series | Mapping[str, float],
    focal: str,
    *,
    within: str = "category",
    brand: str = "brand",
    sales: str = "sales_amount",
    growth_threshold: float | None = None,
) -> pd.DataFrame:
    """The growth–share view (BCG matrix, Henderson 1970) of a ``focal`` brand.

    For each market (``within``): the focal brand's value share, the largest rival's
    share, **relative share** = own share ÷ largest rival's share (above 1: the focal
    brand leads), the market's ``growth`` (e.g. ``yoy`` from :func:`yoy_growth`), and
    the quadrant: star (relative share ≥ 1, growth ≥ threshold), question mark (< 1,
    ≥), cash cow (≥ 1, <), dog (< 1, <). ``growth_threshold`` defaults to the
    sales-weighted mean growth of the markets given (stated in the ``threshold``
    column). Also ``sales``: the market's total (for the bubble size).

    >>> toy = pd.DataFrame({"category": ["a", "a", "b", "b"], "brand": ["X", "Y"] * 2,
    ...                     "sales_amount": [30.0, 60, 80, 20]})
    >>> growth_share(toy, {"a": 0.2, "b": 0.0}, "X")[["category", "relative_share", "quadrant"]]
      category  relative_share       quadrant
    0        a             0.5  question mark
    1        b             4.0       cash cow
    """
    require_columns(market, [within, brand, sales], "market")
    if not isinstance(focal, str) or focal not in set(market[brand].astype(str)):
        raise ValueError(f"focal must be one of the brands in column {brand!r} "
                         f"({sorted(set(market[brand].astype(str)))[:10]}), got {focal!r}")
    sh = brand_shares(market, within=within, brand=brand, sales=sales)
    sh[brand] = sh[brand].astype(str)
    own = sh[sh[brand] == focal].set_index(within)["value_share"]
    rival = sh[sh[brand] != focal].groupby(within, observed=True)["value_share"].max()
    size = sh.groupby(within, observed=True)[sales].sum()
    g = pd.Series(growth, dtype=float)
    g.index = g.index.astype(str)
    cats = [str(c) for c in size.index]
    missing = sorted(set(cats) - set(g.index))
    if missing:
        raise ValueError(f"growth has no value for market(s) {missing}; it has {sorted(g.index)}")
    out = pd.DataFrame({within: cats,
                        "share": own.reindex(size.index).fillna(0.0).to_numpy(),
                        "rival_share": rival.reindex(size.index).to_numpy(),
                        "growth": g.reindex(cats).to_numpy(),
                        "sales": size.to_numpy()})
    if out["rival_share"].isna().any() or (out["rival_share"] <= 0).any():
        bad = out.loc[out["rival_share"].isna() | (out["rival_share"] <= 0), within].tolist()
        raise ValueError(f"market(s) {bad} have no rival with sales; relative share is undefined there")
    if out["growth"].isna().any():
        raise ValueError(f"growth is missing for {out.loc[out['growth'].isna(), within].tolist()}")
    out["relative_share"] = out["share"] / out["rival_share"]
    thr = (float(np.average(out["growth"], weights=out["sales"])) if growth_threshold is None
           else float(growth_threshold))
    out["threshold"] = thr
    lead, fast = out["relative_share"] >= 1, out["growth"] >= thr
    out["quadrant"] = np.select([lead & fast, ~lead & fast, lead & ~fast], ["star", "question mark", "cash cow"],
                                "dog")
    return out


# ------------------------------------------------------------------- lead / lag
def granger_lead(
    panel: pd.DataFrame,
    *,
    leader: str,
    follower: str,
    by: str = "category",
    date: str = "month",
    maxlag: int = 1,
    transform: str = "dlog",
) -> pd.DataFrame:
    """Does ``leader`` help predict ``follower``? A Granger test per group, Holm-adjusted.

    Per group, the series are ordered by ``date`` and transformed (``"dlog"``: first
    difference of logs, i.e. growth from one period to the next, which removes a trend;
    ``"level"``: as given). The unrestricted model regresses the follower on its own
    ``maxlag`` lags and the leader's ``maxlag`` lags; the F test asks whether the
    leader's lags add anything (Granger 1969; ``statsmodels``'
    ``grangercausalitytests``, ssr F test). "Granger-causes" means "helps predict", not
    "causes". Holm's correction (``statsmodels.stats.multitest.multipletests``) accounts
    for testing several groups. Also the same-period correlation of the transformed
    series (``corr_same_period``) and the correlation of the leader with the next
    period's follower (``corr_leader_next``).

    Returns one row per group: ``n`` (periods used), ``f_stat``, ``p_value``, ``p_holm``.

    >>> rng = np.random.default_rng(0)
    >>> x = np.exp(np.cumsum(rng.normal(0, 0.1, 40)))
    >>> panel = pd.DataFrame({"category": "c", "month": pd.date_range("2022-01-01", periods=40, freq="MS"),
    ...                       "search": x, "sales": np.r_[1.0, x[:-1]] * np.exp(rng.normal(0, 0.01, 40))})
    >>> bool(granger_lead(panel, leader="search", follower="sales")["p_holm"].item() < 0.001)
    True
    """
    from statsmodels.stats.multitest import multipletests
    from statsmodels.tools.sm_exceptions import InfeasibleTestError
    from statsmodels.tsa.stattools import grangercausalitytests

    require_columns(panel, [by, date, leader, follower], "panel")
    if not isinstance(maxlag, (int, np.integer)) or isinstance(maxlag, bool) or maxlag < 1:
        raise ValueError(f"maxlag must be a positive integer, got {maxlag!r}")
    if transform not in ("dlog", "level"):
        raise ValueError(f"transform must be 'dlog' or 'level', got {transform!r}")
    _check_unique(panel, [by, date], "panel")
    a = _numeric(panel, leader, "leader", positive=transform == "dlog")
    b = _numeric(panel, follower, "follower", positive=transform == "dlog")
    df = panel[[by, date]].assign(_x=a, _y=b).sort_values([by, date], kind="stable")
    if transform == "dlog":
        g = df.groupby(by, observed=True)
        df["_x"] = np.log(df["_x"]) - np.log(g["_x"].shift(1))
        df["_y"] = np.log(df["_y"]) - np.log(g["_y"].shift(1))
        df = df.dropna(subset=["_x", "_y"])
    rows = []
    for key, grp in df.groupby(by, observed=True):
        n = len(grp)
        if n < 3 * maxlag + 5:
            raise ValueError(f"panel: group {key!r} has {n} usable periods; a Granger test with maxlag={maxlag} "
                             f"needs at least {3 * maxlag + 5}")
        try:
            res = grangercausalitytests(grp[["_y", "_x"]].to_numpy(), maxlag=[int(maxlag)])
        except InfeasibleTestError as exc:
            raise ValueError(f"panel: group {key!r}: the lagged series fit {follower!r} exactly, so the F test "
                             f"is undefined ({exc})") from None
        f, p = res[int(maxlag)][0]["ssr_ftest"][:2]
        y, x = grp["_y"].to_numpy(), grp["_x"].to_numpy()
        rows.append({by: str(key), "n": n, "f_stat": float(f), "p_value": float(p),
                     "corr_same_period": float(np.corrcoef(x, y)[0, 1]),
                     "corr_leader_next": float(np.corrcoef(x[:-1], y[1:])[0, 1])})
    out = pd.DataFrame(rows)
    out["p_holm"] = multipletests(out["p_value"], method="holm")[1]
    return out
