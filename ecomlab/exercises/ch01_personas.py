"""Exercises for 01_positioning/02_personas (lesson 01-2, personas 用户画像 from the survey).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (the survey, orders, order items and products as
loaded), never typed in. Four of the five questions make the student compute: a
z-score by hand (q1), the adjusted Rand index from a contingency table (q2), a
persona's profile mean (q3) and the stated k-choice rule applied to a table (q5); q4
reads the behaviour of the personas from the orders.
"""

from __future__ import annotations

import pandas as pd

from ecomlab import metrics, positioning
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    data,
    derived,
)

#: The persona names and their signature items (the lesson's naming rule).
SIGNATURES: dict[str, list[str]] = {
    "budget organiser": ["q_price_sensitive", "q_wait_for_promotions", "q_tidiness_priority"],
    "design lover": ["q_design_matters", "q_shares_home_photos", "q_follows_influencers"],
    "busy parent": ["q_time_pressed", "q_buys_for_family", "q_values_durability"],
    "occasional gifter": ["q_buys_gifts"],
}
#: q1: the respondent and item whose z-score is asked.
Q1_RESPONDENT, Q1_ITEM = "R00003", "q_design_matters"
#: q5: the looser thresholds the student applies.
Q5_MIN_STABILITY, Q5_MIN_SIL_RATIO = 0.85, 0.6


def personas() -> pd.Series:
    """The lesson's k-means personas (k = 4, seed 0), named by :data:`SIGNATURES`."""
    def make() -> pd.Series:
        s = data("survey")
        p = positioning.persona_clusters(s, 4, seed=0)
        return p.labels.map(positioning.name_personas(p.centres, SIGNATURES)).rename("persona")
    return derived(("ch01_personas", "labels"), make)


def k_table() -> pd.DataFrame:
    """The lesson's k-choice table (k = 2..7, 20 resamples)."""
    return derived(("ch01_personas", "k_table"), lambda: positioning.choose_k(data("survey"), range(2, 8)).table)


# -- q1 ---------------------------------------------------------------------------------
def z_score() -> float:
    s = data("survey")
    z = positioning.standardise(s)
    return float(z.loc[s["respondent_id"] == Q1_RESPONDENT, Q1_ITEM].iloc[0])


def _z_sample_sd() -> float:
    s = data("survey")
    x = s[Q1_ITEM].astype(float)
    return float((x[s["respondent_id"] == Q1_RESPONDENT].iloc[0] - x.mean()) / x.std(ddof=1))


def _raw_answer() -> float:
    s = data("survey")
    return float(s.loc[s["respondent_id"] == Q1_RESPONDENT, Q1_ITEM].iloc[0])


