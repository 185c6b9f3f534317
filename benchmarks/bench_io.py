"""Benchmark reading an analyst-scale orders export and the RFM + cohort computations
(not part of the test suite).

    python benchmarks/bench_io.py                           # 10M orders, generic preset
    python benchmarks/bench_io.py --orders 1000000 --preset tmall
    python benchmarks/bench_io.py --csv /tmp/orders.csv     # reuse a file written before

Writes a synthetic orders CSV to /tmp (never the repo) in the preset's layout — generic:
the course's column names; tmall: Chinese headers, 订单编号 as ="…" (19 digits), amounts
with ¥ and thousands separators, Chinese statuses — then runs, each in its own process so
that each peak memory (max RSS, from ``os.wait4``) is its own:

(1) ecomlab: ``ecomlab.io.read_orders(csv, preset)`` (every column typed by the strict
    rules), ``users.rfm_table`` and ``users.cohort_matrix(metric="customers")``;
(2) DuckDB: ``read_csv`` of the same file into a typed table, then the same RFM and
    cohort queries in SQL (the file is text in both; DuckDB does no strict checks).

Contenders run interleaved (``--rounds``, best end-to-end run of each kept); the CPU time
of each process and the load average are printed too, since wall-clock times on a
shared 2-core VM move with the neighbours' load.

Targets (issue 11): ecomlab end to end ≤ 60 s and ≤ 4 GB peak on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def write_csv(path: Path, n_orders: int, n_customers: int, preset: str, seed: int = 0) -> None:
    """The synthetic export, written with pyarrow (pandas' to_csv takes minutes at 10M rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    w = rng.gamma(0.6, 1.0, n_customers)
    cust = rng.choice(n_customers, size=n_orders, p=w / w.sum())
    start = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    ts = np.sort(start + rng.integers(0, 731 * 86_400, n_orders)).astype("datetime64[s]")
    cents = np.round(rng.lognormal(4.8, 0.9, n_orders) * 100).astype(np.int64)
    status = rng.choice(3, n_orders, p=[0.94, 0.03, 0.03])
    num = pa.array(np.arange(n_orders)).cast(pa.string())
    cnum = pa.array(cust).cast(pa.string())
    ts_txt = pc.strftime(pa.array(ts), format="%Y-%m-%d %H:%M:%S")
    if preset == "generic":
        cols = {
            "order_id": pc.binary_join_element_wise("O", pc.utf8_lpad(num, 8, "0"), ""),
            "customer_id": pc.binary_join_element_wise("C", pc.utf8_lpad(cnum, 7, "0"), ""),
            "order_ts": ts_txt,
            "paid_amount": pa.array(cents / 100),
            "status": pa.array(np.array(["completed", "cancelled", "refunded"])[status]),
        }
    else:
        amount = pa.array([f"¥{c / 100:,.2f}" for c in cents]) if n_orders <= 2_000_000 else \
            pc.binary_join_element_wise("¥", pa.array(cents // 100).cast(pa.string()), ".",
                                        pc.utf8_lpad(pa.array(cents % 100).cast(pa.string()), 2, "0"), "")
        cols = {
            "订单编号": pc.binary_join_element_wise('="2024', pc.utf8_lpad(num, 15, "0"), '"', ""),
            "买家会员名": pc.binary_join_element_wise("buyer", pc.utf8_lpad(cnum, 7, "0"), ""),
            "订单创建时间": ts_txt,
            "买家实际支付金额": amount,
            "订单状态": pa.array(np.array(["交易成功", "交易关闭", "交易关闭"])[status]),
            "退款金额": pa.array(np.where(status == 2, cents / 100, 0.0)),
        }
    table = pa.table(cols)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def run_ecomlab(path: str, preset: str) -> dict:
    import ecomlab.io as eio
    from ecomlab import users

    t0 = time.perf_counter()
    res = eio.read_orders(path, preset)
    t1 = time.perf_counter()
    rfm = users.rfm_table(res.orders)
    t2 = time.perf_counter()
    coh = users.cohort_matrix(res.orders, metric="customers")
    t3 = time.perf_counter()
    return {"read_s": t1 - t0, "rfm_s": t2 - t1, "cohort_s": t3 - t2, "total_s": t3 - t0,
            "orders": len(res.orders), "customers_rfm": len(rfm.table), "cohorts": int(coh.matrix.shape[0]),
            "report_lines": len(res.report.lines)}


def run_duckdb(path: str, preset: str, threads: int) -> dict:
    import duckdb

    con = duckdb.connect()
    con.sql(f"set threads={threads}")
    t0 = time.perf_counter()
    if preset == "generic":
        con.sql(f"""create table o as select order_id, customer_id, order_ts, paid_amount, status
                    from read_csv('{path}', header=true, columns={{'order_id': 'VARCHAR', 'customer_id': 'VARCHAR',
                    'order_ts': 'TIMESTAMP', 'paid_amount': 'DOUBLE', 'status': 'VARCHAR'}})""")
    else:
        con.sql(f"""create table o as select trim(both '="' from "订单编号") as order_id, "买家会员名" as customer_id,
                    "订单创建时间"::TIMESTAMP as order_ts,
                    replace(replace("买家实际支付金额", '¥', ''), ',', '')::DOUBLE as paid_amount,
                    case when "订单状态" = '交易成功' then 'completed'
                         when "退款金额"::DOUBLE > 0 then 'refunded' else 'cancelled' end as status
                    from read_csv('{path}', header=true, all_varchar=true)""")
    t1 = time.perf_counter()
    rfm = con.sql("""with m as (select max(order_ts)::date + 1 as as_of from o)
                     select customer_id, date_diff('day', max(order_ts)::date, any_value(m.as_of)) as recency_days,
                            count(*) as frequency, sum(paid_amount) as monetary_amount
                     from o, m where status = 'completed' and order_ts < m.as_of group by customer_id""").fetchnumpy()
    t2 = time.perf_counter()
    coh = con.sql("""with v as (select customer_id, date_trunc('month', order_ts) as m from o where status = 'completed'),
                          f as (select customer_id, min(m) as cohort from v group by 1),
                          a as (select distinct v.customer_id, f.cohort, date_diff('month', f.cohort, v.m) as k
                                from v join f using (customer_id))
                     select cohort, k, count(*) as customers from a group by 1, 2 order by 1, 2""").fetchnumpy()
    t3 = time.perf_counter()
    return {"read_s": t1 - t0, "rfm_s": t2 - t1, "cohort_s": t3 - t2, "total_s": t3 - t0,
            "customers_rfm": len(rfm["customer_id"]), "cohorts": len(np.unique(coh["cohort"]))}


def in_child(which: str, path: str, preset: str, threads: int) -> dict:
    """Run one contender in a fresh process; add its peak RSS (GB) from os.wait4."""
    cmd = [sys.executable, __file__, "--child", which, "--csv", path, "--preset", preset, "--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{which} failed (exit {proc.returncode})")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_gb"] = usage.ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux
    res["cpu_s"] = usage.ru_utime + usage.ru_stime  # whole process, import included: less sensitive to load
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--preset", choices=["generic", "tmall"], default="generic")
    ap.add_argument("--csv", help="an existing file in the preset's layout (default: write /tmp/ecomlab_bench_<preset>.csv)")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    ap.add_argument("--rounds", type=int, default=2, help="runs per contender, interleaved; the best counts")
    ap.add_argument("--child", choices=["ecomlab", "duckdb"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        fn = run_ecomlab if args.child == "ecomlab" else run_duckdb
        res = fn(args.csv, args.preset) if args.child == "ecomlab" else fn(args.csv, args.preset, args.threads)
        print(json.dumps(res))
        return
    import duckdb
    import pandas as pd

    path = Path(args.csv or f"/tmp/ecomlab_bench_{args.preset}.csv")
    if not args.csv:
        t = time.perf_counter()
        write_csv(path, args.orders, args.customers, args.preset)
        print(f"wrote {path} ({path.stat().st_size / 1e9:.2f} GB, {args.orders:,} orders) in {time.perf_counter() - t:.0f} s")
    print(f"pandas {pd.__version__}, duckdb {duckdb.__version__}, cpus {os.cpu_count()}, preset {args.preset}")
    best: dict[str, dict] = {}
    for _ in range(args.rounds):
        for which in ("ecomlab", "duckdb"):
            r = in_child(which, str(path), args.preset, args.threads)
            print(f"  {which}: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v:,}"
                                            for k, v in r.items()))
            if which not in best or r["total_s"] < best[which]["total_s"]:
                best[which] = r
    e, d = best["ecomlab"], best["duckdb"]
    print("\n| step | ecomlab | DuckDB | ecomlab / DuckDB |\n|---|---|---|---|")
    for k, label in (("read_s", "read + type the CSV"), ("rfm_s", "RFM table"), ("cohort_s", "cohort matrix"),
                     ("total_s", "end to end")):
        print(f"| {label} | {e[k]:.1f} s | {d[k]:.1f} s | {e[k] / d[k]:.1f} |")
    print(f"| CPU time of the process (user + sys) | {e['cpu_s']:.1f} s | {d['cpu_s']:.1f} s | {e['cpu_s'] / d['cpu_s']:.1f} |")
    print(f"| peak memory (max RSS) | {e['peak_gb']:.2f} GB | {d['peak_gb']:.2f} GB | {e['peak_gb'] / d['peak_gb']:.1f} |")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    ok = e["total_s"] <= 60 and e["peak_gb"] <= 4
    print(f"\ntarget (<= 60 s, <= 4 GB): {'met' if ok else 'NOT met'}; same customers in RFM: "
          f"{e['customers_rfm'] == d['customers_rfm']} ({e['customers_rfm']:,})")


if __name__ == "__main__":
    main()
