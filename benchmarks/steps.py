"""Shared pieces of the per-iteration benchmarks: data, a common start, timers.

One iteration is timed directly: scikit-learn's ``_e_step`` + ``_m_step``
against our ``EM.step``, both from the same parameters, so that neither
input validation nor the final labelling enters the figure.
"""

import math
import statistics
import time
import warnings
from dataclasses import replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from sklearn_em import GaussianMixture


def make_data(n, d, k, dtype=np.float64, seed=0):
    """``k`` unit clusters with centres drawn at scale 3 (as in bench_fit)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(k, d))
    labels = rng.integers(k, size=n)
    return (centers[labels] + rng.normal(size=(n, d))).astype(dtype)


def make_correlated(n, d, k, dtype=np.float64, seed=0):
    """``x = c + z @ A`` with ``A = I + 0.2 N(0, 1)`` per component (issue 13)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(k, d))
    shapes = np.eye(d) + 0.2 * rng.normal(size=(k, d, d))
    labels = rng.integers(k, size=n)
    z = rng.normal(size=(n, d))
    X = centers[labels] + np.einsum("na,nab->nb", z, shapes[labels])
    return X.astype(dtype)


def sklearn_at_start(X, k, covariance_type):
    """scikit-learn's mixture after one EM step from rows drawn as means."""
    model = SklearnMixture(
        k,
        covariance_type=covariance_type,
        max_iter=1,
        init_params="random_from_data",
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:20000])
    return model


def ours_at(model, X, n_jobs=1, **family):
    """Our em and parameters at the state of a fitted scikit-learn model."""
    ours = GaussianMixture(
        model.n_components, covariance_type=model.covariance_type, n_jobs=n_jobs
    )
    em = ours._em()
    if family:
        em = replace(em, family=replace(em.family, **family))
    params = em.family.from_parts(model.weights_, model.means_, model.covariances_)
    return em, params


def sklearn_step(model, X):
    def step():
        _, log_resp = model._e_step(X)
        model._m_step(X, log_resp)

    return step


def our_step(em, params, X):
    return lambda: em.step(X, params)


def seconds(step, repeats=1):
    began = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - began) / repeats


# Seconds to wait before a timing where BLAS may run more than one thread
# (bench_grid on two threads; every fit of bench_fit, which runs on all
# cores). OpenBLAS's worker threads spin for a while after a threaded call
# before they sleep (its THREAD_TIMEOUT): timed right after scikit-learn's
# two-thread step, our step shared a core with a spinning thread
# (benchmarks/README.md, "Ninth session"). Waiting lets each library start
# on idle cores, as in a fit of its own.
SETTLE_SECONDS = 1.0


def interleaved(steps, repeats, warmup=1, at_least=0.03, settle=0.0):
    """Median seconds of each step, timed in turn ``repeats`` times after a warm-up,
    and the median of each step's ratio to the first's.

    Each timing runs a step often enough to last ``at_least`` seconds (as
    measured in the warm-up), so that short steps are not one scheduler tick;
    it waits ``settle`` seconds first (``SETTLE_SECONDS`` on more than one
    thread).
    """
    loops = []
    for step in steps:
        for _ in range(warmup):
            took = seconds(step)
        loops.append(max(1, math.ceil(at_least / max(took, 1e-6))))
    times = [[] for _ in steps]
    for _ in range(repeats):
        for timings, step, count in zip(times, steps, loops, strict=True):
            time.sleep(settle)
            timings.append(seconds(step, count))
    medians = [statistics.median(t) for t in times]
    ratios = [statistics.median(a / b for a, b in zip(times[0], t, strict=True)) for t in times]
    return medians, ratios


# -- damped Anderson acceleration (an experiment: bench_convergence --table anderson) --


def run_daarem(X, em, start, max_passes, order=10, alpha=1.2, kappa=25):
    """The log-likelihood after each pass of damped Anderson acceleration of EM.

    DAAREM (Henderson & Varadhan, 2019) on SQUAREM's unconstrained parameter
    vector: an Anderson step over the last ``order`` EM steps (the history
    restarts after ``order`` steps), its least-squares coefficients shrunk
    by a ridge term so that their norm is ``1 / (1 + alpha**(kappa - s))``
    of the unshrunk one, where ``s`` counts accepted steps less rejected
    ones. A step is kept only if its log-likelihood is at least the current
    one; otherwise the run takes the EM step from the current iterate (one
    more pass) and the history restarts, so the likelihood never falls.
    Returns ``L[n]``, the best mean log-likelihood after ``n`` passes, as
    ``bench_convergence.trajectory`` does for a fit.
    """
    from sklearn_em._acceleration import _Parameterisation
    from sklearn_em._gaussian import SingularCovarianceError

    params = _Parameterisation(em, start.n_components, start.n_features)
    x = params.pack(start)
    loglik, following = em.step(X, start)
    path = [loglik]
    residual = params.pack(following) - x
    steps, changes = [], []  # differences of iterates and of residuals
    accepted = 0
    while len(path) < max_passes:
        proposal = x + residual
        if steps:
            dx, df = np.array(steps).T, np.array(changes).T
            gamma = _damped_coefficients(df, residual, 1 / (1 + alpha ** (kappa - accepted)))
            proposal = proposal - (dx + df) @ gamma
        try:
            with np.errstate(all="ignore"):
                candidate = params.unpack(proposal)
                loglik_c, after = em.step(X, candidate)
        except (SingularCovarianceError, ValueError, np.linalg.LinAlgError):
            loglik_c = -np.inf
        path.append(max(loglik_c, path[-1]) if np.isfinite(loglik_c) else path[-1])
        if np.isfinite(loglik_c) and loglik_c >= loglik:
            new_residual = params.pack(after) - proposal
            steps.append(proposal - x)
            changes.append(new_residual - residual)
            x, residual, loglik = proposal, new_residual, loglik_c
            accepted += 1
            if len(steps) >= order:
                steps, changes = [], []
            continue
        # Rejected: the EM step from the current iterate, one more pass.
        x = x + residual
        loglik, following = em.step(X, params.unpack(x))
        path.append(max(loglik, path[-1]))
        residual = params.pack(following) - x
        steps, changes = [], []
        accepted = max(0, accepted - 1)
    return np.maximum.accumulate(path[:max_passes])


def _damped_coefficients(df, residual, share):
    """Ridge least-squares coefficients of ``residual`` on ``df`` whose norm is
    ``share`` of the unshrunk solution's (bisection on the ridge term)."""
    u, singular, vt = np.linalg.svd(df, full_matrices=False)
    if not singular.size or not singular.max() > 0:
        return np.zeros(df.shape[1])  # the residuals no longer change: an EM step
    keep = singular > 1e-12 * singular.max()
    u, singular, vt = u[:, keep], singular[keep], vt[keep]
    projected = u.T @ residual

    def coefficients(ridge):
        return vt.T @ (singular / (singular**2 + ridge) * projected)

    target = share * np.linalg.norm(coefficients(0.0))
    low, high = 0.0, singular.max() ** 2 * 1e6
    for _ in range(60):
        ridge = np.sqrt(low * high) if low > 0 else high / 1e6
        if np.linalg.norm(coefficients(ridge)) > target:
            low = ridge
        else:
            high = ridge
    return coefficients(high)
