"""When an EM run stops: its log-likelihood history and two stopping rules.

scikit-learn's rule (plain EM) stops when one step gains less than ``tol``.
Where EM is slow, as on overlapping clusters or with many missing values,
every step gains little while the optimum is still far: on the bundled
two-Gaussian sample it stops with 7e-3 of mean log-likelihood still to gain.

The gap rule (SQUAREM) estimates the gain still to come instead, twice,
and stops when both estimates are below ``safety * tol``. Near an optimum
EM converges linearly: each step shrinks the distance to the optimum by a
rate ``c`` (the largest fraction of missing information), so the
log-likelihood gap shrinks by about ``c**2``, and after a step that gains
``g`` the gain still to come from the iterate before it is
``g / (1 - c**2)`` (Aitken's estimate, Boehning et al. 1994; this form
McNicholas et al. 2010).

- EM's rate: SQUAREM measures ``c`` on every cycle as the ratio of the
  lengths of its two EM steps. Right after a jump EM's next steps are ruled
  by faster directions and the ratio understates ``c``, so the slowest rate
  of the run is the one used.
- The accelerated sequence's rate: the ratio of the gains of the last two
  cycles (from one EM step after a jump to the next), where SQUAREM itself
  still crawls.

Without SQUAREM's measure (one pass per warm-started fit), the second
estimate alone decides. On the run's first two EM steps the second estimate
is not yet known and no jump has yet skewed the rate: the first decides
alone, on the gain still to come after the latest iterate,
``g c**2 / (1 - c**2)``, so that a start already at the optimum stops after
two passes, as plain EM does (a test compares the two at equal gaps).
"""

import time

import numpy as np

# The gap rule stops when the estimated gain still to come is below this
# share of tol. Chosen by measurement (benchmarks/bench_convergence.py and
# benchmarks/README.md): the estimate lags the true gap while EM's rate is
# still settling.
GAP_SAFETY = 0.05
# Gains and steps this small relative to their scale are rounding: their
# ratio says nothing about the rate.
ROUNDING = 1e-12
# What passes in each dtype resolve of a log-likelihood, relative to it: a
# float32 pass rounds it at about 1e-8 (ten times that is kept as margin).
RESOLUTION = {np.dtype(np.float64): ROUNDING, np.dtype(np.float32): 1e-7}


class ConvergenceMonitor:
    """The progress of one EM run, stopped by scikit-learn's rule.

    ``history[t]`` is the mean log-likelihood of the iterate that pass ``t``
    started from; convergence is a change below ``tol`` between iterates.
    """

    def __init__(self, tol, max_iter, verbose=0, verbose_interval=10, start=-np.inf):
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.history = []
        self.converged = False
        self._last = start
        self._started = time.perf_counter()
        self._lap = self._started

    @property
    def n_iter(self):
        return len(self.history)

    @property
    def lower_bound(self):
        """The mean log-likelihood of the latest iterate (before any pass: the start's)."""
        return self.history[-1] if self.history else self._last

    @property
    def trace(self):
        """What a warm-started fit continuing this run needs to know of it."""
        return (self._last,) if np.isfinite(self._last) else ()

    @property
    def done(self):
        return self.converged or self.n_iter >= self.max_iter

    def resume(self, passes):
        """Let the run go on for at most ``passes`` more passes.

        The history stays, so a run resumed in stages (the searching start's)
        is judged as one run, not as a fresh start at each stage.
        """
        self.max_iter = self.n_iter + passes

    def report(self, loglik, new_iterate=True, jump=False, contraction=None):
        """Record one pass; ``new_iterate=False`` when the iterate did not move.

        Only an EM step's change can show convergence: a ``jump`` (SQUAREM's
        extrapolation) may land as high as where it left from by chance.
        ``contraction`` is the ratio of the lengths of the last two EM steps,
        where the caller measured it (scikit-learn's rule does not use it).
        """
        self.history.append(loglik)
        change = 0.0
        if new_iterate:
            change = loglik - self._last
            self.converged = not jump and self._converged(change, contraction)
            self._last = loglik
        self._print(change)

    def _converged(self, change, contraction):
        return abs(change) < self.tol

    def _print(self, change):
        if self.verbose >= 1 and self.n_iter % self.verbose_interval == 0:
            now = time.perf_counter()
            message = (
                f"  Iteration {self.n_iter}\t log-likelihood {self.history[-1]:.5f}"
                f"\t elapsed {now - self._started:.2f}s"
            )
            if self.verbose >= 2:
                message += f"\t time lapse {now - self._lap:.5f}s\t ll change {change:.5f}"
            self._lap = now
            print(message)


