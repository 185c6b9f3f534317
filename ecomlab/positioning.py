"""Market positioning helpers (市场分析与定位): user personas (用户画像) from a survey.

Method (chapter 01): standardise the Likert items, run k-means (scikit-learn) for a
range of k, pick k by silhouette and interpretability, then profile each cluster by
its item means, demographics and spend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from ecomlab.schema import LIKERT_ITEMS
from ecomlab.validation import require_columns


class Personas(NamedTuple):
    """k-means personas.

    labels : cluster per respondent (Series aligned with the survey index, 0..k-1)
    profiles : item means per cluster (rows) with the cluster size and share
    inertia : k-means within-cluster sum of squares
    silhouette : mean silhouette score (-1..1; higher = better separated)
    """

    labels: pd.Series
    profiles: pd.DataFrame
    inertia: float
    silhouette: float


def persona_clusters(survey: pd.DataFrame, k: int = 4, *, items: Sequence[str] = LIKERT_ITEMS,
                     seed: int = 0) -> Personas:
    """Cluster survey respondents into ``k`` personas with k-means on standardised items.

    Respondents with any missing item are not clustered (ValueError: impute or drop
    them explicitly first, so nothing is dropped silently).

    >>> from ecomlab import datasets as ds
    >>> p = persona_clusters(ds.load("survey"), k=4)
    >>> int(p.profiles["size"].sum())
    3000
    """
    items = list(items)
    require_columns(survey, items, "survey")
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer >= 2, got {k!r}")
    if len(survey) < k:
        raise ValueError(f"survey has {len(survey)} rows; need at least k={k}")
    x = survey[items]
    if x.isna().any().any():
        bad = x.columns[x.isna().any()].tolist()
        raise ValueError(f"survey has missing answers in {bad}; impute or drop those respondents first")
    if not all(pd.api.types.is_numeric_dtype(x[c]) for c in items):
        raise ValueError("survey items must be numeric (Likert 1-5)")
    z = StandardScaler().fit_transform(x.to_numpy(dtype=float))
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(z)
    labels = pd.Series(km.labels_, index=survey.index, name="persona")
    prof = x.groupby(labels.to_numpy()).mean()
    prof["size"] = labels.value_counts().sort_index()
    prof["share"] = prof["size"] / prof["size"].sum()
    sil = float(silhouette_score(z, km.labels_, sample_size=min(len(z), 3000), random_state=seed))
    return Personas(labels, prof, float(km.inertia_), sil)


def choose_k(survey: pd.DataFrame, ks: Sequence[int] = range(2, 9), *, items: Sequence[str] = LIKERT_ITEMS,
             seed: int = 0) -> pd.DataFrame:
    """Inertia (elbow) and silhouette for each k, to choose the number of personas.

    >>> from ecomlab import datasets as ds
    >>> choose_k(ds.load("survey"), ks=[3, 4]).shape
    (2, 3)
    """
    rows = [{"k": k, "inertia": (p := persona_clusters(survey, k, items=items, seed=seed)).inertia,
             "silhouette": p.silhouette} for k in ks]
    return pd.DataFrame(rows)
