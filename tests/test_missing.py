"""GaussianMixture on rows with missing values, against a row-by-row oracle."""

from contextlib import nullcontext

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning

from sklearn_em import GaussianMixture
from sklearn_em._fit import EM
from sklearn_em._gaussian import FAMILIES, Mixture, SingularCovarianceError
from sklearn_em._gaussian_family import GaussianFamily
from sklearn_em._missing import DiagonalConditionals, conditionals
from sklearn_em._missing_layout import Tuning

from . import reference
from .helpers import COVARIANCE_TYPES, start_after_one_step, tuned
from .test_missing_batches import EVERY_ROUTE


def _with_holes(X, fraction, seed):
    rng = np.random.default_rng(seed)
    X = X.copy()
    X[rng.random(X.shape) < fraction] = np.nan
    return X


@pytest.fixture
def holed(overlapping):
    """Overlapping clusters with 3 features, 30% missing, one row fully missing."""
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [overlapping, overlapping @ [0.5, -0.3] + rng.normal(size=len(overlapping))]
    )
    X = _with_holes(X[::8], 0.3, seed=1)
    X[5] = np.nan
    return X


@EVERY_ROUTE
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_matches_the_row_by_row_oracle(holed, covariance_type, k, route):
    weights, means, covariances, precisions = start_after_one_step(holed, k, covariance_type)
    min_stack, max_eliminated_q = route
    tuning = Tuning(min_stack=min_stack, max_eliminated_q=max_eliminated_q)
    model = tuned(family={"tuning": tuning})(
        k,
        covariance_type=covariance_type,
        tol=0,
        max_iter=4,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(holed)
    expected = reference.em(holed, weights, means, covariances, covariance_type, 1e-6, 4)

    np.testing.assert_allclose(model.weights_, expected[0], rtol=1e-8)
    np.testing.assert_allclose(model.means_, expected[1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.covariances_, expected[2], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.lower_bounds_, expected[3], rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scores_are_marginal_densities(holed, covariance_type):
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(holed)
    covs = reference.dense(model.covariances_, covariance_type, 2, 3)
    for i in [0, 1, 2, 5, 7]:
        x = holed[i]
        o = ~np.isnan(x)
        density = sum(
            w * (multivariate_normal(mu[o], S[np.ix_(o, o)]).pdf(x[o]) if o.any() else 1.0)
            for w, mu, S in zip(model.weights_, model.means_, covs, strict=True)
        )
        np.testing.assert_allclose(
            model.score_samples(holed[i : i + 1])[0], np.log(density), atol=1e-12
        )


def test_fully_missing_row_scores_zero_with_the_weights_as_responsibilities(holed):
    model = GaussianMixture(2, random_state=0).fit(holed)
    empty = np.full((1, 3), np.nan)
    assert model.score_samples(empty)[0] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(model.predict_proba(empty)[0], model.weights_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("acceleration", [None, "squarem"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_observed_log_likelihood_never_decreases(holed, covariance_type, acceleration):
    model = GaussianMixture(
        2,
        covariance_type=covariance_type,
        acceleration=acceleration,
        tol=1e-9,
        max_iter=400,
        random_state=0,
    ).fit(holed)
    trace = np.asarray(model.lower_bounds_)
    assert model.n_iter_ > 5
    assert np.all(np.diff(trace) >= -1e-12 * np.abs(trace[1:]))


def test_complete_rows_in_a_holed_block_use_the_fast_path(holed):
    model = GaussianMixture(2, random_state=0).fit(holed)
    complete = ~np.isnan(holed).any(axis=1)
    np.testing.assert_allclose(
        model.score_samples(holed)[complete], model.score_samples(holed[complete]), rtol=1e-12
    )


def test_missing_at_random_recovers_the_parameters():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, 0.5], [0.3, 0.5, 1.0]])
    X = rng.multivariate_normal([1.0, -2.0, 0.5], cov, size=20000)
    # Missing at random: x1 goes missing more often when x0 is large.
    holes = X.copy()
    holes[rng.random(len(X)) < 1 / (1 + np.exp(-2 * X[:, 0])), 1] = np.nan
    model = GaussianMixture(1, tol=1e-8, max_iter=500).fit(holes)
    np.testing.assert_allclose(model.means_[0], [1.0, -2.0, 0.5], atol=0.03)
    np.testing.assert_allclose(model.covariances_[0], cov, atol=0.04)
    # Dropping incomplete rows biases the mean of x1 under this mask.
    complete = holes[~np.isnan(holes).any(axis=1)]
    assert abs(complete[:, 1].mean() + 2.0) > 0.3


def test_a_feature_with_nothing_observed_is_named():
    X = np.random.default_rng(0).normal(size=(20, 3))
    X[:, 1] = np.nan
    with pytest.raises(ValueError, match=r"Feature\(s\) 1 have no observed value.*Drop"):
        GaussianMixture().fit(X)


def test_inf_is_still_an_error_with_nan_around():
    X = _with_holes(np.random.default_rng(0).normal(size=(20, 3)), 0.2, seed=0)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"infinity \(inf\) in 1 entries.*replace it with NaN"):
        GaussianMixture().fit(X)


@pytest.mark.parametrize("structure", ["full", "shared"])
def test_padding_patterns_changes_no_result(holed, structure):
    rng = np.random.default_rng(0)
    X = np.vstack([holed] * 4)
    X[rng.random(X.shape) < 0.2] = np.nan
    k, d = 2, X.shape[1]
    means = rng.normal(size=(k, d))
    A = rng.normal(size=(k, d, d))
    precisions = A @ A.transpose(0, 2, 1) + np.eye(d)
    if structure == "shared":
        precisions[1] = precisions[0]
    log_det = np.linalg.slogdet(precisions)[1]
    args = (X, means, precisions, log_det, np.log([0.4, 0.6]), structure)
    resp = rng.dirichlet(np.ones(k), size=len(X))
    components = rng.integers(k, size=len(X))

    results = []
    # No cost to a call: every size its own; a huge one: one padded batch.
    for call_cost in [0, 1e12]:
        cond = conditionals(*args, tuning=Tuning(call_cost=call_cost))
        results.append(
            (
                cond,
                cond.moment_sums(resp, means),
                cond.draw(components, np.random.default_rng(1)),
            )
        )
    (exact, exact_sums, _), (padded, padded_sums, padded_draws) = results
    assert len(padded.layout.groups) == 1 < len(exact.layout.groups)
    np.testing.assert_allclose(padded.log_prob, exact.log_prob, rtol=1e-12)
    np.testing.assert_allclose(padded.means, exact.means, rtol=1e-12)
    for ours, theirs in zip(padded_sums, exact_sums, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(padded_draws[observed], X[observed])
    assert np.isfinite(padded_draws).all()


def test_an_em_reused_on_other_holes_recomputes_their_layout(holed):
    model = GaussianMixture(2, random_state=0).fit(holed)
    mixture = model._mixture()
    other = holed[::-1].copy()
    em = EM(GaussianFamily("full", model.reg_covar))
    em.statistics(holed, mixture)
    reused, _ = em.statistics(other, mixture)
    fresh, _ = EM(GaussianFamily("full", model.reg_covar)).statistics(other, mixture)
    np.testing.assert_allclose(reused.s2, fresh.s2, rtol=1e-12)
    assert reused.loglik == pytest.approx(fresh.loglik, rel=1e-12)


def test_diagonal_closed_form_equals_the_general_path(holed):
    rng = np.random.default_rng(0)
    k, d = 3, holed.shape[1]
    means = rng.normal(size=(k, d))
    precisions = np.stack([np.diag(rng.uniform(0.5, 2.0, size=d)) for _ in range(k)])
    log_det = np.log(np.diagonal(precisions, axis1=1, axis2=2)).sum(axis=1)
    log_weights = np.log([0.2, 0.3, 0.5])
    args = (holed, means, precisions, log_det, log_weights)
    general, diagonal = conditionals(*args, "full"), conditionals(*args, "diagonal")
    assert isinstance(diagonal, DiagonalConditionals)

    np.testing.assert_allclose(diagonal.log_prob, general.log_prob, rtol=1e-12)
    np.testing.assert_allclose(diagonal.means, general.means, rtol=1e-12)
    resp = rng.dirichlet(np.ones(k), size=len(holed))
    centres = rng.normal(size=(k, d))
    (s1, second), (s1_general, second_general) = (
        diagonal.moment_sums(resp, centres),
        general.moment_sums(resp, centres),
    )
    np.testing.assert_allclose(s1, s1_general, rtol=1e-12)
    # Diagonal families read only the diagonal of the second moments.
    np.testing.assert_allclose(
        np.diagonal(second, axis1=1, axis2=2),
        np.diagonal(second_general, axis1=1, axis2=2),
        rtol=1e-12,
    )
    components = rng.integers(k, size=len(holed))
    draws = diagonal.draw(components, np.random.default_rng(1))
    observed = ~np.isnan(holed)
    np.testing.assert_array_equal(draws[observed], holed[observed])
    assert np.isfinite(draws).all()


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_rows_with_holes_taken_in_parts_give_the_same_pass(holed, covariance_type):
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(holed)
    mixture = model._mixture()
    em = EM(GaussianFamily(covariance_type, model.reg_covar))
    whole, _ = em.statistics(holed, mixture)
    whole_log_prob = em.log_prob(holed, mixture)
    in_parts = GaussianFamily(covariance_type, model.reg_covar, tuning=Tuning(part_bytes=1))
    em = EM(in_parts)  # parts of 64 rows
    parts, _ = em.statistics(holed, mixture)
    assert len(em.cache) > 1
    np.testing.assert_allclose(parts.s2, whole.s2, rtol=1e-12)
    np.testing.assert_allclose(parts.nk, whole.nk, rtol=1e-12)
    assert parts.loglik == pytest.approx(whole.loglik, rel=1e-12)
    np.testing.assert_allclose(em.log_prob(holed, mixture), whole_log_prob, rtol=1e-12)


@pytest.mark.parametrize("condition", [1e10, 1e14])
def test_a_precision_singular_to_rounding_is_named(condition):
    # Positive definite, but past 1 / (1e3 eps) ~ 4.5e12 its blocks invert to noise.
    rotation = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    covariances = np.stack([np.eye(3), rotation @ np.diag([1.0, 1.0, 1 / condition]) @ rotation.T])
    mixture = FAMILIES["full"].make_mixture(np.array([0.5, 0.5]), np.zeros((2, 3)), covariances, 0)
    X = _with_holes(np.random.default_rng(1).normal(size=(50, 3)), 0.3, seed=2)
    em = EM(GaussianFamily("full", 1e-6))
    refused = pytest.raises(SingularCovarianceError, match=r"component\(s\) 1 ")
    with refused if condition > 1e12 else nullcontext():
        em.statistics(X, mixture)


def test_features_in_units_far_apart_are_not_singular():
    # Incomes, a ratio near 1 and a unit score: the precision's condition is
    # ~1e13 from the units alone, scaled to a unit diagonal it is ~1; its
    # blocks invert as accurately as a well-scaled one's.
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(5e4, 2e4, 400), rng.normal(1, 0.003, 400), rng.normal(size=400)]
    holed = _with_holes(X, 0.1, seed=1)
    model = GaussianMixture(1, acceleration=None, random_state=0).fit(holed)
    assert np.linalg.cond(model.covariances_[0]) > 1e12
    # The oracle in standard units (scipy refuses the raw covariance as
    # singular): the density of x is that of x / s over the product of s.
    s = np.sqrt(np.diag(model.covariances_[0]))
    for row, density in zip(holed[:40], model.score_samples(holed[:40]), strict=True):
        seen = ~np.isnan(row)
        mean = model.means_[0][seen] / s[seen]
        cov = (model.covariances_[0] / np.outer(s, s))[np.ix_(seen, seen)]
        standard = multivariate_normal(mean, cov).logpdf(row[seen] / s[seen])
        assert density == pytest.approx(standard - np.log(s[seen]).sum(), rel=1e-9)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # its log-determinant
def test_a_singular_precision_met_through_missing_values_is_named():
    # P = U U' = [[2, 0], [0, 0]]: the precision of the second coordinate alone is 0.
    singular = np.array([[[1.0, 1.0], [0.0, 0.0]]])
    mixture = Mixture(np.ones(1), np.zeros((1, 2)), np.eye(2)[None], singular)
    X = np.array([[0.5, np.nan], [np.nan, 0.2], [0.1, 0.3]])
    with pytest.raises(SingularCovarianceError, match=r"component\(s\) 0 .*reg_covar"):
        EM(GaussianFamily("full", 1e-6)).statistics(X, mixture)


def _holed_rows(n, d, seed, copies):
    """MCAR holes, and ``copies`` more rows with the first row's mask: one
    pattern shared by many rows, beside patterns of one row each."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n + copies, d)) < 0.4
    mask[n:] = mask[0]
    mask[mask.all(axis=1), 0] = False
    return np.where(mask, np.nan, rng.normal(size=mask.shape))


@pytest.mark.parametrize("small_scatter", [0, 10**9], ids=["sparse", "bincount"])
@pytest.mark.parametrize("structure", ["full", "shared"])
def test_conditional_covariance_sums_match_the_row_by_row_oracle(structure, small_scatter):
    k, d = 3, 12
    X = _holed_rows(150, d, seed=3, copies=20)
    rng = np.random.default_rng(4)
    means = rng.normal(size=(k, d))
    A = rng.normal(size=(k, d, d))
    covariances = A @ A.transpose(0, 2, 1) / d + np.eye(d)
    if structure == "shared":
        covariances[:] = covariances[0]
    precisions = np.linalg.inv(covariances)
    log_det = np.linalg.slogdet(precisions)[1]
    weights = np.array([0.2, 0.3, 0.5])
    args = (X, means, precisions, log_det, np.log(weights), structure)
    cond = conditionals(*args, tuning=Tuning(call_cost=0.0))  # a batch per size
    assert any(group.one_row_per_pattern for group in cond.layout.groups)
    assert not all(group.one_row_per_pattern for group in cond.layout.groups)
    resp = rng.dirichlet(np.ones(k), size=len(X))

    expected = np.zeros((k, d, d))
    for i, x in enumerate(X):
        parts = reference.row_conditionals(x, weights, means, covariances)
        for j, (log_p, x_hat, C) in enumerate(parts):
            expected[j] += resp[i, j] * C
            np.testing.assert_allclose(cond.log_prob[i, j], log_p, rtol=1e-12)
            np.testing.assert_allclose(cond.means[j, i], x_hat, rtol=1e-12, atol=1e-12)
    sums = cond.conditional_covariance_sums(resp, small_scatter)
    np.testing.assert_allclose(sums, expected, rtol=1e-12, atol=1e-12)


def test_log_densities_hold_under_an_ill_conditioned_precision():
    # Variances from 1e-4 to 1e4 along rotated axes, rows at a scale of 300:
    # y' P y reaches 1e9 while a row's marginal term is of order 1; the
    # difference y' P y - b' inv(P_mm) b was off by up to 1.4 here (and by
    # 19 in a fit that test_reliability found).
    rng = np.random.default_rng(7)
    d = 4
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]
    covariance = rotation @ np.diag([1e4, 1e2, 1.0, 1e-4]) @ rotation.T
    means = np.zeros((1, d))
    X = rng.multivariate_normal(np.zeros(d), covariance, size=40) + 300 * rng.normal(size=(40, d))
    X[rng.random(X.shape) < 0.4] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 1.0
    precision = np.linalg.inv(covariance)
    log_det = np.linalg.slogdet(precision)[1]
    cond = conditionals(X, means, precision[None], np.array([log_det]), np.zeros(1))
    for i, x in enumerate(X):
        ((log_p, x_hat, _),) = reference.row_conditionals(x, [1.0], means, [covariance])
        np.testing.assert_allclose(cond.log_prob[i, 0], log_p, rtol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("acceleration", [None, "squarem"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_reg_covar_does_not_compound_on_rows_with_little_observed(covariance_type, acceleration):
    X = np.full((10, 2), np.nan)
    X[0] = [1.0, 2.0]
    model = GaussianMixture(
        1, covariance_type=covariance_type, acceleration=acceleration, max_iter=30, tol=0
    ).fit(X)
    # Flat up to the rounding a pass may make on a variance of reg_covar at an
    # offset of 2 (_kernels.ACCURACY): it no longer falls by ~1e-2 a pass.
    trace = np.asarray(model.lower_bounds_)
    assert np.all(np.diff(trace) >= -1e-9 * np.abs(trace[1:]))
    variances = np.atleast_1d(model.covariances_).reshape(-1)
    # Nine rows with nothing observed add nothing to the scatter of one point.
    np.testing.assert_allclose(variances[variances > 1e-20], 1e-6, rtol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_trace_never_decreases_on_sparse_random_masks(covariance_type):
    # One component: with several, a component collapsing onto a few points
    # is held up by reg_covar, which can lower the likelihood (as in scikit-learn).
    rng = np.random.default_rng(5)
    for trial in range(8):
        n = int(rng.integers(5, 40))
        X = rng.normal(size=(n, 3)) * rng.uniform(0.01, 10, size=3)
        X[rng.uniform(size=X.shape) < rng.uniform(0.3, 0.8)] = np.nan
        X[0] = rng.normal(size=3)  # every feature observed at least once
        for acceleration in [None, "squarem"]:
            model = GaussianMixture(
                1,
                covariance_type=covariance_type,
                acceleration=acceleration,
                max_iter=60,
                tol=0,
                random_state=trial,
            ).fit(X)
            trace = np.asarray(model.lower_bounds_)
            # Up to the rounding a pass may make (_kernels.ACCURACY).
            assert np.all(np.diff(trace) >= -1e-9 * np.abs(trace[1:])), (trial, acceleration)


def test_a_jump_below_reg_covar_is_refused():
    from sklearn_em._gaussian_family import GaussianFamily

    family = GaussianFamily("full", reg_covar=1e-3)
    covariances = np.stack([np.eye(2), 5e-4 * np.eye(2)])
    below = FAMILIES["full"].make_mixture(np.array([0.5, 0.5]), np.zeros((2, 2)), covariances, 0.0)
    with pytest.raises(SingularCovarianceError):
        family.unpack(family.pack(below), (2, 2))
    above = FAMILIES["full"].make_mixture(
        np.array([0.5, 0.5]), np.zeros((2, 2)), 2 * covariances, 0.0
    )
    np.testing.assert_allclose(
        family.unpack(family.pack(above), (2, 2)).covariances, 2 * covariances
    )
