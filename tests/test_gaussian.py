"""The covariance families against scipy's densities and closed forms."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from sklearn_em._gaussian import FAMILIES, PackedUpper, SingularCovarianceError

from .conftest import COVARIANCE_TYPES


def _random_covariances(covariance_type, k, d, rng):
    def spd():
        A = rng.normal(size=(d, d))
        return A @ A.T + d * np.eye(d)

    if covariance_type == "full":
        return np.stack([spd() for _ in range(k)])
    if covariance_type == "tied":
        return spd()
    if covariance_type == "diag":
        return rng.uniform(0.5, 3.0, size=(k, d))
    return rng.uniform(0.5, 3.0, size=k)


def _full_covariance(covariance_type, covariances, k, d):
    if covariance_type == "full":
        return covariances[k]
    if covariance_type == "tied":
        return covariances
    if covariance_type == "diag":
        return np.diag(covariances[k])
    return covariances[k] * np.eye(d)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_density_matches_scipy(covariance_type):
    rng = np.random.default_rng(0)
    k, d = 3, 4
    family = FAMILIES[covariance_type]
    covariances = _random_covariances(covariance_type, k, d, rng)
    weights = np.array([0.2, 0.3, 0.5])
    means = rng.normal(scale=5, size=(k, d))
    mixture = family.make_mixture(weights, means, covariances, 0.0)
    X = rng.normal(scale=5, size=(50, d))

    shift = mixture.centre()
    coef = family.coefficients(mixture, shift)
    log_prob = family.log_density(family.design(X, shift, coef), coef).T

    expected = np.column_stack(
        [
            np.log(weights[j])
            + multivariate_normal(
                means[j], _full_covariance(covariance_type, covariances, j, d)
            ).logpdf(X)
            for j in range(k)
        ]
    )
    np.testing.assert_allclose(log_prob, expected, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_unconstrained_round_trip(covariance_type):
    rng = np.random.default_rng(1)
    family = FAMILIES[covariance_type]
    covariances = _random_covariances(covariance_type, 3, 4, rng)
    theta = family.to_unconstrained(covariances)
    np.testing.assert_allclose(family.from_unconstrained(theta, 3, 4), covariances, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precisions_invert_covariances(covariance_type):
    rng = np.random.default_rng(2)
    family = FAMILIES[covariance_type]
    covariances = _random_covariances(covariance_type, 3, 4, rng)
    precisions = family.precisions(family.precisions_cholesky(covariances, 0.0))
    np.testing.assert_allclose(
        family.covariances_from_precisions(precisions), covariances, rtol=1e-10
    )


def test_packed_outer_products():
    X = np.arange(12.0).reshape(3, 4)
    packed = PackedUpper(4)
    outer = packed.outer(X.T)
    for row, x in zip(outer.T, X, strict=True):
        np.testing.assert_array_equal(packed.unpack(row), np.outer(x, x))


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_singular_covariance_names_the_component(covariance_type):
    family = FAMILIES[covariance_type]
    covariances = _random_covariances(covariance_type, 3, 2, np.random.default_rng(3))
    covariances[1] = 0.0
    with pytest.raises(SingularCovarianceError, match=r"component\(s\) 1 .*reg_covar"):
        family.precisions_cholesky(covariances, 0.0)
