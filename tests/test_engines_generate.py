"""`ecomlab generate` at any scale: sharded (memory-bounded) writing and the partitioned layout."""

from __future__ import annotations

import pandas as pd
import pyarrow.dataset as pads
import pytest

from ecomlab import engines
from ecomlab.cli import main
from ecomlab.simulate import generate, write_world_chunked


def test_one_shard_is_the_usual_world(tmp_path) -> None:
    done = write_world_chunked(tmp_path, scale=0.05, seed=9, layout="files")
    assert done["shards"] == 1
    ref = generate(scale=0.05, seed=9)
    got = pd.read_parquet(tmp_path / "orders.parquet")
    pd.testing.assert_frame_equal(got, ref["orders"].reset_index(drop=True), check_dtype=False,
                                  check_categorical=False)
    assert (tmp_path / "truth.json").is_file()


def test_shards_have_unique_fixed_width_ids_and_partitions(tmp_path) -> None:
    done = write_world_chunked(tmp_path, scale=0.09, seed=2, layout="partitioned", shard_scale=0.03)
    assert done["shards"] == 3 and done["shard_scale"] == pytest.approx(0.03)
    orders = pd.read_parquet(tmp_path / "orders")
    events = pads.dataset(tmp_path / "events", partitioning="hive").to_table(columns=["session_id", "day"])
    assert orders["order_id"].is_unique and len(orders) == done["rows"]["orders"]
    assert orders["order_id"].str.len().nunique() == 1 and orders["customer_id"].str.startswith("C00").all()
    assert events.num_rows == done["rows"]["events"]
    days = sorted({p.name for p in (tmp_path / "events").iterdir()})
    assert days[0].startswith("day=2025-10-31") and "day=2025-11-15" in days
    assert orders["customer_id"].str.slice(1, 4).nunique() == 3  # the shard tag after the prefix
    assert not (tmp_path / "products.parquet").exists()  # catalogues would repeat per shard
    assert (tmp_path / "truth_shards.json").is_file()


def test_cli_generate_partitioned_and_sharded(tmp_path, capsys) -> None:
    out = tmp_path / "w"
    assert main(["generate", "--scale", "0.04", "--seed", "3", "--out", str(out), "--layout", "partitioned",
                 "--shard-scale", "0.02"]) == 0
    msg = capsys.readouterr().out
    assert "2 shard(s) of scale 0.02" in msg and "partitioned" in msg
    r = engines.compute("funnel", out, mode="strict")
    assert r["units"].iloc[0] > 0


def test_bad_layout_and_scale(tmp_path) -> None:
    with pytest.raises(ValueError, match="layout must be"):
        write_world_chunked(tmp_path, scale=1, layout="csv")
    with pytest.raises(ValueError, match="scale must be a number > 0"):
        write_world_chunked(tmp_path, scale=0)
