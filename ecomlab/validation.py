"""Input checks shared by every helper module (one wording for every error)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def require_columns(df: pd.DataFrame, columns: Iterable[str], arg: str = "df") -> None:
    """Raise ``ValueError`` unless ``df`` is a DataFrame holding every one of ``columns``.

    The message names the argument, the missing columns and the columns it has.

    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "orders")
    >>> require_columns(pd.DataFrame({"a": [1]}), ["b"], "orders")
    Traceback (most recent call last):
    ...
    ValueError: orders is missing column(s) ['b']; it has ['a']
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{arg} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{arg} is missing column(s) {missing}; it has {list(df.columns)}")
