"""Tests for the ecomlab command line (argument validation and the real commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomlab.cli import main


def _generate(out: Path, *extra: str, scale: str = "0.02", seed: str = "7") -> list[str]:
    return ["generate", "--scale", scale, "--seed", seed, "--out", str(out), *extra]


@pytest.mark.parametrize("scale", ["0", "-1", "abc", "nan", "inf"])
def test_generate_rejects_non_positive_scale(scale, tmp_path, capsys) -> None:
    assert main(_generate(tmp_path / "w", scale=scale)) == 2
    err = capsys.readouterr().err
    assert "--scale" in err and "positive number" in err
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("seed", ["1.5", "-3", "seven"])
def test_generate_rejects_bad_seed(seed, tmp_path, capsys) -> None:
    assert main(_generate(tmp_path / "w", seed=seed)) == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "non-negative integer" in err


def test_generate_refuses_non_empty_dir_without_force(tmp_path, capsys) -> None:
    out = tmp_path / "world"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(_generate(out)) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_generate_refuses_a_file_as_out(tmp_path, capsys) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert main(_generate(target)) == 2
    assert "not a folder" in capsys.readouterr().err


def test_generate_requires_its_options(capsys) -> None:
    assert main(["generate", "--scale", "1"]) == 2
    assert "required" in capsys.readouterr().err


def test_no_command_is_a_usage_error(capsys) -> None:
    assert main([]) == 2


def test_help_exits_zero(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("run", "site", "generate", "datasets"):
        assert command in out


def test_run_rejects_missing_notebook(tmp_path, capsys) -> None:
    assert main(["run", str(tmp_path / "nope.ipynb")]) == 2
    assert "not found" in capsys.readouterr().err


def test_site_without_notebooks_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["site", "--src", str(tmp_path / "none"), "--out", str(tmp_path / "s")]) == 2
    assert "ecomlab run" in capsys.readouterr().err


@pytest.mark.slow
def test_generate_writes_a_tiny_world(tmp_path, capsys) -> None:
    """Really runs the generator at 2% scale (needs ecomlab.simulate.write_world)."""
    out = tmp_path / "tiny"
    assert main(_generate(out, scale="0.02", seed="11")) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert written, f"no parquet tables written to {out}"
    assert "written to" in capsys.readouterr().out
    # a second run into the now non-empty folder needs --force
    assert main(_generate(out, scale="0.02", seed="11")) == 2


def test_datasets_lists_bundled_tables(capsys) -> None:
    """Prints name, rows and description for every bundled table."""
    from ecomlab import datasets

    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "rows", "description"]
    listed = {line.split()[0] for line in lines[1:]}
    assert listed == set(datasets.list_datasets())


def test_datasets_with_missing_data_dir_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["datasets", "--data-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "ecomlab datasets: error" in err and "nowhere" in err
