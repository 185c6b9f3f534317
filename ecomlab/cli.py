"""The ``ecomlab`` command line.

Subcommands::

    ecomlab run [--in-place] [--out DIR] [NOTEBOOK ...]   execute the course notebooks
    ecomlab site [--src DIR] [--out DIR] [--reports DIR] build the static HTML site
    ecomlab generate --scale K --seed S --out DIR        write a Nestwell world
        [--layout files|partitioned] [--shard-scale S]   (any scale: sharded, memory-bounded)
    ecomlab datasets [--data-dir DIR]                    list the bundled tables
    ecomlab student [--src DIR] [--out DIR]              the student edition
    ecomlab grade DIR --lesson NB [--out CSV] [-j N]     grade returned notebooks
    ecomlab nbgrader-stamp PATH ...                      nbgrader metadata on lessons
    ecomlab validate DATA --template NAME [--engine E]   what a report template will run on DATA
    ecomlab report NAME [--data PATH] [--engine E] --out HTML  a template's standalone report
        (E: pandas, or duckdb / spark on a folder left on disk, hive-partitioned too)

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
    run.add_argument("--timeout", type=_positive_number, default=600, metavar="SECONDS",
                     help="per-cell timeout (default: 600): a guard against a hung cell, not a speed "
                          "target (a lesson runs in seconds; a loaded 2-core machine slowed 03-1's "
                          "bootstrap cell past 120 s)")
    run.set_defaults(func=_cmd_run)

    site = sub.add_parser("site", help="convert executed notebooks to a static HTML site")
    site.add_argument("--src", default="build/notebooks", metavar="DIR",
                      help="executed notebooks (default: build/notebooks)")
    site.add_argument("--out", default="build/site", metavar="DIR",
                      help="site folder (default: build/site)")
    site.add_argument("--reports", default="build/reports", metavar="DIR",
                      help="HTML reports to publish too, if the folder exists (default: build/reports)")
    site.set_defaults(func=_cmd_site)

    gen = sub.add_parser("generate", help="write a Nestwell world at another scale or seed")
    gen.add_argument("--scale", type=_positive_number, required=True, metavar="K",
                     help="multiplier on customers/visitors (1 = bundled size)")
    gen.add_argument("--seed", type=_non_negative_int, required=True, metavar="S",
                     help="random seed (non-negative integer)")
    gen.add_argument("--out", required=True, metavar="DIR", help="output folder")
    gen.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    gen.add_argument("--layout", choices=("files", "partitioned"), default="files",
                     help="files: one NAME.parquet per table (default); partitioned: hive folders "
                          "events/day=YYYY-MM-DD/ and orders/month=YYYY-MM/")
    gen.add_argument("--shard-scale", type=_positive_number, default=None, metavar="S",
                     help="generate in shards of at most this scale to bound memory (default 20: "
                          "a larger --scale is always sharded, peak ~3 GB whatever the scale)")
    gen.set_defaults(func=_cmd_generate)

    ds = sub.add_parser("datasets", help="list the bundled tables with row counts")
    ds.add_argument("--data-dir", default=None, metavar="DIR",
                    help="a Nestwell folder (default: the bundled data)")
    ds.set_defaults(func=_cmd_datasets)

    st = sub.add_parser("student", help="build the student edition (solutions stripped)")
    st.add_argument("--src", default="notebooks", metavar="DIR", help="solution notebooks (default: notebooks)")
    st.add_argument("--out", default="build/student", metavar="DIR", help="output folder (default: build/student)")
    st.set_defaults(func=_cmd_student)

    gr = sub.add_parser("grade", help="grade returned notebooks in sandboxes into a gradebook CSV")
    gr.add_argument("returned", metavar="DIR", help="folder of returned student notebooks")
    gr.add_argument("--out", default="grades.csv", metavar="CSV",
                    help="gradebook CSV, appended as each notebook finishes; an existing one is "
                    "resumed (default: grades.csv)")
    gr.add_argument("--lesson", metavar="NOTEBOOK",
                    help="the solution notebook: the questions it checks are the expected ones")
    gr.add_argument("--bank", action="append", default=[], metavar="NAME",
                    help="or a question bank (e.g. ch04_rfm): all its questions; repeatable")
    gr.add_argument("--timeout", type=_positive_number, default=600, metavar="SECONDS",
                    help="whole-notebook time limit (default: 600)")
    gr.add_argument("--memory", type=int, default=4096, metavar="MB",
                    help="memory (address-space) limit per notebook in MiB (default: 4096)")
    gr.add_argument("--max-output", type=_positive_number, default=20, metavar="MB",
                    help="output cap per notebook in MB (default: 20)")
    gr.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                    help="notebooks graded at once (default: 1)")
    gr.add_argument("--no-landlock", action="store_true",
                    help="do not confine runs with Landlock (only for debugging)")
    gr.set_defaults(func=_cmd_grade)

    ns = sub.add_parser("nbgrader-stamp",
                        help="add nbgrader cell metadata to solution notebooks (in place)")
    ns.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of notebooks")
    ns.set_defaults(func=_cmd_nbgrader_stamp)

    va = sub.add_parser("validate", help="say what a report template will run on your data")
    va.add_argument("data", metavar="DATA", help="an orders export file or a folder of tables")
    va.add_argument("--template", required=True, metavar="NAME", help="template name, e.g. rfm")
    va.add_argument("--preset", default=None, help="shopify, tmall, taobao or generic (export files)")
    va.add_argument("--timezone", default=None, help="the shop's IANA time zone, e.g. Asia/Shanghai")
    va.add_argument("--currency", default=None, help="ISO currency code of the amounts, e.g. CNY")
    va.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="a template parameter used in reading, e.g. --param unit_col=user (repeatable)")
    va.add_argument("--engine", default="pandas", choices=("pandas", "duckdb", "spark"),
                    help="where the template computes: pandas (default) or, for a folder of tables left on "
                         "disk (a hive-partitioned Parquet folder too), duckdb or spark")
    va.set_defaults(func=_cmd_validate)

    rp = sub.add_parser("report", help="run a report template on your data into a standalone HTML")
    rp.add_argument("name", metavar="NAME", help="template name, e.g. rfm")
    rp.add_argument("--data", default=None, help="an orders export file or a folder of tables "
                    "(default: the bundled Nestwell data)")
    rp.add_argument("--preset", default=None, help="shopify, tmall, taobao or generic (export files)")
    rp.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="a template parameter, e.g. --param as_of=2025-12-31 (repeatable)")
    rp.add_argument("--timezone", default=None, help="the shop's IANA time zone, e.g. Asia/Shanghai")
    rp.add_argument("--currency", default=None, help="ISO currency code of the amounts, e.g. CNY")
    rp.add_argument("--engine", default="pandas", choices=("pandas", "duckdb", "spark"),
                    help="where the template computes: pandas (default) or, for a folder of tables left on "
                         "disk (a hive-partitioned Parquet folder too), duckdb or spark")
    rp.add_argument("--out", required=True, help="the HTML report to write")
    rp.set_defaults(func=_cmd_report)
    return parser


def _params(items: Sequence[str], command: str) -> dict[str, str] | None:
    """``--param KEY=VALUE`` items as a dict; None (after printing the error) if one is malformed."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            print(f"ecomlab {command}: error: --param must be KEY=VALUE, got {item!r}", file=sys.stderr)
            return None
        params[key.strip()] = value
    return params


