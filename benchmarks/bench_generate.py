"""Speed and peak memory of the Nestwell generator (issue: bundled <= 20 s; >= 10M events
in <= 60 s with peak memory <= 4 GB).

Each scale runs ``ecomlab.simulate.write_world`` (generate + write Parquet) in a fresh
subprocess so peak RSS is that run's alone. Not part of ``make test``.

    python benchmarks/bench_generate.py                 # scales 1 and 27
    python benchmarks/bench_generate.py --scales 1 5 27
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import pyarrow.parquet as pq
    from ecomlab.simulate import write_world
    out, scale = sys.argv[1], float(sys.argv[2])
    t = time.perf_counter()
    write_world(out, scale=scale, seed=20251111, data_card=False)
    wall = time.perf_counter() - t
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    events = pq.ParquetFile(f"{out}/events.parquet").metadata.num_rows
    orders = pq.ParquetFile(f"{out}/orders.parquet").metadata.num_rows
    print(json.dumps({"scale": scale, "seconds": wall, "peak_rss_gib": rss_gib,
                      "events": events, "orders": orders}))
    """
)


def run(scale: float) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run([sys.executable, "-c", CHILD, d, str(scale)], capture_output=True, text=True,
                             check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 27.0])
    args = ap.parse_args()
    print(f"{'scale':>6} {'events':>12} {'orders':>10} {'seconds':>8} {'peak GiB':>9}")
    for s in args.scales:
        r = run(s)
        print(f"{r['scale']:>6g} {r['events']:>12,} {r['orders']:>10,} {r['seconds']:>8.1f} {r['peak_rss_gib']:>9.2f}")


if __name__ == "__main__":
    main()
