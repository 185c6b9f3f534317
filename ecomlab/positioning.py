"""Market positioning helpers (市场分析与定位): user personas (用户画像) from a survey.

Method (lesson 01-2): standardise the Likert items (z-scores), cluster respondents with
k-means and, as a cross-check, a Gaussian mixture (scikit-learn); choose the number of
personas k by a **stated rule** that uses bootstrap stability (adjusted Rand index
between the full-data clustering and clusterings of resamples; Lange et al. 2004,
Hennig 2007) and the silhouette (Rousseeuw 1987), not by eye; name each cluster by
its signature items; profile it (items, demographics, spend, preferred channel) and
link the respondents who are customers to what they bought.

* :func:`standardise` — z-scores of the items, checked (no missing, no constant item).
* :func:`persona_clusters` — k-means or Gaussian-mixture personas with profiles.
* :func:`rounding_variance` — the variance floor of a mixture on whole-number answers.
* :func:`bootstrap_stability` and :func:`choose_k` — the stability-and-silhouette rule.
* :func:`name_personas` — one-to-one names from signature items (Hungarian assignment).
* :func:`persona_profiles` — items, demographics, spend and channel per persona.
* :func:`behaviour_by_persona` — orders of the respondents who are customers: order
  value, promotion-day share and category mix per persona.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from ecomlab.schema import LIKERT_ITEMS
from ecomlab.validation import require_columns

__all__ = ["KChoice", "Personas", "behaviour_by_persona", "bootstrap_stability", "choose_k", "name_personas",
           "persona_clusters", "persona_profiles", "rounding_variance", "standardise"]

_METHODS = ("kmeans", "gmm")


# ----------------------------------------------------------------------- checks
def _items(survey: pd.DataFrame, items: Sequence[str], arg: str = "survey") -> pd.DataFrame:
    if isinstance(items, str):
        raise ValueError(f"items must be a list of column names, got the string {items!r}")
    items = list(items)
    if not items:
        raise ValueError("items must name at least one column")
    if len(set(items)) != len(items):
        raise ValueError(f"items has duplicate names: {items}")
    require_columns(survey, items, arg)
    x = survey[items]
    bad_type = [c for c in items if not pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c])]
    if bad_type:
        raise ValueError(f"{arg}: items {bad_type} must be numeric (Likert 1-5), got dtypes "
                         f"{[str(x[c].dtype) for c in bad_type]} (e.g. {x[bad_type[0]].iloc[:3].tolist()})")
    missing = x.isna().sum()
    if missing.any():
        raise ValueError(f"{arg} has missing answers: {missing[missing > 0].to_dict()} respondents per item; "
                         "impute or drop those respondents first (nothing is dropped silently)")
    return x.astype(float)


def _check_k(k: object, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer >= 2, got {k!r}")
    if n < k + 1:
        raise ValueError(f"survey has {n} respondents; need more than k={k}")
    return int(k)


def standardise(survey: pd.DataFrame, items: Sequence[str] = LIKERT_ITEMS) -> pd.DataFrame:
    """z-scores of the Likert items: z = (x − mean) / sd, per item (sd with ddof = 0, as
    ``sklearn.preprocessing.StandardScaler``).

    Standardising puts every item on the same scale, so an item answered with a wide
    spread does not dominate the distances k-means uses. ``ValueError`` for missing or
    non-numeric answers and for a constant item (its z-score is undefined).

    >>> s = pd.DataFrame({"q1": [1, 3, 5], "q2": [2, 2, 5]})
    >>> standardise(s, ["q1", "q2"]).round(3)
          q1     q2
    0 -1.225 -0.707
    1  0.000 -0.707
    2  1.225  1.414
    """
    x = _items(survey, items)
    if x.empty:
        raise ValueError("survey is empty; it needs respondents")
    sd = x.std(ddof=0)
    const = sd.index[sd.to_numpy() == 0].tolist()
    if const:
        raise ValueError(f"survey: items {const} have the same answer for every respondent "
                         f"(e.g. {x[const[0]].iloc[0]}); their z-score is undefined — leave them out")
    return (x - x.mean()) / sd


# ------------------------------------------------------------------- clustering
class Personas(NamedTuple):
    """Personas from one clustering.

    labels : cluster per respondent (Series aligned with the survey index, 0..k-1)
    profiles : item means per cluster (rows, original 1-5 scale) with ``size`` and ``share``
    centres : item means per cluster in z-scores (what the clusters differ on)
    inertia : within-cluster sum of squares in z-space
    silhouette : mean silhouette (-1..1; higher = better separated)
    method : "kmeans" or "gmm"
    """

    labels: pd.Series
    profiles: pd.DataFrame
    centres: pd.DataFrame
    inertia: float
    silhouette: float
    method: str


def rounding_variance(z: np.ndarray | pd.DataFrame) -> float:
    """The smallest rounding variance among the item columns of ``z``: min_j h_j² / 12.

    h_j is item j's answer step (the smallest gap between two distinct answers: 1 on a
    Likert 1-5 scale, 1 / sd_j once standardised). An answer recorded on that grid hides
    a uniform rounding error of variance h² / 12 (Sheppard's correction; Kendall &
    Stuart, *The Advanced Theory of Statistics*, vol. 1, §3.18). A Gaussian mixture
    with free variances can otherwise put a component on respondents who all gave the
    same answer to one item: its variance there goes to 0 and the likelihood grows
    without bound (the degeneracy of mixtures, McLachlan & Peel 2000, §3.8), which beats
    the real groups. Flooring every variance at this value removes that spurious optimum.

    >>> rounding_variance(np.array([[1.0, 0.0], [2.0, 0.5], [4.0, 1.0]]))  # steps 1 and 0.5
    0.020833333333333332
    """
    z = np.asarray(z, dtype=float)
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"z must be a 2-d array of respondents × items with at least 2 rows, got shape {z.shape}")
    steps = [np.diff(np.unique(col)) for col in z.T]   # one array per item (columns, not rows)
    if any(s.size == 0 for s in steps):
        raise ValueError("z has an item with a single answer; its rounding step is undefined")
    return float(min(s.min() for s in steps) ** 2 / 12)


def _fit(z: np.ndarray, k: int, method: str, seed: int, n_init: int):
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(z)
    # floor at the rounding variance (never below scikit-learn's default 1e-6): see rounding_variance
    return GaussianMixture(n_components=k, covariance_type="diag", n_init=n_init, random_state=seed,
                           reg_covar=max(rounding_variance(z), 1e-6)).fit(z)


def persona_clusters(survey: pd.DataFrame, k: int = 4, *, items: Sequence[str] = LIKERT_ITEMS,
                     method: str = "kmeans", seed: int = 0, n_init: int = 10) -> Personas:
    """Cluster respondents into ``k`` personas on their standardised items.

    ``method="kmeans"`` minimises Σ ‖z_i − centre_c(i)‖² (Lloyd's algorithm, best of
    ``n_init`` starts); ``"gmm"`` fits a Gaussian mixture with diagonal covariances by
    EM (best of ``n_init`` starts), each variance floored at the items' rounding variance
    (:func:`rounding_variance`: Likert answers are whole numbers, and without the floor a
    component can collapse onto one answer), and assigns each respondent to its most
    probable component. Respondents with a
    missing item raise ``ValueError`` (impute or drop them explicitly first).

    >>> from ecomlab import datasets as ds
    >>> p = persona_clusters(ds.load("survey"), k=4)
    >>> int(p.profiles["size"].sum()), p.centres.shape
    (3000, (4, 10))
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    zf = standardise(survey, items)
    k = _check_k(k, len(zf))
    z = zf.to_numpy()
    model = _fit(z, k, method, seed, n_init)
    lab = model.labels_ if method == "kmeans" else model.predict(z)
    if len(np.unique(lab)) < 2:
        raise ValueError(f"{method} put every respondent in one cluster; the items do not separate groups")
    labels = pd.Series(lab, index=survey.index, name="persona")
    x = survey[list(items)].astype(float)
    prof = x.groupby(lab).mean()
    prof["size"] = labels.value_counts().reindex(prof.index).to_numpy()
    prof["share"] = prof["size"] / prof["size"].sum()
    centres = zf.groupby(lab).mean()
    inertia = float(((z - centres.to_numpy()[lab]) ** 2).sum())
    sil = float(silhouette_score(z, lab))
    return Personas(labels, prof, centres, inertia, sil, method)


