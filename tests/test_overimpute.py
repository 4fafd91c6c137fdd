"""The default imputer's model choice: overimputation scores against an independent refit."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from sklearn_em import EMImputer
from sklearn_em._overimpute import (
    HIDDEN_SHARE,
    candidate_settings,
    cells_to_hide,
    choose_mixture,
)
from sklearn_em.mixture import GaussianMixture


def _holed_iris(fraction=0.2, seed=0):
    X = StandardScaler().fit_transform(load_iris().data)
    return X, np.where(np.random.default_rng(seed).random(X.shape) < fraction, np.nan, X)


def test_hidden_cells_are_observed_and_every_column_keeps_one():
    observed = np.random.default_rng(0).random((400, 5)) < 0.7
    observed[:, 4] = False
    observed[:2, 4] = True  # two observed cells: one at least must stay
    hidden = cells_to_hide(observed, np.random.RandomState(0))
    assert not (hidden & ~observed).any()
    assert (observed & ~hidden).any(axis=0)[:4].all() and (observed & ~hidden)[:, 4].sum() >= 1
    assert hidden[:, :4].sum() / observed[:, :4].sum() == pytest.approx(HIDDEN_SHARE, abs=0.02)


def test_each_score_is_the_error_of_an_independent_refit():
    _, X = _holed_iris()
    hidden = cells_to_hide(~np.isnan(X), np.random.RandomState(1))
    candidates = candidate_settings("auto", "auto", X.shape[0])

    def make(k, kind, **overrides):
        return GaussianMixture(k, covariance_type=kind, random_state=0, **overrides)

    bounds = (np.full(4, -np.inf), np.full(4, np.inf))
    mixture, table = choose_mixture(X, candidates, make, bounds, hidden)
    overimputed = np.where(hidden, np.nan, X)
    scale = np.nanstd(X, axis=0)
    for k, kind, score in zip(
        table["n_components"], table["covariance_type"], table["overimputation_rmse"], strict=True
    ):
        refit = EMImputer(k, covariance_type=kind, tol=1e-2, random_state=0)
        filled = refit.fit_transform(overimputed)
        expected = np.sqrt(np.mean((((filled - X) / scale)[hidden]) ** 2))
        assert score == pytest.approx(expected, rel=1e-9)
    best = int(np.argmin(table["overimputation_rmse"]))
    assert (mixture.n_components, mixture.covariance_type) == candidates[best]
    assert mixture.converged_


def test_the_default_chooses_and_reports_its_candidates():
    _, X = _holed_iris()
    imputer = EMImputer(random_state=0).fit(X)
    table = imputer.candidate_scores_
    assert list(zip(table["n_components"], table["covariance_type"], strict=True)) == [
        (1, "full"),
        (2, "full"),
        (2, "tied"),
        (3, "tied"),
    ]
    assert np.all(np.isfinite(table["overimputation_rmse"]))
    assert np.all(np.asarray(table["fit_time"]) > 0)
    best = int(np.argmin(table["overimputation_rmse"]))
    assert imputer.n_components_ == table["n_components"][best] == imputer.mixture_.n_components
    assert imputer.covariance_type_ == table["covariance_type"][best]
    again = EMImputer(random_state=0).fit(X)
    np.testing.assert_array_equal(again.transform(X), imputer.transform(X))


def test_clusters_make_it_choose_a_mixture_that_imputes_better():
    rng = np.random.default_rng(0)
    # Two clusters whose features correlate in opposite directions.
    a = rng.multivariate_normal([0, 0, 0], [[1, 0.9, 0.9], [0.9, 1, 0.9], [0.9, 0.9, 1]], 300)
    b = rng.multivariate_normal([4, 4, 4], [[1, -0.5, 0], [-0.5, 1, -0.5], [0, -0.5, 1]], 300)
    truth = np.vstack([a, b])
    mask = rng.random(truth.shape) < 0.25
    mask[mask.all(axis=1), 0] = False
    X = np.where(mask, np.nan, truth)
    chosen = EMImputer(random_state=0).fit(X)
    assert chosen.n_components_ >= 2
    one = EMImputer(1, covariance_type="full", random_state=0).fit(X)
    rmse = lambda imputer: np.sqrt(np.mean((imputer.transform(X) - truth)[mask] ** 2))  # noqa: E731
    assert rmse(chosen) < 0.9 * rmse(one)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"n_components": 2, "covariance_type": "diag"}, [(2, "diag")]),
        ({"n_components": 2}, [(2, "full"), (2, "tied")]),
        ({"covariance_type": "spherical"}, [(1, "spherical"), (2, "spherical"), (3, "spherical")]),
    ],
)
def test_fixed_settings_narrow_the_candidates(settings, expected):
    _, X = _holed_iris()
    table = EMImputer(**settings, random_state=0).fit(X).candidate_scores_
    assert list(zip(table["n_components"], table["covariance_type"], strict=True)) == expected
    assert np.isnan(table["overimputation_rmse"]).all() == (len(expected) == 1)


def test_small_data_uses_one_gaussian_unscored():
    _, X = _holed_iris()
    imputer = EMImputer(random_state=0).fit(X[:12])
    assert (imputer.n_components_, imputer.covariance_type_) == (1, "full")
    assert np.isnan(imputer.candidate_scores_["overimputation_rmse"]).all()


@pytest.mark.parametrize("sample_posterior", [False, True])
def test_float32_and_observed_values_with_the_chosen_model(sample_posterior):
    _, X = _holed_iris()
    X = X.astype(np.float32)
    out = EMImputer(sample_posterior=sample_posterior, random_state=0).fit_transform(X)
    observed = ~np.isnan(X)
    assert out.dtype == np.float32 and not np.isnan(out).any()
    np.testing.assert_array_equal(out[observed], X[observed])


def test_a_candidate_that_collapses_loses_instead_of_failing_the_fit():
    rng = np.random.default_rng(0)
    # Half the rows are one repeated point: without reg_covar a component
    # fitted to them has no variance.
    X = np.vstack([np.zeros((300, 3)), rng.normal(size=(300, 3)) * 3 + 5])
    X[rng.random(X.shape) < 0.2] = np.nan
    imputer = EMImputer(reg_covar=0, random_state=0).fit(X)
    scores = np.asarray(imputer.candidate_scores_["overimputation_rmse"])
    assert np.isinf(scores).any() and np.isfinite(scores).any()
    assert np.isfinite(scores[list(imputer.candidate_scores_["n_components"]).index(1)])
    assert not np.isnan(imputer.transform(X)).any()
