"""The ``ecomlab`` command line.

Subcommands::

    ecomlab run [--in-place] [--out DIR] [NOTEBOOK ...]   execute the course notebooks
    ecomlab site [--src DIR] [--out DIR]                 build the static HTML site
    ecomlab generate --scale K --seed S --out DIR        write a Nestwell world
    ecomlab datasets [--data-dir DIR]                    list the bundled tables

Example
-------
>>> from ecomlab.cli import main
>>> main(["generate", "--scale", "0", "--seed", "1", "--out", "x"])  # doctest: +SKIP
2
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from ecomlab import __version__


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a non-negative integer, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the ``ecomlab`` argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="ecomlab",
        description="EcomLab: run the e-commerce operations course, build its site, "
        "generate Nestwell data.",
    )
    parser.add_argument("--version", action="version", version=f"ecomlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="execute the course notebooks with papermill")
    run.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="only these notebooks")
    run.add_argument("--in-place", action="store_true",
                     help="overwrite the committed notebooks with fresh outputs")
    run.add_argument("--out", default="build/notebooks", metavar="DIR",
                     help="folder for executed copies (default: build/notebooks)")
    run.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                     help="notebooks run at once (default: number of CPUs, at most 4)")
    run.add_argument("--timeout", type=_positive_number, default=120, metavar="SECONDS",
                     help="per-cell timeout (default: 120)")
    run.set_defaults(func=_cmd_run)

    site = sub.add_parser("site", help="convert executed notebooks to a static HTML site")
    site.add_argument("--src", default="build/notebooks", metavar="DIR",
                      help="executed notebooks (default: build/notebooks)")
    site.add_argument("--out", default="build/site", metavar="DIR",
                      help="site folder (default: build/site)")
    site.set_defaults(func=_cmd_site)

    gen = sub.add_parser("generate", help="write a Nestwell world at another scale or seed")
    gen.add_argument("--scale", type=_positive_number, required=True, metavar="K",
                     help="multiplier on customers/visitors (1 = bundled size)")
    gen.add_argument("--seed", type=_non_negative_int, required=True, metavar="S",
                     help="random seed (non-negative integer)")
    gen.add_argument("--out", required=True, metavar="DIR", help="output folder")
    gen.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    gen.set_defaults(func=_cmd_generate)

    ds = sub.add_parser("datasets", help="list the bundled tables with row counts")
    ds.add_argument("--data-dir", default=None, metavar="DIR",
                    help="a Nestwell folder (default: the bundled data)")
    ds.set_defaults(func=_cmd_datasets)

    st = sub.add_parser("student", help="build the student edition (solutions stripped)")
    st.add_argument("--src", default="notebooks", metavar="DIR", help="solution notebooks (default: notebooks)")
    st.add_argument("--out", default="build/student", metavar="DIR", help="output folder (default: build/student)")
    st.set_defaults(func=_cmd_student)

    gr = sub.add_parser("grade", help="execute returned notebooks and write per-question scores to CSV")
    gr.add_argument("returned", metavar="DIR", help="folder of returned student notebooks")
    gr.add_argument("--out", default="grades.csv", metavar="CSV", help="output CSV (default: grades.csv)")
    gr.set_defaults(func=_cmd_grade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ecomlab`` command; return the exit code (2 for usage errors).

    Example
    -------
    >>> main(["--version"])  # doctest: +SKIP
    ecomlab 0.1.0
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse exits on --help and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    return int(args.func(args, parser) or 0)


def _cmd_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ecomlab.notebooks import run_course

    try:
        results = run_course(out_dir=args.out, in_place=args.in_place,
                             notebooks=args.notebooks or None, timeout=args.timeout, jobs=args.jobs)
    except ValueError as exc:
        print(f"ecomlab run: error: {exc}", file=sys.stderr)
        return 2
    return 1 if any(not r.ok for r in results) else 0


def _cmd_site(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ecomlab.notebooks import build_site

    try:
        index = build_site(src=args.src, out=args.out)
    except ValueError as exc:
        print(f"ecomlab site: error: {exc}", file=sys.stderr)
        return 2
    print(f"site written: {index}")
    return 0


def _cmd_generate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"ecomlab generate: error: --out {str(out)!r} is a file, not a folder",
              file=sys.stderr)
        return 2
    if out.is_dir() and any(out.iterdir()) and not args.force:
        print(f"ecomlab generate: error: --out {str(out)!r} is not empty; "
              "pass --force to write into it", file=sys.stderr)
        return 2
    from ecomlab.simulate import write_world

    out.mkdir(parents=True, exist_ok=True)
    write_world(out, scale=args.scale, seed=args.seed, progress=True)
    print(f"Nestwell world (scale={args.scale:g}, seed={args.seed}) written to {out}")
    return 0


def _cmd_datasets(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import pyarrow.parquet as pq

    from ecomlab import datasets
    from ecomlab.schema import TABLES

    rows: list[tuple[str, str, str]] = []
    try:
        for name in datasets.list_datasets():
            path = Path(datasets.table_path(name, args.data_dir))
            if path.suffix == ".parquet":
                n = pq.ParquetFile(path).metadata.num_rows
            else:
                n = len(datasets.load(name, args.data_dir))
            table = TABLES.get(name)
            rows.append((name, f"{n:,}", table.description if table else ""))
    except FileNotFoundError as exc:
        print(f"ecomlab datasets: error: {exc}", file=sys.stderr)
        return 2
    if not rows:
        print("no datasets found", file=sys.stderr)
        return 1
    w_name = max(len("name"), *(len(r[0]) for r in rows))
    w_rows = max(len("rows"), *(len(r[1]) for r in rows))
    print(f"{'name':<{w_name}}  {'rows':>{w_rows}}  description")
    for name, n, desc in rows:
        print(f"{name:<{w_name}}  {n:>{w_rows}}  {desc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _cmd_student(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ecomlab.trainer import build_student_edition

    try:
        written = build_student_edition(args.src, args.out)
    except ValueError as exc:
        print(f"ecomlab student: error: {exc}", file=sys.stderr)
        return 2
    print(f"student edition: {len(written)} notebooks written to {args.out}")
    return 0


def _cmd_grade(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ecomlab.trainer import grade

    try:
        df = grade(args.returned, args.out)
    except ValueError as exc:
        print(f"ecomlab grade: error: {exc}", file=sys.stderr)
        return 2
    if len(df):
        summary = df.groupby("notebook")["score"].sum()
        for nb, score in summary.items():
            n_q = int((df["notebook"] == nb).sum())
            print(f"{nb}: {score}/{n_q}")
    print(f"grades written: {args.out}")
    return 0