def bootstrap_stability(survey: pd.DataFrame, k: int, *, items: Sequence[str] = LIKERT_ITEMS,
                        n_boot: int = 20, seed: int = 0, n_init: int = 3) -> np.ndarray:
    """Bootstrap stability of k-means with ``k`` clusters: one adjusted Rand index per resample.

    Cluster all respondents once (reference labels); then ``n_boot`` times draw n
    respondents with replacement, cluster the resample, assign **every** respondent to
    the nearest resample centre, and compare those labels with the reference by the
    adjusted Rand index (ARI: 1 = the same partition, ≈ 0 = chance agreement; Hubert &
    Arabie 1985). A k the data really hold is found again on resampled data (ARIs near
    1); a k that splits a group arbitrarily is not (Lange et al. 2004; Hennig 2007).

    >>> from ecomlab import datasets as ds
    >>> a = bootstrap_stability(ds.load("survey"), 4, n_boot=3)
    >>> a.shape, bool(a.min() > 0.9)
    ((3,), True)
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    z = standardise(survey, items).to_numpy()
    k = _check_k(k, len(z))
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    # small fits: one thread each is faster than OpenMP/BLAS start-up on a busy machine
    with threadpool_limits(limits=1):
        ref = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(z).labels_
        for b in range(n_boot):  # resamples are sequential model fits, not a row loop
            idx = rng.integers(0, len(z), len(z))
            km = KMeans(n_clusters=k, n_init=n_init, random_state=int(rng.integers(2**31))).fit(z[idx])
            out[b] = adjusted_rand_score(ref, km.predict(z))
    return out


class KChoice(NamedTuple):
    """The number of personas chosen by :func:`choose_k`.

    table : per k: silhouette, silhouette_ratio (÷ the best), stability (mean bootstrap
        ARI), stability_low (its 5th percentile), gmm_ari (k-means vs Gaussian mixture),
        inertia, passes (both thresholds met)
    k : the chosen k (the largest k that passes)
    rule : the rule in words, with its thresholds
    """

    table: pd.DataFrame
    k: int
    rule: str


def choose_k(survey: pd.DataFrame, ks: Sequence[int] = range(2, 8), *, items: Sequence[str] = LIKERT_ITEMS,
             n_boot: int = 20, min_stability: float = 0.9, min_silhouette_ratio: float = 0.8,
             seed: int = 0) -> KChoice:
    """Choose the number of personas by a stated rule.

    **Rule:** k = the largest k whose mean bootstrap ARI (:func:`bootstrap_stability`)
    is at least ``min_stability`` **and** whose silhouette is at least
    ``min_silhouette_ratio`` × the best silhouette over ``ks``. More personas are more
    useful to operations, but only as many as the data reproduce (stable) and keep
    separated (silhouette). ``ValueError`` when no k passes (then the survey holds no
    reliable personas at these thresholds: say so, do not pick one by eye).

    >>> from ecomlab import datasets as ds
    >>> choose_k(ds.load("survey"), ks=[3, 4, 5], n_boot=4).k
    4
    """
    ks = sorted({int(k) for k in ks})
    if not ks:
        raise ValueError("ks must hold at least one k")
    if not 0 < min_stability <= 1 or not 0 < min_silhouette_ratio <= 1:
        raise ValueError(f"min_stability and min_silhouette_ratio must be in (0, 1], got "
                         f"{min_stability!r}, {min_silhouette_ratio!r}")
    rows = []
    for k in ks:  # one clustering per candidate k
        with threadpool_limits(limits=1):
            km = persona_clusters(survey, k, items=items, seed=seed)
            gm = persona_clusters(survey, k, items=items, seed=seed, method="gmm", n_init=2)
        ari = bootstrap_stability(survey, k, items=items, n_boot=n_boot, seed=seed)
        rows.append({"k": k, "silhouette": km.silhouette, "stability": float(ari.mean()),
                     "stability_low": float(np.quantile(ari, 0.05)),
                     "gmm_ari": float(adjusted_rand_score(km.labels, gm.labels)), "inertia": km.inertia})
    table = pd.DataFrame(rows)
    table.insert(2, "silhouette_ratio", table["silhouette"] / table["silhouette"].max())
    table["passes"] = (table["stability"] >= min_stability) & (table["silhouette_ratio"] >= min_silhouette_ratio)
    rule = (f"the largest k with mean bootstrap ARI >= {min_stability:g} and silhouette >= "
            f"{min_silhouette_ratio:g} x the best silhouette (k in {ks[0]}..{ks[-1]}, {n_boot} resamples)")
    if not table["passes"].any():
        raise ValueError(f"no k in {ks} passes the rule ({rule}); table:\n{table.round(3).to_string()}")
    return KChoice(table, int(table.loc[table["passes"], "k"].max()), rule)


# --------------------------------------------------------------------- naming
def name_personas(centres: pd.DataFrame, signatures: Mapping[str, Sequence[str]]) -> pd.Series:
    """Give each cluster one name, one-to-one, from the items that define each persona.

    ``centres``: clusters × items in z-scores (:attr:`Personas.centres`); ``signatures``:
    name → its signature items. The score of a name for a cluster is the mean z-score
    of its signature items; names are assigned to maximise the total score with the
    Hungarian algorithm (``scipy.optimize.linear_sum_assignment``), so two clusters
    never get the same name. Needs exactly as many names as clusters.

    >>> c = pd.DataFrame({"q_a": [1.2, -0.5], "q_b": [-0.8, 1.0]})
    >>> name_personas(c, {"A lover": ["q_a"], "B fan": ["q_b"]}).tolist()
    ['A lover', 'B fan']
    """
    if not isinstance(centres, pd.DataFrame) or centres.empty:
        raise ValueError("centres must be a non-empty DataFrame of clusters × items")
    if len(signatures) != len(centres):
        raise ValueError(f"signatures must name one persona per cluster: {len(centres)} clusters, "
                         f"got {len(signatures)} names {list(signatures)}")
    names = list(signatures)
    score = np.empty((len(centres), len(names)))
    for j, nm in enumerate(names):  # a handful of names, not rows
        cols = [signatures[nm]] if isinstance(signatures[nm], str) else list(signatures[nm])
        if not cols:
            raise ValueError(f"signature of {nm!r} names no item")
        require_columns(centres, cols, "centres")
        score[:, j] = centres[cols].mean(axis=1).to_numpy()
    rows, cols_ = linear_sum_assignment(score, maximize=True)
    return pd.Series(np.asarray(names, dtype=object)[cols_[np.argsort(rows)]], index=centres.index, name="persona")


# ------------------------------------------------------------------ profiles
def persona_profiles(survey: pd.DataFrame, labels: pd.Series, *, items: Sequence[str] = LIKERT_ITEMS,
                     demographics: Sequence[str] = ("gender", "age_band", "city_tier"),
                     spend: str = "monthly_home_spend", channel: str = "preferred_channel") -> pd.DataFrame:
    """One row per persona: size, share, item means, demographic mix, spend and channel.

    Columns: ``size``, ``share``; each item's mean (1-5); for each demographic column the
    share of each value (``gender=female`` …); ``spend_median`` and ``spend_mean`` of
    ``spend``; the share preferring each channel (``channel=marketplace`` …) and
    ``top_channel``. ``labels`` must be aligned with ``survey`` (same index, no missing).

    >>> s = pd.DataFrame({"q": [1, 5, 4], "g": ["f", "m", "m"], "sp": [100.0, 300, 500],
    ...                   "ch": ["x", "y", "y"]})
    >>> p = persona_profiles(s, pd.Series(["a", "b", "b"]), items=["q"], demographics=["g"], spend="sp", channel="ch")
    >>> p[["size", "q", "g=m", "spend_median", "top_channel"]]  # doctest: +NORMALIZE_WHITESPACE
             size    q  g=m  spend_median top_channel
    persona
    a           1  1.0  0.0         100.0           x
    b           2  4.5  1.0         400.0           y
    """
    x = _items(survey, items)
    require_columns(survey, [*demographics, spend, channel], "survey")
    if not isinstance(labels, pd.Series) or not labels.index.equals(survey.index):
        raise ValueError("labels must be a Series with the survey's index (one persona per respondent)")
    if labels.isna().any():
        raise ValueError(f"labels has {int(labels.isna().sum())} missing personas; every respondent needs one")
    sp = pd.to_numeric(survey[spend], errors="coerce")
    if sp.isna().sum() > survey[spend].isna().sum():
        raise ValueError(f"survey.{spend} must be numeric, got e.g. {survey[spend].iloc[:3].tolist()}")
    lab = labels.rename("persona").to_numpy()
    g = x.groupby(lab)
    out = pd.DataFrame({"size": g.size()})
    out["share"] = out["size"] / out["size"].sum()
    out = out.join(g.mean())
    for col in [*demographics, channel]:
        mix = pd.crosstab(lab, survey[col].astype(str).to_numpy(), normalize="index")
        out = out.join(mix.add_prefix(f"{col}="))
    out["spend_median"] = sp.groupby(lab).median()
    out["spend_mean"] = sp.groupby(lab).mean()
    ch = out.filter(like=f"{channel}=")
    out["top_channel"] = ch.idxmax(axis=1).str.removeprefix(f"{channel}=")
    out.index.name = "persona"
    return out


def behaviour_by_persona(respondents: pd.DataFrame, orders: pd.DataFrame, order_items: pd.DataFrame,
                         products: pd.DataFrame, promo_days: pd.DatetimeIndex, *,
                         persona: str = "persona", customer: str = "customer_id") -> pd.DataFrame:
    """What the respondents who are customers bought, per persona (revealed behaviour).

    ``respondents``: one row per respondent with ``persona`` and ``customer`` (missing =
    not a customer; those are counted in ``attrs['not_customers']``, not silently
    dropped). ``orders`` should hold kept purchases only (e.g.
    :func:`ecomlab.metrics.valid_orders`). Per persona: ``customers``, ``orders``,
    ``orders_per_customer``, ``order_value`` (mean ``paid_amount``), ``promo_day_share``
    (share of orders placed on a day of ``promo_days``, e.g. from
    :func:`ecomlab.kpi.promo_days` over :func:`ecomlab.calendar.promotion_calendar`) and
    the category mix of the items bought (``cat=<category>``: share of item value
    ``quantity × unit_price``).

    >>> r = pd.DataFrame({"persona": ["a", "b", "b"], "customer_id": ["c1", "c2", None]})
    >>> o = pd.DataFrame({"order_id": [1, 2], "customer_id": ["c1", "c2"], "paid_amount": [50.0, 80.0],
    ...                   "order_ts": pd.to_datetime(["2025-11-11 10:00", "2025-11-20 09:00"])})
    >>> it = pd.DataFrame({"order_id": [1, 2], "sku_id": ["s1", "s2"], "quantity": [1, 2], "unit_price": [50.0, 40.0]})
    >>> pr = pd.DataFrame({"sku_id": ["s1", "s2"], "category": ["decor", "storage"]})
    >>> b = behaviour_by_persona(r, o, it, pr, pd.DatetimeIndex(["2025-11-11"]))
    >>> b[["customers", "order_value", "promo_day_share", "cat=storage"]]  # doctest: +NORMALIZE_WHITESPACE
             customers  order_value  promo_day_share  cat=storage
    persona
    a                1         50.0              1.0          0.0
    b                1         80.0              0.0          1.0
    """
    require_columns(respondents, [persona, customer], "respondents")
    require_columns(orders, ["order_id", customer, "order_ts", "paid_amount"], "orders")
    require_columns(order_items, ["order_id", "sku_id", "quantity", "unit_price"], "order_items")
    require_columns(products, ["sku_id", "category"], "products")
    if not isinstance(promo_days, pd.DatetimeIndex):
        raise ValueError(f"promo_days must be a DatetimeIndex of promotion days, got {type(promo_days).__name__}")
    resp = respondents[[persona, customer]]
    is_cust = resp[customer].notna()
    dup = resp.loc[is_cust, customer].duplicated()
    if dup.any():
        raise ValueError(f"respondents: customer {resp.loc[is_cust, customer][dup].iloc[0]!r} answered twice; "
                         "one respondent per customer expected")
    who = resp[is_cust].astype({customer: "string"}).set_index(customer)[persona]
    o = orders[orders[customer].astype("string").isin(who.index)]
    o = o.assign(_p=who.reindex(o[customer].astype("string")).to_numpy(),
                 _promo=o["order_ts"].dt.normalize().isin(promo_days))
    g = o.groupby("_p")
    out = pd.DataFrame({"customers": g[customer].nunique(), "orders": g.size(),
                        "order_value": g["paid_amount"].mean(), "promo_day_share": g["_promo"].mean()})
    out["orders_per_customer"] = out["orders"] / out["customers"]
    it = order_items.merge(o[["order_id", "_p"]], on="order_id", how="inner").merge(
        products[["sku_id", "category"]], on="sku_id", how="left", validate="many_to_one")
    if it["category"].isna().any():
        raise ValueError(f"order_items: {int(it['category'].isna().sum())} lines have a sku_id not in products "
                         f"(e.g. {it.loc[it['category'].isna(), 'sku_id'].iloc[0]!r})")
    value = it["quantity"] * it["unit_price"]
    mix = value.groupby([it["_p"], it["category"].astype(str)]).sum().unstack(fill_value=0.0)
    mix = mix.div(mix.sum(axis=1), axis=0).add_prefix("cat=")
    out = out.join(mix).fillna({c: 0.0 for c in mix.columns})
    out.index.name = "persona"
    out.attrs["not_customers"] = int((~is_cust).sum())
    out.attrs["customers_without_orders"] = int(is_cust.sum() - out["customers"].sum())
    return out
