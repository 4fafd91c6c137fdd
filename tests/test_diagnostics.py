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


def test_what_is_not_a_fitted_emimputer_is_refused_by_name(gaussian):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    holed, _ = gaussian
    for other in (SimpleImputer().fit(holed), make_pipeline(EMImputer()).fit(holed)):
        with pytest.raises(TypeError, match=f"got {type(other).__name__}.*imputer step"):
            overimputation(other, holed)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda imputer, X: overimputation(imputer, X, n_draws=1), "n_draws must be"),
        (lambda imputer, X: overimputation(imputer, X, confidence=1.5), "confidence must"),
        (lambda imputer, X: dispersed_starts(imputer, X, n_starts=0), "n_starts must be"),
    ],
)
def test_bad_diagnostic_settings_name_themselves(gaussian, call, message):
    holed, imputer = gaussian
    with pytest.raises(ValueError, match=message):
        call(imputer, holed)


def test_figures_name_the_input_columns_and_say_when_nothing_is_missing():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["age", "empty", "height"])
    frame["empty"] = np.nan
    frame.loc[::5, "height"] = np.nan
    imputer = EMImputer(1, covariance_type="full", random_state=0).fit(frame)
    data, figure = imputed_densities(imputer, frame)
    # "height" is the second modelled feature and the third column.
    assert list(data) == [1] and [ax.get_title() for ax in figure.axes] == ["height"]
    plt.close(figure)
    complete = EMImputer(1, covariance_type="full", random_state=0).fit(frame.fillna(0.0))
    data, figure = imputed_densities(complete, frame.fillna(0.0))
    assert data == {} and "no value of X is missing" in figure.axes[0].texts[0].get_text()
    plt.close(figure)
