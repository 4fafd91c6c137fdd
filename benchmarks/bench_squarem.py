"""Passes to convergence: plain EM against SQUAREM, from the same start.

    python benchmarks/bench_squarem.py [--table passes|gap|steps|all] [--seeds 10]

``passes``: three problems (overlapping clusters; wine; diabetes with 30%
missing), four covariance types, two tolerances. Each pair of fits starts
from the same parameters (one EM step from k-means); the table gives the
passes over the data and the difference of the final mean log-likelihoods
(SQUAREM - plain).

``gap``: the same comparison at the same final gap to the optimum rather
than the same tol. For each tol, plain EM's passes and the gap it ends
at; then the fewest passes of a SQUAREM fit (over a grid of tol) that ends
at least as close, from the same k-means start. Gaps below the passes'
rounding count as equal. Three well-separated clusters (n = 2,000, 'full')
in 2, 5 and 10 dimensions, and the ``passes`` problems.

``steps``: SQUAREM's step lengths on the overlapping problems of
``bench_convergence.py``: the schemes S1/S2/S3 of Varadhan & Roland (2008),
the first jump's bound, and how the bound grows and shrinks. For each, the
passes of the default fit (tol=1e-3) over those plain EM needs to reach the
same gap (as ``bench_convergence.py --table stop``), and the bound: the same
ratio for a rule that stopped at the first pass within 1e-4.
"""

import argparse
import statistics
import warnings

import numpy as np
from bench_convergence import (
    BAR,
    GAP_FLOOR,
    fair_plain_passes,
    first_within,
    stopping_problems,
    trajectory,
)
from sklearn.datasets import load_diabetes, load_wine
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from steps import make_data
from threadpoolctl import threadpool_limits

from sklearn_em import GaussianMixture
from sklearn_em._acceleration import StepLengths, run_squarem
from sklearn_em._fit import Settings, initial_params
from sklearn_em._monitor import monitor_for

SQUAREM_TOLS = [10 ** (-j / 10) for j in range(131)]  # 1 down to 1e-13


def problems():
    rng = np.random.default_rng(3)
    means = np.array([[0.0, 0.0], [1.5, 0.5], [0.5, 2.0]])
    overlapping = np.vstack(
        [rng.multivariate_normal(m, [[1.0, 0.6], [0.6, 1.2]], 400) for m in means]
    )
    wine = StandardScaler().fit_transform(load_wine().data)
    diabetes = StandardScaler().fit_transform(load_diabetes().data)
    diabetes[np.random.default_rng(0).random(diabetes.shape) < 0.3] = np.nan
    return [("overlapping", overlapping, 3), ("wine", wine, 3), ("diabetes 30% NaN", diabetes, 2)]


def passes_table():
    print(
        f"{'problem':18}{'covariance':11}{'tol':>7}{'plain':>7}{'SQUAREM':>9}"
        f"{'ratio':>7}{'loglik gain':>13}"
    )
    plain_total = fast_total = 0
    for name, X, k in problems():
        for covariance_type in ["full", "tied", "diag", "spherical"]:
            start = GaussianMixture(
                k, covariance_type=covariance_type, max_iter=1, random_state=0
            ).fit(X)
            for tol in [1e-6, 1e-9]:
                common = dict(
                    covariance_type=covariance_type,
                    tol=tol,
                    max_iter=20000,
                    weights_init=start.weights_,
                    means_init=start.means_,
                    precisions_init=start.precisions_,
                )
                plain = GaussianMixture(k, acceleration=None, **common).fit(X)
                fast = GaussianMixture(k, acceleration="squarem", **common).fit(X)
                plain_total += plain.n_iter_
                fast_total += fast.n_iter_
                print(
                    f"{name:18}{covariance_type:11}{tol:7.0e}{plain.n_iter_:7d}"
                    f"{fast.n_iter_:9d}{fast.n_iter_ / plain.n_iter_:7.2f}"
                    f"{fast.lower_bound_ - plain.lower_bound_:13.1e}"
                )
    print(
        f"\nall problems: {fast_total} SQUAREM passes for {plain_total} plain "
        f"({fast_total / plain_total:.2f})"
    )


# -- the same final gap ---------------------------------------------------------


def separated():
    return [(f"separated d={d}", make_data(2000, d, 3), 3) for d in (2, 5, 10)]


