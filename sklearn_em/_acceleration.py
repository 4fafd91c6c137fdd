"""SQUAREM: squared extrapolation of the EM map (Varadhan & Roland, 2008).

From an iterate ``t0`` and two EM steps ``t1 = F(t0)``, ``t2 = F(t1)``, a
jump goes to ``t0 + 2 a r + a**2 v`` with ``r = t1 - t0``,
``v = t2 - 2 t1 + t0`` (a >= 1; a = 1 gives ``t2``). The step length ``a``
is the paper's scheme S3, ``|r| / |v|``, by default (S1: ``-r.v / v.v``;
S2: ``-r.r / r.v``). The jump works on unconstrained parameters
(log-weights, means, Cholesky factors with log-diagonals), so any step
lands on a valid mixture.

Safeguard: a jump is kept only if its log-likelihood is at least that of
``t1``; otherwise the run goes on from ``t2`` as plain EM would. So the
log-likelihood of the kept iterates never decreases. The longest step
doubles each time it is reached and halves on a rejection. The reference
implementation uses 4; over 24 problems (3 datasets x 4 covariance types x
2 tolerances) 2 took 0.27 of plain EM's passes, and 4 took 0.37. Other
schemes and bounds are measured in benchmarks/README.md (SQUAREM against
plain EM, Step lengths).
"""

from dataclasses import dataclass

import numpy as np

from ._gaussian import SingularCovarianceError
from ._monitor import ROUNDING

# A fall of the likelihood beyond this share of it is an EM step going
# downhill, not the rounding a pass in the data's dtype may make: float32
# passes round the log-likelihood at about 1e-8 of it.
DESCENT = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-6}


@dataclass(frozen=True)
class StepLengths:
    """How SQUAREM chooses the length of its jumps.

    Parameters
    ----------
    scheme : {'S3', 'S1', 'S2'}, default='S3'
        Varadhan & Roland's step length (see the module's docstring).
    initial_max : float, default=1.0
        The longest step of the first jump (1: the first cycle is plain EM).
    growth : float, default=2.0
        The longest step is multiplied by this each time a jump reaches it.
    shrink : float, default=2.0
        ...and divided by this (down to 1) when a jump is rejected: 1 keeps
        it, ``inf`` restarts from 1.
    """

    scheme: str = "S3"
    initial_max: float = 1.0
    growth: float = 2.0
    shrink: float = 2.0

    def length(self, r, v):
        """The scheme's step length from ``r = t1 - t0`` and ``v = t2 - 2 t1 + t0``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.scheme == "S1":
                return -(r @ v) / (v @ v)
            if self.scheme == "S2":
                return -(r @ r) / (r @ v)
            return np.sqrt((r @ r) / (v @ v))


class _Parameterisation:
    """Maps parameters to the family's flat unconstrained vector and back.

    The vectors of the last few packed mixtures are kept: each cycle starts
    from two iterates the cycle before packed (after a rejection, or a jump
    of length 1), so they are not packed again.
    """

    KEPT = 4

    def __init__(self, em, n_components, n_features):
        self.em = em
        self.shape = (n_components, n_features)
        self._packed = []  # (mixture, vector): holding the mixture keeps its identity unique

    def pack(self, mixture):
        for known, theta in self._packed:
            if known is mixture:
                return theta
        theta = self.em.family.pack(mixture)
        self._packed.append((mixture, theta))
        del self._packed[: max(0, len(self._packed) - self.KEPT)]
        return theta

    def unpack(self, theta):
        return self.em.family.unpack(theta, self.shape)


def run_squarem(X, start, em, monitor, steps=StepLengths()):
    """Iterate accelerated EM from ``start`` until the monitor says done.

    After each pair of EM steps the monitor also hears how much the second
    step shrank against the first (their lengths' ratio), the rate that the
    gap rule of ``_monitor.GapMonitor`` reads. ``steps`` chooses the jumps'
    lengths.
    """
    params = _Parameterisation(em, start.n_components, start.n_features)
    step_max = steps.initial_max
    # Invariant: `following` is F(current).
    loglik, following = em.step(X, start)
    current = start
    monitor.report(loglik)
    descent = DESCENT.get(X.dtype, DESCENT[np.dtype(np.float32)])
    while not monitor.done:
        loglik_1, twice = em.step(X, following)
        if loglik_1 < monitor.lower_bound - descent * abs(monitor.lower_bound):
            # The EM step from `current` lowered the likelihood: reg_covar holds
            # up a component that a jump took below EM's own path. No step
            # improves on `current`, so the run ends there, as EM would at a
            # fixed point; the pass counts, as a rejected jump's does.
            monitor.report(monitor.lower_bound, new_iterate=False)
            monitor.converged = True
            return current
        thetas = params.pack(current), params.pack(following), params.pack(twice)
        monitor.report(loglik_1, contraction=_contraction(*thetas))
        if monitor.done:
            return twice

        alpha, candidate = _extrapolate(params, thetas, twice, steps, step_max)
        loglik_c, after = _try_step(X, em, candidate)
        if loglik_c >= loglik_1:
            if alpha == 1.0:
                # The "jump" was one more EM step, to `twice`: its gain and
                # the next step's shrinkage can show convergence.
                rate = _contraction(thetas[1], thetas[2], params.pack(after))
                monitor.report(loglik_c, contraction=rate)
            else:
                monitor.report(loglik_c, jump=True)
            current, following = candidate, after
            if alpha >= step_max:
                step_max *= steps.growth
        else:
            monitor.report(loglik_1, new_iterate=False)
            current, following = following, twice
            step_max = max(1.0, step_max / steps.shrink)
    return following


def _contraction(theta0, theta1, theta2):
    """``|theta2 - theta1| / |theta1 - theta0|``: EM's rate, once it settles.

    Near an optimum each EM step shrinks the distance to it by the largest
    fraction of missing information; a first step of rounding size says the
    start already stood there (rate 0).
    """
    first = np.linalg.norm(theta1 - theta0)
    second = np.linalg.norm(theta2 - theta1)
    if not (np.isfinite(first) and np.isfinite(second)):
        return None
    if first <= ROUNDING * max(1.0, np.linalg.norm(theta1)):
        return 0.0
    return second / first


def _extrapolate(params, thetas, t2, steps, step_max):
    """The step length, clipped to ``[1, step_max]``, and the jump's mixture."""
    theta0, theta1, theta2 = thetas
    r = theta1 - theta0
    v = theta2 - theta1 - r
    alpha = steps.length(r, v)
    alpha = float(np.clip(alpha, 1.0, step_max)) if np.isfinite(alpha) else 1.0
    if alpha == 1.0:
        return alpha, t2
    # A long jump may leave the representable range; it then falls back to t2.
    with np.errstate(over="ignore", invalid="ignore"):
        theta = theta0 + 2 * alpha * r + alpha**2 * v
        try:
            if np.all(np.isfinite(theta)):
                return alpha, params.unpack(theta)
        except SingularCovarianceError:
            pass
    return 1.0, t2


def _try_step(X, em, candidate):
    """One EM step from an extrapolated point; -inf if it is unusable."""
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loglik, after = em.step(X, candidate)
    except SingularCovarianceError:
        return -np.inf, None
    return (loglik, after) if np.isfinite(loglik) else (-np.inf, None)
