"""The core metrics on DuckDB and Spark from files on disk vs hand-written DuckDB SQL, and
the pandas helpers until they stop fitting (issue 18; DESIGN §9). Not part of `make test`.

Data: a Nestwell world written with the memory-bounded generator in the partitioned
layout (``events/day=.../``, ``orders/month=.../``), e.g. 100M events:

    ecomlab generate --scale 263 --seed 20251111 --out /tmp/ecomlab_bench/world --layout partitioned
    python benchmarks/bench_engines.py --data /tmp/ecomlab_bench/world                 # DuckDB vs SQL
    python benchmarks/bench_engines.py --data /tmp/ecomlab_bench/world --engines spark
    python benchmarks/bench_engines.py --data /tmp/ecomlab_bench/world --engines pandas --shards 2

Every measurement runs in a fresh subprocess; its peak memory is the largest resident set
of the process tree (Python + DuckDB in-process, or Python + Spark's JVM), sampled every
50 ms from /proc. DuckDB runs with ``memory_limit=3GB`` (it spills beyond that). Timings are
the best of ``--rounds`` rounds with the contenders interleaved (``benchmarks/timing.py``).
``--shards N`` keeps only the first N generator shards (a smaller world from the same files)
to find where pandas stops fitting.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

METRICS = [
    ("rfm", {}),
    ("cohort_matrix", {}),
    ("rfm_summary", {"calibration_end": "2025-10-01"}),
    ("funnel_strict", {"mode": "strict"}),
    ("funnel_loose", {"mode": "loose"}),
    ("daily_kpis", {"start": "2025-11-01", "end": "2025-12-01", "on_inconsistent": "warn"}),
    ("repurchase_rate", {"start": "2025-01-01", "end": "2025-07-01"}),
    ("return_purchase_rate", {"period1": ["2025-01-01", "2025-04-01"], "period2": ["2025-04-01", "2025-07-01"]}),
    # the cohorts template's own metrics
    ("second_purchase", {}),
    ("orders_overview", {}),
    ("cohort_by", {"metric": "customers", "by": "acquisition_channel", "end": "2025-12-01"}),
]

# What an analyst would write by hand in DuckDB, reading the same files (no validation,
# no exclusion counts): the baseline of the "within 1.5x" target.
HAND_SQL = {
    "rfm": """
        WITH c AS (SELECT customer_id, date_diff('day', max(order_ts)::DATE, DATE '2026-01-01') AS r,
                          count(*) AS f, sum(paid_amount) AS m
                   FROM {orders} WHERE status = 'completed' GROUP BY customer_id)
        SELECT customer_id, r, f, m, (r < avg(r) OVER ())::INT AS rh, (f > avg(f) OVER ())::INT AS fh,
               (m > avg(m) OVER ())::INT AS mh FROM c""",
    "cohort_matrix": """
        WITH o AS (SELECT customer_id, date_trunc('month', order_ts) AS mo FROM {orders} WHERE status = 'completed'),
             f AS (SELECT customer_id, min(mo) AS c FROM o GROUP BY customer_id)
        SELECT f.c, date_diff('month', f.c, o.mo) AS k, count(DISTINCT o.customer_id) AS n,
               any_value(s.size) AS size
        FROM o JOIN f USING (customer_id) JOIN (SELECT c, count(*) AS size FROM f GROUP BY c) s USING (c)
        GROUP BY 1, 2""",
    "rfm_summary": """
        WITH w AS (SELECT customer_id, date_trunc('week', order_ts) AS wk, sum(paid_amount) AS amt
                   FROM {orders} WHERE status = 'completed' AND order_ts < TIMESTAMP '2025-10-01'
                   GROUP BY 1, 2),
             c AS (SELECT customer_id, count(*) - 1 AS x, date_diff('week', min(wk), max(wk)) AS tx,
                          date_diff('week', min(wk), TIMESTAMP '2025-09-29') AS t, sum(amt) AS total,
                          arg_min(amt, wk) AS first_amt FROM w GROUP BY 1)
        SELECT customer_id, x, tx, t, CASE WHEN x > 0 THEN (total - first_amt) / x ELSE 0 END AS m FROM c""",
    "funnel_strict": """
        WITH e AS (SELECT session_id AS u, ts, event FROM {events} WHERE event IN ('pv', 'cart', 'buy')),
             a AS (SELECT u, min(ts) AS t FROM e WHERE event = 'pv' GROUP BY u),
             b AS (SELECT e.u, min(e.ts) AS t FROM e JOIN a USING (u) WHERE event = 'cart' AND e.ts >= a.t GROUP BY e.u),
             c AS (SELECT e.u, min(e.ts) AS t FROM e JOIN b USING (u) WHERE event = 'buy' AND e.ts >= b.t GROUP BY e.u)
        SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), (SELECT count(*) FROM c)""",
    "funnel_loose": """
        SELECT count(DISTINCT session_id) FILTER (WHERE event = 'pv'),
               count(DISTINCT session_id) FILTER (WHERE event = 'cart'),
               count(DISTINCT session_id) FILTER (WHERE event = 'buy') FROM {events}""",
    "daily_kpis": """
        WITH d AS (SELECT ts::DATE AS day, count(DISTINCT visitor_id) AS uv FROM {events}
                   WHERE ts >= TIMESTAMP '2025-11-01' AND ts < TIMESTAMP '2025-12-01' GROUP BY 1),
             o AS (SELECT order_ts::DATE AS day, count(DISTINCT customer_id) AS buyers, count(*) AS orders,
                          sum(paid_amount) AS gmv FROM {orders} WHERE status IN ('completed', 'refunded') GROUP BY 1)
        SELECT * FROM d LEFT JOIN o USING (day) ORDER BY day""",
    "repurchase_rate": """
        SELECT avg((n >= 2)::INT) FROM (SELECT customer_id, count(*) AS n FROM {orders}
        WHERE status = 'completed' AND order_ts >= TIMESTAMP '2025-01-01' AND order_ts < TIMESTAMP '2025-07-01'
        GROUP BY 1)""",
    "return_purchase_rate": """
        WITH b1 AS (SELECT DISTINCT customer_id FROM {orders} WHERE status = 'completed'
                    AND order_ts >= TIMESTAMP '2025-01-01' AND order_ts < TIMESTAMP '2025-04-01'),
             b2 AS (SELECT DISTINCT customer_id FROM {orders} WHERE status = 'completed'
                    AND order_ts >= TIMESTAMP '2025-04-01' AND order_ts < TIMESTAMP '2025-07-01')
        SELECT count(*), count(b2.customer_id) FROM b1 LEFT JOIN b2 USING (customer_id)""",
    "second_purchase": """
        WITH r AS (SELECT customer_id, order_ts,
                          row_number() OVER (PARTITION BY customer_id ORDER BY order_ts) AS k
                   FROM {orders} WHERE status = 'completed')
        SELECT customer_id, min(order_ts) FILTER (WHERE k = 1) AS first_ts,
               min(order_ts) FILTER (WHERE k = 2) AS second_ts FROM r WHERE k <= 2 GROUP BY customer_id""",
    "orders_overview": """
        SELECT count(*), count(*) FILTER (WHERE status = 'completed'),
               count(DISTINCT customer_id) FILTER (WHERE status = 'completed'), min(order_ts), max(order_ts)
        FROM {orders}""",
    "cohort_by": """
        WITH o AS (SELECT customer_id, date_trunc('month', order_ts) AS mo FROM {orders}
                   WHERE status = 'completed' AND order_ts < TIMESTAMP '2025-12-01'),
             f AS (SELECT customer_id, min(mo) AS c, any_value(ch.acquisition_channel) AS g FROM o
                   JOIN {customers} ch USING (customer_id) GROUP BY customer_id)
        SELECT f.g, f.c, date_diff('month', f.c, o.mo) AS k, count(DISTINCT o.customer_id) AS n
        FROM o JOIN f USING (customer_id) GROUP BY 1, 2, 3""",
}

# The check an analyst needs to give the guarantee the engines' order metrics give by default
# (``check_ids=True``: refuse duplicated order ids): run before the hand-written query in the
# "hand SQL + check" contender, so that both sides do the same work.
ID_CHECK = "SELECT COUNT(*) - COUNT(DISTINCT order_id) AS dup FROM {orders}"
# The same guarantee from an integer decoding of fixed-width ids ('O' + 11 digits): exact
# only when every id has that form, so the query counts the ids that do not (they must be 0
# for the distinct count of the integers to equal the distinct count of the ids).
ID_CHECK_INT = """
    SELECT COUNT(*) - COUNT(DISTINCT TRY_CAST(substr(order_id, 2) AS UBIGINT)) AS dup,
           COUNT(*) FILTER (WHERE NOT regexp_full_match(order_id, 'O[0-9]{{11}}')) AS not_fixed_width
    FROM {orders}"""
CHECKED = ("rfm", "cohort_matrix", "rfm_summary", "second_purchase", "cohort_by")

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    def cpu():  # CPU seconds of this process: DuckDB's threads run in it (Spark's JVM does not)
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    kind, metric, params, data, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
    name = {"funnel_strict": "funnel", "funnel_loose": "funnel", "cohort_by": "cohort_matrix"}.get(metric, metric)
    out = {}
    if kind.startswith("duckdb_sql"):  # hand-written SQL, with the id check first if given
        from ecomlab import engines
        con = engines.duckdb_connection()
        scans = {t: f"read_parquet('{data}/{t}/**/*.parquet', hive_partitioning = true)" for t in ("orders", "events")}
        scans["customers"] = f"read_parquet('{data}/customers.parquet')"
        sql = json.loads(extra)
        c, t = cpu(), time.perf_counter()
        if sql.get("check"):
            chk = con.sql(sql["check"].format(**scans)).df()
            out["check"] = {k: int(v) for k, v in chk.iloc[0].items()}
            out["check_seconds"], out["check_cpu"] = time.perf_counter() - t, cpu() - c
        con.sql(sql["query"].format(**scans)).df()
        out["seconds"], out["cpu"] = time.perf_counter() - t, cpu() - c
    elif kind in ("duckdb", "spark"):
        from ecomlab import engines
        if kind == "spark":
            t = time.perf_counter(); engines.spark_session(); out["startup"] = time.perf_counter() - t
        c, t = cpu(), time.perf_counter()
        engines.compute(name, data, engine=kind, **params)
        out["seconds"], out["cpu"] = time.perf_counter() - t, cpu() - c
    else:  # pandas: read the tables the helper needs, then run it
        import pandas as pd
        from ecomlab import engines
        m = engines.METRICS[name]
        cols = {"orders": ["order_id", "customer_id", "order_ts", "status", "paid_amount"],
                "events": ["session_id", "visitor_id", "ts", "event"]}
        files = json.loads(extra)
        t = time.perf_counter()
        frames = {tb: pd.concat([pd.read_parquet(f, columns=cols[tb]) for f in files[tb]], ignore_index=True)
                  for tb in m.tables}
        if params.get("by"):
            frames["customers"] = pd.read_parquet(files["customers"][0], columns=["customer_id", params["by"]])
        for tb in frames:
            for c in ("order_id", "customer_id", "session_id", "visitor_id"):
                if c in frames[tb]:
                    frames[tb][c] = frames[tb][c].astype("str")
        out["read_seconds"] = time.perf_counter() - t
        c, t = cpu(), time.perf_counter()
        engines.compute(name, None, engine="pandas", frames=frames, **params)
        out["seconds"], out["cpu"] = time.perf_counter() - t, cpu() - c
    print(json.dumps(out))
    """
)


