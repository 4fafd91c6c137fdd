"""Proper multiple imputation: models drawn by the Bayesian bootstrap, and intervals that cover."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from sklearn_em import EMImputer, pool_estimates
from sklearn_em._bootstrap import bayesian_bootstrap_weights

M = 5


def _gaussian_under_mar(seed, n_samples=150):
    """Correlated Gaussian data; columns 1 and 3 go missing where the column before is high."""
    rng = np.random.default_rng(seed)
    covariance = 0.6 ** np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    X = rng.multivariate_normal(np.zeros(4), covariance, size=n_samples)
    mask = np.zeros(X.shape, dtype=bool)
    for j in (1, 3):
        mask[:, j] = rng.random(n_samples) < 1 / (1 + np.exp(-(2 * X[:, j - 1] - 0.5)))
    return X, np.where(mask, np.nan, X)


def _improper_imputations(holed, seed):
    """Draws under one fitted mixture, its parameters held fixed (what draws were before)."""
    imputer = EMImputer(1, covariance_type="full", random_state=seed).fit(holed)
    imputer.set_params(sample_posterior=True)
    return [imputer.set_params(random_state=s).transform(holed) for s in range(M)]


def _between_only_covers(imputations, target, columns):
    """The issue's interval: Qbar +- t_{M-1} sqrt((1 + 1/M) B) around the full-data mean."""
    means = np.array([completed[:, columns].mean(axis=0) for completed in imputations])
    half = stats.t.ppf(0.975, M - 1) * np.sqrt((1 + 1 / M) * means.var(axis=0, ddof=1))
    return np.abs(means.mean(axis=0) - target[columns]) <= half


def test_proper_imputations_cover_the_full_data_mean_under_mar():
    # The data are Gaussian: one Gaussian is the right model, and the fastest.
    proper, improper, rubin = [], [], []
    for seed in range(40):
        X, holed = _gaussian_under_mar(seed)
        imputer = EMImputer(1, covariance_type="full", random_state=seed)
        imputations = imputer.fit_transform_multiple(holed, M)
        proper.extend(_between_only_covers(imputations, X.mean(axis=0), [1, 3]))
        improper.extend(
            _between_only_covers(_improper_imputations(holed, seed), X.mean(axis=0), [1, 3])
        )
        # Rubin's full interval, within part included, for the population mean (0).
        estimates = [completed[:, [1, 3]].mean(axis=0) for completed in imputations]
        variances = [
            completed[:, [1, 3]].var(axis=0, ddof=1) / len(X) for completed in imputations
        ]
        low, high = pool_estimates(estimates, variances).interval(0.95)
        rubin.extend((low <= 0) & (0 <= high))
    assert np.mean(proper) >= 0.90
    assert np.mean(rubin) >= 0.90
    # The same interval from draws under fixed parameters is too narrow.
    assert np.mean(improper) < 0.85


def test_proper_imputations_cover_under_mcar_on_bundled_data():
    # The default imputer: its model chosen by overimputation.
    X = StandardScaler().fit_transform(load_wine().data)
    covered = []
    for seed in range(4):
        holed = np.where(np.random.default_rng(seed).random(X.shape) < 0.3, np.nan, X)
        imputations = EMImputer(random_state=seed).fit_transform_multiple(holed, M)
        covered.extend(_between_only_covers(imputations, X.mean(axis=0), slice(None)))
    assert np.mean(covered) >= 0.90


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_imputation_keeps_observed_values_and_dtype(dtype):
    _, holed = _gaussian_under_mar(0)
    holed = holed.astype(dtype)
    imputer = EMImputer(2, covariance_type="diag", random_state=0, min_value=-1.5)
    imputations = imputer.fit_transform_multiple(holed, 3)
    observed = ~np.isnan(holed)
    assert len(imputations) == 3
    for completed in imputations:
        assert completed.dtype == dtype and not np.isnan(completed).any()
        np.testing.assert_array_equal(completed[observed], holed[observed])
        assert completed[~observed].min() >= -1.5
    assert not np.array_equal(imputations[0], imputations[1])
    again = EMImputer(2, covariance_type="diag", random_state=0, min_value=-1.5)
    for first, second in zip(imputations, again.fit_transform_multiple(holed, 3), strict=True):
        np.testing.assert_array_equal(first, second)


def test_sample_posterior_draws_the_model():
    _, holed = _gaussian_under_mar(1)
    settings = dict(n_components=1, covariance_type="full", sample_posterior=True)
    fits = [EMImputer(**settings, random_state=s).fit(holed) for s in range(3)]
    # One component: the maximum likelihood fit is the same for every seed...
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.mixture_.means_, fits[0].mixture_.means_)
    # ...and the parameters drawn under it are not.
    drawn = [fit.posterior_mixture_.means_ for fit in fits]
    assert not np.allclose(drawn[0], drawn[1]) and not np.allclose(drawn[1], drawn[2])
    assert np.abs(drawn[0] - fits[0].mixture_.means_).max() < 0.5
    assert EMImputer(random_state=0).fit(holed).posterior_mixture_ is None


def test_imputations_come_as_frames_under_pandas_output():
    _, holed = _gaussian_under_mar(2)
    frame = pd.DataFrame(holed, columns=list("abcd"))
    imputer = EMImputer(random_state=0, add_indicator=True).set_output(transform="pandas")
    imputations = imputer.fit_transform_multiple(frame, 2)
    assert all(isinstance(completed, pd.DataFrame) for completed in imputations)
    assert list(imputations[0].columns) == list(imputer.get_feature_names_out())


