"""A start that searches: short EM runs from several k-means starts, the best kept.

EM climbs to the optimum nearest its start, so one start may leave the fit
in a poor local optimum. Short runs from several starts, the one with the
highest log-likelihood continued to convergence (the "em-EM" strategy of
Biernacki, Celeux & Govaert, 2003), cost far less than as many complete
runs. Here the short runs are pruned in stages: all of them run a few
passes, the best few run on, and the best of those starts the fit. What
they find, against one start and ``n_init=10``, is measured in
benchmarks/README.md (Local optima).
"""

from dataclasses import replace

import numpy as np
from joblib import Parallel, delayed

from ._blocks import single_blas_thread
from ._gaussian import SingularCovarianceError
from ._monitor import monitor_for

SEARCH = "k-means++-search"
# The starts of the short runs: k-means (Lloyd's iterations from k-means++
# seeds, as init_params='kmeans'), which found the best optimum more often
# than k-means++ seeds alone on the benchmark's problems.
SEARCH_INIT = "kmeans"
SEARCH_STARTS = 10
# The stages of the search: (passes, runs kept after them). Every start runs
# 20 passes; the best 2 run 20 more; the best of those starts the fit.
# Chosen by measurement (benchmarks/README.md, Local optima): after 10 passes
# the ranking of the runs still said little about where they would end.
SEARCH_STAGES = ((20, 2), (20, 1))


def searched_start(X, em, make_start, random_state, run, acceleration="squarem"):
    """The end of the best short EM run of ``SEARCH_STARTS``, to start the fit from.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training data (NaN where missing).
    em : EM
        Runs the passes; with several threads the short runs share them, one
        run per thread.
    make_start : callable
        ``make_start(random_state)`` gives one starting mixture.
    random_state : RandomState
        Seeds the starts.
    run : callable
        ``run(X, start, em, monitor)`` iterates EM (plain or SQUAREM) as the
        fit does.
    acceleration : {'squarem', None}, default='squarem'
        Which monitor the short runs report to, as the fit's.

    Returns
    -------
    mixture : Mixture
        The short run's mixture with the highest log-likelihood.
    """
    seeds = random_state.randint(np.iinfo(np.int32).max, size=SEARCH_STARTS)
    runs = [(-np.inf, make_start(np.random.RandomState(seed))) for seed in seeds]
    first = runs[0][1]
    for passes, kept in SEARCH_STAGES:
        runs = _run_on(X, em, [params for _, params in runs], run, passes, acceleration)
        runs = sorted(runs, key=lambda r: r[0], reverse=True)[:kept]
    loglik, params = runs[0]
    return first if params is None else params


def _run_on(X, em, starts, run, passes, acceleration):
    """``(log-likelihood, mixture)`` after ``passes`` more passes from each start."""

    def short_run(em, start):
        if start is None:
            return -np.inf, None
        # tol=0: a short run stops after its passes; none is judged converged.
        monitor = monitor_for(acceleration, 0.0, passes)
        try:
            params = run(X, start, em, monitor)
        except SingularCovarianceError:
            return -np.inf, None  # a start that collapses is dropped
        return monitor.lower_bound, params

    n_threads = min(em.backend.n_threads, len(starts))
    if n_threads <= 1:
        return [short_run(em, start) for start in starts]
    serial = replace(em, backend=replace(em.backend, n_threads=1))
    with single_blas_thread(True):
        return Parallel(n_jobs=n_threads, prefer="threads")(
            delayed(short_run)(serial, start) for start in starts
        )
