"""The cost of missing values: one EM iteration on holed data against complete data.

    python benchmarks/bench_missing.py [--n 100000] [--d 20] [--k 4] [--fraction 0.2]
        [--mask mcar|blocks] [--covariance-type full]

The same rows are fitted complete and with a fraction of entries missing
completely at random, from the same starting parameters. One iteration is
``(t(max_iter=1 + m) - t(max_iter=1)) / m``, the median over the repeats.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_em import GaussianMixture


def seconds_per_iteration(X, k, covariance_type, start, iterations, repeats):
    def fit(max_iter):
        model = GaussianMixture(
            k, covariance_type=covariance_type, tol=0, max_iter=max_iter, **start
        )
        began = time.perf_counter()
        model.fit(X)
        return time.perf_counter() - began

    return statistics.median((fit(1 + iterations) - fit(1)) / iterations for _ in range(repeats))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument(
        "--mask",
        choices=["mcar", "blocks"],
        default="mcar",
        help="mcar: each entry missing with --fraction; blocks: a --fraction of the rows "
        "miss one of 4 fixed groups of 5 columns (few patterns, as in surveys)",
    )
    parser.add_argument(
        "--covariance-type", choices=["full", "tied", "diag", "spherical"], default="full"
    )
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

    rng = np.random.default_rng(0)
    labels = rng.integers(args.k, size=args.n)
    X = rng.normal(size=(args.n, args.d)) + rng.normal(scale=3, size=(args.k, args.d))[labels]
    holed = X.copy()
    if args.mask == "mcar":
        holed[rng.random(X.shape) < args.fraction] = np.nan
    else:
        rows = np.flatnonzero(rng.random(args.n) < args.fraction)
        groups = np.array_split(np.arange(args.d), 4)
        for group, part in zip(groups, np.array_split(rows, 4), strict=True):
            holed[np.ix_(part, group)] = np.nan
    kind = args.covariance_type
    start_model = GaussianMixture(args.k, covariance_type=kind, random_state=0, max_iter=2).fit(X)
    start = dict(
        weights_init=start_model.weights_,
        means_init=start_model.means_,
        precisions_init=start_model.precisions_,
    )

    timing = (args.k, kind, start, args.iterations, args.repeats)
    complete = seconds_per_iteration(X, *timing)
    missing = seconds_per_iteration(holed, *timing)
    incomplete_rows = np.isnan(holed).any(axis=1).mean()
    print(
        f"n={args.n} d={args.d} k={args.k} {kind} covariance, {args.fraction:.0%} {args.mask} "
        f"({incomplete_rows:.1%} of rows incomplete), median of {args.repeats} repeats"
    )
    print(f"complete data   {complete:.4f} s/iter")
    print(f"with missing    {missing:.4f} s/iter")
    print(f"ratio           {missing / complete:.2f}x")


if __name__ == "__main__":
    main()
