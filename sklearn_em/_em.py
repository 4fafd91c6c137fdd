"""The progress of an EM run (``ConvergenceMonitor``).

The driver is ``_fit``, one pass over the data ``_pass``; this module keeps
the monitor and the name ``normalise_log_responsibilities`` where other
modules import them from.
"""

import time

import numpy as np

from ._pass import normalise_log_responsibilities

__all__ = ["ConvergenceMonitor", "normalise_log_responsibilities"]


class ConvergenceMonitor:
    """The progress of one EM run: its log-likelihood history and its state.

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
    def done(self):
        return self.converged or self.n_iter >= self.max_iter

    def report(self, loglik, new_iterate=True, jump=False):
        """Record one pass; ``new_iterate=False`` when the iterate did not move.

        Only an EM step's change can show convergence: a ``jump`` (SQUAREM's
        extrapolation) may land as high as where it left from by chance.
        """
        self.history.append(loglik)
        if new_iterate:
            change = loglik - self._last
            self._last = loglik
            self.converged = not jump and abs(change) < self.tol
        else:
            change = 0.0
        self._print(change)

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
