"""Rubin's rules against the textbook formulas, written out here in Rubin's own form."""

import numpy as np
import pytest
from scipy import stats

from sklearn_em import pool_estimates


def _rubin_1987(estimates, variances):
    """Rubin (1987): r from B and Ubar, nu = (m - 1)(1 + 1/r)^2, gamma from r and nu."""
    m = len(estimates)
    qbar = sum(estimates) / m
    ubar = sum(variances) / m
    b = sum((q - qbar) ** 2 for q in estimates) / (m - 1)
    r = (1 + 1 / m) * b / ubar
    nu = (m - 1) * (1 + 1 / r) ** 2
    gamma = (r + 2 / (nu + 3)) / (r + 1)
    return qbar, ubar * (1 + r), nu, gamma


def test_matches_rubins_formulas():
    estimates = [2.1, 1.7, 2.6, 2.0, 1.9, 2.4]
    variances = [0.10, 0.12, 0.09, 0.11, 0.10, 0.13]
    pooled = pool_estimates(estimates, variances)
    qbar, total, nu, gamma = _rubin_1987(estimates, variances)
    assert pooled.estimate == pytest.approx(qbar)
    assert pooled.total_variance == pytest.approx(total)
    assert pooled.degrees_of_freedom == pytest.approx(nu)
    assert pooled.fraction_missing_information == pytest.approx(gamma)
    low, high = pooled.interval(0.9)
    half = stats.t.ppf(0.95, nu) * np.sqrt(total)
    assert (low, high) == pytest.approx((qbar - half, qbar + half))


def test_barnard_rubin_degrees_of_freedom():
    estimates, variances = [2.1, 1.7, 2.6, 2.0, 1.9], [0.10, 0.12, 0.09, 0.11, 0.10]
    rubin = pool_estimates(estimates, variances)
    # Barnard & Rubin (1999): nu_obs = (nu_com + 1) / (nu_com + 3) nu_com (1 - lambda).
    lam = (1 + 1 / 5) * rubin.between_variance / rubin.total_variance
    observed = 11 / 13 * 10 * (1 - lam)
    small = pool_estimates(estimates, variances, complete_dof=10)
    assert small.degrees_of_freedom == pytest.approx(
        1 / (1 / rubin.degrees_of_freedom + 1 / observed)
    )
    # Never more than the complete data would have; Rubin's in the large-sample limit.
    assert small.degrees_of_freedom < 10
    large = pool_estimates(estimates, variances, complete_dof=1e9)
    assert large.degrees_of_freedom == pytest.approx(rubin.degrees_of_freedom, rel=1e-6)


def test_array_estimates_pool_elementwise():
    rng = np.random.default_rng(0)
    estimates, variances = rng.normal(size=(5, 3, 2)), rng.uniform(0.1, 1, size=(5, 3, 2))
    pooled = pool_estimates(estimates, variances)
    assert pooled.estimate.shape == (3, 2)
    one = pool_estimates(estimates[:, 1, 0], variances[:, 1, 0])
    assert pooled.degrees_of_freedom[1, 0] == pytest.approx(one.degrees_of_freedom)
    assert pooled.interval()[0][1, 0] == pytest.approx(one.interval()[0])


def test_nothing_missing_means_no_missing_information():
    pooled = pool_estimates([3.0, 3.0, 3.0], [0.25, 0.25, 0.25])
    assert pooled.between_variance == 0 and pooled.fraction_missing_information == 0
    assert np.isinf(pooled.degrees_of_freedom)
    assert pooled.interval() == pytest.approx((3 - 1.959964 * 0.5, 3 + 1.959964 * 0.5))


@pytest.mark.parametrize(
    ("estimates", "variances", "message"),
    [
        ([1.0], [0.1], "at least 2 imputations"),
        ([1.0, 2.0], [0.1], "shape of estimates"),
        ([1.0, 2.0], [0.1, -0.1], "non-negative"),
        ([1.0, np.nan], [0.1, 0.1], "finite"),
    ],
)
def test_bad_input(estimates, variances, message):
    with pytest.raises(ValueError, match=message):
        pool_estimates(estimates, variances)


@pytest.mark.parametrize("complete_dof", [0, -5, np.inf, np.nan, True, "10", [10.0, -1.0]])
def test_complete_dof_must_be_a_positive_number(complete_dof):
    with pytest.raises(ValueError, match="complete_dof must be a positive number"):
        pool_estimates([[1.0, 2.0], [1.2, 2.5]], [[0.1, 0.1]] * 2, complete_dof=complete_dof)


def test_complete_dof_may_be_one_per_estimate():
    estimates, variances = [[1.0, 2.0], [1.2, 2.5], [0.9, 2.2]], [[0.1, 0.2]] * 3
    each = pool_estimates(estimates, variances, complete_dof=[10.0, 20.0])
    for j, dof in enumerate((10.0, 20.0)):
        alone = pool_estimates(np.array(estimates)[:, j], np.array(variances)[:, j], dof)
        assert each.degrees_of_freedom[j] == pytest.approx(alone.degrees_of_freedom)