class GapMonitor(ConvergenceMonitor):
    """An EM run stopped when the estimated gain still to come is below ``safety * tol``.

    Parameters
    ----------
    tol, max_iter, verbose, verbose_interval
        As for :class:`ConvergenceMonitor`.
    trace : sequence of float, default=()
        The log-likelihoods of the last EM steps of an earlier run this one
        continues (a warm start), oldest first.
    safety : float, default=GAP_SAFETY
        The share of ``tol`` the estimated remaining gain must fall below.
    resolution : float, default=ROUNDING
        What the passes resolve of a log-likelihood, relative to it (see
        ``RESOLUTION``): gains below it cannot tell a slow climb from the
        optimum, so they never show convergence.
    """

    def __init__(
        self,
        tol,
        max_iter,
        verbose=0,
        verbose_interval=10,
        trace=(),
        safety=GAP_SAFETY,
        resolution=ROUNDING,
    ):
        start = trace[-1] if len(trace) else -np.inf
        super().__init__(tol, max_iter, verbose, verbose_interval, start)
        self.safety = safety
        self.resolution = resolution
        self._steps = list(trace[-2:])  # log-likelihoods of the last EM steps
        self._slowest_rate = 0.0

    @property
    def trace(self):
        return tuple(self._steps)

    def report(self, loglik, new_iterate=True, jump=False, contraction=None):
        super().report(loglik, new_iterate, jump, contraction)
        if new_iterate and not jump:
            self._steps = [*self._steps[-1:], loglik]

    def _converged(self, change, contraction):
        threshold = self.safety * self.tol
        if contraction is not None:
            if not contraction < 1.0:
                return False  # EM is not contracting here
            if contraction == 0.0:
                return abs(change) < threshold  # the step stood at a fixed point
            self._slowest_rate = max(self._slowest_rate, contraction**2)
            rate = self._slowest_rate
            if len(self._steps) < 2:
                # The run's first two EM steps, from the start: no jump has
                # yet made their ratio understate EM's rate, and the second
                # estimate needs one more step. The gain still to come after
                # the latest iterate decides, so that a start already at the
                # optimum stops in two passes, as plain EM does.
                return abs(change) * rate / (1.0 - rate) < threshold
        # The first estimate by the slowest rate seen, also on a pass that
        # did not measure one: the first pass of a run resumed with its
        # monitor (the searching start's stages) knows the rate from before.
        if abs(change) / (1.0 - self._slowest_rate) >= threshold:
            return False
        return self._remaining_by_aitken() < threshold

    def _remaining_by_aitken(self):
        """The gain still to come by the rate of the last two steps' gains (inf if unknown)."""
        if len(self._steps) < 2:
            return np.inf
        gain = self.history[-1] - self._steps[-1]
        previous = self._steps[-1] - self._steps[-2]
        scale = max(1.0, abs(self._steps[-1]))
        if abs(previous) <= ROUNDING * scale:
            return abs(gain)  # the previous step already stood at the optimum
        if ROUNDING * scale < min(abs(gain), abs(previous)) <= self.resolution * scale:
            return np.inf  # a gain at the passes' rounding: the rate is unknown
        rate = max(0.0, gain / previous)
        return abs(gain) / (1.0 - rate) if rate < 1.0 else np.inf


def monitor_for(
    acceleration, tol, max_iter, verbose=0, verbose_interval=10, trace=(), dtype=np.float64
):
    """The monitor of one run: the gap rule with SQUAREM, scikit-learn's rule without.

    ``trace`` is the ``trace`` of the run a warm start continues, or its
    lower bound (empty, or -inf, for a fresh start); ``dtype`` is the data's.
    """
    trace = tuple(float(v) for v in np.atleast_1d(trace) if np.isfinite(v))
    if acceleration == "squarem":
        resolution = RESOLUTION.get(np.dtype(dtype), RESOLUTION[np.dtype(np.float32)])
        return GapMonitor(tol, max_iter, verbose, verbose_interval, trace, resolution=resolution)
    start = trace[-1] if trace else -np.inf
    return ConvergenceMonitor(tol, max_iter, verbose, verbose_interval, start)