def _cmd_validate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ecomlab import reports

    params = _params(args.param, "validate")
    if params is None:
        return 2
    try:
        options = reports.load_options(args.template, params)
        options.update({k: getattr(args, k) for k in ("timezone", "currency") if getattr(args, k) is not None})
        result = reports.validate(args.data, args.template, preset=args.preset, engine=args.engine, **options)
    except ValueError as exc:
        print(f"ecomlab validate: error: {exc}", file=sys.stderr)
        return 2
    print(result)
    return 0 if result.ok else 1


def _cmd_report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ecomlab import reports

    params = _params(args.param, "report")
    if params is None:
        return 2
    for key in ("timezone", "currency"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    try:
        reports.render(args.name, args.out, data=args.data, preset=args.preset, params=params,
                       engine=args.engine)
    except ValueError as exc:
        print(f"ecomlab report: error: {exc}", file=sys.stderr)
        return 2
    return 0


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
    from ecomlab.site import build_site, summary

    try:
        index = build_site(src=args.src, out=args.out, reports=args.reports)
    except ValueError as exc:
        print(f"ecomlab site: error: {exc}", file=sys.stderr)
        return 2
    done = summary(args.out)
    print(f"site written: {index} ({done['pages']} pages, {done['report_pages']} reports, "
          f"{done['solution_cells_folded']} solutions folded, {done['results_cells_hidden']} results "
          f"cells hidden, CJK font {done['font_bytes'] / 1024:.0f} KB)")
    for link in done["links_to_missing_pages"]:
        print(f"ecomlab site: warning: link to a page that does not exist: {link}", file=sys.stderr)
    for load in done["report_external_loads"]:
        print(f"ecomlab site: warning: a report loads from outside the site: {load}", file=sys.stderr)
    if done["characters_missing_from_font"]:
        print("ecomlab site: warning: no glyph in the CJK font for "
              f"{done['characters_missing_from_font']!r}", file=sys.stderr)
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
    from ecomlab.simulate import SHARD_SCALE, write_world, write_world_chunked

    out.mkdir(parents=True, exist_ok=True)
    shard_scale = args.shard_scale or SHARD_SCALE
    if args.layout == "files" and args.scale <= shard_scale:
        write_world(out, scale=args.scale, seed=args.seed, progress=True)
        print(f"Nestwell world (scale={args.scale:g}, seed={args.seed}) written to {out}")
        return 0
    done = write_world_chunked(out, scale=args.scale, seed=args.seed, layout=args.layout,
                               shard_scale=shard_scale, progress=lambda msg: print(msg, flush=True))
    rows = ", ".join(f"{k} {v:,}" for k, v in done["rows"].items())
    print(f"Nestwell world (scale={args.scale:g}, seed={args.seed}, {args.layout}) written to {out} "
          f"in {done['shards']} shard(s) of scale {done['shard_scale']:g}: {rows}")
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
        report = grade(args.returned, args.out, lesson=args.lesson, banks=args.bank,
                       timeout=args.timeout, memory_mb=args.memory, output_mb=args.max_output,
                       jobs=args.jobs, landlock=not args.no_landlock,
                       progress=lambda line: print(line, flush=True))
    except ValueError as exc:
        print(f"ecomlab grade: error: {exc}", file=sys.stderr)
        return 2
    if report.landlock < 1 and report.graded and not args.no_landlock:
        print("warning: Landlock is not available on this system: runs were not confined to "
              "their folders; grade inside a container (see docs/trainers.md)", file=sys.stderr)
    print(f"{report.graded} graded, {report.skipped} already in the gradebook")
    print(f"gradebook: {report.paths['gradebook']}\nsummary: {report.paths['summary']}\n"
          f"feedback: {report.paths['feedback']}")
    return 0


def _cmd_nbgrader_stamp(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ecomlab.trainer.nbgrader import stamp_paths

    try:
        changed = stamp_paths(args.paths)
    except ValueError as exc:
        print(f"ecomlab nbgrader-stamp: error: {exc}", file=sys.stderr)
        return 2
    for path, n in changed:
        print(f"{path}: {n} graded question(s)")
    return 0
