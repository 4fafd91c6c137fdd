"""EMImputer: the oracle, observed values untouched, and scikit-learn plumbing."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_em import EMImputer, GaussianMixture

from . import reference
from .conftest import COVARIANCE_TYPES


def _with_holes(X, fraction, seed):
    rng = np.random.default_rng(seed)
    X = np.array(X, dtype=float)
    X[rng.random(X.shape) < fraction] = np.nan
    return X


@pytest.fixture
def iris_holed():
    X = StandardScaler().fit_transform(load_iris().data)
    return X, _with_holes(X, 0.25, seed=0)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_imputations_match_the_oracle(iris_holed, covariance_type, k):
    _, X = iris_holed
    imputer = EMImputer(k, covariance_type=covariance_type, random_state=0).fit(X)
    model = imputer.mixture_
    covs = reference.dense(model.covariances_, covariance_type, k, X.shape[1])
    expected = reference.impute(X, model.weights_, model.means_, covs)
    np.testing.assert_allclose(imputer.transform(X), expected, rtol=1e-9, atol=1e-12)


def test_single_component_matches_the_oracle_fit():
    X = _with_holes(StandardScaler().fit_transform(load_diabetes().data[:120, :5]), 0.3, 0)
    start = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    mean, cov = start.mean(axis=0), np.cov(start.T, bias=True) + 1e-6 * np.eye(5)
    fitted = EMImputer(
        1, covariance_type="full", tol=0, max_iter=6, acceleration=None, random_state=0
    )
    with pytest.warns(Warning):
        fitted.fit(X)
    _, means, covariances, _ = reference.em(X, [1.0], mean[None], cov[None], "full", 1e-6, 6)
    np.testing.assert_allclose(fitted.mixture_.means_, means, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fitted.mixture_.covariances_, covariances, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sample_posterior", [False, True])
def test_observed_values_are_untouched_and_no_nan_is_left(iris_holed, dtype, sample_posterior):
    _, X = iris_holed
    X = X.astype(dtype)
    out = EMImputer(2, sample_posterior=sample_posterior, random_state=0).fit_transform(X)
    observed = ~np.isnan(X)
    assert out.dtype == dtype
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[observed], X[observed])


def test_imputation_beats_the_column_mean(iris_holed):
    truth, X = iris_holed
    missing = np.isnan(X)
    ours = EMImputer(random_state=0).fit_transform(X)
    means = SimpleImputer().fit_transform(X)
    rmse = lambda filled: np.sqrt(np.mean((filled[missing] - truth[missing]) ** 2))  # noqa: E731
    assert rmse(ours) < 0.7 * rmse(means)


def test_posterior_draws_scatter_around_the_expectation(iris_holed):
    _, X = iris_holed
    imputer = EMImputer(random_state=0).fit(X)
    expectation = imputer.transform(X)
    draws = np.stack(
        [
            imputer.set_params(sample_posterior=True, random_state=s).transform(X)
            for s in range(300)
        ]
    )
    missing = np.isnan(X)
    assert np.all(draws[:, missing].std(axis=0) > 0)
    np.testing.assert_allclose(draws.mean(axis=0)[missing], expectation[missing], atol=0.2)


def test_posterior_draws_follow_the_conditional_distribution():
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0, 0], [[1.0, 0.9], [0.9, 1.0]], size=4000)
    X[:2000:2, 1] = np.nan
    # One Gaussian, unshrunk: the model the draws are checked against.
    imputer = EMImputer(1, covariance_type="full", sample_posterior=True, random_state=1, tol=1e-8)
    imputer.fit(X)
    query = np.array([[1.0, np.nan]] * 4000)
    draws = imputer.transform(query)[:, 1]
    # Given x0 = 1: mean 0.9, variance 1 - 0.81.
    assert draws.mean() == pytest.approx(0.9, abs=0.03)
    assert draws.var() == pytest.approx(0.19, abs=0.02)


def test_fully_missing_row_gets_the_mixture_mean(iris_holed):
    _, X = iris_holed
    X = X.copy()
    X[3] = np.nan
    imputer = EMImputer(3, random_state=0).fit(X)
    model = imputer.mixture_
    np.testing.assert_allclose(imputer.transform(X)[3], model.weights_ @ model.means_)


@pytest.mark.filterwarnings("ignore:Skipping features")
def test_fully_missing_column_is_dropped_or_kept_as_zeros(iris_holed):
    _, X = iris_holed
    X = X.copy()
    X[:, 2] = np.nan
    dropped = EMImputer(random_state=0).fit_transform(X)
    assert dropped.shape == (150, 3)
    kept = EMImputer(keep_empty_features=True, random_state=0).fit_transform(X)
    assert kept.shape == (150, 4)
    np.testing.assert_array_equal(kept[:, 2], 0.0)
    np.testing.assert_array_equal(kept[:, [0, 1, 3]], dropped)


def test_no_missing_value_returns_the_input(iris_holed):
    X, _ = iris_holed
    np.testing.assert_array_equal(EMImputer(random_state=0).fit_transform(X), X)


def test_rows_with_more_missing_than_observed(iris_holed):
    truth, _ = iris_holed
    X = truth.copy()
    X[::2, 1:] = np.nan  # three of four missing in half of the rows
    out = EMImputer(random_state=0).fit_transform(X)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[1::2], truth[1::2])


@pytest.mark.filterwarnings("ignore:Skipping features")
def test_indicator_and_feature_names(iris_holed):
    _, X = iris_holed
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["c"] = np.nan
    imputer = EMImputer(add_indicator=True, random_state=0).set_output(transform="pandas")
    out = imputer.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:3]) == ["a", "b", "d"]
    assert list(out.columns[3:]) == [f"missingindicator_{name}" for name in "abcd"]
    indicator = imputer.indicator_.transform(frame.to_numpy())
    np.testing.assert_array_equal(out.iloc[:, 3:].to_numpy(), indicator)


def test_pandas_in_and_out_keeps_columns(iris_holed):
    _, X = iris_holed
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"], index=np.arange(150) + 1000)
    out = EMImputer(random_state=0).set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == ["sl", "sw", "pl", "pw"]
    assert (out.index == frame.index).all()


def test_pipeline_column_transformer_and_cross_validation():
    data = load_diabetes()
    X = _with_holes(data.data, 0.2, seed=3)
    columns = ColumnTransformer(
        [
            ("em", EMImputer(1, covariance_type="full", random_state=0), [0, 2, 3, 4, 5, 6]),
            ("mean", SimpleImputer(), [1]),
        ]
    )
    model = make_pipeline(columns, StandardScaler(), Ridge())
    scores = cross_val_score(model, X, data.target, cv=3)
    baseline = cross_val_score(
        make_pipeline(SimpleImputer(), StandardScaler(), Ridge()),
        X[:, [0, 2, 3, 4, 5, 6, 1]],
        data.target,
        cv=3,
    )
    assert scores.mean() > 0.3
    assert scores.mean() >= baseline.mean() - 0.05


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pickle_round_trip(iris_holed, dtype):
    _, X = iris_holed
    X = X.astype(dtype)
    imputer = EMImputer(2, random_state=0).fit(X)
    loaded = pickle.loads(pickle.dumps(imputer))
    np.testing.assert_array_equal(loaded.transform(X), imputer.transform(X))


def test_input_is_not_modified(iris_holed):
    _, X = iris_holed
    before = X.copy()
    EMImputer(random_state=0).fit_transform(X)
    np.testing.assert_array_equal(X, before)


def test_indicator_marks_the_missing_cells_when_no_feature_is_empty(iris_holed):
    _, X = iris_holed
    out = EMImputer(add_indicator=True, random_state=0).fit_transform(X)
    np.testing.assert_array_equal(out[:, 4:], np.isnan(X))
    assert EMImputer(random_state=0).fit(X).indicator_ is None


def test_feature_empty_at_fit_keeps_its_observed_values_at_transform(iris_holed):
    _, X = iris_holed
    train = X.copy()
    train[:, 1] = np.nan
    imputer = EMImputer(keep_empty_features=True, random_state=0).fit(train)
    out = imputer.transform(X)
    observed = ~np.isnan(X[:, 1])
    np.testing.assert_array_equal(out[observed, 1], X[observed, 1])
    np.testing.assert_array_equal(out[~observed, 1], 0.0)


@pytest.mark.parametrize("dtype", ["Int64", "Float64"])
def test_one_column_frame_of_nullable_values(dtype):
    frame = pd.DataFrame({"a": pd.array([1, 2, None, 4, 6], dtype=dtype)})
    out = EMImputer(random_state=0).fit(frame).transform(frame)
    np.testing.assert_allclose(out[:, 0], [1, 2, 13 / 4, 4, 6])


@pytest.mark.parametrize("marker", [-1, 0, 99.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_number_as_missing_values_means_what_nan_means(iris_holed, marker, dtype):
    _, X = iris_holed
    X = X.astype(dtype)
    marked = np.where(np.isnan(X), dtype(marker), X)
    settings = dict(add_indicator=True, random_state=0)
    ours = EMImputer(missing_values=marker, **settings).fit_transform(marked)
    assert ours.dtype == dtype
    np.testing.assert_array_equal(ours, EMImputer(**settings).fit_transform(X))
    with pytest.raises(ValueError, match="missing_values=np.nan"):
        EMImputer(missing_values=marker).fit(X)


def test_sparse_input_gets_a_clear_error(iris_holed):
    from scipy import sparse

    X, _ = iris_holed
    with pytest.raises(TypeError, match="dense data is required.*toarray"):
        EMImputer().fit(sparse.csr_matrix(X))
    imputer = EMImputer().fit(X)
    with pytest.raises(TypeError, match="dense data is required.*toarray"):
        imputer.transform(sparse.csr_matrix(X))


def test_dropping_an_empty_feature_warns_and_keeping_it_does_not(iris_holed):
    _, X = iris_holed
    X = X.copy()
    X[:, 2] = np.nan
    with pytest.warns(UserWarning, match=r"Skipping features without any observed values: \[2\]"):
        EMImputer(random_state=0).fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EMImputer(keep_empty_features=True, random_state=0).fit_transform(X)


@pytest.fixture(scope="module")
def digits_holed():
    X = load_digits().data[:200]
    rng = np.random.default_rng(1)
    return X, np.where(rng.random(X.shape) < 0.3, np.nan, X)


@pytest.mark.parametrize("sample_posterior", [False, True])
def test_bounds_hold_for_expectations_and_draws(digits_holed, sample_posterior):
    _, X = digits_holed
    missing = np.isnan(X)
    one_gaussian = dict(n_components=1, covariance_type="full")
    imputer = EMImputer(
        **one_gaussian, sample_posterior=sample_posterior, min_value=-np.inf, max_value=np.inf
    )
    free = imputer.set_params(random_state=0).fit(X).transform(X)
    # Unbounded, the Gaussian model puts some pixels below 0: the bounds have work to do.
    assert free[missing].min() < -0.5
    # Refitted with the same seed, the imputer draws the same values again.
    bounded = imputer.set_params(min_value=0, max_value=16).fit(X).transform(X)
    assert bounded[missing].min() >= 0 and bounded[missing].max() <= 16
    np.testing.assert_array_equal(bounded[missing], np.clip(free[missing], 0, 16))
    np.testing.assert_array_equal(bounded[~missing], X[~missing])


def test_bounds_per_feature_and_observed_values_outside_them(iris_holed):
    _, X = iris_holed
    missing = np.isnan(X)
    lower = np.array([-np.inf, 0.0, -np.inf, 0.5])
    out = EMImputer(min_value=lower, random_state=0).fit_transform(X)
    assert np.all(out[missing] >= np.broadcast_to(lower, X.shape)[missing])
    # Standardised iris has observed values below 0 in feature 1: they stay.
    assert (X[~missing[:, 1], 1] < 0).any()
    np.testing.assert_array_equal(out[~missing], X[~missing])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"min_value": [0.0, 1.0]}, r"min_value must be a number or an array of shape \(4,\)"),
        ({"min_value": 1.0, "max_value": [2.0, 2.0, 0.0, 2.0]}, r"feature\(s\) \[2\]"),
        ({"max_value": [np.nan, 1, 1, 1]}, "max_value holds NaN"),
        ({"missing_values": np.inf}, "infinity is not data"),
    ],
)
def test_bad_bounds_and_markers_get_clear_errors(iris_holed, settings, message):
    _, X = iris_holed
    with pytest.raises(ValueError, match=message):
        EMImputer(**settings).fit(X)


@pytest.mark.filterwarnings("ignore:Skipping features without any observed values")
@pytest.mark.parametrize("settings", [{}, {"n_components": 1, "covariance_type": "full"}])
def test_features_spread_beyond_float64_are_named(settings):
    X = np.random.default_rng(0).normal(size=(60, 4))
    X[:, 0] = np.nan  # dropped: the message counts the user's columns
    X[3, 1] = np.nan
    X[5, 3] = 1e160
    with pytest.raises(ValueError, match=r"Feature\(s\) 3 spread too far for float64"):
        EMImputer(random_state=0, **settings).fit(X)
    X[5, 3] = 1e154  # its squares still sum within float64's range: fitted
    filled = EMImputer(random_state=0, **settings).fit_transform(X)
    assert np.isfinite(filled).all()
    pd = pytest.importorskip("pandas")
    X[5, 3] = 1e160
    frame = pd.DataFrame(X, columns=["empty", "a", "b", "income"])
    with pytest.raises(ValueError, match=r"Feature\(s\) income spread too far"):
        EMImputer(random_state=0, **settings).fit(frame)


def test_column_transformer_with_a_numeric_marker_and_pickling():
    data = load_diabetes()
    X = np.where(np.isnan(_with_holes(data.data, 0.2, seed=4)), -999.0, data.data)
    columns = ColumnTransformer(
        [("em", EMImputer(missing_values=-999.0, random_state=0), [0, 2, 3, 4])],
        remainder=SimpleImputer(missing_values=-999.0),
    )
    model = make_pipeline(columns, StandardScaler(), Ridge()).fit(X, data.target)
    assert model.score(X, data.target) > 0.4
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_observed_bounds_are_each_feature_s_observed_range(iris_holed):
    _, X = iris_holed
    imputer = EMImputer(
        n_components=1, covariance_type="full", min_value="observed", max_value="observed"
    ).fit(X)
    query = np.array([[10.0, np.nan, np.nan, -10.0], [np.nan, -10.0, 10.0, np.nan]])
    out = imputer.transform(query)
    missing = np.isnan(query)
    low, high = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    assert np.all((out >= low) & (out <= high) | ~missing)
    np.testing.assert_array_equal(out[~missing], query[~missing])
    assert out[0, 1] in (low[1], high[1])  # an observed 10 sd out pulls it past the range


def test_observed_bounds_tame_extrapolation_on_rare_pixels():
    X = load_digits().data[:300]
    X = StandardScaler().fit_transform(X[:, X.std(axis=0) > 0])
    mask = np.random.default_rng(1).random(X.shape) < 0.1
    holed = np.where(mask, np.nan, X)
    one_gaussian = dict(n_components=1, covariance_type="full", random_state=0)
    free = EMImputer(**one_gaussian).fit_transform(holed)
    bounded = EMImputer(**one_gaussian, min_value="observed", max_value="observed")
    rmse = lambda filled: np.sqrt(np.mean((filled - X)[mask] ** 2))  # noqa: E731
    assert rmse(bounded.fit_transform(holed)) < 0.95 * rmse(free)


def test_a_failed_refit_leaves_the_fitted_imputer_as_it_was(iris_holed):
    _, X = iris_holed
    imputer = EMImputer(min_value=[-3.0, -3.0, -3.0, -3.0], random_state=0).fit(X)
    before = dict(vars(imputer))
    expected = imputer.transform(X)
    with pytest.raises(
        ValueError, match=r"min_value must be a number or an array of shape \(3,\)"
    ):
        imputer.fit(X[:, :3])
    assert vars(imputer).keys() == before.keys()
    assert all(vars(imputer)[name] is value for name, value in before.items())
    np.testing.assert_array_equal(imputer.transform(X), expected)


def test_posterior_draws_are_fresh_per_call_and_repeat_per_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    X[rng.random(X.shape) < 0.2] = np.nan
    imputer = EMImputer(1, covariance_type="full", sample_posterior=True, random_state=0)
    first, second = imputer.fit(X).transform(X), imputer.transform(X)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(imputer.fit(X).transform(X), first)


def test_the_imputers_fits_skip_only_the_labelling_pass(iris_holed):
    _, X = iris_holed
    assert not hasattr(EMImputer(random_state=0).fit(X).mixture_, "labels_")
    labelled = GaussianMixture(3, covariance_type="tied", random_state=0).fit(X)
    unlabelled = GaussianMixture(3, covariance_type="tied", random_state=0)._fit_unlabelled(X)
    for name in ("weights_", "means_", "covariances_", "lower_bound_", "n_iter_"):
        np.testing.assert_array_equal(getattr(unlabelled, name), getattr(labelled, name))
    assert not hasattr(unlabelled, "labels_")
    # A warm start's labels described the fit before: they go.
    labelled.set_params(warm_start=True, max_iter=2)._fit_unlabelled(X)
    assert not hasattr(labelled, "labels_")
