"""Where EM stops (the gap rule with SQUAREM) and the searching start."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture
from threadpoolctl import threadpool_limits

from sklearn_em import GaussianMixture
from sklearn_em.__main__ import load_two_gaussians
from sklearn_em._monitor import GapMonitor, monitor_for

from .helpers import broad_and_tight
from .sklearn_suite import load_suite


def _seed_mixture(seed, n=1000):
    """Fresh draws of 0.6 N(2, 4^2) + 0.4 N(9, 2^2), the seed articles' example."""
    rng = np.random.default_rng(seed)
    first = rng.random(n) < 0.6
    return np.where(first, rng.normal(2, 4, n), rng.normal(9, 2, n)).reshape(-1, 1)


def _mle(X):
    """The optimum by scikit-learn's plain EM run far past its default tol."""
    return SklearnMixture(2, tol=1e-10, max_iter=100_000, random_state=0).fit(X)


def _gaps(model, mle, X):
    weights = np.abs(np.sort(model.weights_) - np.sort(mle.weights_)).max()
    return mle.score(X) - model.score(X), weights


def test_default_fit_reaches_the_optimum_of_the_seed_example():
    bundled = load_two_gaussians()
    cases = [(bundled, seed) for seed in range(20)]
    cases += [(_seed_mixture(1000 + seed), seed) for seed in range(20)]
    optima = {}
    with threadpool_limits(1):  # tiny data: one thread is fastest
        fits = [(X, GaussianMixture(2, random_state=seed).fit(X)) for X, seed in cases]
    for (X, model), (_, seed) in zip(fits, cases, strict=True):
        if id(X) not in optima:
            optima[id(X)] = _mle(X)
        mle = optima[id(X)]
        gap, weights = _gaps(model, mle, X)
        assert model.converged_
        assert -1e-9 < gap < 1e-4, seed
        assert weights < 0.03, seed
    # The example is hard: scikit-learn's default rule stops far away.
    sklearn_gap, sklearn_weights = _gaps(
        SklearnMixture(2, random_state=0).fit(bundled), optima[id(bundled)], bundled
    )
    assert sklearn_gap > 5e-3 and sklearn_weights > 0.03


def test_plain_em_keeps_sklearns_rule_exactly():
    X = load_two_gaussians()
    ours = GaussianMixture(2, acceleration=None, random_state=0).fit(X)
    theirs = SklearnMixture(2, random_state=0).fit(X)
    assert ours.n_iter_ == theirs.n_iter_ == 4
    assert ours.converged_ and theirs.converged_
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-12)
    np.testing.assert_allclose(np.sort(ours.weights_), np.sort(theirs.weights_), rtol=1e-10)


def test_squarem_needs_fewer_passes_than_plain_em_for_the_same_gap():
    X = load_two_gaussians()
    mle = _mle(X)
    ours = GaussianMixture(2, random_state=0).fit(X)
    gap = mle.score(X) - ours.score(X)
    for tol in 10.0 ** -np.arange(3, 12, 0.5):
        plain = GaussianMixture(2, acceleration=None, tol=tol, max_iter=10_000).fit(X)
        if mle.score(X) - plain.score(X) <= gap:
            break
    assert 2 * ours.n_iter_ <= plain.n_iter_


def test_gap_rule_stops_when_the_estimated_remaining_gain_is_below_the_threshold():
    # EM steps of a geometric sequence: gap g0 * c**t to the optimum at 0.
    rate, tol = 0.9, 1e-3
    monitor = GapMonitor(tol, max_iter=10_000, safety=0.1)
    t = 0
    while not monitor.done:
        monitor.report(-(rate**t))
        t += 1
    assert monitor.converged
    # Aitken's estimate is exact here: it stopped as soon as the gain still
    # to come from the iterate before the last fell below safety * tol.
    assert rate ** (t - 2) < 0.1 * tol <= rate ** (t - 3)


def test_gap_rule_does_not_stop_on_a_small_step_while_the_rate_is_one():
    monitor = GapMonitor(1e-3, max_iter=50)
    for t in range(50):
        monitor.report(-1.0 + 1e-6 * t)  # steady small gains: far from any optimum
    assert not monitor.converged
    step_rule = monitor_for(None, 1e-3, 50)
    step_rule.report(-1.0)
    step_rule.report(-1.0 + 1e-6)
    assert step_rule.converged  # scikit-learn's rule stops at once


