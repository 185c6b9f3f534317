"""ecomlab.keys: the same codes as pandas, lossless integer keys for fixed-width ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab import keys


def _same_as_pandas(values: pd.Series) -> None:
    for sort in (False, True):
        codes, uniques = keys.factorize(values, sort=sort)
        exp_codes, exp_uniques = pd.factorize(values, sort=sort, use_na_sentinel=True)
        assert codes.dtype == np.int64
        np.testing.assert_array_equal(codes, exp_codes)
        assert list(uniques) == list(exp_uniques)
        c2, rows = keys.codes_with_rows(values, sort=sort)
        np.testing.assert_array_equal(c2, exp_codes)
        labels = values[rows] if isinstance(values, pd.Index) else values.iloc[rows]
        assert list(labels) == list(exp_uniques)  # the row of code j holds unique j
        assert keys.codes(values, sort=sort)[1] == len(exp_uniques)
    assert keys.is_unique(values) == values.is_unique


def test_fixed_width_letters_and_digits():
    s = pd.Series(["C0000003", "C0000001", "C0000003", "C0000002"], dtype="str")
    k, valid = keys.integer_keys(s)
    assert valid.all() and k[0] == k[2] and len(set(k.tolist())) == 3
    _same_as_pandas(s)


def test_keys_keep_string_order():
    s = pd.Series(["AB17", "AB09", "AC00", "AB10"], dtype="str")
    k, _ = keys.integer_keys(s)
    assert np.argsort(k).tolist() == np.argsort(s.to_numpy()).tolist()


def test_long_digit_ids_are_parsed_as_numbers():
    ids = ["100000000000000017", "999999999999999999", "100000000000000017", "500000000000000003"]
    s = pd.Series(ids, dtype="str")
    k, _ = keys.integer_keys(s)
    assert k.tolist() == [int(i) for i in ids]  # every position varies: the number itself
    _same_as_pandas(s)


def test_sorted_codes_for_sequential_ids_use_the_dense_table():
    s = pd.Series([f"S{1_000_000 + i:07d}" for i in (5, 3, 5, 9, 0)], dtype="str")
    k, _ = keys.integer_keys(s)
    assert k.tolist() == [5, 3, 5, 9, 0]  # the varying digits, as a number
    assert keys._dense_codes(k).tolist() == [2, 1, 2, 3, 0]
    assert keys._dense_codes(np.array([0, 2**40], dtype=np.uint64)) is None  # too sparse
    c, rows = keys._dense_codes(k, rows=True)
    assert c.tolist() == [2, 1, 2, 3, 0] and k[rows].tolist() == [0, 3, 5, 9]
    _same_as_pandas(s)


def test_missing_values_get_minus_one():
    s = pd.Series(["X1", None, "X2", "X1", None], dtype="str")
    codes, uniques = keys.factorize(s)
    assert codes.tolist() == [0, -1, 1, 0, -1] and list(uniques) == ["X1", "X2"]
    assert keys.is_unique(s) is False
    assert keys.is_unique(pd.Series(["X1", None, "X2"], dtype="str")) is True
    _same_as_pandas(s)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", "bb", "a"], dtype="str"),  # variable width
        pd.Series(["x" * 30, "y" * 30], dtype="str"),  # > 8 varying bytes, not digits
        pd.Series([1, 2, 1]),  # integers
        pd.Series(["a", "b", "a"], dtype=object),  # object strings
        pd.Series(["a", "b", "a"], dtype="category"),
        pd.Series([], dtype="str"),
        pd.Series(["only"], dtype="str"),
        pd.Series([None, None], dtype="str"),
        pd.Series(["", ""], dtype="str"),
        pd.Series(["中文1", "中文2", "中文1"], dtype="str"),  # multi-byte UTF-8, fixed byte width
    ],
)
def test_other_inputs_match_pandas(values):
    _same_as_pandas(values)


def test_arrow_dtype_and_sliced_and_chunked_arrays():
    arr = pa.chunked_array([["K01", "K02"], ["K01", "K03"]], type=pa.large_string())
    _same_as_pandas(pd.Series(arr, dtype=pd.ArrowDtype(pa.large_string())))
    s = pd.Series(["Z9", "Z1", "Z2", "Z1"], dtype="str").iloc[1:]  # offset into the buffer
    _same_as_pandas(s)
    _same_as_pandas(pd.Index(["P1", "P2", "P1"], dtype="str"))


def test_unique_ids_in_and_out_of_order():
    n = 50_000
    ids = pd.Series([f"O{i:09d}" for i in range(n)], dtype="str")
    assert keys.is_unique(ids)
    shuffled = ids.sample(frac=1.0, random_state=0)
    assert keys.is_unique(shuffled)
    assert not keys.is_unique(pd.concat([shuffled, ids.iloc[[123]]]))


def test_rejects_non_pandas_input():
    with pytest.raises(ValueError, match="values must be a pandas Series or Index"):
        keys.factorize(["a", "b"])
    with pytest.raises(ValueError, match="values must be a pandas Series or Index"):
        keys.is_unique(np.array(["a"]))


_ID = st.text(alphabet="AB0123456789", min_size=4, max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_ID, st.none()), max_size=60), st.sampled_from(["", "C", "SKU-"]))
def test_property_same_codes_and_uniques_as_pandas(ids, prefix):
    s = pd.Series([None if i is None else prefix + i for i in ids], dtype="str")
    _same_as_pandas(s)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10**18 - 1), min_size=1, max_size=40))
def test_property_long_numeric_ids(nums):
    s = pd.Series([f"T{n:018d}" for n in nums], dtype="str")
    _same_as_pandas(s)
    k, _ = keys.integer_keys(s)
    assert (np.argsort(k, kind="stable") == np.argsort(np.array(nums), kind="stable")).all()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="A0\x00é", min_size=3, max_size=3), max_size=30), st.booleans())
def test_property_is_unique_on_sorted_ids(ids, sliced):
    """Ids exported in order take the byte-compare path: equal to pandas, NUL bytes and
    multi-byte characters included, also for a slice starting inside the buffer."""
    s = pd.Series(sorted(ids), dtype="str")
    if sliced:
        s = s.iloc[1:]
    assert keys.is_unique(s) == s.is_unique
    assert keys._strictly_increasing_fixed_width(s) <= s.is_unique  # True only when distinct
