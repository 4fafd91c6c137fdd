"""A start that searches: short EM runs from several k-means starts, the best kept.

EM climbs to the optimum nearest its start, so one start may leave the fit
in a poor local optimum. Short runs from several starts, the one with the
highest log-likelihood continued to convergence (the "em-EM" strategy of
Biernacki, Celeux & Govaert, 2003), cost far less than as many complete
runs. Here the short runs are pruned in stages (successive halving): all of
them run some passes, the best few run on, and the best two of those are run
to convergence by the fit's own rule, the better kept. What they find, against one start and
``n_init=10``, is measured in benchmarks/README.md (Local optima).

Each run keeps its monitor from stage to stage, so that the last runs stop
where one run from its start would: resumed with a fresh monitor, the gap
rule would judge it as if it had just left a start (it has yet to see how
slowly EM goes there) and stop it short of the optimum.
"""

from dataclasses import dataclass, replace

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
# The number of starts: 12, and more from k=9, since the share of k-means
# starts that reach the best optimum falls as k grows (benchmarks/README.md,
# Local optima).
MIN_SEARCH_STARTS = 12
EXTRA_STARTS_PER_COMPONENT = 4


def search_starts(n_components):
    """The number of short runs the search starts for ``n_components``."""
    return max(MIN_SEARCH_STARTS, n_components + EXTRA_STARTS_PER_COMPONENT)


# The stages of the search: (passes, runs kept after them). Every start runs
# 24 passes, the best 4 run 10 more, and the best 2 of those are run to
# convergence. Chosen by measurement (benchmarks/README.md, Local optima):
# before pass 20 the runs that end highest are often still behind.
SEARCH_STAGES = ((24, 4), (10, 2))


def searched_start(
    X, em, make_start, random_state, run, settings, n_starts=None, stages=SEARCH_STAGES
):
    """The best of ``n_starts`` EM runs pruned by ``stages``, those left run to convergence.

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
    settings : Settings
        The fit's: its ``acceleration`` chooses the runs' monitor, and its
        ``tol`` and ``max_iter`` stop every run (the runs left after the
        stages go on until they converge).
    n_starts : int, default=None
        The number of starts; None: ``search_starts(settings.n_components)``.
    stages : sequence of (int, int), default=SEARCH_STAGES
        ``(passes, kept)``: every run still in the search runs ``passes``
        more, then the ``kept`` with the highest log-likelihood stay.

    Returns
    -------
    mixture : Mixture
        The end of the best run left; the first start if every run collapsed.
    """
    if n_starts is None:
        n_starts = search_starts(settings.n_components)
    seeds = random_state.randint(np.iinfo(np.int32).max, size=n_starts)
    runs = [
        _Run(
            make_start(np.random.RandomState(seed)),
            monitor_for(settings.acceleration, settings.tol, 0, dtype=X.dtype),
        )
        for seed in seeds
    ]
    first = runs[0].params
    runs = _distinct(runs)
    # Every run is stopped by the fit's own rule too: one that converges
    # within a stage has its final log-likelihood, and runs no more.
    for passes, kept in stages:
        runs = _run_on(X, em, runs, run, passes)
        runs = sorted(runs, key=lambda r: r.loglik, reverse=True)[:kept]
    if settings.max_iter > 0:
        runs = _run_on(X, em, runs, run, settings.max_iter)
    best = max(runs, key=lambda r: r.loglik)
    return first if best.params is None else best.params


def _distinct(runs):
    """The runs whose starts differ: k-means from different seeds often ends
    in the same partition, and the run from it would be the same."""
    kept = []
    for candidate in runs:
        if not any(_same_mixture(candidate.params, run.params) for run in kept):
            kept.append(candidate)
    return kept


def _same_mixture(a, b):
    """Whether two mixtures have the same weights and means, in any order of components."""
    a_order, b_order = np.lexsort(a.means.T[::-1]), np.lexsort(b.means.T[::-1])
    atol = 1e-12 * max(1.0, np.abs(a.means).max())
    means = np.allclose(a.means[a_order], b.means[b_order], rtol=1e-9, atol=atol)
    return means and np.allclose(a.weights[a_order], b.weights[b_order], rtol=1e-9)


@dataclass(frozen=True)
class _Run:
    """Where one run stands: its mixture (None once it collapsed) and its
    monitor, which it keeps from stage to stage (``ConvergenceMonitor.resume``)."""

    params: object
    monitor: object

    @property
    def loglik(self):
        return -np.inf if self.params is None else self.monitor.lower_bound


def _run_on(X, em, runs, run, passes):
    """Each run after at most ``passes`` more passes (fewer if it converges)."""

    def run_on(em, start):
        if start.params is None or start.monitor.converged:
            return start
        start.monitor.resume(passes)
        try:
            return _Run(run(X, start.params, em, start.monitor), start.monitor)
        except SingularCovarianceError:
            return _Run(None, start.monitor)  # a start that collapses is dropped

    n_threads = min(em.backend.n_threads, len(runs))
    if n_threads <= 1:
        return [run_on(em, start) for start in runs]
    serial = replace(em, backend=replace(em.backend, n_threads=1))
    with single_blas_thread(True):
        return Parallel(n_jobs=n_threads, prefer="threads")(
            delayed(run_on)(serial, start) for start in runs
        )
