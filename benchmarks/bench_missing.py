"""The cost of missing values: one EM iteration on holed data, and the imputer's cells.

    python benchmarks/bench_missing.py [--n 100000] [--d 20] [--k 4] [--fraction 0.2]
        [--mask mcar|blocks] [--covariance-type full] [--baseline DIR --turns 3]
    python benchmarks/bench_missing.py --cells [--baseline DIR] [--seeds 3] [--clock cpu]
        [--datasets digits,diabetes] [--masks "MCAR 30%,MAR"]

Iteration mode: the same rows are fitted complete and with a fraction of
entries missing completely at random, from the same starting parameters.
One iteration is ``(t(max_iter=1 + m) - t(max_iter=1)) / m``, the median
over the repeats.

Cells mode: on bench_impute.py's datasets and masks (standardised, one mask
per seed), the time of one pass (``EM.statistics``) with the parameters of
each of the imputer's forms, (1, 'full') and (3, 'tied'), after three EM
steps; then ``EMImputer().fit_transform`` beside
IterativeImputer(max_iter=10), medians over the seeds. ``--baseline DIR``
times another checkout's package (DIR holds its ``sklearn_em``; e.g. from
``git archive main | tar -x -C DIR``) in the same run, interleaved with
this one, and checks that both give the same imputations (to 1e-10 of the
largest value). BLAS is held to one thread.
"""

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import sklearn_em
from sklearn_em import GaussianMixture

FORMS = ((1, "full"), (3, "tied"))


def seconds_per_iteration(X, k, covariance_type, start, iterations, repeats, mixture):
    def fit(max_iter):
        model = mixture(k, covariance_type=covariance_type, tol=0, max_iter=max_iter, **start)
        began = time.perf_counter()
        model.fit(X)
        return time.perf_counter() - began

    return statistics.median((fit(1 + iterations) - fit(1)) / iterations for _ in range(repeats))


def iteration_mode(args):
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
    packages = {"": sklearn_em}
    if args.baseline:  # taking turns with this checkout's
        packages = {"baseline ": load_baseline(args.baseline), "now ": sklearn_em}
    missing = {label: [] for label in packages}
    complete = seconds_per_iteration(X, *timing, GaussianMixture)
    for _ in range(args.turns):
        for label, package in packages.items():
            missing[label].append(seconds_per_iteration(holed, *timing, package.GaussianMixture))
    incomplete_rows = np.isnan(holed).any(axis=1).mean()
    print(
        f"n={args.n} d={args.d} k={args.k} {kind} covariance, {args.fraction:.0%} {args.mask} "
        f"({incomplete_rows:.1%} of rows incomplete), median of {args.repeats} repeats"
    )
    print(f"complete data   {complete:.4f} s/iter")
    for label, times in missing.items():
        seconds = statistics.median(times)
        print(f"{label}with missing    {seconds:.4f} s/iter")
        print(f"{label}ratio           {seconds / complete:.2f}x")


def load_baseline(folder):
    """The package of another checkout, imported as ``sklearn_em_baseline``
    (its imports are relative, so a renamed copy is a package of its own)."""
    copy = Path(tempfile.mkdtemp()) / "sklearn_em_baseline"
    shutil.copytree(Path(folder) / "sklearn_em", copy)
    sys.path.insert(0, str(copy.parent))
    return importlib.import_module("sklearn_em_baseline")


def pass_timer(package, X, form, clock, passes=3):
    """A timer of one pass of ``package``'s EM over ``X`` (the mean of
    ``passes``), with the parameters of three EM steps of ``form``."""
    fit = importlib.import_module(package.__name__ + "._fit")
    family = importlib.import_module(package.__name__ + "._gaussian_family")
    k, kind = form
    model = package.GaussianMixture(k, covariance_type=kind, max_iter=3, random_state=0)
    mixture = model.fit(X)._mixture()
    em = fit.EM(family.GaussianFamily(kind, model.reg_covar))
    em.statistics(X, mixture)  # its layout, once per fit

    def one_round():
        began = clock()
        for _ in range(passes):
            em.statistics(X, mixture)
        return (clock() - began) / passes

    return one_round


