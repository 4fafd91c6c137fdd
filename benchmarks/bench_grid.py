"""Per-iteration time against scikit-learn on a grid of shapes, same start, plain EM.

    python benchmarks/bench_grid.py                 # the full grid, 1 then 2 threads
    python benchmarks/bench_grid.py --quick         # one timed repeat per cell
    python benchmarks/bench_grid.py --threads 1 --n 20000 --d 32 --k 16 --covariance-types full

The grid is n in {2,000; 20,000; 100,000} x d in {2, 8, 32, 64} x k in
{2, 4, 16} x the four covariance types. Each cell starts both libraries
from the same parameters (scikit-learn's mixture after one EM step from
rows drawn as means) and times one iteration of each: scikit-learn's
``_e_step`` + ``_m_step``, our ``EM.step`` (float64). After a warm-up the
two are timed in turn (``--repeats`` times, each timing looping a step for
at least 30 ms); a cell's speed-up is the median of the per-repeat ratios.
On ``--threads t`` scikit-learn's BLAS may use t threads and we use
``n_jobs=t`` (our blocks on t threads, BLAS on one each); on more than one
thread each timing waits ``steps.SETTLE_SECONDS`` first, for OpenBLAS's
spinning worker threads to sleep.
"""

import argparse
import math
import sys
from pathlib import Path

from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from steps import (  # noqa: E402
    SETTLE_SECONDS,
    interleaved,
    make_data,
    our_step,
    ours_at,
    sklearn_at_start,
    sklearn_step,
)


def _ints(text):
    return [int(value) for value in text.split(",")]


def run(threads, ns, ds, ks, covariance_types, repeats):
    rows = []
    for n in ns:
        for d in ds:
            for k in ks:
                X = make_data(n, d, k)
                for covariance_type in covariance_types:
                    start = sklearn_at_start(X, k, covariance_type)
                    em, params = ours_at(start, X, n_jobs=threads)
                    kernel = em.prepare(X, params).kernel
                    settle = SETTLE_SECONDS if threads > 1 else 0.0
                    steps = [sklearn_step(start, X), our_step(em, params, X)]
                    with threadpool_limits(limits=threads, user_api="blas"):
                        (theirs, ours), (_, ratio) = interleaved(steps, repeats, settle=settle)
                    rows.append((n, d, k, covariance_type, kernel, theirs, ours, ratio))
                    print(
                        f"{threads:2} {n:7} {d:3} {k:3} {covariance_type:10}{kernel:8}"
                        f"{theirs * 1e3:11.2f}{ours * 1e3:11.2f}{ratio:8.2f}",
                        flush=True,
                    )
    return rows


def summary(threads, rows):
    ratios = [row[-1] for row in rows]
    geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    slowest = min(rows, key=lambda row: row[-1])
    print(
        f"threads={threads}: {len(rows)} cells, geometric mean {geomean:.2f}x, "
        f"{sum(r < 1.0 for r in ratios)} below 1.0x, slowest {slowest[-1]:.2f}x at "
        f"n={slowest[0]} d={slowest[1]} k={slowest[2]} {slowest[3]}"
    )
    for row in rows:
        if row[:4] == (100_000, 32, 16, "full"):
            print(f"threads={threads}: 100k x 32 x 16 'full' {row[-1]:.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three timed repeats per cell")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=_ints, default=[1, 2])
    parser.add_argument("--n", type=_ints, default=[2_000, 20_000, 100_000])
    parser.add_argument("--d", type=_ints, default=[2, 8, 32, 64])
    parser.add_argument("--k", type=_ints, default=[2, 4, 16])
    parser.add_argument("--covariance-types", default="full,tied,diag,spherical")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    print(f"per-iteration ms, float64, median of {repeats} interleaved repeats after a warm-up")
    print(
        f"{'th':>2} {'n':>7} {'d':>3} {'k':>3} {'covariance':10}{'kernel':8}"
        f"{'sklearn':>11}{'ours':>11}{'speed-up':>8}"
    )
    results = {}
    for threads in args.threads:
        results[threads] = run(
            threads, args.n, args.d, args.k, args.covariance_types.split(","), repeats
        )
    for threads, rows in results.items():
        summary(threads, rows)


if __name__ == "__main__":
    main()
