"""The searching start's schedule: short runs pruned in stages, the best run to convergence."""

from types import SimpleNamespace

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sklearn_em import GaussianMixture
from sklearn_em._blocks import Backend
from sklearn_em._fit import Settings
from sklearn_em._monitor import GapMonitor
from sklearn_em._search import searched_start

from .helpers import broad_and_tight


class ClimbingRuns:
    """A stand-in for EM: each start climbs geometrically to its own level, at
    its own rate, so that the order of the runs changes as they go on; every
    call is recorded."""

    def __init__(self, n_distinct=None):
        self.calls = []
        self.n_distinct = n_distinct  # None: every start differs

    def make_start(self, random_state):
        if self.n_distinct is not None:  # a few starts, drawn again and again
            random_state = np.random.RandomState(random_state.randint(self.n_distinct))
        level, gap, rate = random_state.uniform(size=3)
        # One component whose mean is (level, gap, rate), to tell starts apart.
        mixture = dict(weights=np.ones(1), means=np.array([[level, gap, rate]]))
        return SimpleNamespace(
            level=level, gap=3 * gap, rate=0.5 + 0.45 * rate, passes=0, **mixture
        )

    @staticmethod
    def loglik(run, passes):
        return run.level - run.gap * run.rate**passes

    def __call__(self, X, start, em, monitor):
        allowed = monitor.max_iter - monitor.n_iter
        self.calls.append((start, len(monitor.history), allowed, monitor.converged, monitor))
        passes = start.passes
        while not monitor.done:
            passes += 1
            monitor.report(self.loglik(start, passes))
        return SimpleNamespace(**{**vars(start), "passes": passes})


@pytest.mark.parametrize("stages", [((24, 4), (10, 1)), ((5, 6), (5, 3), (20, 3))])
def test_search_prunes_in_stages_and_runs_the_best_to_convergence(stages):
    runs = ClimbingRuns()
    # tol so small that no run converges before the last stage.
    found = search(runs, Settings(3, tol=1e-12, max_iter=500), stages)
    # Every stage runs the survivors of the one before for its passes, and
    # keeps those highest after them; those left are run by the fit's own rule.
    alive = [start for start, *_ in runs.calls[:12]]
    done, position = 0, 0
    for passes, kept in stages:
        calls = runs.calls[position : position + len(alive)]
        assert [start.level for start, *_ in calls] == [run.level for run in alive]
        assert all(call[1:4] == (done, passes, False) for call in calls)
        position += len(alive)
        done += passes
        alive = sorted(alive, key=lambda run: runs.loglik(run, done), reverse=True)[:kept]
    last = runs.calls[position:]
    assert [start.level for start, *_ in last] == [run.level for run in alive]
    for start, passes_before, allowed, converged, monitor in last:
        # Each goes on with the history of its stages, as one run from its start.
        assert (passes_before, allowed, converged) == (done, 500, False)
        assert monitor.history[:done] == [runs.loglik(start, p) for p in range(1, done + 1)]
    ends = [call[-1].lower_bound for call in last]
    best_start, *_, best_monitor = last[int(np.argmax(ends))]
    assert found.level == best_start.level and found.passes == len(best_monitor.history)
    assert found.passes > done


def test_a_run_converged_in_a_stage_runs_no_more():
    runs = ClimbingRuns()
    search(runs, Settings(3, tol=1e-3, max_iter=500), ((24, 6), (10, 3)))
    monitors = {id(call[-1]): call[-1] for call in runs.calls}
    assert any(len(m.history) < 24 and m.converged for m in monitors.values())
    assert not any(converged for *_, converged, _ in runs.calls)


def test_identical_starts_run_once():
    runs = ClimbingRuns(n_distinct=3)
    search(runs, Settings(3, tol=1e-12), ((5, 6), (5, 2)))
    first_stage = [start for start, passes, *_ in runs.calls if passes == 0]
    assert sorted(start.level for start in first_stage) == sorted(
        {start.level for start in first_stage}
    )
    assert 1 < len(first_stage) <= 3


def test_a_resumed_run_is_judged_by_the_rate_it_has_seen():
    # EM crawls (steps shrinking by 0.995 a pass): a gain of 5e-6 leaves about
    # 5e-6 / (1 - 0.995**2) = 5e-4 to come, above tol/20, on the first pass
    # after a resume too, which measures no rate of its own.
    monitor = GapMonitor(tol=1e-3, max_iter=2)
    monitor.report(-1.0)
    monitor.report(-1.0 + 1e-5, contraction=0.995)
    monitor.resume(1)
    monitor.report(-1.0 + 1.5e-5)
    assert not monitor.converged
    # The same gain where EM goes fast (rate 0.5) is convergence.
    fast = GapMonitor(tol=1e-3, max_iter=2)
    fast.report(-1.0)
    fast.report(-1.0 + 1e-5, contraction=0.5)
    fast.resume(1)
    fast.report(-1.0 + 1.5e-5)
    assert fast.converged


def search(runs, settings, stages, n_starts=12):
    em = SimpleNamespace(backend=Backend(n_threads=1))
    X = np.zeros((1, 1))
    random_state = np.random.RandomState(0)
    return searched_start(X, em, runs.make_start, random_state, runs, settings, n_starts, stages)


@pytest.mark.parametrize("n_components, n_starts", [(1, 12), (8, 12), (9, 13), (10, 14), (20, 24)])
def test_the_search_starts_more_runs_for_more_components(n_components, n_starts):
    runs = ClimbingRuns()
    search(runs, Settings(n_components, tol=1e-12, max_iter=50), ((3, 2),), n_starts=None)
    first_stage = [call for call in runs.calls if call[1] == 0]
    assert len(first_stage) == n_starts


def test_ranking_changes_between_stages():
    # The stand-in is only a test of the schedule if an early leader can lose.
    runs = ClimbingRuns()
    starts = [runs.make_start(np.random.RandomState(s)) for s in range(12)]
    early = max(starts, key=lambda run: runs.loglik(run, 5))
    late = max(starts, key=lambda run: runs.loglik(run, 30))
    assert early is not late


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_search_reaches_the_optimum_where_the_kmeans_start_does_not():
    # A broad cluster and seven tight ones: seeds whose k-means start leaves
    # EM in a local optimum (the optimum: the best of far runs from other seeds).
    X = broad_and_tight()
    with threadpool_limits(1):
        far = [GaussianMixture(8, random_state=100 + s, tol=1e-9, max_iter=3000) for s in range(4)]
        optimum = max(model.fit(X).score(X) for model in far)
        for seed in (5, 6, 8, 10):
            default = GaussianMixture(8, random_state=seed).fit(X)
            searched = GaussianMixture(8, init_params="k-means++-search", random_state=seed)
            assert default.score(X) < optimum - 1e-2
            assert searched.fit(X).score(X) > optimum - 1e-6
