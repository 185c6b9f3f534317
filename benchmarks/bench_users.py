"""Benchmark the chapter-04 helpers at analyst scale (not part of the test suite).

    python benchmarks/bench_users.py                       # 1M customers / 10M orders
    python benchmarks/bench_users.py --customers 100000 --orders 1000000

Times, in one run on the same pandas frame:
  (1) ecomlab.users: rfm_table, cohort_matrix, rfm_summary (vectorised pandas/NumPy),
  (2) the equivalent DuckDB SQL over the DataFrame (duckdb.sql(...).fetchnumpy()),
  (3) the common ``groupby(...).apply(...)`` approach, timed on a sample of customers
      and extrapolated linearly to all customers (printed as such),
and fit_bgnbd on a 1M-customer summary. Targets: within 1.5x of DuckDB, >= 10x faster
than groupby-apply, fit_bgnbd <= 10 s.
"""

from __future__ import annotations

import argparse
import os
import sys

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from timing import best_of, interleaved  # noqa: E402  (benchmarks/timing.py: the script's folder is on sys.path)

from ecomlab import keys  # noqa: E402
from ecomlab import users as U  # noqa: E402


def make_orders(n_customers: int, n_orders: int, seed: int = 0, id_dtype: str = "str") -> pd.DataFrame:
    """Synthetic orders: skewed purchase counts, two years, sorted by time like an export."""
    rng = np.random.default_rng(seed)
    w = rng.gamma(0.6, 1.0, n_customers)
    cust = rng.choice(n_customers, size=n_orders, p=w / w.sum())
    start = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    ts = np.sort(start + rng.integers(0, 731 * 86_400_000_000, n_orders))
    def ids(prefix: str, num: np.ndarray, width: int):
        s = np.char.add(prefix, np.char.zfill(num.astype("U"), width))
        return pd.array(s, dtype="str") if id_dtype == "str" else pd.Categorical(s)
    status = rng.choice(3, n_orders, p=[0.94, 0.03, 0.03])
    return pd.DataFrame(
        {
            "order_id": pd.array(np.char.add("O", np.char.zfill(np.arange(n_orders).astype("U"), 8)), dtype="str"),
            "customer_id": ids("C", cust, 7),
            "order_ts": ts.view("datetime64[us]"),
            "paid_amount": np.round(rng.lognormal(4.8, 0.9, n_orders), 2),
            "status": pd.Categorical.from_codes(status, categories=["completed", "cancelled", "refunded"]),
        }
    )


# --- DuckDB equivalents ---------------------------------------------------------------
def duck_rfm(df, as_of):
    return duckdb.sql(
        f"""select customer_id, date_diff('day', max(order_ts)::date, DATE '{as_of:%Y-%m-%d}') as recency_days,
                   count(*) as frequency, sum(paid_amount) as monetary_amount
            from df where status = 'completed' and order_ts < TIMESTAMP '{as_of}'
            group by customer_id"""
    ).fetchnumpy()


def duck_cohort(df):
    return duckdb.sql(
        """with v as (select customer_id, date_trunc('month', order_ts) as m from df where status = 'completed'),
                f as (select customer_id, min(m) as cohort from v group by 1),
                a as (select distinct v.customer_id, f.cohort, date_diff('month', f.cohort, v.m) as k
                      from v join f using (customer_id))
           select cohort, k, count(*) as customers from a group by 1, 2 order by 1, 2"""
    ).fetchnumpy()


def duck_summary(df, cal):
    return duckdb.sql(
        f"""with per as (select customer_id, date_trunc('week', order_ts) as w, sum(paid_amount) as v
                         from df where status = 'completed' and order_ts < TIMESTAMP '{cal}' group by 1, 2),
                 c as (select customer_id, min(w) as fw, max(w) as lw, count(*) as n, sum(v) as tot,
                              arg_min(v, w) as first_v from per group by 1)
            select customer_id, n - 1 as frequency, date_diff('week', fw, lw) as recency,
                   date_diff('week', fw, date_trunc('week', TIMESTAMP '{cal}' - INTERVAL 1 MICROSECOND)) as T,
                   case when n > 1 then (tot - first_v) / (n - 1) else 0 end as monetary_value
            from c"""
    ).fetchnumpy()


# --- groupby-apply equivalents (the common tutorial code) -----------------------------
def apply_rfm(df, as_of):
    v = df[df["status"] == "completed"]
    return v.groupby("customer_id").apply(
        lambda g: pd.Series(
            {
                "recency_days": (as_of - g["order_ts"].max().normalize()).days,
                "frequency": len(g),
                "monetary_amount": g["paid_amount"].sum(),
            }
        )
    )


def apply_cohort(df):
    v = df[df["status"] == "completed"]

    def per_customer(g):
        m = g["order_ts"].dt.to_period("M")
        first = m.min()
        return pd.Series({"cohort": first, "ks": frozenset((m - first).map(lambda d: d.n))})

    pc = v.groupby("customer_id").apply(per_customer)
    return pc.explode("ks").groupby(["cohort", "ks"]).size()


