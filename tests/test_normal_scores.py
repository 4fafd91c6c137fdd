"""Imputing on the normal scores: the map, the expectation mapped back, and the imputer on it."""

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from sklearn_em import EMImputer, GaussianMixture
from sklearn_em._normal_scores import NormalScores
from sklearn_em.diagnostics import dispersed_starts, imputed_densities, overimputation


def _holed_lognormal(n_samples=300, fraction=0.2, seed=0):
    """exp of correlated Gaussian columns, with MCAR holes; the truth too."""
    rng = np.random.default_rng(seed)
    covariance = 0.8 ** np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    X = np.exp(rng.multivariate_normal(np.zeros(4), covariance, size=n_samples))
    mask = rng.random(X.shape) < fraction
    mask[mask.all(axis=1), 0] = False
    return X, mask, np.where(mask, np.nan, X)


def test_scores_are_the_normal_quantiles_of_mid_ranks_and_map_back():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.exponential(size=200), rng.integers(0, 4, 200), np.full(200, 2.5)])
    X[rng.random(X.shape) < 0.2] = np.nan
    scores = NormalScores.of(X)
    forward = scores.forward(X)
    for j in range(X.shape[1]):  # ties share their average rank
        observed = ~np.isnan(X[:, j])
        ranks = stats.rankdata(X[observed, j], method="average")
        expected = stats.norm.ppf((ranks - 0.5) / observed.sum())
        np.testing.assert_allclose(forward[observed, j], expected, atol=1e-12)
    np.testing.assert_array_equal(np.isnan(forward), np.isnan(X))
    np.testing.assert_allclose(scores.inverse(forward), X, rtol=1e-12)
    # Past the observed values the map goes on along a line, both ways, finitely.
    far = np.array([[-1e6, -1e6, -1e6], [1e6, 1e6, 1e6]])
    back = scores.inverse(far)
    assert np.all(np.isfinite(back))
    assert back[0, 0] < np.nanmin(X[:, 0]) and back[1, 0] > np.nanmax(X[:, 0])
    np.testing.assert_allclose(scores.forward(back), far)
    assert scores.forward(X.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="observed value"):
        NormalScores.of(np.array([[1.0, np.nan], [2.0, np.nan]]))


def test_weights_count_as_repeated_rows_and_zero_weights_as_no_rows():
    rng = np.random.default_rng(3)
    X = rng.lognormal(size=(60, 2))
    X[rng.random(X.shape) < 0.2] = np.nan
    weights = rng.integers(0, 4, 60)
    weighted = NormalScores.of(X, weights)
    repeated = NormalScores.of(np.repeat(X, weights, axis=0))
    pairs = zip(weighted.values + weighted.scores, repeated.values + repeated.scores, strict=True)
    for a, b in pairs:
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # A feature observed only in rows of weight 0 keeps their values.
    X[weights > 0, 1] = np.nan
    only_there = X[weights == 0, 1]
    kept = NormalScores.of(X, weights).values[1]
    np.testing.assert_array_equal(kept, np.unique(only_there[~np.isnan(only_there)]))


def test_weights_too_small_beside_the_rest_still_give_a_one_to_one_map():
    # Bayesian bootstrap weights of concentrated sample weights can be this
    # uneven: the lowest and highest values weigh nothing beside the rest.
    X = np.arange(8.0)[:, None]
    weights = np.r_[1e-300, 1e-300, np.ones(4), 1e-300, 1e-300]
    scale = NormalScores.of(X, weights)
    assert np.all(np.diff(scale.scores[0]) > 0) and np.all(np.isfinite(scale.scores[0]))
    assert np.all(np.isfinite(scale.slopes[0])) and min(scale.slopes[0]) > 0
    mapped = scale.forward(X)
    assert np.all(np.isfinite(mapped)) and np.all(np.diff(mapped[:, 0]) >= 0)
    np.testing.assert_allclose(scale.inverse(scale.forward(X[2:6])), X[2:6])


def test_imputer_on_normal_scores_ignores_rows_of_weight_zero():
    rng = np.random.default_rng(4)
    X = rng.lognormal(size=(400, 3)) + rng.lognormal(size=(400, 1))
    X[rng.random(X.shape) < 0.15] = np.nan
    weights = np.r_[np.zeros(200), np.ones(200)]
    imputer = EMImputer(scale="normal-scores", random_state=0)
    weighted = imputer.fit(X, sample_weight=weights).transform(X[200:])
    alone = EMImputer(scale="normal-scores", random_state=0).fit(X[200:]).transform(X[200:])
    np.testing.assert_allclose(weighted, alone, rtol=1e-9)


