"""float32 against float64 on correlated components, per iteration, same start.

    python benchmarks/bench_float32.py [--n 60000] [--d 32] [--k 16] [--repeats 5] [--threads 1]

The data of issue 13: ``x = c + z @ A`` with ``A = I + 0.2 N(0, 1)`` per
component, so components are correlated and some thin. Both dtypes start
from the same parameters (scikit-learn's mixture after one EM step); each
timing is our ``EM.step`` on the float64 data and on its float32 copy, in
turn, after a warm-up. It prints the kernel and dtype each pass chose.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from steps import interleaved, make_correlated, our_step, ours_at, sklearn_at_start  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    X = make_correlated(args.n, args.d, args.k)
    X32 = X.astype(np.float32)
    start = sklearn_at_start(X, args.k, "full")
    em, params = ours_at(start, X, n_jobs=args.threads)
    for data in (X, X32):
        prepared = em.prepare(data, params)
        print(f"{data.dtype} input: kernel {prepared.kernel}, computed in {prepared.dtype}")
    with threadpool_limits(limits=args.threads, user_api="blas"):
        (double, single), (_, ratio) = interleaved(
            [our_step(em, params, X), our_step(em, params, X32)], args.repeats
        )
    print(
        f"n={args.n} d={args.d} k={args.k} 'full', {args.threads} thread(s): float64 "
        f"{double:.3f} s/iter, float32 {single:.3f} s/iter, float32 {ratio:.2f}x faster"
    )


if __name__ == "__main__":
    main()
