"""EMImputer: the oracle, observed values untouched, and scikit-learn plumbing."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_em import EMImputer

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
    fitted = EMImputer(tol=0, max_iter=6, acceleration=None, random_state=0)
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
    first, again = (
        imputer.set_params(random_state=7).transform(X),
        imputer.set_params(random_state=7).transform(X),
    )
    np.testing.assert_array_equal(first, again)


def test_posterior_draws_follow_the_conditional_distribution():
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0, 0], [[1.0, 0.9], [0.9, 1.0]], size=4000)
    X[:2000:2, 1] = np.nan
    imputer = EMImputer(sample_posterior=True, random_state=1, tol=1e-8).fit(X)
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
        [("em", EMImputer(random_state=0), [0, 2, 3, 4, 5, 6]), ("mean", SimpleImputer(), [1])]
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
