"""The driver: starts, EM steps, restarts, warm starts and the convergence warning.

It sees the family only through ``_family.Family`` and the data only through
passes (``_pass``). ``fit`` is what an estimator calls.
"""

import time
import warnings
from dataclasses import dataclass, field, fields, replace
from functools import cached_property, partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning

from . import _dask_pass, _pass
from ._acceleration import run_squarem
from ._blocks import Backend, row_chunks, single_blas_thread
from ._dask import is_dask_collection, sample_rows
from ._init import initial_responsibilities
from ._missing_layout import LayoutCache
from ._monitor import monitor_for
from ._search import SEARCH, SEARCH_INIT, searched_start

# The most rows a start on Dask input is drawn from (k-means runs in memory).
DASK_START_ROWS = 100_000


@dataclass(frozen=True)
class Settings:
    """How a fit iterates: the estimator's EM parameters.

    ``private_draws``: the fit's generator is its own (seeded from an int):
    in memory, nothing draws from it but the starts.
    """

    n_components: int
    tol: float = 1e-3
    max_iter: int = 100
    n_init: int = 1
    init_params: str = "kmeans"
    acceleration: str = "squarem"
    verbose: int = 0
    verbose_interval: int = 10
    private_draws: bool = False

    @classmethod
    def of(cls, estimator):
        """The settings an estimator's parameters of the same names give."""
        names = [f.name for f in fields(cls) if hasattr(estimator, f.name)]
        return cls(**{name: getattr(estimator, name) for name in names})


@dataclass(frozen=True)
class EM:
    """Passes of one family over one data set: what EM and SQUAREM step with.

    ``cache`` keeps what depends on the data alone (the layout of its NaN)
    between the passes of one fit. ``sample_weight`` holds one weight per row
    of the fitted data (None: every row counts once; a Dask array chunked
    like the rows for Dask data); ``log_prior`` is the
    log prior density of the parameters (None: maximum likelihood), which
    the family's MAP M-step maximises along with the likelihood.
    """

    family: object
    backend: Backend = Backend()
    cache: LayoutCache = field(default_factory=LayoutCache, compare=False, repr=False)
    sample_weight: np.ndarray = field(default=None, compare=False, repr=False)
    log_prior: object = field(default=None, compare=False, repr=False)

    def prepare(self, X, params, dtype=None):
        dtype = X.dtype if dtype is None else dtype
        if is_dask_collection(X):  # each chunk is one thread's work on a worker
            return self.family.prepare(params, dtype, max(X.chunks[0]), 1)
        return self.family.prepare(params, dtype, X.shape[0], self.backend.n_threads)

    def statistics(self, X, params, dtype=None):
        prepared = self.prepare(X, params, dtype)
        if is_dask_collection(X):
            stats = _dask_pass.statistics(X, self.family, prepared, self.sample_weight)
        else:
            stats = _pass.statistics(
                X, self.family, prepared, self.backend, self.cache, self.sample_weight
            )
        return stats, prepared

    @cached_property
    def _total_weight(self):
        return float(self.sample_weight.sum())

    def objective(self, stats, params, n_samples):
        """What EM increases: the log-likelihood of ``params`` (plus its log
        prior density, with a prior) per sample, or per unit of weight."""
        total = n_samples if self.sample_weight is None else self._total_weight
        log_prior = 0.0 if self.log_prior is None else self.log_prior(params)
        return (stats.loglik + log_prior) / total

    def step(self, X, params):
        """One EM iteration: the ``objective`` of ``params``, and its update.

        A pass below float64 whose update it could not resolve (or that
        failed) is redone in float64, so float32 input never fails where
        float64 succeeds.
        """
        prepared = None
        try:
            stats, prepared = self.statistics(X, params)
            update = self.family.m_step(stats)
            if self.family.resolved(prepared, update):
                return self.objective(stats, params, X.shape[0]), update
        except ValueError:
            if prepared is None or prepared.dtype == np.float64:
                raise
        stats, _ = self.statistics(X, params, np.float64)
        return self.objective(stats, params, X.shape[0]), self.family.m_step(stats)

    def per_row(self, X, params, answer=None, width=None, dtype=None):
        """``answer`` of the ``(rows, k)`` values ``log w_k + log p(x | k)``, block
        by block (None: those values); ``width`` columns (None: one value a row).

        An array, or for Dask input a lazy Dask array chunked like ``X``'s rows
        (of ``dtype``; by default the pass's).
        """
        prepared = self.prepare(X, params)
        if is_dask_collection(X):
            dtype = prepared.dtype if dtype is None else dtype
            return _dask_pass.per_row(X, self.family, prepared, answer, width, dtype)
        return _pass.log_prob(X, self.family, prepared, self.backend, answer)

    def log_prob(self, X, params):
        """``(n, k)``: ``log w_k + log p(x | k)`` for every row."""
        return self.per_row(X, params, width=params.n_components)

    def labels(self, X, params):
        """The most probable component of each row."""
        return self.per_row(X, params, _pass.most_probable, dtype=np.intp)

    def conditionals(self, X, params, key):
        """Conditional moments of rows of ``X`` holding NaN (one block), and their
        origin; the block's layout is kept in the cache under ``key``."""
        return self.family.conditionals(params, X, self.cache, key)


def run_plain_em(X, start, em, monitor):
    """Iterate EM from ``start`` until the monitor says done."""
    params = start
    while not monitor.done:
        loglik, params = em.step(X, params)
        monitor.report(loglik)
    return params


@dataclass(frozen=True)
class FitResult:
    params: object
    converged: bool
    n_iter: int
    lower_bounds: list
    lower_bound: float
    trace: tuple = ()


