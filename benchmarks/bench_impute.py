"""Imputation error, time and multiple-imputation coverage: EMImputer beside its peers.

    python benchmarks/bench_impute.py [--seeds 3] [--datasets iris,wine,...] [--trees]
    python benchmarks/bench_impute.py --coverage [--seeds 4] [--datasets ...]
    python benchmarks/bench_impute.py --choice-tol 20,50,100,fixed10 [--seeds 3] [--datasets ...]
    python benchmarks/bench_impute.py --many-rows

Each bundled dataset is standardised (digits without its constant pixels:
61 features), then entries are hidden by a mask: MCAR at 10%, 30% and 50%,
and MAR (the odd columns go missing with a probability that rises with the
value of the column before them, about 25% of them). Every method runs on
the same masks in the same run, one after the other for each mask, with BLAS
held to one thread.

Error mode: the RMSE over the hidden entries, in standard deviations, the
mean over the seeds (one mask each), and the time of ``fit_transform``, the
median over the seeds. The ratio is EMImputer's RMSE over the best peer's.
``--trees`` adds IterativeImputer(ExtraTreesRegressor) (missForest-like,
10 trees, 5 rounds: slow).

Coverage mode: M=5 imputations; for each column mean, the interval
Qbar +- t_4(0.975) sqrt((1 + 1/M) B) covers the full-data mean or not
(the within-imputation part is left out: the target is the full-data mean,
not the population's). EMImputer's ``fit_transform_multiple`` beside
IterativeImputer(sample_posterior=True) with five seeds. The bias columns
are the mean and root mean square of EMImputer's ``(Qbar - Q) / sqrt(B)``
over the cell's intervals with a spread: an interval covers where it is at
most ``t_4(0.975) sqrt(1.2)`` = 3.04 in size, so a large mean is bias, not
a too narrow spread. "No spread" counts the intervals with ``sqrt(B)``
below 1e-9 that miss (a feature whose observed cells hold one value,
imputed as that value in every copy, or to rounding near it, where the
hidden ones differ); such an interval that is the full-data mean covers.

Choice-tolerance mode: the default EMImputer with its choice's fits
stopped at each given ``_overimpute.CHOICE_TOL_PER_FEATURE`` (``fixedF``:
at ``F * tol`` whatever the number of features, the rule before the ninth
session), one after the other on each mask, beside the peers; per cell and
setting the RMSE over the best peer's and the time over
IterativeImputer(max_iter=10)'s, then their geometric means.

Many-rows mode: five nearly collinear Gaussian columns (a random 5 x 5 mix
of standard normals, seed 0), 10% MCAR, at 500 to 50,000 rows; the RMSE of
``EMImputer()`` and of ``EMImputer(1)`` (one Gaussian, its shrinkage
chosen) over the classic imputer's, ``EMImputer(1, covariance_type='full')``
(no shrinkage), which is the right model here, and the times of the first
and the last.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy import stats
from scipy.stats import gmean
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_em import EMImputer, _overimpute


def _digits():
    X = load_digits().data
    return X[:, X.std(axis=0) > 0]


DATASETS = {
    "iris": lambda: load_iris().data,
    "wine": lambda: load_wine().data,
    "diabetes": lambda: load_diabetes().data,
    "breast_cancer": lambda: load_breast_cancer().data,
    "digits": _digits,
}
M = 5


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
MASKS = (mcar(0.1), mcar(0.3), mcar(0.5), mar)


def peers(seed, trees):
    imputers = {
        "Simple": SimpleImputer(),
        "KNN": KNNImputer(),
        "Iterative10": IterativeImputer(max_iter=10, random_state=seed),
        "Iterative30": IterativeImputer(max_iter=30, random_state=seed),
    }
    if trees:
        forest = ExtraTreesRegressor(n_estimators=10, random_state=seed)
        imputers["Trees"] = IterativeImputer(forest, max_iter=5, random_state=seed)
    return imputers


def masked(X, mask_fn, seed):
    mask = mask_fn(X, np.random.default_rng(seed))
    mask[mask.all(axis=1), 0] = False  # keep every row partly observed
    return mask, np.where(mask, np.nan, X)


def timed(imputer, holed):
    began = time.perf_counter()
    filled = imputer.fit_transform(holed)
    return filled, time.perf_counter() - began


def the_default(seed):
    """``error_cell``'s ``ours`` by default: ``EMImputer()``."""
    return {"EMImputer": EMImputer(random_state=seed)}