def gap_row(name, X, k, covariance_type, seeds, tols=(1e-4, 1e-6, 1e-8, 1e-10)):
    """Per tol: plain passes, SQUAREM's fewest passes to plain's gap (median, worst)."""
    cells, worse = [], 0
    for tol in tols:
        plain_passes, squarem_passes = [], []
        for seed in seeds:
            common = dict(covariance_type=covariance_type, random_state=seed, n_jobs=1)
            far = [
                GaussianMixture(k, **common, tol=1e-13, max_iter=5000, acceleration=a).fit(X)
                for a in (None, "squarem")
            ]
            optimum = max(model.score(X) for model in far)
            floor = max(GAP_FLOOR, 1e-12 * abs(optimum))
            plain = GaussianMixture(k, **common, tol=tol, max_iter=5000, acceleration=None)
            plain.fit(X)
            gap = max(optimum - plain.score(X), floor)
            for squarem_tol in SQUAREM_TOLS:
                fast = GaussianMixture(k, **common, tol=squarem_tol, max_iter=5000).fit(X)
                if optimum - fast.score(X) <= gap:
                    break
            plain_passes.append(plain.n_iter_)
            squarem_passes.append(fast.n_iter_)
            worse += fast.n_iter_ > plain.n_iter_
        ratios = [f / p for f, p in zip(squarem_passes, plain_passes, strict=True)]
        cells.append(
            f"{statistics.median(plain_passes):7.0f}{statistics.median(squarem_passes):6.0f}"
            f"{max(ratios):6.2f}"
        )
    return f"{name:18}{covariance_type:11}" + "".join(cells) + f"{worse:6d}"


def gap_table(seeds):
    tols = (1e-4, 1e-6, 1e-8, 1e-10)
    print("per tol: plain EM's passes, SQUAREM's to the same gap (medians), worst ratio")
    print(
        f"{'problem':18}{'covariance':11}"
        + "".join(f"{'tol=' + format(t, '.0e'):>19}" for t in tols)
        + f"{'worse':>6}"
    )
    for name, X, k in separated():
        print(gap_row(name, X, k, "full", seeds, tols), flush=True)
    for name, X, k in problems():
        for covariance_type in ["full", "tied", "diag", "spherical"]:
            print(gap_row(name, X, k, covariance_type, seeds[:3], tols), flush=True)


# -- step lengths -----------------------------------------------------------------


STEP_VARIANTS = {
    "S3, 1 x2 /2 (default)": StepLengths(),
    "S1": StepLengths(scheme="S1"),
    "S2": StepLengths(scheme="S2"),
    "S3, first bound 4": StepLengths(initial_max=4.0),
    "S3, no bound": StepLengths(initial_max=np.inf, growth=1.0, shrink=1.0),
    "S3, x4 /4 (R's SQUAREM)": StepLengths(growth=4.0, shrink=4.0),
    "S3, restart at 1": StepLengths(shrink=np.inf),
}


def squarem_run(X, k, covariance_type, seed, steps, tol, max_iter):
    """SQUAREM with ``steps`` from the default fit's start: (passes, path, final score)."""
    model = GaussianMixture(k, covariance_type=covariance_type, n_jobs=1)
    em = model._em()
    settings = Settings(n_components=k)
    start = initial_params(X, em, settings, (None, None, None), check_random_state(seed))
    monitor = monitor_for("squarem", tol, max_iter, dtype=X.dtype)
    params = run_squarem(X, start, em, monitor, steps)
    final = em.step(X, params)[0]
    return monitor.n_iter, np.maximum.accumulate([*monitor.history, final]), final


def steps_table(seeds):
    chosen = [p for p in stopping_problems() if "overlap" in p[0] or "1-D" in p[0]]
    print(
        "pass ratio to plain EM at the same gap (median/worst), and the bound (median);"
        " seeds where SQUAREM and plain EM went to different optima are left out"
    )
    print(f"{'steps':26}" + "".join(f"{name[:16]:>19}" for name, *_ in chosen))
    plains = {}
    for label, steps in STEP_VARIANTS.items():
        cells = []
        for name, k, covariance_type, make in chosen:
            ratios, bounds = [], []
            for seed in seeds:
                X = make(seed)
                if (name, seed) not in plains:
                    plain = GaussianMixture(
                        k,
                        covariance_type=covariance_type,
                        random_state=seed,
                        n_jobs=1,
                        acceleration=None,
                        tol=1e-12,
                        max_iter=20_000,
                    ).fit(X)
                    plains[name, seed] = trajectory(plain, X)
                plain_path = plains[name, seed]
                _, far_path, optimum = squarem_run(X, k, covariance_type, seed, steps, 1e-9, 3000)
                if abs(optimum - plain_path[-1]) > 1e-6:
                    continue  # the two went to different optima: no common gap
                # Each method's gap is to its own limit (they agree within 1e-6).
                limit = plain_path[-1]
                passes, _, score = squarem_run(X, k, covariance_type, seed, steps, 1e-3, 100)
                fair, _ = fair_plain_passes(plain_path, limit, optimum - score)
                ratios.append(passes / fair)
                exact = first_within(far_path, optimum, BAR)
                exact_fair, _ = fair_plain_passes(plain_path, limit, optimum - far_path[exact])
                bounds.append(exact / exact_fair)
            cells.append(
                f"{statistics.median(ratios):6.2f}/{max(ratios):<5.2f}"
                f"{statistics.median(bounds):6.2f}  "
            )
        print(f"{label:26}" + "".join(cells), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--table", choices=["passes", "gap", "steps", "all"], default="all")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    seeds = range(args.seeds)
    with threadpool_limits(1):
        if args.table in ("passes", "all"):
            passes_table()
        if args.table in ("gap", "all"):
            gap_table(seeds)
        if args.table in ("steps", "all"):
            steps_table(seeds)


if __name__ == "__main__":
    main()
