"""Choosing the number of components with GridSearchCV."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_em import GaussianMixture, GaussianMixtureIC, aic_scorer, bic_scorer

GRID = {"n_components": [1, 2, 3, 4, 5, 6]}


def _search(estimator, grid, scoring):
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    return GridSearchCV(estimator, grid, scoring=scoring, cv=cv)


@pytest.mark.parametrize("scoring", [None, bic_scorer, aic_scorer])
def test_grid_search_selects_the_true_k(blobs, scoring):
    X, _ = blobs
    search = _search(GaussianMixture(random_state=0), GRID, scoring).fit(X)
    assert search.best_params_ == {"n_components": 4}


@pytest.mark.parametrize("scoring", [None, bic_scorer])
def test_grid_search_over_a_pipeline(blobs, scoring):
    X, _ = blobs
    pipeline = make_pipeline(StandardScaler(), GaussianMixture(random_state=0))
    grid = {"gaussianmixture__n_components": GRID["n_components"]}
    search = _search(pipeline, grid, scoring).fit(X)
    assert search.best_params_ == {"gaussianmixture__n_components": 4}


def test_scorers_are_minus_the_criteria(blobs):
    X, _ = blobs
    model = GaussianMixture(4, random_state=0).fit(X)
    assert bic_scorer(model, X) == -model.bic(X)
    assert aic_scorer(model, X) == -model.aic(X)
    pipeline = make_pipeline(StandardScaler(), GaussianMixture(4, random_state=0)).fit(X)
    scaled = pipeline[0].transform(X)
    assert bic_scorer(pipeline, X) == -pipeline[-1].bic(scaled)


def test_bic_penalises_extra_parameters(blobs):
    X, _ = blobs
    model = GaussianMixture(4, random_state=0).fit(X)
    n, d = X.shape
    n_parameters = 4 * d * (d + 1) / 2 + 4 * d + 3
    expected = -2 * model.score(X) * n + n_parameters * np.log(n)
    np.testing.assert_allclose(model.bic(X), expected, rtol=1e-12)


def test_information_criterion_selection_finds_k_and_covariance_type(blobs):
    import pandas as pd

    from sklearn_em import GaussianMixtureIC

    X, _ = blobs
    selector = GaussianMixtureIC(6, covariance_type="all", random_state=0, n_jobs=2).fit(X)
    table = pd.DataFrame(selector.criterion_)
    assert len(table) == 24
    assert selector.best_params_["n_components"] == 4
    best = table.loc[table["bic"].idxmin()]
    assert best["n_components"] == 4
    assert best["covariance_type"] == selector.best_params_["covariance_type"]
    # Each row is a real fit: its BIC is that of a mixture fitted alone.
    row = table.iloc[5]
    alone = GaussianMixture(
        int(row["n_components"]),
        covariance_type=row["covariance_type"],
        acceleration="squarem",
        random_state=selector.best_estimator_.random_state,
    ).fit(X)
    np.testing.assert_allclose(row["bic"], alone.bic(X), rtol=1e-10)
    np.testing.assert_array_equal(selector.predict(X), selector.best_estimator_.predict(X))
    np.testing.assert_array_equal(selector.labels_, selector.predict(X))
    assert selector.score(X) == selector.best_estimator_.score(X)
    assert selector.sample(5)[0].shape == (5, 3)


@pytest.mark.filterwarnings("ignore:The chosen model .* on fewer than")
def test_information_criterion_aic_and_skipped_candidates():
    from sklearn_em import GaussianMixtureIC

    X = np.random.default_rng(0).normal(size=(4, 2))
    selector = GaussianMixtureIC([1, 2, 8], criterion="aic", random_state=0).fit(X)
    assert selector.criterion_["n_components"] == [1, 2]
    assert "aic" in selector.criterion_


def test_selector_checks_feature_names_and_predicts_on_frames_without_warnings():
    import warnings

    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        np.vstack([rng.normal(0, 1, (60, 2)), rng.normal([8, -3], 1, (60, 2))]), columns=["a", "b"]
    )
    selector = GaussianMixtureIC(n_components=3, random_state=0).fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels = selector.predict(frame)
        selector.predict_proba(frame)
        selector.score(frame)
    np.testing.assert_array_equal(labels, selector.labels_)
    with pytest.raises(ValueError, match="feature names"):
        selector.predict(frame[["b", "a"]])


@pytest.mark.parametrize(
    "n_components, match",
    [
        ([2.5, 3.7], "positive integers; got \\[2.5, 3.7\\]"),
        ([], "non-empty"),
        ([0, 2], "positive"),
    ],
)
def test_selector_refuses_component_counts_that_are_not_positive_integers(n_components, match):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=f"n_components must be.*{match}"):
        GaussianMixtureIC(n_components=n_components).fit(X)


@pytest.mark.filterwarnings("ignore:The chosen model .* on fewer than")
def test_selector_with_a_huge_count_tries_up_to_the_number_of_samples():
    X = np.random.default_rng(0).normal(size=(6, 2))
    selector = GaussianMixtureIC(n_components=10**12, covariance_type="spherical").fit(X)
    assert selector.criterion_["n_components"] == [1, 2, 3, 4, 5, 6]


def test_selector_with_no_covariance_type_names_that_parameter():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="covariance_type must be 'all'.*non-empty list.*\\[\\]"):
        GaussianMixtureIC(covariance_type=[]).fit(X)


def test_selector_warns_when_its_chosen_model_did_not_converge():
    from sklearn.exceptions import ConvergenceWarning

    X = np.random.default_rng(0).normal(size=(200, 2))
    with pytest.warns(ConvergenceWarning, match="chosen model .* did not converge"):
        GaussianMixtureIC(n_components=3, max_iter=1, random_state=0).fit(X)


def test_selector_warns_when_its_chosen_model_has_a_component_on_too_few_rows():
    import warnings

    from sklearn_em._collapse import rows_needed

    X = np.random.default_rng(6).normal(size=(40, 3))  # pure noise: one Gaussian
    with pytest.warns(UserWarning, match="component\\(s\\) on fewer than the 4 rows"):
        selector = GaussianMixtureIC(covariance_type="full", random_state=0).fit(X)
    # The warning is the truth: some component's responsibilities add to fewer
    # rows than a full covariance on 3 features needs.
    best = selector.best_estimator_
    held = best.predict_proba(X).sum(axis=0)
    assert best.n_components > 1 and held.min() < rows_needed("full", 3) == 4
    # A prior keeps every covariance proper; separated clusters need no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        GaussianMixtureIC(covariance_type="full", prior="conjugate", random_state=0).fit(X)
        rng = np.random.default_rng(0)
        blobs = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(8, 1, (100, 2))])
        GaussianMixtureIC(4, covariance_type="all", random_state=0).fit(blobs)