def test_gap_rule_never_stops_on_a_jump_or_without_contraction():
    monitor = GapMonitor(1e-3, max_iter=100)
    for loglik in [-5.0, -4.0, -3.9]:
        monitor.report(loglik)
    monitor.report(-3.9 + 1e-12, jump=True)
    assert not monitor.converged
    monitor.report(-3.9 + 2e-12, contraction=1.2)  # EM not contracting
    assert not monitor.converged
    monitor.report(-3.9 + 3e-12, contraction=0.5)
    assert monitor.converged


def test_gap_rule_uses_the_slowest_rate_of_the_run():
    monitor = GapMonitor(1e-3, max_iter=100, safety=0.1)
    monitor.report(-2.0)
    monitor.report(-1.5, contraction=0.999)
    monitor.report(-1.0, jump=True)
    # Small gain, fast rate now, but the run has shown a rate near one.
    monitor.report(-1.0 + 1e-6, contraction=0.5)
    assert not monitor.converged


def _warm_start_test():
    suite = load_suite(
        "mixture/tests/test_gaussian_mixture.py",
        {
            "from sklearn.mixture import GaussianMixture\n": (
                "from sklearn_em import GaussianMixture\n"
            )
        },
        {},
    )
    return suite["test_convergence_detected_with_warm_start"]


def test_sklearns_warm_start_convergence_test_passes_with_the_gap_rule():
    _warm_start_test()()  # default acceleration: one pass per fit reads the carried trace


