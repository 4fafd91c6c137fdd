"""Time sklearn-em beside scikit-learn, in the same run.

    python benchmarks/bench_fit.py [--n 100000] [--d 32] [--k 16] [--repeats 3]

Three tables: one EM iteration per covariance type (float64); float32 against
float64; and a whole fit to tol=1e-3, each library with its own defaults
(ours: SQUAREM), from the same starting parameters.

Both estimators start from the same parameters (``weights_init``,
``means_init``, ``precisions_init``, with ``init_params='random_from_data'``
so that no k-means runs). The time of one iteration is
``(t(max_iter=1 + m) - t(max_iter=1)) / m``, the median over the repeats, so
input validation and the final E-step cancel out. Each repeat times the peer
and then us; a speed-up is the median of the per-repeat ratios. Every timed
fit waits ``steps.SETTLE_SECONDS`` first, so that OpenBLAS's worker threads
from the fit before have gone to sleep.
"""

import argparse
import statistics
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from sklearn_em import GaussianMixture
from sklearn_em._design import DESIGNS

sys.path.insert(0, str(Path(__file__).parent))
from steps import SETTLE_SECONDS, make_data, sklearn_at_start  # noqa: E402


def starting_point(X, k, covariance_type):
    model = sklearn_at_start(X, k, covariance_type)
    return dict(
        weights_init=model.weights_, means_init=model.means_, precisions_init=model.precisions_
    )


def seconds_per_iteration(cls, X, k, covariance_type, start, iterations, **kwargs):
    """One measurement of the time of an EM iteration from ``start``."""
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
        time.sleep(SETTLE_SECONDS)  # for OpenBLAS's spinning threads to sleep
        began = time.perf_counter()
        model.fit(X)
        return time.perf_counter() - began

    return (fit(1 + iterations) - fit(1)) / iterations


def side_by_side(measure_theirs, measure_ours, repeats):
    """Medians of two measurements taken in turn, and the median of their ratios.

    Taking them in turn keeps a slow spell of the shared machine from
    landing on one side only.
    """
    theirs, ours = [], []
    for _ in range(repeats):
        theirs.append(measure_theirs())
        ours.append(measure_ours())
    ratios = [a / b for a, b in zip(theirs, ours, strict=True)]
    return statistics.median(theirs), statistics.median(ours), statistics.median(ratios)


def gemm_gflops(dtype, size=3000, repeats=3):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(size, size)).astype(dtype)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        A @ A
        times.append(time.perf_counter() - began)
    return 2 * size**3 / min(times) / 1e9


def pass_gflop(covariance_type, n, d, k):
    """The floating-point work of one of our passes, in GFLOP.

    Two GEMMs with the design (``W @ G`` and ``resp @ G.T``); 'tied' also
    whitens the rows and sums their outer products (two ``d x d`` products).
    """
    rows = DESIGNS[covariance_type].second_order_size(d) + d + 1
    flop = 4 * k * rows * n + (4 * d * d * n if covariance_type == "tied" else 0)
    return flop / 1e9


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
        f"n={args.n} d={args.d} k={args.k} float64, median of {args.repeats} repeats "
        f"(taken in turn with the peer's), {args.iterations} timed iterations each"
    )
    peak = gemm_gflops(np.float64)
    print(f"GEMM peak in this run: {peak:.1f} GFLOP/s float64")
    print(
        f"{'covariance':12}{'scikit-learn s/iter':>22}{'sklearn-em s/iter':>20}{'speed-up':>10}"
        f"{'our GFLOP/s':>13}{'of peak':>9}"
    )
    for covariance_type in args.covariance_types.split(","):
        start = starting_point(X, args.k, covariance_type)
        timer = partial(
            seconds_per_iteration,
            X=X,
            k=args.k,
            covariance_type=covariance_type,
            start=start,
            iterations=args.iterations,
        )
        theirs, ours, ratio = side_by_side(
            partial(timer, SklearnMixture), partial(timer, GaussianMixture), args.repeats
        )
        rate = pass_gflop(covariance_type, args.n, args.d, args.k) / ours
        print(
            f"{covariance_type:12}{theirs:22.4f}{ours:20.4f}{ratio:10.2f}"
            f"{rate:13.1f}{rate / peak:9.0%}"
        )

    print("\nfloat32 input, full covariance (ours against ours)")
    start = starting_point(X, args.k, "full")
    X32 = X.astype(np.float32)
    timer = partial(
        seconds_per_iteration,
        GaussianMixture,
        k=args.k,
        covariance_type="full",
        start=start,
        iterations=args.iterations,
    )
    double, single, ratio = side_by_side(partial(timer, X), partial(timer, X32), args.repeats)
    print(f"float64 {double:.4f} s/iter, float32 {single:.4f} s/iter, ratio {ratio:.2f}")

    print("\nwhole fit to tol=1e-3, defaults, same start, full covariance")
    fits = {}

    def timed(cls):
        fits[cls], seconds = whole_fit(cls, X, args.k, start)
        return seconds

    theirs, ours, ratio = side_by_side(
        lambda: timed(SklearnMixture), lambda: timed(GaussianMixture), args.repeats
    )
    for name, seconds, model in [
        ("scikit-learn", theirs, fits[SklearnMixture]),
        ("sklearn-em", ours, fits[GaussianMixture]),
    ]:
        print(
            f"{name:14}{seconds:8.2f} s  {model.n_iter_:4d} iterations  "
            f"mean log-likelihood {model.score(X):.6f}"
        )
    print(f"time ratio {ratio:.1f}x")


def whole_fit(cls, X, k, start):
    model = cls(k, tol=1e-3, max_iter=1000, init_params="random_from_data", **start)
    time.sleep(SETTLE_SECONDS)
    began = time.perf_counter()
    model.fit(X)
    return model, time.perf_counter() - began


if __name__ == "__main__":
    main()
