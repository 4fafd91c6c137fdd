"""The kernels of a pass: the same statistics, whichever computes them."""

from dataclasses import replace

import numpy as np
import pytest

from sklearn_em._blocks import Backend
from sklearn_em._fit import EM
from sklearn_em._gaussian_family import GaussianFamily
from sklearn_em._kernels import _fastest, choose, eligible

from . import reference
from .helpers import COVARIANCE_TYPES, random_covariances


def _problem(covariance_type, k=3, d=4, n=500, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    family = GaussianFamily(covariance_type, 1e-6)
    means = rng.normal(scale=3, size=(k, d)) + offset
    mixture = family.from_parts(
        rng.dirichlet(np.ones(k)), means, random_covariances(covariance_type, k, d, rng)
    )
    X = means[rng.integers(k, size=n)] + rng.normal(scale=2, size=(n, d))
    return family, mixture, X


def _kernels_of(covariance_type):
    diagonal = covariance_type in ("diag", "spherical")
    return ("design", "centred", "origin") if diagonal else ("design", "centred")


def _step(family, mixture, X, kernel, dtype=np.float64, backend=None):
    em = EM(replace(family, kernel=kernel), Backend() if backend is None else backend)
    prepared = em.prepare(X.astype(dtype), mixture)
    assert prepared.kernel == kernel
    return em.step(X.astype(dtype), mixture), prepared


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_both_kernels_give_the_row_by_row_step(covariance_type):
    family, mixture, X = _problem(covariance_type)
    expected = reference.em(
        X,
        mixture.weights,
        mixture.means,
        mixture.covariances,
        covariance_type,
        family.reg_covar,
        1,
    )
    for kernel in _kernels_of(covariance_type):
        (loglik, update), _ = _step(family, mixture, X, kernel)
        assert loglik == pytest.approx(expected[3][0], rel=1e-12)
        np.testing.assert_allclose(update.weights, expected[0], rtol=1e-10)
        np.testing.assert_allclose(update.means, expected[1], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(update.covariances, expected[2], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_kernels_agree_with_float64(covariance_type):
    family, mixture, X = _problem(covariance_type, seed=1)
    X = X.astype(np.float32)  # the same data for both dtypes
    (_, double), _ = _step(family, mixture, X, "centred", np.float64)
    for kernel in _kernels_of(covariance_type):
        (_, single), prepared = _step(family, mixture, X, kernel, np.float32)
        assert prepared.dtype == np.float32
        np.testing.assert_allclose(single.means, double.means, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(single.covariances, double.covariances, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "covariance_type, kernel",
    [(c, k) for c in COVARIANCE_TYPES for k in ("design", "centred")]
    + [("diag", "origin"), ("spherical", "origin")],
)
def test_threads_change_only_rounding_and_repeats_are_identical(covariance_type, kernel):
    family, mixture, X = _problem(covariance_type, n=4000, seed=2)
    X[::17, 1] = np.nan  # the missing-value path too
    (serial_loglik, serial), _ = _step(family, mixture, X, kernel, backend=Backend(1))
    threaded = Backend(2, block_bytes=20_000)
    (loglik, update), _ = _step(family, mixture, X, kernel, backend=threaded)
    assert loglik == pytest.approx(serial_loglik, rel=1e-10)
    for name in ("weights", "means", "covariances"):
        np.testing.assert_allclose(getattr(update, name), getattr(serial, name), rtol=1e-10)
    (again_loglik, again), _ = _step(family, mixture, X, kernel, backend=threaded)
    assert again_loglik == loglik
    for name in ("weights", "means", "covariances", "precisions_cholesky"):
        np.testing.assert_array_equal(getattr(again, name), getattr(update, name))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_far_apart_components_leave_only_the_centred_kernel(covariance_type):
    family, mixture, _ = _problem(covariance_type)
    far = replace(mixture, means=mixture.means + np.array([[0.0], [1e7], [-1e7]]))
    assert "design" in eligible(family.type, mixture, np.float64)
    assert eligible(family.type, far, np.float64) == ["centred"]  # origin: too far from 0
    assert choose(family.type, far, np.float64, 10**6)[0] == "centred"


def test_float32_stays_float32_on_correlated_components():
    rng = np.random.default_rng(3)
    d, k = 32, 4
    family = GaussianFamily("full", 1e-6)
    shapes = np.eye(d) + 0.2 * rng.normal(size=(k, d, d))
    mixture = family.from_parts(
        np.full(k, 1 / k), rng.normal(scale=3, size=(k, d)), shapes @ shapes.transpose(0, 2, 1)
    )
    assert choose(family.type, mixture, np.float32, 60_000)[1] == np.float32
    # Too ill-conditioned for float32 whitening: the pass goes to float64.
    covariances = np.stack([np.diag(np.logspace(0, 12, d))] * k)
    thin = family.from_parts(mixture.weights, mixture.means, covariances)
    assert choose(family.type, thin, np.float32, 60_000)[1] == np.float64


def test_the_cost_model_picks_by_shape():
    family = GaussianFamily("full", 1e-6)

    def kernel_for(d, k):
        rng = np.random.default_rng(0)
        mixture = family.from_parts(
            np.full(k, 1 / k), rng.normal(size=(k, d)), np.stack([np.eye(d)] * k)
        )
        return choose(family.type, mixture, np.float64, 100_000)[0]

    # Small k against d: k well-shaped products win; large k: one GEMM does.
    assert kernel_for(64, 2) == "centred"
    assert kernel_for(2, 16) == "design"


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
@pytest.mark.parametrize("d", [1, 2, 8])
def test_in_float64_the_centred_kernel_serves_wherever_the_design_does(covariance_type, d):
    # choose() relies on it to skip the error estimates where the cost model
    # ranks the centred kernel first: mixtures from round to thin, near and far.
    rng = np.random.default_rng(d)
    family = GaussianFamily(covariance_type, 0.0)
    for offset in (0.0, 1e3, 1e6, 1e9):
        for spread in (0.0, 3.0, 6.0, 9.0):
            k = 1 if covariance_type == "tied" else 3
            axes = np.stack([np.diag(np.logspace(0, spread, d)) for _ in range(k)])
            rotations = np.linalg.qr(rng.normal(size=(k, d, d)))[0]
            covariances = rotations @ axes @ np.swapaxes(rotations, 1, 2)
            mixture = family.from_parts(
                np.full(3, 1 / 3),
                rng.normal(scale=3, size=(3, d)) + offset,
                covariances[0] if covariance_type == "tied" else covariances,
            )
            kernels = eligible(family.type, mixture, np.float64)
            assert "design" not in kernels or "centred" in kernels


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("d, k", [(2, 2), (8, 4), (32, 2), (64, 4), (2, 16), (64, 16)])
def test_the_float64_choice_without_error_estimates_is_the_full_choice(covariance_type, d, k):
    family, mixture, _ = _problem(covariance_type, k=k, d=d, offset=1e4)
    for n_rows in (2_000, 100_000):
        chosen = choose(family.type, mixture, np.float64, n_rows)
        candidates = tuple(eligible(family.type, mixture, np.float64)) or ("centred",)
        assert chosen == (
            _fastest(candidates, covariance_type, n_rows, d, k, np.float64, 1),
            np.float64,
        )


def test_negligible_centres_and_couplings_are_dropped_exactly():
    # A coordinate lit only by rows of vanishing responsibility decays
    # towards zero pass by pass, into the subnormal numbers that slow every
    # product: the centred kernel drops what lies far below rounding, and
    # the log-densities and statistics stay the step's.
    from scipy.stats import multivariate_normal

    from sklearn_em import _centred

    rng = np.random.default_rng(7)
    d = 4
    family = GaussianFamily("full", 1e-6)
    covariances = np.stack([np.eye(d), 2 * np.eye(d)])
    covariances[0, 1, 3] = covariances[0, 3, 1] = 1e-250
    means = rng.normal(size=(2, d))
    means[1, 2] = 1e-310
    mixture = family.from_parts(np.array([0.4, 0.6]), means, covariances)
    assert mixture.precisions_cholesky[0, 1, 3] != 0.0
    prepared = _centred.prepare(family.type, mixture, np.float64)
    assert prepared.centres[1, 2] == 0.0
    assert np.count_nonzero(np.triu(prepared.factors[0].T, 1)) == 0
    X = rng.normal(size=(50, d))
    X[:, 2] = 0.0
    log_prob = _centred.score(prepared, X).log_prob
    expected = [
        np.log(w) + multivariate_normal(m, c).logpdf(X)
        for w, m, c in zip(mixture.weights, means, covariances, strict=True)
    ]
    np.testing.assert_allclose(log_prob, expected, rtol=1e-13)
    (_, step), _ = _step(family, mixture, X, "centred")
    (_, design_step), _ = _step(family, mixture, X, "design")
    np.testing.assert_allclose(step.covariances, design_step.covariances, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_of_negligible_weight_leave_the_moments_unchanged(covariance_type, dtype):
    # On far-apart components nearly every row has a responsibility of
    # 1e-30 or less under all but one component; the centred kernel's
    # moments skip those rows and must equal the sums over every row.
    from sklearn_em import _centred

    rng = np.random.default_rng(3)
    k, d, n = 4, 6, 400
    family = GaussianFamily(covariance_type, 1e-6)
    means = 12 * rng.normal(size=(k, d))
    means[1] = means[0] + 3.0  # two components that overlap: their rows count in both
    mixture = family.from_parts(
        np.full(k, 1 / k), means, random_covariances(covariance_type, k, d, rng) / d
    )
    X = means[rng.integers(k, size=n)] + rng.normal(size=(n, d))
    prepared = _centred.prepare(family.type, mixture, dtype)
    scored = _centred.score(prepared, X.astype(dtype))
    Z, squares, _ = scored.work
    resp = scored.log_prob.astype(np.float64)
    resp = np.exp(resp - np.logaddexp.reduce(resp, axis=0))
    nk = resp.sum(axis=1)
    counted = _centred.counted_rows(squares, resp.astype(dtype), nk)
    assert counted.mean() < 0.5  # most rows are left out of all but one component
    assert (counted.sum(axis=0) >= 2).mean() > 0.2
    nk_, s1, s2 = _centred.moments(prepared, scored.work, resp.astype(dtype))
    centred = X[None] - prepared.centres[:, None, :].astype(np.float64)  # (k, n, d)
    expected_s1 = np.einsum("kn,knd->kd", resp, centred)
    expected_s2 = np.einsum("kn,kna,knb->kab", resp, centred, centred)
    if covariance_type == "tied":
        expected_s2 = expected_s2.sum(axis=0)
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(nk_, nk, rtol=rtol)
    scale = np.abs(expected_s2).max()
    np.testing.assert_allclose(s1, expected_s1, rtol=rtol, atol=rtol * np.sqrt(scale))
    np.testing.assert_allclose(s2, expected_s2, rtol=rtol, atol=rtol * scale)
