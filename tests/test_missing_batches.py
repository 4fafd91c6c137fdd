"""The NaN path's layout and inverses: patterns grouped and batched, small SPD stacks inverted."""

from itertools import pairwise, product

import numpy as np
import pytest

from sklearn_em import EMImputer, GaussianMixture, _missing_layout
from sklearn_em._filling import fill_missing
from sklearn_em._missing_layout import Layout, LayoutCache, Tuning, _batches
from sklearn_em._spd import spd_inverse

# The three ways of inverting the blocks of missing coordinates, forced by
# (min_stack, max_eliminated_q): eliminations over the whole stack, batched
# Cholesky factors, or LAPACK matrix by matrix (see _spd.spd_inverse).
ROUTES = {"eliminations": (0, 10**9), "factored": (0, 0), "lapack": (10**9, 10**9)}
EVERY_ROUTE = pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())


def test_layout_groups_every_incomplete_row_by_its_missing_coordinates():
    mask = np.random.default_rng(0).random((300, 11)) < 0.3
    mask[7] = True
    mask[200:250] = mask[:50]  # patterns shared by two rows
    layout = Layout.of(mask)
    padded_mask = np.zeros((300, layout.width), dtype=bool)
    seen = np.zeros(len(mask), dtype=int)
    for group in layout.groups:
        for row, missing in zip(group.rows, group.missing, strict=True):
            np.testing.assert_array_equal(missing[missing < 11], np.flatnonzero(mask[row]))
            pads = missing[missing >= 11]
            np.testing.assert_array_equal(pads, 11 + np.arange(pads.size))
            seen[row] += 1
        assert len(np.unique(group.patterns, axis=0)) == len(group.patterns)
        # Patterns are numbered by their first row.
        first_rows = [group.rows[group.pattern_of_row == p][0] for p in range(len(group.patterns))]
        assert np.all(np.diff(first_rows) > 0)
        if group.one_row_per_pattern:
            np.testing.assert_array_equal(group.pattern_of_row, np.arange(len(group.rows)))
        padded_mask.ravel()[group.entry_index] = True
    np.testing.assert_array_equal(seen, mask.any(axis=1))
    np.testing.assert_array_equal(padded_mask[:, :11], mask)
    assert layout.describes(mask) and not layout.describes(~mask)
    # Small groups share a batched call: fewer calls than distinct counts of holes.
    assert len(layout.groups) < len(np.unique(mask.sum(axis=1)[mask.any(axis=1)]))


def test_layout_cache_keeps_a_layout_per_mask_under_each_key():
    rng = np.random.default_rng(0)
    masks = [rng.random((50, 6)) < 0.3 for _ in range(3)]
    cache = LayoutCache(per_key=2)
    first = cache.layout("block", masks[0])
    assert cache.layout("block", masks[1]) is not first
    assert cache.layout("block", masks[0].copy()) is first  # kept beside the second
    assert cache.layout("other", masks[0]) is not first  # keys do not share
    cache.layout("block", masks[2])  # the oldest of "block" goes
    assert cache.layout("block", masks[0]) is not first and len(cache) == 3
    for mask in masks:
        assert cache.layout("block", mask).describes(mask)


def test_a_shared_cache_gives_the_fits_and_fills_of_fresh_layouts():
    rng = np.random.default_rng(1)
    X = rng.multivariate_normal(np.zeros(4), 0.5 * np.eye(4) + 0.5, size=300)
    holed = np.where(rng.random(X.shape) < 0.25, np.nan, X)
    other = np.where(rng.random(X.shape) < 0.25, np.nan, X)
    shared = LayoutCache()
    GaussianMixture(2, random_state=0)._fit_unlabelled(other, layouts=shared)  # another mask
    fresh = GaussianMixture(2, random_state=0)._fit_unlabelled(holed)
    cached = GaussianMixture(2, random_state=0)._fit_unlabelled(holed, layouts=shared)
    np.testing.assert_array_equal(cached.means_, fresh.means_)
    np.testing.assert_array_equal(cached.covariances_, fresh.covariances_)
    unbounded = np.full(4, np.inf)
    filled = [holed.copy() for _ in range(3)]
    fill_missing(filled[0], fresh, -unbounded, unbounded)
    fill_missing(filled[1], fresh, -unbounded, unbounded, layouts=shared)
    fill_missing(filled[2], fresh, -unbounded, unbounded, layouts=shared)  # from the cache
    np.testing.assert_array_equal(filled[1], filled[0])
    np.testing.assert_array_equal(filled[2], filled[0])


