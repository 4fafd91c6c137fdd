"""A drawn model's normal-scores map, re-estimated from the data it completes."""

import warnings

import numpy as np
import pytest
from scipy.special import ndtri
from sklearn.exceptions import ConvergenceWarning

from sklearn_em import EMImputer
from sklearn_em._completed_scale import remap_on_completed

QUANTILES = np.array([0.75, 0.9])


def _skewed_under_mar(seed, n_samples=500):
    """A skewed feature, its square nearly, and noise; the square goes missing where high."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal(n_samples)
    X = np.c_[
        np.exp(0.3 * latent),
        np.exp(0.6 * latent + 0.06 * rng.standard_normal(n_samples)),
        rng.standard_normal(n_samples),
    ]
    holed = X.copy()
    holed[rng.random(n_samples) < 1 / (1 + np.exp(-(2 * latent - 1))), 1] = np.nan
    return X, holed


def _map_quantiles(imputer, feature):
    """The values the imputer's map gives the normal scores of ``QUANTILES``."""
    scores = np.repeat(ndtri(QUANTILES)[:, None], imputer.n_features_in_, axis=1)
    return imputer._scale.inverse(scores)[:, feature]


@pytest.mark.parametrize("seed", range(3))
def test_the_remapped_scale_finds_the_full_data_quantiles_under_mar(seed):
    # The observed values of feature 1 are its low ones: the map of their
    # ranks alone puts the full data's upper quantiles too low.
    X, holed = _skewed_under_mar(seed)
    truth = np.quantile(X[:, 1], QUANTILES)
    settings = dict(n_components=1, covariance_type="full", scale="normal-scores")
    observed_only = EMImputer(**settings, random_state=seed).fit(holed)
    remapped = remap_on_completed(
        EMImputer(**settings, random_state=seed).fit(holed), holed, np.random.RandomState(seed)
    )
    assert np.all(_map_quantiles(observed_only, 1) - truth < -0.3)
    np.testing.assert_allclose(_map_quantiles(remapped, 1), truth, atol=0.2)
    # A feature observed in every row keeps its map.
    np.testing.assert_allclose(
        _map_quantiles(remapped, 0), _map_quantiles(observed_only, 0), rtol=1e-12
    )


def test_no_rounds_and_the_original_scale_change_nothing():
    _, holed = _skewed_under_mar(0)
    on_scores = EMImputer(1, covariance_type="full", scale="normal-scores").fit(holed)
    kept = on_scores.mixture_
    remap_on_completed(on_scores, holed, np.random.RandomState(0), rounds=0)
    assert on_scores.mixture_ is kept
    original = EMImputer(1, covariance_type="full", scale="original").fit(holed)
    kept = original.mixture_
    remap_on_completed(original, holed, np.random.RandomState(0))
    assert original.mixture_ is kept and original._scale is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_drawn_models_on_normal_scores_keep_observed_values_and_dtype(dtype):
    _, holed = _skewed_under_mar(1)
    holed = holed.astype(dtype)
    # A bound at feature 1's observed median clips some of its draws.
    floor = float(np.nanmedian(holed[:, 1]))
    bounds = np.array([-np.inf, floor, -np.inf])
    settings = dict(scale="normal-scores", sample_posterior=True, min_value=bounds)
    imputer = EMImputer(**settings, random_state=0)
    imputations = imputer.fit_transform_multiple(holed, 3)
    observed = ~np.isnan(holed)
    for completed in imputations:
        assert completed.dtype == dtype and not np.isnan(completed).any()
        np.testing.assert_array_equal(completed[observed], holed[observed])
        drawn = completed[~observed[:, 1], 1]
        assert drawn.min() == np.asarray(floor, dtype=dtype)  # clipped there, none below
    # The drawn model's map is that of the completed feature, whose high
    # values the observed ones lack.
    drawn = imputer.posterior_imputer_
    assert np.all(_map_quantiles(drawn, 1) > _map_quantiles(imputer, 1) + 0.1)
    again = EMImputer(**settings, random_state=0)
    for first, second in zip(imputations, again.fit_transform_multiple(holed, 3), strict=True):
        np.testing.assert_array_equal(first, second)


def test_rows_of_weight_zero_shape_no_drawn_map():
    X, holed = _skewed_under_mar(2, n_samples=300)
    holed[:20] = np.where(np.isnan(holed[:20]), np.nan, holed[:20] + 50.0)  # far off, weighted out
    weights = np.r_[np.zeros(20), np.ones(280)]
    imputer = EMImputer(1, covariance_type="full", scale="normal-scores", sample_posterior=True)
    drawn = imputer.set_params(random_state=0).fit(holed, sample_weight=weights).posterior_imputer_
    for j, values in enumerate(drawn._scale.values):
        seen = holed[20:, j][~np.isnan(holed[20:, j])]
        assert seen.min() <= values.min() and values.max() <= seen.max()


def test_the_rounds_warn_once_when_their_refit_stops_short():
    _, holed = _skewed_under_mar(0)
    imputer = EMImputer(scale="normal-scores", max_iter=1, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imputer.fit_transform_multiple(holed, 2)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    refits = [m for m in messages if "map of the data it completes" in m]
    assert len(refits) == 2 and "Increase max_iter" in refits[0]
    assert not any("acceleration='squarem'" in m for m in messages)