def error_cell(X, mask_fn, seeds, trees, ours=the_default):
    """Each imputer's RMSE over the hidden cells (mean over the masks) and time
    (median): ``ours(seed)``'s, by name, then the peers', on each mask in turn."""
    errors, times = {}, {}
    for seed in range(seeds):
        mask, holed = masked(X, mask_fn, seed)
        imputers = {**ours(seed), **peers(seed, trees)}
        for name, imputer in imputers.items():
            filled, seconds = timed(imputer, holed)
            errors.setdefault(name, []).append(np.sqrt(np.mean((filled[mask] - X[mask]) ** 2)))
            times.setdefault(name, []).append(seconds)
    return (
        {name: float(np.mean(v)) for name, v in errors.items()},
        {name: statistics.median(v) for name, v in times.items()},
    )


def run_errors(datasets, seeds, trees):
    names = ["EMImputer", *peers(0, trees)]
    print(f"RMSE in standard deviations (mean of {seeds} masks), time in ms (median)\n")
    header = "| dataset | mask | " + " | ".join(f"{n} RMSE" for n in names)
    print(header + " | " + " | ".join(f"{n} ms" for n in names) + " | ratio |")
    print("|" + "---|" * (3 + 2 * len(names)))
    ratios, slower = [], []
    for dataset in datasets:
        X = StandardScaler().fit_transform(DATASETS[dataset]())
        for mask_fn in MASKS:
            errors, times = error_cell(X, mask_fn, seeds, trees)
            best = min(errors[n] for n in names[1:])
            ratios.append(errors["EMImputer"] / best)
            if times["EMImputer"] >= times["Iterative10"]:
                slower.append(f"{dataset} {mask_fn.__name__}")
            cells = [f"{errors[n]:.3f}" for n in names] + [f"{1e3 * times[n]:.0f}" for n in names]
            row = f"| {dataset} | {mask_fn.__name__} | " + " | ".join(cells)
            print(row + f" | {ratios[-1]:.3f} |", flush=True)
    print(
        f"\nEMImputer RMSE / best peer's: geometric mean {gmean(ratios):.3f}, "
        f"max {max(ratios):.3f}, below 1 in {sum(r < 1 for r in ratios)} of {len(ratios)}"
    )
    print(f"cells where EMImputer took longer than Iterative10: {slower or 'none'}")


# The data are standardised: a spread of the means below this is rounding.
NO_SPREAD = 1e-9


def pooled_errors(imputations, X, columns):
    """Each column's ``(Qbar - full-data mean) / sqrt(B)``: the interval covers
    where its size is at most ``t_{M-1}(0.975) sqrt(1 + 1/M)``. Where
    ``sqrt(B)`` is below ``NO_SPREAD`` (the copies' means agree to rounding)
    the interval is a point: 0 if it is the full-data mean to rounding, else inf."""
    means = np.array([np.asarray(completed)[:, columns].mean(axis=0) for completed in imputations])
    spread = means.std(axis=0, ddof=1)
    errors = means.mean(axis=0) - X[:, columns].mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = np.where(np.abs(errors) < NO_SPREAD, 0.0, np.inf)
        return np.where(spread < NO_SPREAD, point, errors / spread)


COVERED = stats.t.ppf(0.975, M - 1) * np.sqrt(1 + 1 / M)


def run_coverage(datasets, seeds):
    print(f"Coverage of the full-data column means, M={M}, {seeds} masks per cell")
    print("(bias: the mean and root mean square of EMImputer's (Qbar - Q) / sqrt(B),")
    print("over its intervals with a spread; no spread: misses with sqrt(B) < 1e-9)\n")
    print(
        "| dataset | mask | intervals | EMImputer | bias mean | bias rms | no spread "
        "| IterativeImputer |"
    )
    print("|---|---|---|---|---|---|---|---|")
    totals = {}
    for dataset in datasets:
        X = StandardScaler().fit_transform(DATASETS[dataset]())
        for mask_fn in MASKS:
            ours, theirs = [], []
            for seed in range(seeds):
                mask, holed = masked(X, mask_fn, seed)
                columns = np.flatnonzero(mask.any(axis=0))
                imputations = EMImputer(random_state=seed).fit_transform_multiple(holed, M)
                ours.extend(pooled_errors(imputations, X, columns))
                iterative = [
                    IterativeImputer(
                        sample_posterior=True, random_state=M * seed + m
                    ).fit_transform(holed)
                    for m in range(M)
                ]
                theirs.extend(pooled_errors(iterative, X, columns))
            ours, theirs = np.asarray(ours), np.asarray(theirs)
            covered, their_covered = np.abs(ours) <= COVERED, np.abs(theirs) <= COVERED
            # No spread off the truth (B ~ 0: a feature whose observed cells
            # hold one value, imputed as it) is inf: a miss, out of the bias.
            spread = np.isfinite(ours)
            mechanism = "MAR" if mask_fn is mar else "MCAR"
            totals.setdefault(mechanism, [[], []])
            totals[mechanism][0].extend(covered)
            totals[mechanism][1].extend(their_covered)
            print(
                f"| {dataset} | {mask_fn.__name__} | {len(ours)} | {covered.mean():.3f} "
                f"| {ours[spread].mean():+.2f} | {np.sqrt(np.mean(ours[spread] ** 2)):.2f} "
                f"| {np.count_nonzero(~spread)} | {their_covered.mean():.3f} |",
                flush=True,
            )
    for mechanism, (ours, theirs) in totals.items():
        print(
            f"\n{mechanism}: EMImputer {np.mean(ours):.3f}, IterativeImputer "
            f"{np.mean(theirs):.3f} ({len(ours)} intervals)"
        )


