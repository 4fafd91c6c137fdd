"""The driver and SQUAREM against a stub family: they need nothing Gaussian.

The stub is EM for the mean of N(theta, I) from ``n`` observed rows and
``n_missing`` rows missing entirely: its M-step is the linear map
``theta' = (sum y + n_missing theta) / (n + n_missing)``, which converges at
the rate of the fraction of missing information, to the mean of the rows.
"""

from dataclasses import dataclass

import numpy as np
import pytest

from sklearn_em._acceleration import run_squarem
from sklearn_em._blocks import Backend
from sklearn_em._fit import EM, run_plain_em
from sklearn_em._monitor import ConvergenceMonitor


@dataclass(frozen=True)
class Params:
    theta: np.ndarray
    n_components: int = 1

    @property
    def n_features(self):
        return self.theta.size


@dataclass(frozen=True)
class Stats:
    sum_y: np.ndarray
    n: int
    loglik: float
    theta: np.ndarray  # where the pass was taken: what the missing rows are filled with

    def __add__(self, other):
        return Stats(
            self.sum_y + other.sum_y, self.n + other.n, self.loglik + other.loglik, self.theta
        )


@dataclass(frozen=True)
class Prepared:
    theta: np.ndarray
    dtype: np.dtype = np.dtype(np.float64)
    row_bytes: int = 16


@dataclass(frozen=True)
class MeanWithMissingRows:
    n_missing: int

    def prepare(self, params, dtype, n_rows, n_threads=1):
        return Prepared(params.theta)

    def block_statistics(self, prepared, block, cache=None, key=None):
        residual = block - prepared.theta
        loglik = -0.5 * np.sum(residual**2) - 0.5 * block.size * np.log(2 * np.pi)
        return Stats(block.sum(axis=0), block.shape[0], loglik, prepared.theta)

    def block_log_prob(self, prepared, block, cache=None, key=None):
        return -0.5 * np.sum((block - prepared.theta) ** 2, axis=1, keepdims=True)

    def m_step(self, stats):
        theta = (stats.sum_y + self.n_missing * stats.theta) / (stats.n + self.n_missing)
        return Params(theta)

    def resolved(self, prepared, update):
        return True

    def pack(self, params):
        return params.theta.copy()

    def unpack(self, theta, shape):
        return Params(np.asarray(theta))

    def n_parameters(self, params):
        return params.theta.size

    def sample(self, params, n_samples, rng):
        return params.theta + rng.standard_normal((n_samples, params.theta.size)), None


@pytest.fixture
def rows():
    return np.random.default_rng(0).normal(loc=[3.0, -1.0], size=(5000, 2))


def _run(run, X, n_threads=1, tol=1e-12):
    em = EM(MeanWithMissingRows(n_missing=20000), Backend(n_threads, block_bytes=16 * 512))
    monitor = ConvergenceMonitor(tol=tol, max_iter=2000)
    return run(X, Params(np.zeros(2)), em, monitor), monitor


@pytest.mark.parametrize("run", [run_plain_em, run_squarem])
def test_the_driver_reaches_the_stub_optimum_monotonically(rows, run):
    params, monitor = _run(run, rows)
    assert monitor.converged
    np.testing.assert_allclose(params.theta, rows.mean(axis=0), atol=1e-5)
    history = np.array(monitor.history)
    assert np.all(np.diff(history) >= -1e-12 * np.abs(history[1:]))


def test_squarem_needs_fewer_passes_on_a_slow_linear_map(rows):
    _, plain = _run(run_plain_em, rows)
    _, fast = _run(run_squarem, rows)
    assert plain.n_iter > 50  # rate 0.8 per pass: a slow map
    assert fast.n_iter < plain.n_iter / 5


def test_threads_and_blocks_change_no_stub_step(rows):
    one = EM(MeanWithMissingRows(10), Backend(1)).step(rows, Params(np.zeros(2)))
    threaded = EM(MeanWithMissingRows(10), Backend(2, block_bytes=1024))
    many = threaded.step(rows, Params(np.zeros(2)))
    assert one[0] == pytest.approx(many[0], rel=1e-12)
    np.testing.assert_allclose(one[1].theta, many[1].theta, rtol=1e-12)


def test_squarem_packs_each_iterate_once(rows):
    # Each cycle starts from two iterates the cycle before packed (the first
    # cycle's jump has length 1): they are not packed again.
    packed = []

    @dataclass(frozen=True)
    class Counting(MeanWithMissingRows):
        def pack(self, params):
            packed.append(params)
            return super().pack(params)

    em = EM(Counting(n_missing=20000), Backend(1, block_bytes=16 * 512))
    monitor = ConvergenceMonitor(tol=1e-12, max_iter=2000)
    params = run_squarem(rows, Params(np.zeros(2)), em, monitor)
    assert monitor.converged
    np.testing.assert_allclose(params.theta, rows.mean(axis=0), atol=1e-5)
    assert len(packed) == len({id(p) for p in packed})