def test_the_expectation_mapped_back_is_the_mean_of_the_mapped_normal():
    rng = np.random.default_rng(1)
    scores = NormalScores.of(rng.lognormal(size=(500, 1)))
    means = np.array([[[-0.5], [0.3], [2.0]], [[1.0], [0.0], [-3.5]]])  # (k=2, n=3, d=1)
    variances = np.array([[[0.4], [0.0], [0.8]], [[0.1], [1e-3], [0.5]]])
    weights = np.array([[0.3, 0.7], [1.0, 0.0], [0.5, 0.5]])
    expected = scores.expected_inverse(means, variances, weights)
    # An oracle: the map integrated numerically against each normal's density.
    grid = np.linspace(-12, 12, 400_001)
    density = stats.norm.pdf(grid)
    density /= density.sum()
    for i in range(3):
        parts = [
            scores.inverse((means[k, i] + np.sqrt(variances[k, i]) * grid)[:, None])[:, 0]
            @ density
            for k in range(2)
        ]
        assert expected[i, 0] == pytest.approx(weights[i] @ parts, rel=1e-7)
    # A variance of 0 is the map of the mean itself.
    assert expected[1, 0] == pytest.approx(scores.inverse(means[0, 1:2])[0, 0], rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_an_imputer_on_the_normal_scores_keeps_its_promises(dtype, covariance_type):
    X, mask, holed = _holed_lognormal()
    holed = holed.astype(dtype)
    settings = dict(covariance_type=covariance_type, scale="normal-scores", random_state=0)
    imputer = EMImputer(2, **settings)
    filled = imputer.fit_transform(holed)
    assert imputer.imputation_scale_ == "normal-scores"
    copies = imputer.fit_transform_multiple(holed, 3)
    drawn = imputer.set_params(sample_posterior=True).fit(holed).transform(holed)
    for out in (filled, drawn, *copies):
        assert out.dtype == dtype and not np.isnan(out).any()
        np.testing.assert_array_equal(out[~mask], holed[~mask])
    assert not np.array_equal(copies[0], copies[1])
    # Lognormal data are a Gaussian on their scores: better than on the values.
    rmse = lambda out: np.sqrt(np.mean((out - X)[mask] ** 2))  # noqa: E731
    one = dict(covariance_type="full", min_value=-np.inf, max_value=np.inf)
    on_values = EMImputer(1, **one).fit_transform(holed)
    on_scores = EMImputer(1, **one, scale="normal-scores").fit_transform(holed)
    assert rmse(on_scores) < rmse(on_values)


def test_diagnostics_read_the_mixture_on_its_scale():
    _, mask, holed = _holed_lognormal(n_samples=150)
    imputer = EMImputer(1, covariance_type="full", scale="normal-scores", random_state=0)
    imputer.fit(holed)
    data, _ = overimputation(imputer, holed, n_draws=20, random_state=0)
    # Re-imputations on the data's own scale: positive, like the data.
    assert np.all(data["imputed"] > 0) and np.all(data["lower"] > 0)
    assert np.all(data["coverage"] > 0.6)
    densities, _ = imputed_densities(imputer, holed)
    np.testing.assert_array_equal(densities[0][1], imputer.transform(holed)[mask[:, 0], 0])
    starts, _ = dispersed_starts(imputer, holed, n_starts=2, random_state=0)
    assert starts["spread"] < 1e-3


def test_on_dask_the_mixture_continues_on_every_row_on_its_scale(dask_client):
    da = pytest.importorskip("dask.array")
    from sklearn_em import _dask_impute

    X, mask, holed = _holed_lognormal(n_samples=1200, seed=3)
    imputer = EMImputer(1, covariance_type="full", scale="normal-scores", max_iter=200)
    lazy = da.from_array(holed, chunks=(600, 4))
    _dask_impute.fit(imputer, lazy, np.random.RandomState(0), n_sampled=300)
    # Continued on the scores of every row, it is a fixed point of EM on them.
    on_scores = imputer._scale.forward(holed)
    fitted = imputer.mixture_
    again = GaussianMixture(1, tol=1e-9, max_iter=1, acceleration=None).set_params(
        means_init=fitted.means_, precisions_init=fitted.precisions_
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again.fit(on_scores)
    np.testing.assert_allclose(again.means_, fitted.means_, atol=1e-3)
    completed = imputer.transform(lazy).compute()
    np.testing.assert_array_equal(completed[~mask], holed[~mask])
    np.testing.assert_allclose(completed, imputer.transform(holed), rtol=1e-12)


def test_the_scale_with_empty_features_and_the_indicator_and_a_bad_scale():
    X, mask, holed = _holed_lognormal(n_samples=200)
    holed = np.column_stack([holed, np.full(200, np.nan)])  # a feature never observed
    imputer = EMImputer(
        1, scale="normal-scores", add_indicator=True, keep_empty_features=True, random_state=0
    )
    out = imputer.fit_transform(holed)
    assert out.shape == (200, 5 + 5) and not np.isnan(out).any()
    np.testing.assert_array_equal(out[:, :4][~mask], X[~mask])
    np.testing.assert_array_equal(out[:, 5:], np.isnan(holed))
    with pytest.raises(ValueError, match="'scale' parameter"):
        EMImputer(scale="log").fit(holed)