def choice_factor(setting, n_features):
    """``CHOICE_TOL_PER_FEATURE`` for a ``--choice-tol`` item: a number, or
    ``fixedF`` for a tol of ``F`` times the imputer's at any width."""
    if setting.startswith("fixed"):
        return float(setting[len("fixed") :]) / n_features
    return float(setting)


class ChoiceTolerance:
    """The default EMImputer with its choice's fits at another
    ``CHOICE_TOL_PER_FEATURE`` (set for its fit only)."""

    def __init__(self, factor, seed):
        self.factor, self.seed = factor, seed

    def fit_transform(self, X):
        kept = _overimpute.CHOICE_TOL_PER_FEATURE
        _overimpute.CHOICE_TOL_PER_FEATURE = self.factor
        try:
            return EMImputer(random_state=self.seed).fit_transform(X)
        finally:
            _overimpute.CHOICE_TOL_PER_FEATURE = kept


def choice_runs(factors):
    """``error_cell``'s ``ours``: a ``ChoiceTolerance`` per setting name."""
    return lambda seed: {name: ChoiceTolerance(f, seed) for name, f in factors.items()}


def run_choice_tolerances(datasets, seeds, settings):
    print("RMSE / best peer's (mean of the masks' RMSE) and time / Iterative10's (medians)\n")
    print("| dataset | mask | " + " | ".join(f"{s} RMSE | {s} time" for s in settings) + " |")
    print("|" + "---|" * (2 + 2 * len(settings)))
    ratios = {setting: ([], []) for setting in settings}
    for dataset in datasets:
        X = StandardScaler().fit_transform(DATASETS[dataset]())
        ours = choice_runs({s: choice_factor(s, X.shape[1]) for s in settings})
        for mask_fn in MASKS:
            errors, times = error_cell(X, mask_fn, seeds, dataset != "digits", ours)
            best = min(errors[n] for n in errors if n not in settings)
            cells = []
            for setting in settings:
                rmse = errors[setting] / best
                took = times[setting] / times["Iterative10"]
                ratios[setting][0].append(rmse)
                ratios[setting][1].append(took)
                cells.append(f"{rmse:.3f} | {took:.2f}")
            print(f"| {dataset} | {mask_fn.__name__} | " + " | ".join(cells) + " |", flush=True)
    for setting, (rmse, took) in ratios.items():
        print(
            f"\n{setting}: RMSE / best peer's geometric mean {gmean(rmse):.3f}, max "
            f"{max(rmse):.3f}; time / Iterative10's geometric mean {gmean(took):.2f}, "
            f"longer in {sum(t > 1 for t in took)} of {len(took)}"
        )


def run_many_rows():
    print("| rows | EMImputer() / classic | EMImputer(1) / classic | time: default | classic |")
    print("|---|---|---|---|---|")
    for n_rows in (500, 5_000, 10_000, 50_000):
        rng = np.random.default_rng(0)
        truth = rng.normal(size=(n_rows, 5)) @ rng.normal(size=(5, 5))
        mask = rng.random(truth.shape) < 0.1
        holed = np.where(mask, np.nan, truth)
        settings = {"default": {}, "one": {"n_components": 1}}
        settings["classic"] = {"n_components": 1, "covariance_type": "full"}
        errors, times = {}, {}
        for name, chosen in settings.items():
            filled, times[name] = timed(EMImputer(random_state=0, **chosen), holed)
            errors[name] = np.sqrt(np.mean((filled[mask] - truth[mask]) ** 2))
        print(
            f"| {n_rows} | {errors['default'] / errors['classic']:.4f} "
            f"| {errors['one'] / errors['classic']:.4f} | {times['default']:.2f} s "
            f"| {times['classic']:.2f} s |",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--trees", action="store_true")
    parser.add_argument("--coverage", action="store_true")
    parser.add_argument("--choice-tol", help="comma-separated CHOICE_TOL_PER_FEATURE values")
    parser.add_argument("--many-rows", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    datasets = args.datasets.split(",")
    with threadpool_limits(1):
        if args.many_rows:
            run_many_rows()
        elif args.coverage:
            run_coverage(datasets, args.seeds)
        elif args.choice_tol:
            run_choice_tolerances(datasets, args.seeds, args.choice_tol.split(","))
        else:
            run_errors(datasets, args.seeds, args.trees)


if __name__ == "__main__":
    main()
