"""A start that searches: short EM runs from several k-means++ starts, the best kept.

EM climbs to the optimum nearest its start, so one start may leave the fit
in a poor local optimum. Short runs from several starts, the one with the
highest log-likelihood continued to convergence (the "em-EM" strategy of
Biernacki, Celeux & Govaert, 2003), cost far less than as many complete
runs. What they find, against one start and ``n_init=10``, is measured in
benchmarks/README.md (Local optima).
"""

from dataclasses import replace

import numpy as np
from joblib import Parallel, delayed

from ._blocks import single_blas_thread
from ._gaussian import SingularCovarianceError
from ._monitor import monitor_for

SEARCH = "k-means++-search"
# The number of short runs, and the passes of each. Chosen by measurement
# on overlapping clusters (benchmarks/bench_convergence.py, benchmarks/README.md).
SEARCH_STARTS = 10
SEARCH_PASSES = 10


def searched_start(X, em, make_start, random_state, run, acceleration="squarem"):
    """The end of the best of ``SEARCH_STARTS`` short EM runs, to start the fit from.

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
    starts = [make_start(np.random.RandomState(seed)) for seed in seeds]

    def short_run(em, start):
        # tol=0: a short run stops after its passes; none is judged converged.
        monitor = monitor_for(acceleration, 0.0, SEARCH_PASSES)
        try:
            params = run(X, start, em, monitor)
        except SingularCovarianceError:
            return -np.inf, None  # a start that collapses is dropped
        return monitor.lower_bound, params

    n_threads = min(em.backend.n_threads, SEARCH_STARTS)
    if n_threads <= 1:
        runs = [short_run(em, start) for start in starts]
    else:
        serial = replace(em, backend=replace(em.backend, n_threads=1))
        with single_blas_thread(True):
            runs = Parallel(n_jobs=n_threads, prefer="threads")(
                delayed(short_run)(serial, start) for start in starts
            )
    loglik, params = max(runs, key=lambda run: run[0])
    return starts[0] if params is None else params
