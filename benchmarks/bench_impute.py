"""Imputation error and time: EMImputer beside scikit-learn's imputers, in one run.

    python benchmarks/bench_impute.py [--repeats 3] [--timing-runs 5] [--n-components 1]
        [--tol 1e-3] [--covariance-type full]

Each bundled dataset is standardised, then entries are hidden by a mask:
MCAR at 10% and 30%, and MAR (the odd columns go missing with a probability
that rises with the value of the column before them, about 25% of them).
The RMSE is over the hidden entries, in standard deviations; the time is that
of ``fit_transform``, the median of ``--timing-runs`` runs on one mask (a
single run of a few milliseconds on a shared machine is mostly noise, and
noise of fixed size weighs most on the fastest method). Figures are means
(RMSE) and medians (time) over the repeats, each repeat with its own mask.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy.stats import gmean
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.preprocessing import StandardScaler

from sklearn_em import EMImputer

DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "diabetes": load_diabetes,
    "breast_cancer": load_breast_cancer,
}


def mcar(fraction):
    def mask(X, rng):
        return rng.random(X.shape) < fraction

    mask.__name__ = f"MCAR {fraction:.0%}"
    return mask


def mar(X, rng):
    """Odd columns go missing more often where the column before them is high."""
    mask = np.zeros(X.shape, dtype=bool)
    for j in range(1, X.shape[1], 2):
        probability = 1 / (1 + np.exp(-(2 * X[:, j - 1] - 1.5)))
        mask[:, j] = rng.random(X.shape[0]) < probability
    return mask


mar.__name__ = "MAR"


def imputers(seed, **em_params):
    return {
        "EMImputer": EMImputer(random_state=seed, **em_params),
        "Simple": SimpleImputer(),
        "KNN": KNNImputer(),
        "Iterative": IterativeImputer(random_state=seed),
    }


def evaluate(X, mask_fn, em_params, repeats, timing_runs):
    errors, times = {}, {}
    for seed in range(repeats):
        rng = np.random.default_rng(seed)
        mask = mask_fn(X, rng)
        mask[mask.all(axis=1), 0] = False  # keep every row partly observed
        holed = np.where(mask, np.nan, X)
        for name, imputer in imputers(seed, **em_params).items():
            runs = []
            for _ in range(timing_runs):
                began = time.perf_counter()
                filled = imputer.fit_transform(holed)
                runs.append(time.perf_counter() - began)
            times.setdefault(name, []).append(statistics.median(runs))
            rmse = np.sqrt(np.mean((filled[mask] - X[mask]) ** 2))
            errors.setdefault(name, []).append(rmse)
    return (
        {name: float(np.mean(v)) for name, v in errors.items()},
        {name: statistics.median(v) for name, v in times.items()},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timing-runs", type=int, default=5)
    parser.add_argument("--n-components", type=int, default=1)
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--covariance-type", default="full")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    em_params = {
        "n_components": args.n_components,
        "tol": args.tol,
        "covariance_type": args.covariance_type,
    }

    names = list(imputers(0))
    settings = ", ".join(f"{key}={value!r}" for key, value in em_params.items())
    print(
        f"EMImputer({settings}); RMSE in standard deviations, "
        f"time in ms (median of {args.timing_runs} runs); {args.repeats} masks each\n"
    )
    header = "| dataset | mask | " + " | ".join(f"{n} RMSE" for n in names)
    header += " | " + " | ".join(f"{n} ms" for n in names) + " |"
    print(header)
    print("|" + "---|" * (2 + 2 * len(names)))
    error_ratios, time_ratios = [], []
    for dataset, load in DATASETS.items():
        X = StandardScaler().fit_transform(load().data)
        for mask_fn in (mcar(0.1), mcar(0.3), mar):
            errors, times = evaluate(X, mask_fn, em_params, args.repeats, args.timing_runs)
            error_ratios.append(errors["EMImputer"] / errors["Iterative"])
            time_ratios.append(times["Iterative"] / times["EMImputer"])
            cells = [f"{errors[n]:.3f}" for n in names] + [f"{1e3 * times[n]:.1f}" for n in names]
            print(f"| {dataset} | {mask_fn.__name__} | " + " | ".join(cells) + " |")
    print(f"\nRMSE EMImputer / IterativeImputer, geometric mean: {gmean(error_ratios):.3f}")
    print(
        f"time IterativeImputer / EMImputer, geometric mean: {gmean(time_ratios):.1f}x "
        f"(min {min(time_ratios):.1f}x)"
    )


if __name__ == "__main__":
    main()
