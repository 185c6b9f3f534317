"""With an engine, a report's optional tables stay on disk like its required ones (issue 18:
the 7.9M-row customers table of a 100M-event world was read into memory by the cohorts
report, which never used it there); a section takes the few columns it needs with
``LoadedData.table``, typed as the pandas path types them."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from ecomlab import datasets, reports


def _world(tmp_path, customers: str = "parquet"):
    """A folder with the bundled orders and the customers as a file, a CSV or a folder of parts."""
    for name in ("orders",):
        shutil.copy(datasets.data_path() / f"{name}.parquet", tmp_path / f"{name}.parquet")
    cust = datasets.load("customers")
    if customers == "parquet":
        cust.to_parquet(tmp_path / "customers.parquet", index=False)
    elif customers == "csv":
        cust.to_csv(tmp_path / "customers.csv", index=False)
    else:  # a folder of two parts
        (tmp_path / "customers").mkdir()
        half = len(cust) // 2
        cust.iloc[:half].to_parquet(tmp_path / "customers" / "part-0.parquet", index=False)
        cust.iloc[half:].to_parquet(tmp_path / "customers" / "part-1.parquet", index=False)
    return cust


@pytest.mark.parametrize("name", ["cohorts", "rfm"])
def test_engine_load_leaves_optional_tables_on_disk_without_reading_them(name, monkeypatch) -> None:
    def refuse(*a, **k):
        raise AssertionError(f"datasets.load called with {a}: an optional table was read into memory")

    monkeypatch.setattr(datasets, "load", refuse)
    loaded = reports.load(name, engine="duckdb")
    assert loaded.tables == {}
    assert loaded.on_disk["customers"][0] == pd.read_parquet(datasets.data_path() / "customers.parquet").shape[0]
    assert set(reports.CONTRACTS[name].optional["customers"]) <= set(loaded.on_disk["customers"][1])
    assert all(why is None for why in loaded.sections.values())
    assert "customers:" in str(loaded) and "(left on disk)" in str(loaded).split("customers:")[1].splitlines()[0]


def test_validate_says_the_optional_table_is_left_on_disk() -> None:
    text = str(reports.validate(None, "cohorts", engine="duckdb"))
    line = next(x for x in text.splitlines() if "optional  customers" in x)
    assert "(left on disk)" in line


@pytest.mark.parametrize("layout", ["parquet", "csv", "folder"])
def test_table_reads_the_columns_from_disk_typed_as_the_pandas_path(layout, tmp_path) -> None:
    cust = _world(tmp_path, layout)
    cols = ["customer_id", "acquisition_channel"]
    on_engine = reports.load("rfm", tmp_path, engine="duckdb")
    assert "customers" not in on_engine.tables
    got = on_engine.table("customers", cols)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), cust[cols].reset_index(drop=True))
    if layout == "folder":  # a folder of parts is an engine layout; the pandas path reads files
        assert "customers" not in reports.load("rfm", tmp_path).tables
        return
    on_pandas = reports.load("rfm", tmp_path)
    pd.testing.assert_frame_equal(on_pandas.table("customers", cols), on_pandas.tables["customers"][cols])


def test_table_without_the_optional_table_or_a_column_names_them(tmp_path) -> None:
    shutil.copy(datasets.data_path() / "orders.parquet", tmp_path / "orders.parquet")
    loaded = reports.load("cohorts", tmp_path, engine="duckdb")
    assert "customers" not in loaded.on_disk
    assert loaded.sections["Retention by acquisition channel"] is not None  # skipped, with its reason
    with pytest.raises(ValueError, match="'customers' is neither loaded nor left on disk"):
        loaded.table("customers", ["customer_id"])
    _world(tmp_path)
    loaded = reports.load("cohorts", tmp_path, engine="duckdb")
    with pytest.raises(ValueError, match=r"'customers' lacks columns \['no_such_column'\]"):
        loaded.table("customers", ["customer_id", "no_such_column"])


def test_an_optional_table_lacking_a_contract_column_is_noted_and_its_section_skipped(tmp_path) -> None:
    shutil.copy(datasets.data_path() / "orders.parquet", tmp_path / "orders.parquet")
    datasets.load("customers").drop(columns="acquisition_channel").to_parquet(tmp_path / "customers.parquet")
    loaded = reports.load("cohorts", tmp_path, engine="duckdb")
    assert "customers" not in loaded.on_disk
    assert any("customers lacks ['acquisition_channel']" in n for n in loaded.notes)
    assert loaded.sections["Retention by acquisition channel"] is not None
