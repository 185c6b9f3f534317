"""The loader: typed columns (never object), errors, data_dir, any working directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ecomlab import datasets, schema


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return datasets.load_all()


def test_every_table_listed_and_loads(tables):
    assert datasets.list_datasets() == list(schema.TABLES)
    assert len(tables) == 16
    for name, df in tables.items():
        assert len(df) > 0, name


@pytest.mark.parametrize("name", list(schema.TABLES))
def test_no_object_columns_and_declared_dtypes(tables, name):
    """Like ISLP's dataset test: no column of any table comes back as `object`."""
    df = tables[name]
    spec = schema.table(name)
    assert list(df.columns) == spec.column_names
    for col in spec.columns:
        dt = df[col.name].dtype
        assert not pd.api.types.is_object_dtype(dt), f"{name}.{col.name} is object"
        if col.dtype == "string":
            assert isinstance(dt, pd.StringDtype), (name, col.name, dt)
        elif col.dtype in ("category", "ordered"):
            assert isinstance(dt, pd.CategoricalDtype)
            assert list(dt.categories) == list(col.categories)
            assert dt.ordered == (col.dtype == "ordered")
        elif col.dtype in ("date", "datetime"):
            assert str(dt) == "datetime64[us]"
            if col.dtype == "date":
                s = df[col.name].dropna()
                assert (s == s.dt.normalize()).all(), f"{name}.{col.name} has times"
        elif col.dtype == "int":
            assert str(dt) == "int64"
        elif col.dtype == "float":
            assert str(dt) == "float64"
        elif col.dtype == "bool":
            assert str(dt) == "bool"
        if not col.nullable:
            assert not df[col.name].isna().any(), f"{name}.{col.name} has missing values"


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown table 'order'.*orders"):
        datasets.load("order")


def test_data_dir_missing_table_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"orders\.parquet"):
        datasets.load("orders", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        datasets.load("orders", data_dir=tmp_path / "nope")


def test_load_from_data_dir_parquet_and_csv(tmp_path, tables):
    tables["products"].to_parquet(tmp_path / "products.parquet")
    tables["returns"].to_csv(tmp_path / "returns.csv", index=False)
    p = datasets.load("products", data_dir=tmp_path)
    pd.testing.assert_frame_equal(p, tables["products"])
    r = datasets.load("returns", data_dir=tmp_path)
    assert r.dtypes.equals(tables["returns"].dtypes)
    pd.testing.assert_frame_equal(r, tables["returns"], check_exact=False)


def test_bad_category_value_is_an_error(tmp_path, tables):
    bad = tables["products"].copy()
    bad["category"] = bad["category"].astype(str)
    bad.loc[0, "category"] = "garden"
    bad.to_csv(tmp_path / "products.csv", index=False)
    with pytest.raises(ValueError, match=r"products\.category: unexpected values \['garden'\]"):
        datasets.load("products", data_dir=tmp_path)


def test_missing_column_is_an_error(tmp_path, tables):
    tables["products"].drop(columns="unit_cost").to_csv(tmp_path / "products.csv", index=False)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['unit_cost'\]"):
        datasets.load("products", data_dir=tmp_path)


def test_works_from_any_working_directory(tmp_path):
    code = "from ecomlab import datasets; print(len(datasets.load('products')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "300"


def test_describe_and_truth():
    text = datasets.describe("orders")
    assert text.startswith("## orders")
    for col in schema.table("orders").column_names:
        assert f"`{col}`" in text
    t = datasets.truth()
    for key in ("personas", "bgnbd", "elasticity", "promo_lift", "stockouts", "channels", "ctr_by_rank",
                "funnel", "incident", "experiments", "coupon_uplift", "fan_group_effect", "returns", "market",
                "blemishes", "programme"):
        assert key in t, key
    with pytest.raises(ValueError, match="unknown table"):
        datasets.describe("nope")


def test_data_card_is_rendered_from_schema_and_data(tables):
    """The committed data card is exactly what the schema and the data render to."""
    card = (datasets.data_path() / "README.md").read_text(encoding="utf-8")
    assert card == datasets.render_data_card(tables, datasets.truth())


def test_bundled_size_within_budget():
    total = sum(p.stat().st_size for p in Path(datasets.data_path()).iterdir())
    assert total <= 25 * 1024 * 1024