def fit(X, em, settings, random_state, user_start=(None, None, None), warm=None):
    """Fit by EM: from ``warm = (params, lower_bound)``, or from ``n_init`` starts.

    ``user_start`` holds the weights, means and covariances the user gave
    (None where not given); ``random_state`` is a ``RandomState``.
    """
    if warm is not None:
        runs = [_run(X, em, settings, warm[0], warm[1], 0)]
    else:
        runs = _run_initializations(X, em, settings, user_start, random_state)
    params, monitor = max(runs, key=lambda run: run[1].lower_bound)
    if not monitor.converged and settings.max_iter > 0:
        hint = " Try acceleration='squarem'." if settings.acceleration is None else ""
        warnings.warn(
            "Best performing initialization did not converge. Try different init "
            "parameters, or increase max_iter, tol, or check for degenerate data. "
            f"(max_iter={settings.max_iter} passes were not enough to reach "
            f"tol={settings.tol}.)" + hint,
            ConvergenceWarning,
            stacklevel=5,
        )
    return FitResult(
        params=params,
        converged=monitor.converged,
        n_iter=monitor.n_iter,
        lower_bounds=list(monitor.history),
        lower_bound=monitor.lower_bound,
        trace=monitor.trace,
    )


def _run_initializations(X, em, settings, user_start, random_state):
    # Starts are drawn in turn from one generator, as scikit-learn draws
    # them, so that a seed gives scikit-learn's starts; the runs from them
    # then share the threads.
    starts = [
        initial_params(X, em, settings, user_start, random_state) for _ in range(settings.n_init)
    ]
    n_threads = min(em.backend.n_threads, settings.n_init)
    if n_threads <= 1 or is_dask_collection(X):  # a Dask pass already uses the cluster
        return [_run(X, em, settings, start, -np.inf, i) for i, start in enumerate(starts)]
    # Restarts share the threads, so each runs its blocks serially.
    em = replace(em, backend=replace(em.backend, n_threads=1))
    with single_blas_thread(True):
        return Parallel(n_jobs=n_threads, prefer="threads")(
            delayed(_run)(X, em, settings, start, -np.inf, i) for i, start in enumerate(starts)
        )


def _run(X, em, settings, start, previous_lower_bound, index):
    if settings.verbose:
        print(f"Initialization {index}")
    started = time.perf_counter()
    monitor = monitor_for(
        settings.acceleration,
        settings.tol,
        settings.max_iter,
        settings.verbose,
        settings.verbose_interval,
        previous_lower_bound,
        X.dtype,
    )
    run = run_squarem if settings.acceleration == "squarem" else run_plain_em
    params = run(X, start, em, monitor) if settings.max_iter > 0 else start
    if settings.verbose:
        state = "converged" if monitor.converged else "did not converge"
        print(
            f"Initialization {state}. time lapse {time.perf_counter() - started:.5f}s"
            f"\t lower bound {monitor.lower_bound:.5f}"
        )
    return params, monitor


def initial_params(X, em, settings, user_start, random_state):
    """The user's weights, means and covariances, the rest from ``init_params``."""
    if settings.init_params == SEARCH:
        if is_dask_collection(X):  # the short runs search in memory, on a sample
            X, sample_weight = start_rows(X, em.sample_weight, random_state)
            em = replace(em, sample_weight=sample_weight, cache=LayoutCache())
        one_start = replace(settings, init_params=SEARCH_INIT)
        start = partial(initial_params, X, em, one_start, user_start)
        run = run_squarem if settings.acceleration == "squarem" else run_plain_em
        return searched_start(X, em, start, random_state, run, settings)
    weights, means, covariances = user_start
    if weights is None or means is None or covariances is None:
        one_cluster = _one_cluster_by_kmeans(X, settings)
        X, sample_weight = start_rows(X, em.sample_weight, random_state)
        X = fill_with_column_means(X)
        if one_cluster:
            # k-means puts every row in its one cluster; what it would have
            # drawn, nothing else draws.
            resp = np.ones((X.shape[0], 1))
        else:
            resp = initial_responsibilities(
                X, settings.n_components, settings.init_params, random_state, sample_weight
            )
        estimate = em.family.from_responsibilities(X, resp, sample_weight)
        weights = estimate.weights if weights is None else weights
        means = estimate.means if means is None else means
        covariances = estimate.covariances if covariances is None else covariances
    return em.family.from_parts(weights, means, covariances)


def _one_cluster_by_kmeans(X, settings):
    """Whether the start is k-means with one cluster, on rows in memory, drawn
    from the fit's own generator: its responsibilities are then all one. (On
    Dask each start's rows are sampled from that generator after the starts
    before it drew, so their draws count.)"""
    one = settings.n_components == 1 and settings.init_params == "kmeans"
    return one and settings.private_draws and not is_dask_collection(X)


def start_rows(X, sample_weight, random_state, n_rows=DASK_START_ROWS):
    """The rows a start is drawn from, with their weights: all of ``X`` in memory;
    for Dask input, up to ``n_rows`` rows sampled from ``random_state``, less
    those of zero weight (which a fit in memory never sees)."""
    if not is_dask_collection(X):
        return X, sample_weight
    X, sample_weight = sample_rows(X, n_rows, random_state, sample_weight)
    if sample_weight is None or sample_weight.all():
        return X, sample_weight
    return X[sample_weight > 0], sample_weight[sample_weight > 0]


def fill_with_column_means(X):
    """A copy of ``X`` with NaN replaced by column means, for initialization only."""
    missing = np.zeros(X.shape[1], dtype=bool)
    for rows in row_chunks(X.shape[0]):
        missing |= np.isnan(X[rows]).any(axis=0)
    if not missing.any():
        return X
    mask = np.isnan(X)
    filled = X.copy()
    filled[mask] = np.take(np.nanmean(X, axis=0), np.nonzero(mask)[1])
    return filled