@pytest.mark.parametrize("n_imputations", [0, 2.5, "5"])
def test_bad_number_of_imputations(n_imputations):
    _, holed = _gaussian_under_mar(3)
    with pytest.raises(ValueError, match="n_imputations must be a positive integer"):
        EMImputer().fit_transform_multiple(holed, n_imputations)


def test_sample_weight_reaches_the_fit_and_every_drawn_model():
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0, 0, 0], 0.5 * np.eye(3) + 0.5, size=200)
    X[:20] += 50.0  # outlying rows, weighted out
    holed = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    holed[:20, 0] = 50.0  # the outliers keep one observed value
    weights = np.r_[np.zeros(20), np.ones(180)]
    imputer = EMImputer(1, covariance_type="full", random_state=0)
    imputations = imputer.fit_transform_multiple(holed, M, sample_weight=weights)
    outlying = np.isnan(holed[:20])
    # Drawn under parameters that never saw the outliers, their gaps follow
    # the others' regression (at most 2/3 of 50 given the rest of the row);
    # had a drawn model weighted the outliers in, they would be imputed near 50.
    assert all(completed[:20][outlying].mean() < 40 for completed in imputations)
    np.testing.assert_allclose(
        imputer.mixture_.means_[0], np.nanmean(holed[20:], axis=0), atol=0.2
    )
    unweighted = EMImputer(1, covariance_type="full", random_state=0)
    shifted = unweighted.fit_transform_multiple(holed, M)
    assert all(completed[:20][outlying].mean() > 45 for completed in shifted)


def test_bayesian_bootstrap_weights_draw_each_row_as_much_as_it_weighs():
    weights = np.array([0.0, 1.0, 1.0, 2.0, 4.0])
    rng = np.random.RandomState(0)
    draws = np.array([bayesian_bootstrap_weights(5, rng, weights) for _ in range(20000)])
    np.testing.assert_allclose(draws.sum(axis=1), weights.sum())
    assert np.all(draws[:, 0] == 0) and np.all(draws[:, 1:] > 0)
    # Four rows of positive weight, four units: a row's share of the total
    # (8) is Beta(a, 4 - a) with a = w / 2, so it has mean w and variance
    # 64 a (4 - a) / (16 * 5).
    shapes = weights / 2
    np.testing.assert_allclose(draws.mean(axis=0), weights, atol=0.05)
    np.testing.assert_allclose(draws.var(axis=0), 0.8 * shapes * (4 - shapes), rtol=0.05)
    # However the weights are scaled (the fit does not depend on it).
    for scale in (1e-6, 100.0):
        again = bayesian_bootstrap_weights(5, np.random.RandomState(1), scale * weights)
        once = bayesian_bootstrap_weights(5, np.random.RandomState(1), weights)
        np.testing.assert_allclose(again, scale * once, rtol=1e-12)
    # A row of tiny weight may draw 0 from its Gamma: it keeps a positive one.
    tiny = np.r_[1e-12, np.ones(99)]
    assert all(np.all(bayesian_bootstrap_weights(100, rng, tiny) > 0) for _ in range(50))
    unweighted = bayesian_bootstrap_weights(4, rng)
    assert unweighted.sum() == pytest.approx(4.0) and np.all(unweighted > 0)


def test_each_draw_of_the_model_redoes_the_choice_under_its_weights():
    X = StandardScaler().fit_transform(load_wine().data)
    holed = np.where(np.random.default_rng(0).random(X.shape) < 0.3, np.nan, X)
    imputer = EMImputer(random_state=0, sample_posterior=True).fit(holed)
    drawn = imputer.posterior_imputer_
    assert drawn.posterior_imputer_ is None and drawn.posterior_mixture_ is None
    assert imputer.posterior_mixture_ is drawn.mixture_
    # The draw chose among the same candidates as the fit, on its own scores.
    drawn_scores = drawn.candidate_scores_["overimputation_rmse"]
    fitted_scores = imputer.candidate_scores_["overimputation_rmse"]
    assert len(drawn_scores) == len(fitted_scores) and drawn_scores != fitted_scores
    # Draws scatter about the drawn model's expectations, not the fit's.
    missing = np.isnan(holed)
    draws = np.mean([imputer.transform(holed)[missing] for _ in range(200)], axis=0)
    under_draw = imputer._transform(holed, drawn)[missing]
    under_fit = imputer._transform(holed)[missing]
    assert np.abs(under_draw - under_fit).mean() > 0.02
    assert np.abs(draws - under_draw).mean() < 0.5 * np.abs(draws - under_fit).mean()


def test_transform_after_multiple_imputation_draws_under_the_first_drawn_model():
    _, holed = _gaussian_under_mar(4)
    imputer = EMImputer(1, covariance_type="full", sample_posterior=True, random_state=0)
    imputations = imputer.fit_transform_multiple(holed, 3)
    draws = imputer.transform(holed)  # once failed: fit_transform_multiple set no draws' state
    observed = ~np.isnan(holed)
    np.testing.assert_array_equal(draws[observed], holed[observed])
    assert not np.isnan(draws).any() and not np.array_equal(draws, imputations[0])
    first = imputer.posterior_imputer_
    assert first.posterior_imputer_ is None and imputer.posterior_mixture_ is first.mixture_