def apply_summary(df, cal):
    v = df[(df["status"] == "completed") & (df["order_ts"] < cal)]
    pcal = (cal - pd.Timedelta(microseconds=1)).to_period("W")

    def per_customer(g):
        per = g.groupby(g["order_ts"].dt.to_period("W"))["paid_amount"].sum()
        n = len(per)
        return pd.Series(
            {
                "frequency": n - 1,
                "recency": (per.index.max() - per.index.min()).n,
                "T": (pcal - per.index.min()).n,
                "monetary_value": per.iloc[1:].mean() if n > 1 else 0.0,
            }
        )

    return v.groupby("customer_id").apply(per_customer)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--apply-sample", type=int, default=5_000, help="customers for the groupby-apply timing")
    ap.add_argument("--bgnbd-customers", type=int, default=1_000_000)
    ap.add_argument("--id-dtype", choices=["str", "category"], default="str")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0 = DuckDB default)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; each contender's best counts")
    args = ap.parse_args(argv)
    if args.threads:
        duckdb.sql(f"set threads={args.threads}")
    print(f"pandas {pd.__version__}, numpy {np.__version__}, duckdb {duckdb.__version__}, cpus {os.cpu_count()}")
    t, df = best_of(lambda: make_orders(args.customers, args.orders, id_dtype=args.id_dtype))
    n_cust = df["customer_id"].nunique()
    print(f"generated {len(df):,} orders of {n_cust:,} customers (customer_id dtype {df['customer_id'].dtype}) in {t:.1f}s")
    as_of = df["order_ts"].max().normalize() + pd.Timedelta(days=1)
    cal = pd.Timestamp("2025-07-01")

    # sample of customers for groupby-apply, extrapolated by customer count
    sample_ids = df["customer_id"].drop_duplicates().sample(min(args.apply_sample, n_cust), random_state=0)
    sample = df[df["customer_id"].isin(sample_ids)]
    scale = n_cust / len(sample_ids)

    tasks = {
        "rfm_table": (lambda c: U.rfm_table(df, check_ids=c), lambda: duck_rfm(df, as_of), lambda: apply_rfm(sample, as_of)),
        "cohort_matrix": (lambda c: U.cohort_matrix(df, metric="customers", check_ids=c), lambda: duck_cohort(df), lambda: apply_cohort(sample)),
        "rfm_summary": (lambda c: U.rfm_summary(df, cal, check_ids=c), lambda: duck_summary(df, cal), lambda: apply_summary(sample, cal)),
    }
    rows = []
    summary = None
    for name, (ours, duck, apply) in tasks.items():
        best, res = interleaved({"ours": lambda o=ours: o(True), "nock": lambda o=ours: o(False), "duck": duck},
                                rounds=args.rounds)
        t_ours, t_nock, t_duck = best["ours"], best["nock"], best["duck"]
        if name == "rfm_summary":
            summary = res["ours"]
        t_app_s, _ = best_of(apply, repeat=1)
        t_app = t_app_s * scale
        rows.append(
            {
                "step": name,
                "ecomlab_s": t_ours,
                "ecomlab_no_id_check_s": t_nock,
                "duckdb_s": t_duck,
                "groupby_apply_s (extrapolated)": t_app,
                "ecomlab / duckdb": t_ours / t_duck,
                "no_id_check / duckdb": t_nock / t_duck,
                "apply / ecomlab": t_app / t_ours,
            }
        )
        print(f"  {name}: ecomlab {t_ours:.2f}s (no id check {t_nock:.2f}s), duckdb {t_duck:.2f}s, apply {t_app_s:.2f}s on {len(sample_ids):,} customers -> {t_app:.0f}s")

    # the share of the time spent on validation / id hashing
    t_fact, _ = best_of(lambda: keys.factorize(df["customer_id"], sort=True))
    t_dup, _ = best_of(lambda: keys.is_unique(df["order_id"]))
    t_pdfact, _ = best_of(lambda: pd.factorize(df["customer_id"]))
    t_pddup, _ = best_of(lambda: df["order_id"].is_unique)
    print(f"  of which: keys.factorize(customer_id) {t_fact:.2f}s (pd.factorize {t_pdfact:.2f}s), "
          f"keys.is_unique(order_id) {t_dup:.2f}s (Series.is_unique {t_pddup:.2f}s) per call")

    # BG/NBD fit on (a) the weekly summary above and (b) 1M simulated customers with
    # continuous recency/T (worst case: no duplicate rows to collapse)
    t_fit_w, fit_w = best_of(lambda: U.fit_bgnbd(summary))
    rng = np.random.default_rng(1)
    n = args.bgnbd_customers
    T = rng.uniform(1, 104, n)
    lam = rng.gamma(0.25, 1 / 4.5, n)
    p = rng.beta(0.8, 2.4, n)
    N = rng.poisson(lam * T)
    x = np.minimum(N, rng.geometric(p))
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(N - x, 0) + 1), 0.0)
    sim = pd.DataFrame({"frequency": x.astype(float), "recency": tx, "T": T})
    t_fit_c, fit_c = best_of(lambda: U.fit_bgnbd(sim))
    rows.append({"step": f"fit_bgnbd weekly summary ({len(summary):,} customers)", "ecomlab_s": t_fit_w})
    rows.append({"step": f"fit_bgnbd continuous ({n:,} customers)", "ecomlab_s": t_fit_c})
    print(f"  fit_bgnbd weekly: {fit_w!r}")
    print(f"  fit_bgnbd continuous: {fit_c!r} (truth r=0.25 alpha=4.5 a=0.8 b=2.4)")

    table = pd.DataFrame(rows)
    print()
    print(f"Results ({len(df):,} orders, {n_cust:,} customers; groupby-apply timed on {len(sample_ids):,} "
          f"customers and extrapolated linearly x{scale:.0f}):")
    with pd.option_context("display.width", 200, "display.max_columns", 12, "display.float_format", "{:,.2f}".format):
        print(table.to_string(index=False))
    print("targets: ecomlab/duckdb <= 1.5, apply/ecomlab >= 10, fit_bgnbd <= 10 s")


if __name__ == "__main__":
    main()