def test_the_imputers_choice_works_out_each_layout_once(monkeypatch):
    # Five fits and five scores see two NaN masks (the data's, and the data's
    # with cells hidden); the fills see the hidden cells' incomplete rows.
    # (200 rows of 4 features: one block, one part, so one layout a mask.)
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal(np.zeros(4), 0.5 * np.eye(4) + 0.5, size=200)
    holed = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    worked_out = []
    of = Layout.of.__func__

    def counted(cls, missing_mask, tuning=_missing_layout.DEFAULT_TUNING):
        worked_out.append(missing_mask.shape)
        return of(cls, missing_mask, tuning)

    monkeypatch.setattr(Layout, "of", classmethod(counted))
    imputer = EMImputer(random_state=0).fit(holed)
    assert len(imputer.candidate_scores_["fit_time"]) >= 8  # several fits, each scored
    assert len(worked_out) == 3


@EVERY_ROUTE
@pytest.mark.parametrize("q", [1, 2, 5, 9, 11, 20, 30])
def test_spd_inverse_matches_numpy(q, route):
    rng = np.random.default_rng(q)
    factors = rng.normal(size=(3, 7, q, q + 2))
    matrices = factors @ np.swapaxes(factors, -1, -2) + 0.1 * np.eye(q)
    inverses, half_log_det = spd_inverse(matrices, *route)
    assert inverses.shape == matrices.shape and half_log_det.shape == (3, 7)
    np.testing.assert_allclose(inverses, np.linalg.inv(matrices), rtol=1e-10, atol=1e-12)
    sign, log_det = np.linalg.slogdet(matrices)
    assert np.all(sign == 1)
    np.testing.assert_allclose(half_log_det, 0.5 * log_det, rtol=1e-12)


@EVERY_ROUTE
@pytest.mark.parametrize("q", [3, 30])
@pytest.mark.parametrize("flaw", ["indefinite", "nan"])
def test_spd_inverse_refuses_what_is_not_positive_definite(route, q, flaw):
    bad = np.eye(q)
    if flaw == "indefinite":
        bad[0, 1] = bad[1, 0] = 2.0
    else:
        bad[1, 1] = np.nan
    matrices = np.array([np.eye(q), bad])
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(np.linalg.LinAlgError, match="not positive definite"),
    ):
        spd_inverse(matrices, *route)


def test_batches_minimise_calls_plus_padded_work():
    q_of_pattern = np.repeat([2, 3, 5, 9, 10, 14], [40, 3, 1, 30, 2, 60])
    tuning = Tuning(call_cost=2000.0)
    values, counts = np.unique(q_of_pattern, return_counts=True)

    def cost(runs):  # runs: lists of positions into values
        return sum(
            tuning.call_cost + counts[run].sum() * (values[run[-1]] + 2.0) ** 3 for run in runs
        )

    best = np.inf
    for cuts in product([False, True], repeat=len(values) - 1):
        bounds = [0] + [i + 1 for i, cut in enumerate(cuts) if cut] + [len(values)]
        runs = [list(range(a, b)) for a, b in pairwise(bounds)]
        best = min(best, cost(runs))
    batches = _batches(q_of_pattern, tuning)
    chosen = [np.flatnonzero(np.isin(values, np.unique(q_of_pattern[c]))) for c, _ in batches]
    assert cost(chosen) == pytest.approx(best)
    # Every pattern in exactly one batch, padded to the batch's largest.
    np.testing.assert_array_equal(sum(c.astype(int) for c, _ in batches), 1)
    for c, q in batches:
        assert q == q_of_pattern[c].max()
    assert len(_batches(q_of_pattern, Tuning(call_cost=0.0))) == len(values)
    assert len(_batches(q_of_pattern, Tuning(call_cost=1e12))) == 1