def _tree_rss(pid: int, ticks: dict[int, int] | None = None) -> int:
    """Resident bytes of ``pid`` and its descendants (from /proc); records each one's CPU
    clock ticks (user + system, ``/proc/PID/stat``) in ``ticks`` if given."""
    children: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(p))
            except (OSError, IndexError, ValueError):
                continue
    total, todo = 0, [pid]
    while todo:
        q = todo.pop()
        try:
            with open(f"/proc/{q}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            if ticks is not None:
                with open(f"/proc/{q}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()
                ticks[q] = max(ticks.get(q, 0), int(st[11]) + int(st[12]))
        except (OSError, IndexError, ValueError):
            pass
        todo += children.get(q, [])
    return total


def run_child(kind: str, metric: str, params: dict, data: str, extra: str = "") -> dict:
    """One measurement in a fresh process; adds ``peak_gib`` (process tree, sampled) and
    ``tree_cpu`` (CPU seconds of the whole process tree, start-up included: with Spark the
    JVM's, which the child's own ``cpu`` leaves out; sampled, so up to 50 ms short)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, kind, metric, json.dumps(params), data, extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, ticks = 0, {}
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid, ticks))
        time.sleep(0.05)
    out, err = proc.communicate()
    tree_cpu = sum(ticks.values()) / os.sysconf("SC_CLK_TCK")
    if proc.returncode:
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}",
                "peak_gib": peak / 2**30, "tree_cpu": tree_cpu}
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_gib"], res["tree_cpu"] = peak / 2**30, tree_cpu
    return res


def subset(data: Path, shards: int, out: Path) -> Path:
    """A smaller world: the first ``shards`` generator shards, linked (not copied)."""
    for table in ("orders", "events"):
        for part in (data / table).rglob("*.parquet"):
            if int(part.name.split("-")[1]) < shards:
                dest = out / part.relative_to(data)
                dest.parent.mkdir(parents=True, exist_ok=True)
                if not dest.exists():
                    os.symlink(part, dest)
    if (data / "customers.parquet").exists() and not (out / "customers.parquet").exists():
        os.symlink(data / "customers.parquet", out / "customers.parquet")  # all shards' customers
    return out


def rows(data: Path) -> dict[str, int]:
    import pyarrow.dataset as pads

    return {t: pads.dataset(data / t, partitioning="hive").count_rows() for t in ("orders", "events")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, type=Path, help="a world written with --layout partitioned")
    ap.add_argument("--engines", nargs="+", default=["duckdb"], choices=["duckdb", "spark", "pandas"])
    ap.add_argument("--metrics", nargs="+", default=[m for m, _ in METRICS])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--shards", type=int, default=None, help="use only the first N generator shards")
    ap.add_argument("--no-check-ids", action="store_true",
                    help="check_ids=False for the orders metrics (no duplicate-order_id pass), as the SQL")
    ap.add_argument("--no-hand-check", action="store_true",
                    help="leave out the 'hand SQL + check' contender (the hand query after the id check)")
    ap.add_argument("--int-check", action="store_true",
                    help="add a contender: the hand query after the id check on integer-decoded ids")
    args = ap.parse_args()
    data = args.data
    tmp = None
    if args.shards:
        tmp = tempfile.mkdtemp(prefix="ecomlab_bench_subset_")
        data = subset(args.data, args.shards, Path(tmp))
    n = rows(data)
    print(f"data {args.data} (shards: {args.shards or 'all'}): {n['events']:,} events, {n['orders']:,} orders",
          flush=True)
    files = {t: sorted(str(p) for p in (data / t).rglob("*.parquet")) for t in ("orders", "events")}
    files["customers"] = [str(data / "customers.parquet")]
    print(f"{'metric':<22}{'contender':<18}{'seconds':>9}{'CPU s':>8}{'peak GiB':>10}  notes", flush=True)
    results = []
    for metric, params in METRICS:
        if metric not in args.metrics:
            continue
        if args.no_check_ids and metric in CHECKED:
            params = {**params, "check_ids": False}
        contenders = []
        if "duckdb" in args.engines:
            contenders += [("duckdb", ""), ("duckdb_sql", json.dumps({"query": HAND_SQL[metric]}))]
            if metric in CHECKED and not args.no_check_ids and not args.no_hand_check:
                contenders.append(("duckdb_sql_check", json.dumps({"query": HAND_SQL[metric], "check": ID_CHECK})))
            if metric in CHECKED and not args.no_check_ids and args.int_check:
                contenders.append(("duckdb_sql_int", json.dumps({"query": HAND_SQL[metric], "check": ID_CHECK_INT})))
        if "spark" in args.engines:
            contenders.append(("spark", ""))
        if "pandas" in args.engines:
            contenders.append(("pandas", json.dumps(files)))
        best: dict[str, dict] = {}
        for _ in range(args.rounds):  # interleaved rounds, best of each
            for kind, extra in contenders:
                r = run_child(kind, metric, params, str(data), extra)
                if kind not in best or r.get("seconds", 1e18) < best[kind].get("seconds", 1e18):
                    best[kind] = {**r, "peak_gib": max(r["peak_gib"], best.get(kind, {}).get("peak_gib", 0)),
                                  "cpu": min(r.get("cpu", 1e18), best.get(kind, {}).get("cpu", 1e18))}
                else:  # the least CPU and the largest peak over the rounds, whichever round was fastest
                    best[kind]["cpu"] = min(best[kind].get("cpu", 1e18), r.get("cpu", 1e18))
                    best[kind]["peak_gib"] = max(best[kind]["peak_gib"], r["peak_gib"])
                if "error" in r:
                    break
        for kind, r in best.items():
            note = r.get("error", "")
            if kind == "spark":
                note = (f"+ {r.get('startup', float('nan')):.1f} s session start-up; "
                        f"process tree (JVM) CPU {r['tree_cpu']:.1f} s with start-up {note}")
            if kind.startswith("duckdb_sql") and "check_cpu" in r:
                note = f"id check {r['check_seconds']:.2f} s / {r['check_cpu']:.2f} CPU s {r['check']} {note}"
            if kind == "pandas" and "read_seconds" in r:
                note = f"+ {r['read_seconds']:.1f} s reading Parquet {note}"
            if kind == "duckdb" and "seconds" in r:
                note = "; ".join(f"{r['seconds'] / best[h]['seconds']:.2f}x {h} (wall), "
                                 f"{r['cpu'] / best[h]['cpu']:.2f}x (CPU)"
                                 for h in ("duckdb_sql", "duckdb_sql_check", "duckdb_sql_int")
                                 if "seconds" in best.get(h, {})) or note
            cpu = r.get("cpu", float("nan"))
            print(f"{metric:<22}{kind:<18}{r.get('seconds', float('nan')):>9.2f}{cpu if cpu < 1e17 else float('nan'):>8.2f}"
                  f"{r['peak_gib']:>10.2f}  {note}", flush=True)
            results.append({"metric": metric, "contender": kind, **r})
    print(json.dumps({"rows": n, "results": results}))


if __name__ == "__main__":
    main()
