"""Time sklearn-em beside scikit-learn, in the same run.

    python benchmarks/bench_fit.py [--n 100000] [--d 32] [--k 16] [--repeats 3]

Three tables: one EM iteration per covariance type (float64); float32 against
float64; and a whole fit to tol=1e-3, each library with its own defaults
(ours: SQUAREM), from the same starting parameters.

Both estimators start from the same parameters (``weights_init``,
``means_init``, ``precisions_init``, with ``init_params='random_from_data'``
so that no k-means runs). The time of one iteration is
``(t(max_iter=1 + m) - t(max_iter=1)) / m``, the median over the repeats, so
input validation and the final E-step cancel out.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from sklearn_em import GaussianMixture


def make_data(n, d, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(k, d))
    labels = rng.integers(k, size=n)
    return (centers[labels] + rng.normal(size=(n, d))).astype(dtype)


def starting_point(X, k, covariance_type):
    model = SklearnMixture(
        k,
        covariance_type=covariance_type,
        max_iter=1,
        init_params="random_from_data",
        random_state=0,
    ).fit(X[:20000])
    return dict(
        weights_init=model.weights_, means_init=model.means_, precisions_init=model.precisions_
    )


def seconds_per_iteration(cls, X, k, covariance_type, start, iterations, repeats, **kwargs):
    kwargs = {"acceleration": None, **kwargs} if cls is GaussianMixture else kwargs

    def fit(max_iter):
        model = cls(
            k,
            covariance_type=covariance_type,
            tol=0,
            max_iter=max_iter,
            init_params="random_from_data",
            random_state=0,
            **start,
            **kwargs,
        )
        began = time.perf_counter()
        model.fit(X)
        return time.perf_counter() - began

    per_iteration = []
    for _ in range(repeats):
        per_iteration.append((fit(1 + iterations) - fit(1)) / iterations)
    return statistics.median(per_iteration)


def gemm_gflops(dtype, size=3000, repeats=3):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(size, size)).astype(dtype)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        A @ A
        times.append(time.perf_counter() - began)
    return 2 * size**3 / min(times) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--covariance-types", default="full")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

    X = make_data(args.n, args.d, args.k, np.float64)
    print(
        f"n={args.n} d={args.d} k={args.k} float64, median of {args.repeats} repeats, "
        f"{args.iterations} timed iterations each"
    )
    print(f"GEMM peak in this run: {gemm_gflops(np.float64):.1f} GFLOP/s float64")
    print(f"{'covariance':12}{'scikit-learn s/iter':>22}{'sklearn-em s/iter':>20}{'speed-up':>10}")
    for covariance_type in args.covariance_types.split(","):
        start = starting_point(X, args.k, covariance_type)
        common = (X, args.k, covariance_type, start, args.iterations, args.repeats)
        theirs = seconds_per_iteration(SklearnMixture, *common)
        ours = seconds_per_iteration(GaussianMixture, *common)
        print(f"{covariance_type:12}{theirs:22.4f}{ours:20.4f}{theirs / ours:10.2f}")

    print("\nfloat32 input, full covariance (ours against ours)")
    start = starting_point(X, args.k, "full")
    common = (args.k, "full", start, args.iterations, args.repeats)
    double = seconds_per_iteration(GaussianMixture, X, *common)
    single = seconds_per_iteration(GaussianMixture, X.astype(np.float32), *common)
    print(f"float64 {double:.4f} s/iter, float32 {single:.4f} s/iter, ratio {double / single:.2f}")

    print("\nwhole fit to tol=1e-3, defaults, same start, full covariance")
    theirs, their_fit = whole_fit(SklearnMixture, X, args.k, start, args.repeats)
    ours, our_fit = whole_fit(GaussianMixture, X, args.k, start, args.repeats)
    for name, seconds, model in [
        ("scikit-learn", theirs, their_fit),
        ("sklearn-em", ours, our_fit),
    ]:
        print(
            f"{name:14}{seconds:8.2f} s  {model.n_iter_:4d} iterations  "
            f"mean log-likelihood {model.score(X):.6f}"
        )
    print(f"time ratio {theirs / ours:.1f}x")


def whole_fit(cls, X, k, start, repeats):
    times = []
    for _ in range(repeats):
        model = cls(k, tol=1e-3, max_iter=1000, init_params="random_from_data", **start)
        began = time.perf_counter()
        model.fit(X)
        times.append(time.perf_counter() - began)
    return statistics.median(times), model


if __name__ == "__main__":
    main()
