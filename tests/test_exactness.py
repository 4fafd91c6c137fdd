"""Exact at any offset and scale: each cluster's fitted variance is its rows' own.

The cases that once gave silently wrong models (issue 13): bursts of Unix
timestamps, unit clusters far apart, data near the float32 range.
"""

import warnings

import numpy as np
import pytest

from sklearn_em import GaussianMixture

from .helpers import COVARIANCE_TYPES, FITTED
from .sklearn_suite import load_suite

TOLERANCE = {np.float64: 1e-6, np.float32: 1e-3}


def _timestamps():
    rng = np.random.default_rng(0)
    bursts = np.r_[rng.normal(0, 60, 200), 30 * 86400 + rng.normal(0, 60, 200)]
    return 1.7e9 + bursts[:, None]


def _far_apart():
    rng = np.random.default_rng(1)
    return np.r_[rng.normal(size=(200, 2)), 1e7 + rng.normal(size=(200, 2))]


def _scaled(scale):
    rng = np.random.default_rng(2)
    return scale * np.r_[rng.normal(size=(200, 2)), 8 + rng.normal(size=(200, 2))]


CASES = {
    "timestamps": _timestamps,
    "far_apart": _far_apart,
    "scale_1e19": lambda: _scaled(1e19),
    "scale_1e-19": lambda: _scaled(1e-19),
}


def _sample_covariances(X, labels, covariance_type):
    """The covariances the rows of each cluster have, in the type's layout."""
    X = X.astype(np.float64)
    covs = [np.atleast_2d(np.cov(X[labels == j].T, bias=True)) for j in range(2)]
    if covariance_type == "full":
        return np.stack(covs)
    if covariance_type == "tied":
        weights = np.bincount(labels) / len(labels)
        return sum(w * c for w, c in zip(weights, covs, strict=True))
    if covariance_type == "diag":
        return np.stack([np.diag(c) for c in covs])
    return np.array([np.trace(c) / c.shape[0] for c in covs])


def _fit(X, covariance_type, **kwargs):
    model = GaussianMixture(
        2, covariance_type=covariance_type, reg_covar=0, tol=1e-10, random_state=0, **kwargs
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_fitted_variance_is_the_clusters_own(case, covariance_type, dtype):
    X = CASES[case]().astype(dtype)
    model = _fit(X, covariance_type)
    truth = np.repeat([0, 1], 200)
    labels = model.labels_ if model.labels_[0] == 0 else 1 - model.labels_
    np.testing.assert_array_equal(labels, truth)
    expected = _sample_covariances(X, model.labels_, covariance_type)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(
        model.covariances_, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * scale
    )
    for name in FITTED:
        assert np.all(np.isfinite(getattr(model, name))), name


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_timestamps_score_as_each_burst_alone(covariance_type):
    X = _timestamps()
    model = _fit(X, covariance_type)
    alone = [_fit_one(X[:200]), _fit_one(X[200:])]
    # Half the rows in each burst: log(1/2) on top of each burst's own density.
    expected = np.mean(
        [m.score(X[s]) for m, s in zip(alone, [slice(200), slice(200, None)], strict=True)]
    )
    assert model.score(X) == pytest.approx(expected + np.log(0.5), abs=0.02)


def _fit_one(X):
    return GaussianMixture(1, reg_covar=0).fit(X)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_tiny_positive_variance_is_data(covariance_type):
    rng = np.random.default_rng(3)
    X = 1.0 + 1e-9 * np.r_[rng.normal(size=(100, 2)), 50 + rng.normal(size=(100, 2))]
    model = _fit(X, covariance_type)
    expected = _sample_covariances(X, model.labels_, covariance_type)
    np.testing.assert_allclose(model.covariances_, expected, rtol=1e-6, atol=1e-6 * 1e-18)
    assert np.all(np.isfinite(model.precisions_))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_beyond_its_range_gives_finite_parameters(covariance_type):
    # Variances of 1e50 do not fit in float32: the parameters must not be
    # inf (they are float64; casting them to float32 would need an error).
    X = _scaled(1e25).astype(np.float32)
    model = _fit(X, covariance_type)
    for name in FITTED:
        assert np.all(np.isfinite(getattr(model, name))), name
    assert np.all(np.isfinite(model.score_samples(X)))


def test_scikit_learns_diverging_start_is_fitted():
    # Its start holds components of variance 1e-6 on 30 rows: data, not a
    # singular covariance (it once raised SingularCovarianceError).
    suite = load_suite(
        "mixture/tests/test_gaussian_mixture.py",
        {
            "from sklearn.mixture import GaussianMixture\n": (
                "from sklearn_em import GaussianMixture\n"
            )
        },
        {},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suite["test_gaussian_mixture_setting_best_params"]()