def test_warm_start_carries_the_trace_one_pass_per_fit():
    X = load_two_gaussians()
    mle = _mle(X)
    model = GaussianMixture(2, max_iter=1, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
        fits = 1
        while not model.converged_ and fits < 1000:
            model.fit(X)
            fits += 1
    assert model.converged_ and model.n_iter_ == 1
    # One pass per fit is plain EM, and the rule read it across fits.
    assert fits > 20
    assert mle.score(X) - model.score(X) < 1e-4


def test_converged_and_warning_keep_their_meaning():
    X = load_two_gaussians()
    with pytest.warns(ConvergenceWarning):
        model = GaussianMixture(2, max_iter=5, random_state=0).fit(X)
    assert not model.converged_ and model.n_iter_ == 5


# -- the searching start -------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_searching_start_finds_the_best_optimum_more_often():
    X = broad_and_tight()
    seeds = range(8)

    def fitted_scores(init):
        fits = [GaussianMixture(8, init_params=init, random_state=s).fit(X) for s in seeds]
        return [model.score(X) for model in fits]

    with threadpool_limits(1):
        scores = np.array([fitted_scores("k-means++"), fitted_scores("k-means++-search")])
    reached = (scores >= scores.max() - 1e-6).sum(axis=1)
    assert reached[1] > reached[0]
    assert reached[1] >= 7  # 8 of 8 when measured; one k-means++ start: 3


def test_searching_start_is_reproducible_and_thread_independent():
    X = broad_and_tight(n=800)
    common = dict(init_params="k-means++-search", random_state=3, acceleration=None, tol=1e-4)
    one = GaussianMixture(8, n_jobs=1, **common).fit(X)
    again = GaussianMixture(8, n_jobs=1, **common).fit(X)
    two = GaussianMixture(8, n_jobs=2, **common).fit(X)
    np.testing.assert_array_equal(one.means_, again.means_)
    np.testing.assert_allclose(two.means_, one.means_, rtol=1e-9)


def test_searching_start_with_missing_values():
    X = broad_and_tight()
    X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    X = X[~np.isnan(X).all(axis=1)]
    model = GaussianMixture(3, init_params="k-means++-search", random_state=0).fit(X)
    assert model.converged_ and np.isfinite(model.score(X))


def test_float32_rounding_is_not_read_as_convergence():
    # Slow EM on correlated data: per-pass gains near float32's rounding of the
    # log-likelihood once made the gap rule stop 2.5e-3 short, saying converged.
    rng = np.random.default_rng(0)
    A = np.eye(16) + 0.2 * rng.normal(size=(16, 16))
    X = rng.normal(size=(30_000, 16)) @ A + rng.integers(0, 5, 30_000)[:, None] * 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        optimum = GaussianMixture(6, random_state=0, max_iter=1000).fit(X)
        single = GaussianMixture(6, random_state=0).fit(X.astype(np.float32))
    assert optimum.converged_
    gap = optimum.score(X) - single.score(X)
    assert not single.converged_ or gap < single.tol, (single.n_iter_, gap)


def test_gap_rule_stops_after_two_passes_from_a_start_at_the_optimum():
    # From the start, EM's first two steps: a small gain and a fast rate leave
    # (by the rate) 1e-5 * 0.05**2 / (1 - 0.05**2) to come, below 0.05 * 1e-4.
    fast = GapMonitor(1e-4, max_iter=100)
    fast.report(-1.0)
    fast.report(-1.0 + 1e-5, contraction=0.05)
    assert fast.converged and fast.n_iter == 2
    # The same gain at a slow rate leaves 1e-5 * 0.81 / 0.19 to come.
    slow = GapMonitor(1e-4, max_iter=100)
    slow.report(-1.0)
    slow.report(-1.0 + 1e-5, contraction=0.9)
    assert not slow.converged
    # A step that did not move the parameters stands at a fixed point.
    still = GapMonitor(1e-4, max_iter=100)
    for loglik in [-3.0, -2.0, -1.5]:
        still.report(loglik)
    still.report(-1.5 + 1e-9, contraction=0.0)
    assert still.converged


def _separated(n=2000, d=5, k=3, seed=0):
    """Three unit clusters whose centres are drawn at scale 3: EM converges in a few passes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(k, d))
    return centres[rng.integers(k, size=n)] + rng.normal(size=(n, d))


@pytest.mark.parametrize("d", [5, 10])
def test_squarem_never_needs_more_passes_than_plain_em_for_the_same_gap(d):
    # Issue 13's case: three well-separated clusters, n=2,000, 'full', where
    # SQUAREM once took 8 passes to plain EM's 7 at tol=1e-10.
    X = _separated(d=d)
    common = dict(random_state=0, n_jobs=1, max_iter=5000)
    with threadpool_limits(1):
        far = [
            GaussianMixture(3, **common, tol=1e-13, acceleration=a).fit(X).score(X)
            for a in (None, "squarem")
        ]
        optimum = max(far)
        extra = []
        for tol in [1e-4, 1e-6, 1e-8, 1e-10]:
            plain = GaussianMixture(3, **common, tol=tol, acceleration=None).fit(X)
            gap = max(optimum - plain.score(X), 1e-10)  # below: the passes' rounding
            for squarem_tol in 10.0 ** -np.arange(2, 13, 0.1):
                fast = GaussianMixture(3, **common, tol=squarem_tol).fit(X)
                if optimum - fast.score(X) <= gap:
                    break
            extra.append(fast.n_iter_ - plain.n_iter_)
    # One exception, recorded in benchmarks/README.md: at d=5, tol=1e-6, plain
    # EM stops after 3 passes on a gain 37 times below tol (2.7e-8), where the
    # gap rule's estimate must fall below 0.05 * tol: SQUAREM takes 4 there.
    assert max(extra) <= (1 if d == 5 else 0), extra
    assert extra[-1] <= 0  # tol=1e-10, the case


def test_step_length_schemes_are_ordered_and_reach_the_same_optimum():
    from sklearn.utils import check_random_state

    from sklearn_em._acceleration import StepLengths, run_squarem
    from sklearn_em._fit import Settings, initial_params

    rng = np.random.default_rng(0)
    r, v = rng.normal(size=20), rng.normal(size=20)
    v -= 2 * abs(r @ v) / (r @ r) * r  # r.v < 0, as near an optimum
    lengths = [StepLengths(scheme=s).length(r, v) for s in ("S1", "S3", "S2")]
    # Cauchy-Schwarz: -r.v/v.v <= |r|/|v| <= -r.r/r.v.
    assert 0 < lengths[0] <= lengths[1] <= lengths[2]

    X = load_two_gaussians()
    mle = _mle(X).score(X)
    model = GaussianMixture(2)
    em = model._em()
    for steps in [
        StepLengths(scheme="S1"),
        StepLengths(scheme="S2", initial_max=4.0),
        StepLengths(initial_max=np.inf, growth=1.0, shrink=1.0),
        StepLengths(shrink=np.inf),
    ]:
        start = initial_params(
            X, em, Settings(n_components=2), (None, None, None), check_random_state(0)
        )
        monitor = monitor_for("squarem", 1e-8, 2000)
        params = run_squarem(X, start, em, monitor, steps)
        assert monitor.converged, steps
        assert abs(em.step(X, params)[0] - mle) < 1e-7, steps
        assert np.all(np.diff(monitor.history) >= -1e-12)  # kept iterates never fall
