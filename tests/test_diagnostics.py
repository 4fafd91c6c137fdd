"""Diagnostics: their data against the imputer's transform, and calibration on Gaussian data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sklearn_em import EMImputer  # noqa: E402
from sklearn_em.diagnostics import (  # noqa: E402
    dispersed_starts,
    imputed_densities,
    log_likelihood_trace,
    overimputation,
)


@pytest.fixture(scope="module")
def gaussian():
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0, 1, 2], [[1, 0.7, 0.3], [0.7, 1, 0.5], [0.3, 0.5, 1]], 300)
    holed = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    return holed, EMImputer(1, covariance_type="full", random_state=0).fit(holed)


def test_overimputation_re_imputes_each_cell_as_transform_would(gaussian):
    holed, imputer = gaussian
    data, figure = overimputation(imputer, holed, n_draws=200, random_state=0)
    assert len(figure.axes) == 3
    for index in [0, 57, len(data["row"]) - 1]:
        row, j = data["row"][index], data["feature"][index]
        alone = holed[[row]].copy()
        alone[0, j] = np.nan
        assert data["imputed"][index] == pytest.approx(imputer.transform(alone)[0, j])
        assert data["observed"][index] == holed[row, j]
    assert np.all(data["lower"] < data["upper"])
    # One Gaussian is the true model: 90% intervals hold about 90% of the observed values.
    assert np.all((data["coverage"] > 0.84) & (data["coverage"] < 0.96))
    plt.close(figure)


def test_log_likelihood_trace_is_the_fit_s(gaussian):
    _, imputer = gaussian
    data, figure = log_likelihood_trace(imputer)
    np.testing.assert_array_equal(data["lower_bounds"], imputer.mixture_.lower_bounds_)
    assert np.all(np.diff(data["lower_bounds"]) >= 0)
    plt.close(figure)


def test_imputed_densities_hold_the_observed_and_the_imputed_values(gaussian):
    holed, imputer = gaussian
    data, figure = imputed_densities(imputer, holed)
    filled = imputer.transform(holed)
    missing = np.isnan(holed)
    assert sorted(data) == [0, 1, 2]
    for j, (observed, imputed) in data.items():
        np.testing.assert_array_equal(observed, holed[~missing[:, j], j])
        np.testing.assert_allclose(imputed, filled[missing[:, j], j])
    plt.close(figure)


def test_dispersed_starts_find_one_optimum_for_one_gaussian(gaussian):
    holed, imputer = gaussian
    data, figure = dispersed_starts(imputer, holed, n_starts=3, random_state=0)
    assert len(data["lower_bounds"]) == 3
    assert data["spread"] < 1e-3
    assert data["final"] == pytest.approx([imputer.mixture_.lower_bound_] * 3, abs=1e-3)
    plt.close(figure)


def test_an_imputer_without_a_mixture_is_refused():
    imputer = EMImputer(keep_empty_features=True).fit(np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="no mixture"):
        log_likelihood_trace(imputer)
