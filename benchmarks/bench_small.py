"""Whole fits on small data: sklearn-em beside scikit-learn, in the same run.

    python benchmarks/bench_small.py [--runs 5] [--repeats 3]

Bundled datasets, standardised; ``k=3`` and each library's defaults
otherwise (``random_state=0``). A time is the best of ``--runs`` fits, and
the median of that over ``--repeats``; BLAS runs on one thread, as both
libraries' passes are then a series of small numpy calls.
"""

import argparse
import statistics
import time
import warnings
from functools import partial

from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_em import GaussianMixture

DATASETS = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}


def fit_time(make, X, runs, repeats):
    """Milliseconds of the best of ``runs`` fits of ``make()`` (median over repeats), a model."""
    best = []
    for _ in range(repeats):
        times = []
        for _ in range(runs):
            model = make()
            began = time.perf_counter()
            model.fit(X)
            times.append(time.perf_counter() - began)
        best.append(min(times))
    return 1e3 * statistics.median(best), model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

    print("| data | covariance | scikit-learn | sklearn-em (SQUAREM) | sklearn-em (plain EM) |")
    print("|---|---|---|---|---|")
    with threadpool_limits(limits=1, user_api="blas"):
        for name, load in DATASETS.items():
            X = StandardScaler().fit_transform(load().data)
            for covariance_type in ["full", "diag"]:
                common = dict(n_components=3, covariance_type=covariance_type, random_state=0)
                cells = []
                for cls, extra in [
                    (SklearnMixture, {}),
                    (GaussianMixture, {}),
                    (GaussianMixture, {"acceleration": None}),
                ]:
                    settings = {**common, **extra}
                    ms, model = fit_time(partial(cls, **settings), X, args.runs, args.repeats)
                    cells.append(f"{ms:.1f} ms, {model.n_iter_} iterations")
                data = f"{name} {X.shape[0]} x {X.shape[1]}"
                print(f"| {data} | {covariance_type} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