def interleaved(timers, rounds=5):
    """Median of each timer's rounds, the timers taking turns."""
    times = {name: [] for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            times[name].append(timer())
    return {name: statistics.median(values) for name, values in times.items()}


def cells_mode(args):
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_impute import DATASETS, MASKS, masked

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    packages = {"now": sklearn_em}
    if args.baseline:
        packages = {"baseline": load_baseline(args.baseline), **packages}
    masks = [m for m in MASKS if not args.masks or m.__name__ in args.masks.split(",")]
    names = args.datasets.split(",")
    print(f"one BLAS thread, {args.clock} time, medians; pass ms after three EM steps, seed 0")
    print()
    header = "| dataset | mask | form | " + " | ".join(f"{p} pass ms" for p in packages)
    print(header + (" | baseline / now |" if args.baseline else " |"))
    print("|---" * (3 + len(packages) + bool(args.baseline)) + "|")
    for name in names:
        X = StandardScaler().fit_transform(DATASETS[name]())
        for mask in masks:
            holed = masked(X, mask, 0)[1]
            for form in FORMS:
                timers = {}
                for label, package in packages.items():
                    timers[label] = pass_timer(package, holed, form, clock)
                med = interleaved(timers)
                row = f"| {name} | {mask.__name__} | {form} | "
                row += " | ".join(f"{1e3 * med[p]:.1f}" for p in packages)
                if args.baseline:
                    row += f" | {med['baseline'] / med['now']:.2f}x"
                print(row + " |", flush=True)
    print()
    labels = [f"EMImputer {p} s" for p in packages] + ["Iterative10 s"]
    ratios = ["now / Iterative10"] + (["baseline / Iterative10"] if args.baseline else [])
    print("| dataset | mask | " + " | ".join(labels + ratios) + " |")
    print("|---" * (2 + len(labels) + len(ratios)) + "|")
    for name in names:
        X = StandardScaler().fit_transform(DATASETS[name]())
        for mask in masks:
            times = {label: [] for label in [*packages, "Iterative10"]}
            for seed in range(args.seeds):
                holed = masked(X, mask, seed)[1]
                filled = {}
                makers = {p: package.EMImputer for p, package in packages.items()}
                order = list(makers) if seed % 2 == 0 else list(makers)[::-1]
                for label in order:
                    began = clock()
                    filled[label] = makers[label](random_state=seed).fit_transform(holed)
                    times[label].append(clock() - began)
                began = clock()
                IterativeImputer(max_iter=10, random_state=seed).fit_transform(holed)
                times["Iterative10"].append(clock() - began)
                if args.baseline:
                    scale = np.abs(filled["baseline"]).max()
                    gap = np.abs(filled["now"] - filled["baseline"]).max() / scale
                    assert gap < 1e-10, f"{name} {mask.__name__} seed {seed}: imputations differ"
            med = {label: statistics.median(values) for label, values in times.items()}
            row = f"| {name} | {mask.__name__} | "
            row += " | ".join(f"{med[label]:.2f}" for label in times)
            row += " | " + " | ".join(
                f"{med[p] / med['Iterative10']:.2f}x" for p in ["now", "baseline"][: len(ratios)]
            )
            print(row + " |", flush=True)


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
    parser.add_argument("--cells", action="store_true", help="the imputer's cells (see above)")
    parser.add_argument("--baseline", help="a checkout whose sklearn_em to time beside this one")
    parser.add_argument("--turns", type=int, default=1, help="with --baseline: turns each")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--datasets", default="iris,wine,diabetes,breast_cancer,digits")
    parser.add_argument("--masks", default="", help="comma-separated mask names; all by default")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.cells:
        with threadpool_limits(1):
            cells_mode(args)
    else:
        iteration_mode(args)


if __name__ == "__main__":
    main()
