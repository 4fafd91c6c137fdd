"""The covariance types against scipy's densities and closed forms."""

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from sklearn_em._design import PackedUpper
from sklearn_em._gaussian import FAMILIES, SingularCovarianceError
from sklearn_em._gaussian_family import GaussianFamily
from sklearn_em._triangular import triangular_inverses

from .helpers import COVARIANCE_TYPES, dense_covariance, random_covariances


@pytest.mark.parametrize(
    "covariance_type, kernel",
    [(c, k) for c in COVARIANCE_TYPES for k in ("design", "centred")]
    + [("diag", "origin"), ("spherical", "origin")],
)
def test_log_density_matches_scipy(covariance_type, kernel):
    rng = np.random.default_rng(0)
    k, d = 3, 4
    family = GaussianFamily(covariance_type, 0.0, kernel=kernel)
    covariances = random_covariances(covariance_type, k, d, rng)
    weights = np.array([0.2, 0.3, 0.5])
    means = rng.normal(scale=5, size=(k, d))
    mixture = family.from_parts(weights, means, covariances)
    X = rng.normal(scale=5, size=(50, d))

    prepared = family.prepare(mixture, np.float64, len(X))
    assert prepared.kernel == kernel
    log_prob = family.block_log_prob(prepared, X)

    expected = np.column_stack(
        [
            np.log(weights[j])
            + multivariate_normal(
                means[j], dense_covariance(covariance_type, covariances, j, d)
            ).logpdf(X)
            for j in range(k)
        ]
    )
    np.testing.assert_allclose(log_prob, expected, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_unconstrained_round_trip(covariance_type):
    rng = np.random.default_rng(1)
    family = FAMILIES[covariance_type]
    covariances = random_covariances(covariance_type, 3, 4, rng)
    theta = family.to_unconstrained(covariances)
    np.testing.assert_allclose(family.from_unconstrained(theta, 3, 4), covariances, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precisions_invert_covariances(covariance_type):
    rng = np.random.default_rng(2)
    family = FAMILIES[covariance_type]
    covariances = random_covariances(covariance_type, 3, 4, rng)
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
    covariances = random_covariances(covariance_type, 3, 2, np.random.default_rng(3))
    covariances[1] = 0.0
    with pytest.raises(SingularCovarianceError, match=r"component\(s\) 1 .*reg_covar"):
        family.precisions_cholesky(covariances, 0.0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_mixture_keeps_the_factors_of_its_own_covariances(covariance_type):
    # SQUAREM's packing reads the kept factors instead of factorising again:
    # they must be the covariances' Cholesky factors, and pack the same.
    rng = np.random.default_rng(3)
    family = GaussianFamily(covariance_type, 1e-6)
    covariances = random_covariances(covariance_type, 3, 4, rng)
    mixture = family.from_parts(np.full(3, 1 / 3), rng.normal(size=(3, 4)), covariances)
    L = mixture.covariances_cholesky
    if family.type.diagonal:
        assert L is None
    else:
        np.testing.assert_allclose(L @ np.swapaxes(L, -1, -2), covariances, rtol=1e-12)
        np.testing.assert_array_equal(np.triu(L, 1), 0.0)
    np.testing.assert_array_equal(
        family.type.to_unconstrained(covariances, L), family.type.to_unconstrained(covariances)
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precision_factors_rebuild_every_components_precision(covariance_type):
    rng = np.random.default_rng(4)
    family = GaussianFamily(covariance_type, 0.0)
    covariances = random_covariances(covariance_type, 3, 4, rng)
    mixture = family.from_parts(np.full(3, 1 / 3), rng.normal(size=(3, 4)), covariances)
    factors = family.type.precision_factors(mixture)
    if family.type.diagonal:
        assert factors.shape == (3, 4)
        rebuilt = np.stack([np.diag(f**2) for f in factors])
    else:
        assert factors.shape == (3, 4, 4)
        rebuilt = factors @ np.swapaxes(factors, 1, 2)
    expected = np.stack(
        [np.linalg.inv(dense_covariance(covariance_type, covariances, j, 4)) for j in range(3)]
    )
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-10)
    assert family.type.shared == (covariance_type == "tied")


def _with_smallest_eigenvalue(smallest, d, rng, largest=1e2):
    """A random ``d x d`` covariance whose eigenvalues run from ``smallest`` to ``largest``."""
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]
    eigenvalues = np.r_[smallest, np.geomspace(max(smallest, 1e-6) * 1.5, largest, d - 1)]
    return (rotation * eigenvalues) @ rotation.T


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("relative", [1e-3, 1e-5, -1e-5, -1e-3])
def test_the_floor_check_decides_as_the_eigenvalues_do(covariance_type, relative):
    # SQUAREM's floor check factorises Sigma - floor I instead of taking
    # every eigenvalue: just above and just below the floor it must agree.
    rng = np.random.default_rng(5)
    family = FAMILIES[covariance_type]
    floor = 1e-6 * (1 - 1e-6)
    d, k = 16, 3
    smallest = floor * (1 + relative)
    if covariance_type == "diag":
        covariances = rng.uniform(1e-3, 1e2, size=(k, d))
        covariances[1, 5] = smallest
    elif covariance_type == "spherical":
        covariances = np.array([1.0, smallest, 3.0])
    elif covariance_type == "tied":
        covariances = _with_smallest_eigenvalue(smallest, d, rng)
    else:
        covariances = np.stack(
            [_with_smallest_eigenvalue(s, d, rng) for s in (1e-2, smallest, 1.0)]
        )
    if family.diagonal:
        expected = covariances.min() >= floor
    else:
        expected = np.linalg.eigvalsh(covariances).min() >= floor
    assert expected == (relative > 0)
    assert family.at_least(covariances, floor) == expected
    covariances = covariances.copy()
    covariances.flat[0] = np.nan
    assert not family.at_least(covariances, floor)


@pytest.mark.parametrize("d", [1, 5, 63, 64, 65, 100])
@pytest.mark.parametrize("lower", [True, False])
def test_triangular_inverses_invert_and_name_the_singular(d, lower):
    rng = np.random.default_rng(d)
    factors = np.stack(
        [np.linalg.cholesky(_with_smallest_eigenvalue(1e-2, d, rng, 1e3)) for _ in range(3)]
    )
    if not lower:
        factors = np.swapaxes(factors, 1, 2).copy()
    inverses, singular = triangular_inverses(factors, lower)
    assert singular == []
    np.testing.assert_allclose(
        inverses @ factors, np.broadcast_to(np.eye(d), factors.shape), atol=1e-10
    )
    triangle = np.tril if lower else np.triu
    np.testing.assert_array_equal(inverses, triangle(inverses))
    factors[1, d - 1, d - 1] = 0.0  # a zero pivot in the last half
    factors[2, 0, 0] = 0.0  # and in the first
    assert triangular_inverses(factors, lower)[1] == [1, 2]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_an_unpacked_jump_is_the_mixture_of_its_covariances(covariance_type):
    # unpack builds the precisions from the jump's own Cholesky factors
    # instead of factorising the covariances again: the same mixture, to
    # rounding, and its factors describe its covariances.
    rng = np.random.default_rng(4)
    k, d = 3, 5
    family = GaussianFamily(covariance_type, 1e-6)
    start = family.from_parts(
        rng.dirichlet(np.ones(k)),
        rng.normal(size=(k, d)),
        random_covariances(covariance_type, k, d, rng),
    )
    theta = family.pack(start) + 0.05 * rng.normal(size=family.pack(start).size)
    jump = family.unpack(theta, (k, d))
    expected = family.from_parts(jump.weights, jump.means, jump.covariances)
    np.testing.assert_allclose(jump.precisions_cholesky, expected.precisions_cholesky, rtol=1e-12)
    if covariance_type in ("full", "tied"):
        factors = jump.covariances_cholesky
        np.testing.assert_allclose(
            factors @ np.swapaxes(factors, -1, -2), jump.covariances, rtol=1e-13
        )
    np.testing.assert_allclose(family.pack(jump)[k:], theta[k:], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_a_jump_below_the_floor_is_refused(covariance_type):
    family = GaussianFamily(covariance_type, 1e-3)
    d = 3
    covariances = np.eye(d) if covariance_type == "tied" else np.stack([np.eye(d)] * 2)
    start = family.from_parts(np.array([0.5, 0.5]), np.zeros((2, d)), covariances)
    theta = family.pack(start)
    theta[-1] = np.log(1e-2)  # the last factor's last diagonal entry: a variance of 1e-4
    with pytest.raises(SingularCovarianceError):
        family.unpack(theta, (2, d))


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_unwhitening_by_the_covariance_factor_inverts_the_whitening(covariance_type):
    # The centred kernel takes L' (the covariances' factor) as the inverse of
    # the precision factor U = inv(L)' where the pass holds U as it is, and
    # inverts U itself otherwise (a mixture without L: as the fitted
    # attributes give it).
    from dataclasses import replace

    from sklearn_em import _centred

    rng = np.random.default_rng(5)
    k, d = 3, 70  # past the size where triangular inverses go by halves
    family = GaussianFamily(covariance_type, 1e-6)
    mixture = family.from_parts(
        np.full(k, 1 / k), rng.normal(size=(k, d)), random_covariances(covariance_type, k, d, rng)
    )
    assert mixture.covariances_cholesky is not None
    by_factor = _centred.prepare(family.type, mixture, np.float64).unwhiten
    without = replace(mixture, covariances_cholesky=None)
    by_inverse = _centred.prepare(family.type, without, np.float64).unwhiten
    np.testing.assert_allclose(by_factor, by_inverse, rtol=1e-10, atol=1e-13)
    factors = np.swapaxes(_centred.prepare(family.type, mixture, np.float64).factors, 1, 2)
    np.testing.assert_allclose(
        factors @ by_factor, np.broadcast_to(np.eye(d), (k, d, d)), atol=1e-12
    )


def test_a_collapsing_component_never_reports_an_impossible_likelihood():
    # Without reg_covar, a component on a repeated point shrinks without
    # bound; SQUAREM's jumps can reach precisions so singular that the
    # missing-value path rounds its quadratic forms negative, and log-densities
    # come out above any Gaussian's peak (1e60 and more). Such a jump is
    # refused, as a singular one is: the fit goes on as plain EM does.
    from sklearn_em import GaussianMixture

    rng = np.random.default_rng(0)
    X = np.vstack([np.zeros((300, 3)), rng.normal(size=(300, 3)) * 3 + 5])
    X[rng.random(X.shape) < 0.2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = GaussianMixture(2, reg_covar=0, random_state=0).fit(X)
        except SingularCovarianceError:
            return
    assert model.lower_bound_ < 1e3