q1 = Question(
    prompt=f"Standardise by hand: what is respondent **{Q1_RESPONDENT}**'s z-score on `{Q1_ITEM}`? "
    "z = (answer − mean of the item) / standard deviation of the item over all respondents "
    "(population sd, ddof = 0, as `StandardScaler`). Agreement to 4 decimals (abs 1e-4).",
    kind=NumberAnswer(expected=z_score, abs_tol=1e-4,
                      mistakes=[("the raw 1-5 answer, not its z-score", _raw_answer)]),
    hints=[
        "Take the column `survey[item]`; its mean and `std(ddof=0)` are over all 3,000 respondents.",
        "Last hint: `x = survey[item]; z = (x - x.mean()) / x.std(ddof=0)`, then pick the row whose "
        "`respondent_id` is the one asked.",
    ],
    solution=(
        f"x = survey['{Q1_ITEM}'].astype(float)\n"
        "z = (x - x.mean()) / x.std(ddof=0)\n"
        f"answer = z[survey['respondent_id'] == '{Q1_RESPONDENT}'].iloc[0]"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
def ari_reference(labels_a, labels_b) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985), as ``sklearn.metrics.adjusted_rand_score``."""
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(list(labels_a), list(labels_b)))


def _ari_cases() -> list[Case]:
    return [
        Case([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 2, 2]),        # same partition, renamed: 1
        Case([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]),        # a split
        Case(["a", "a", "b", "b", "c", "c", "c"], [0, 1, 0, 1, 0, 1, 1]),
        Case([0, 1, 2, 0, 1, 2, 0, 1], [0, 0, 1, 1, 2, 2, 0, 0]),
        Case([0, 0, 1, 1, 1, 2, 2, 2, 2, 3], [0, 0, 1, 1, 2, 2, 2, 3, 3, 3]),
    ]


q2 = Question(
    prompt="Write `ari(labels_a, labels_b)`: the **adjusted Rand index** of two partitions of the "
    "same respondents, from their contingency table n_ij (a_i, b_j its row and column sums, n the "
    "total): ARI = (Σ C(n_ij,2) − E) / (½[Σ C(a_i,2) + Σ C(b_j,2)] − E) with "
    "E = Σ C(a_i,2) · Σ C(b_j,2) / C(n,2). Use pandas/NumPy (`pd.crosstab`), not scikit-learn. "
    "Return a float.",
    kind=FunctionAnswer(ari_reference, cases=_ari_cases, rtol=1e-9, atol=1e-12, name="ari"),
    hints=[
        "`pd.crosstab(labels_a, labels_b)` is the contingency table; C(m, 2) = m (m − 1) / 2.",
        "The labels' names do not matter: renaming clusters leaves the table's cells the same.",
        "Last hint: `t = pd.crosstab(a, b).to_numpy(); c2 = lambda m: m * (m - 1) / 2; "
        "s = c2(t).sum(); sa = c2(t.sum(1)).sum(); sb = c2(t.sum(0)).sum(); "
        "e = sa * sb / c2(t.sum()); ari = (s - e) / ((sa + sb) / 2 - e)`.",
    ],
    solution=(
        "def ari(labels_a, labels_b):\n"
        "    t = pd.crosstab(np.asarray(labels_a), np.asarray(labels_b)).to_numpy()\n"
        "    c2 = lambda m: m * (m - 1) / 2\n"
        "    s, sa, sb = c2(t).sum(), c2(t.sum(axis=1)).sum(), c2(t.sum(axis=0)).sum()\n"
        "    e = sa * sb / c2(t.sum())\n"
        "    return float((s - e) / ((sa + sb) / 2 - e))\n"
        "answer = ari"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def gifter_spend() -> float:
    s = data("survey")
    return float(s.loc[personas() == "occasional gifter", "monthly_home_spend"].mean())


def _all_spend() -> float:
    return float(data("survey")["monthly_home_spend"].mean())


def _gifter_median() -> float:
    s = data("survey")
    return float(s.loc[personas() == "occasional gifter", "monthly_home_spend"].median())


q3 = Question(
    prompt="A persona's profile mean: cluster the standardised items with k-means (k = 4, "
    "`random_state=0`, `n_init=10`), find the cluster with the highest mean `q_buys_gifts` (the "
    "occasional gifters, 偶购送礼), and give the **mean `monthly_home_spend`** (CNY) of its "
    "respondents. Accepted within 1% (another seed may move a few respondents).",
    kind=NumberAnswer(expected=gifter_spend, rel_tol=0.01,
                      mistakes=[("the mean spend of all respondents, not of the gifters", _all_spend),
                                ("the median, not the mean", _gifter_median)]),
    hints=[
        "`p = positioning.persona_clusters(survey, 4)` gives `p.labels` (0..3) and `p.profiles` "
        "(item means per cluster).",
        "Last hint: `g = p.profiles['q_buys_gifts'].idxmax(); "
        "survey.loc[p.labels == g, 'monthly_home_spend'].mean()`.",
    ],
    solution=(
        "p = positioning.persona_clusters(survey, 4, seed=0)\n"
        "g = p.profiles['q_buys_gifts'].idxmax()\n"
        "answer = survey.loc[p.labels == g, 'monthly_home_spend'].mean()"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def top_order_value() -> str:
    s = data("survey")
    o = derived(("ch01_personas", "valid"), lambda: metrics.valid_orders(data("orders")))
    who = pd.Series(personas().to_numpy(), index=s["customer_id"].astype("string"))
    who = who[who.index.notna()]
    mine = o[o["customer_id"].astype("string").isin(who.index)]
    p = who.reindex(mine["customer_id"].astype("string")).to_numpy()
    return str(mine["paid_amount"].groupby(p).mean().idxmax())


q4 = Question(
    prompt="Link the respondents who are customers to their kept orders (`metrics.valid_orders`). "
    "Which persona has the **highest mean order value** (mean `paid_amount` per order)? One of "
    f"{list(SIGNATURES)}.",
    kind=LabelAnswer(expected=top_order_value, choices=list(SIGNATURES)),
    hints=[
        "Respondents with a `customer_id` are customers; map each order's customer to their persona.",
        "Last hint: `orders.merge(survey_with_persona[['customer_id', 'persona']], on='customer_id')"
        ".groupby('persona')['paid_amount'].mean().idxmax()` on kept orders.",
    ],
    solution=(
        "valid = metrics.valid_orders(orders)\n"
        "resp = survey.assign(persona=persona)[['customer_id', 'persona']].dropna()\n"
        "answer = valid.merge(resp, on='customer_id').groupby('persona')['paid_amount'].mean().idxmax()"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def looser_k() -> int:
    t = k_table()
    ok = (t["stability"] >= Q5_MIN_STABILITY) & (t["silhouette"] / t["silhouette"].max() >= Q5_MIN_SIL_RATIO)
    if not ok.any():
        raise ValueError("no k passes the looser rule; the question needs another threshold")
    return int(t.loc[ok, "k"].max())


def _lesson_k() -> int:
    t = k_table()
    return int(t.loc[t["passes"], "k"].max())


q5 = Question(
    prompt=f"Apply the k-choice rule yourself to the lesson's table `kt` (columns `k`, `silhouette`, "
    f"`stability`), with looser thresholds: the largest k with mean bootstrap ARI ≥ "
    f"{Q5_MIN_STABILITY} **and** silhouette ≥ {Q5_MIN_SIL_RATIO} × the best silhouette. Which k? "
    "An integer.",
    kind=NumberAnswer(expected=looser_k, abs_tol=0,
                      mistakes=[("the lesson's k (the thresholds here are looser)", _lesson_k)]),
    hints=[
        "Divide each silhouette by the column's maximum to get the ratio.",
        f"Last hint: `ok = (kt['stability'] >= {Q5_MIN_STABILITY}) & "
        f"(kt['silhouette'] / kt['silhouette'].max() >= {Q5_MIN_SIL_RATIO}); kt.loc[ok, 'k'].max()`.",
    ],
    solution=(
        f"ok = (kt['stability'] >= {Q5_MIN_STABILITY}) & "
        f"(kt['silhouette'] / kt['silhouette'].max() >= {Q5_MIN_SIL_RATIO})\n"
        "answer = int(kt.loc[ok, 'k'].max())"
    ),
)

__all__ = ["SIGNATURES", "ari_reference", "gifter_spend", "k_table", "personas", "q1", "q2", "q3", "q4", "q5",
           "looser_k", "top_order_value", "z_score"]
