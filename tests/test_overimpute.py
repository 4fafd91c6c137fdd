"""The default imputer's model choice: overimputation scores against an independent refit."""

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_em import EMImputer
from sklearn_em._filling import fill_missing
from sklearn_em._monitor import GAP_SAFETY
from sklearn_em._normal_scores import NormalScores
from sklearn_em._overimpute import (
    AUTO_CANDIDATES,
    AUTO_SHRINKAGES,
    BOUND_EVIDENCE,
    CHOICE_TOL_PER_FEATURE,
    HIDDEN_SHARE,
    TABLE_COLUMNS,
    Candidates,
    _preferred,
    candidate_settings,
    cells_to_hide,
    choose_mixture,
    shrinkage_levels,
    shrinkage_prior,
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


def _unbounded_or_range(d):
    """choose_mixture's bounds: none, or the observed range it is given."""
    return {"none": lambda observed: (np.full(d, -np.inf), np.full(d, np.inf)), "range": tuple}


@pytest.mark.parametrize("curved", [False, True])
def test_each_score_is_the_error_of_an_independent_fit(curved):
    # Lognormal features are a Gaussian on their normal scores: those win.
    X = _holed_lognormal() if curved else _holed_iris()[1]
    hidden = cells_to_hide(~np.isnan(X), np.random.RandomState(1))
    candidates = candidate_settings("auto", "auto", X.shape)

    def make(k, kind, **overrides):
        return GaussianMixture(k, covariance_type=kind, random_state=0, **overrides)

    mixture, bound, scale, table = choose_mixture(
        X, candidates, make, _unbounded_or_range(4), hidden
    )
    overimputed = np.where(hidden, np.nan, X)
    # A bound is scored at the range of the cells left observed.
    rest_range = {
        "none": (-np.inf, np.inf),
        "range": (np.nanmin(overimputed, axis=0), np.nanmax(overimputed, axis=0)),
    }
    units = np.nanstd(X, axis=0)
    # Screens and the forms (more than one) stop at a tol per feature; one
    # Gaussian by plain EM, when a step gains less than that.
    choice_tol = CHOICE_TOL_PER_FEATURE * X.shape[1] * GaussianMixture().tol
    one_gaussian = dict(acceleration=None, tol=choice_tol)
    rows = list(zip(*(table[name] for name in TABLE_COLUMNS[:7]), strict=True))
    assert [row[5] for row in rows] == ["none", "range"] * (len(rows) // 2)
    # The shrinkage is screened with one Gaussian fitted to the rest, then the
    # normal scores at the best shrinkage; the forms are fitted to all of X
    # at the best screened shrinkage, on the scale chosen.
    screened = [row for row in rows if row[4] == "rest"]
    assert [row[2:4] for row in screened[::2]] == [
        *(("original", level) for level in candidates.shrinkages),
        ("normal-scores", min(screened[:-2], key=lambda row: row[6])[3]),
    ]
    best_shrinkage = screened[-1][3]
    forms = [row for row in rows if row[4] == "all"]
    assert [row[:2] for row in forms[::2]] == list(AUTO_CANDIDATES)
    assert {row[3] for row in forms} == {best_shrinkage}
    chosen_scale = forms[0][2]
    assert {row[2] for row in forms} == {chosen_scale}
    assert chosen_scale == ("normal-scores" if curved else "original")
    # The normal scores of each column's observed values, an independent map.
    normal_scores = NormalScores.of(X)
    on_scale = {"original": lambda A: A, "normal-scores": normal_scores.forward}
    np.testing.assert_allclose(normal_scores.forward(X), _rank_normal_scores(X))
    # The original screens start where the one before ended, and one Gaussian
    # fitted to all of X starts from the screen at its shrinkage and scale.
    screens = {}
    for k, kind, on, shrinkage, fitted_to, name, score in rows:
        data, rest = on_scale[on](X), on_scale[on](overimputed)
        prior = shrinkage_prior(data, shrinkage)
        lower, upper = rest_range[name]
        if (k, kind) == (1, "full"):
            if (on, shrinkage, fitted_to) not in screens:
                settings = dict(prior=prior, random_state=0, **one_gaussian)
                if fitted_to == "all":
                    start = screens[on, shrinkage, "rest"]
                elif on == "original":
                    start = list(screens.values())[-1] if screens else None
                else:
                    start = None
                if start is not None:
                    settings.update(_started_at(start))
                fitted_on = rest if fitted_to == "rest" else data
                screens[on, shrinkage, fitted_to] = GaussianMixture(1, **settings).fit(fitted_on)
            gaussian = screens[on, shrinkage, fitted_to]
            if on == "original":
                imputed = _regression_imputed(gaussian, rest)
            else:
                imputed = _mean_mapped_back(gaussian, rest, normal_scores)
        else:
            # The same model through the public API, unbounded: the prior written out.
            settings = dict(covariance_type=kind, prior=prior, tol=choice_tol, random_state=0)
            unbounded = dict(min_value=-np.inf, max_value=np.inf, scale=on)
            imputed = EMImputer(k, **unbounded, **settings).fit(X).transform(overimputed)
        filled = np.clip(imputed, lower, upper)
        expected = np.sqrt(np.mean((((filled - X) / units)[hidden]) ** 2))
        assert score == pytest.approx(expected, rel=1e-9 if on == "original" else 1e-6)
    best = min(forms, key=lambda row: row[6])
    assert (mixture.n_components, mixture.covariance_type, bound) == (*best[:2], best[5])
    assert (scale is None) == (chosen_scale == "original")
    assert mixture.converged_
    assert mixture.tol == choice_tol  # the tol it stopped at
    assert mixture.acceleration == ("squarem" if mixture.n_components > 1 else None)


def _holed_lognormal(n_samples=300, fraction=0.2, seed=0):
    """exp of correlated Gaussian columns, with MCAR holes."""
    rng = np.random.default_rng(seed)
    covariance = 0.8 ** np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    X = np.exp(rng.multivariate_normal(np.zeros(4), covariance, size=n_samples))
    return np.where(rng.random(X.shape) < fraction, np.nan, X)


def _started_at(mixture):
    return dict(
        weights_init=mixture.weights_,
        means_init=mixture.means_,
        precisions_init=mixture.precisions_,
    )


def _rank_normal_scores(X):
    """Each observed value's normal score: Phi^-1((average rank - 1/2) / n), NaN kept."""
    out = np.full(X.shape, np.nan)
    for j, column in enumerate(X.T):
        observed = ~np.isnan(column)
        ranks = stats.rankdata(column[observed], method="average")
        out[observed, j] = stats.norm.ppf((ranks - 0.5) / observed.sum())
    return out


def _mean_mapped_back(gaussian, Z, scores):
    """Each row's missing values as the mean of their conditional normal under
    one Gaussian fitted on the scores ``Z``, mapped back: integrated on a grid."""
    mean, cov = gaussian.means_[0], gaussian.covariances_[0]
    grid = np.linspace(-12, 12, 20_001)
    density = stats.norm.pdf(grid)
    density /= density.sum()
    out = np.full(Z.shape, np.nan)
    for i, row in enumerate(Z):
        m, o = np.isnan(row), ~np.isnan(row)
        solved = np.linalg.solve(cov[np.ix_(o, o)], cov[np.ix_(o, m)])
        centre = mean[m] + solved.T @ (row[o] - mean[o])
        spread = np.sqrt(np.diag(cov[np.ix_(m, m)] - cov[np.ix_(m, o)] @ solved))
        lifted = np.zeros((grid.size, Z.shape[1]))
        lifted[:, m] = centre + spread * grid[:, None]
        out[i, m] = (scores.inverse(lifted)[:, m] * density[:, None]).sum(axis=0)
    return out


def _regression_imputed(gaussian, X):
    """Each row's missing values by linear regression on its observed ones,
    under one fitted Gaussian: mu_m + S_mo inv(S_oo) (x_o - mu_o)."""
    mean, cov = gaussian.means_[0], gaussian.covariances_[0]
    out = X.copy()
    for row in out:
        m = np.isnan(row)
        o = ~m
        row[m] = mean[m] + cov[np.ix_(m, o)] @ np.linalg.solve(cov[np.ix_(o, o)], row[o] - mean[o])
    return out


@pytest.mark.parametrize("on_scores", [False, True])
def test_a_fill_of_wanted_cells_fills_only_their_rows_and_as_a_whole_fill(on_scores):
    rng = np.random.default_rng(0)
    X = np.exp(rng.multivariate_normal(np.zeros(3), 0.5 * np.eye(3) + 0.5, size=120))
    holed = np.where(rng.random(X.shape) < 0.3, np.nan, X)
    scale = NormalScores.of(holed) if on_scores else None
    mixture = GaussianMixture(2, random_state=0).fit(
        holed if scale is None else scale.forward(holed)
    )
    wanted = np.isnan(holed) & (rng.random(X.shape) < 0.3)
    unbounded = np.full(3, np.inf)
    whole, part = holed.copy(), holed.copy()
    fill_missing(whole, mixture, -unbounded, unbounded, scale=scale)
    fill_missing(part, mixture, -unbounded, unbounded, scale=scale, wanted=wanted)
    np.testing.assert_allclose(part[wanted], whole[wanted], rtol=1e-12)
    untouched = ~wanted.any(axis=1)
    assert untouched.any() and np.isnan(holed[untouched]).any()
    np.testing.assert_array_equal(part[untouched], holed[untouched])


def test_shrinkage_prior_is_a_ridge_towards_the_column_variances():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3)) @ np.array([[1, 0.8, 0], [0, 0.6, 0.5], [0, 0, 2]])
    prior = shrinkage_prior(X, 0.1)
    assert prior.dof == pytest.approx(0.1 / 0.9 * 400)
    np.testing.assert_allclose(prior.scale, prior.dof * np.diag(X.var(axis=0)))
    # The MAP covariance is the MLE's scatter and nu times the diagonal,
    # over nu + n + d + 1: up to that factor, a shrinkage by nu / (nu + n).
    shrunk = GaussianMixture(1, prior=prior, reg_covar=0, random_state=0).fit(X)
    n, d = X.shape
    scatter = n * np.cov(X.T, bias=True)
    expected = (prior.scale + scatter) / (prior.dof + n + d + 1)
    np.testing.assert_allclose(shrunk.covariances_[0], expected, rtol=1e-10)
    assert shrinkage_prior(X, 0.0) is None
    # Few rows: the prior keeps d + 1 degrees of freedom; NaN are left out.
    X[rng.random(X.shape) < 0.1] = np.nan
    few = shrinkage_prior(X[:20], 0.02)
    assert few.dof == 4
    np.testing.assert_allclose(np.diag(few.scale), 4 * np.nanvar(X[:20], axis=0))


def test_the_least_shrinkage_is_the_floor_of_d_plus_one_at_any_total_weight():
    d = 5
    least, most = shrinkage_levels(d, 1000)
    assert (least, most) == (pytest.approx((d + 1) / (d + 1 + 1000)), 0.1)
    X = np.random.default_rng(0).normal(size=(1000, d))
    assert shrinkage_prior(X, least).dof == d + 1
    assert shrinkage_prior(X, most).dof == pytest.approx(0.1 / 0.9 * 1000)
    # On few rows the weight 0.1 is below the floor's: one level.
    assert shrinkage_levels(d, 9 * (d + 1) - 1) == (pytest.approx((d + 1) / (10 * (d + 1) - 1)),)
    assert candidate_settings("auto", "auto", (1000, d), total=50.0).shrinkages == (
        shrinkage_levels(d, 50.0)
    )
    # Weights of any scale keep the floor exact, even where its weight rounds to 1.
    for scale in (1e-20, 1e-14, 1e6):
        weights = np.full(1000, scale)
        (floor, *_) = shrinkage_levels(d, weights.sum())
        assert shrinkage_prior(X, floor, weights).dof == d + 1
    tiny = EMImputer(random_state=0).fit(np.where(X > 2, np.nan, X), sample_weight=weights / 1e26)
    assert tiny.mixture_.prior.dof == d + 1


def test_on_many_rows_the_least_shrinkage_imputes_as_no_shrinkage():
    # Nearly collinear Gaussian columns: a shrinkage of fixed weight (0.02,
    # the rule before) bends the conditional means through the smallest
    # eigenvalue, however many rows there are; the floor's weight fades as
    # rows are added.
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(5000, 5)) @ rng.normal(size=(5, 5))
    hidden = rng.random(truth.shape) < 0.1
    X = np.where(hidden, np.nan, truth)
    chosen = EMImputer(1, random_state=0).fit(X)  # the shrinkage is chosen
    classic = EMImputer(1, covariance_type="full", random_state=0).fit(X)
    assert chosen.mixture_.prior.dof == pytest.approx(X.shape[1] + 1)

    def rmse(imputer):
        return np.sqrt(np.mean((imputer.transform(X)[hidden] - truth[hidden]) ** 2))

    assert rmse(chosen) <= 1.002 * rmse(classic)


def test_the_default_chooses_and_reports_its_candidates():
    _, X = _holed_iris()
    imputer = EMImputer(random_state=0).fit(X)
    table = imputer.candidate_scores_
    assert list(table) == list(TABLE_COLUMNS)
    # Each fit is scored unbounded and within the observed range.
    # The shrinkage's screens, the normal scores' screen, the forms.
    fits = ["rest"] * (len(AUTO_SHRINKAGES) + 1) + ["all"] * len(AUTO_CANDIDATES)
    assert table["fitted_to"] == [f for f in fits for _ in range(2)]
    assert table["bounds"] == ["none", "observed"] * len(fits)
    assert np.all(np.isfinite(table["overimputation_rmse"]))
    assert np.all(np.asarray(table["fit_time"]) > 0)
    forms = slice(2 * len(AUTO_SHRINKAGES) + 2, None)
    best = 2 * len(AUTO_SHRINKAGES) + 2 + int(np.argmin(table["overimputation_rmse"][forms]))
    assert imputer.n_components_ == table["n_components"][best] == imputer.mixture_.n_components
    assert imputer.covariance_type_ == table["covariance_type"][best]
    assert imputer.imputation_bounds_ == table["bounds"][best]
    assert imputer.imputation_scale_ == table["scale"][best]
    assert imputer.mixture_.prior.dof == pytest.approx(
        shrinkage_prior(X, table["covariance_shrinkage"][best]).dof
    )
    again = EMImputer(random_state=0).fit(X)
    np.testing.assert_array_equal(again.transform(X), imputer.transform(X))


def test_shrinkage_tames_wide_data_with_rare_extremes():
    # Standardised digits: a few lit pixels lie 30-60 standard deviations
    # out, and an unshrunk Gaussian extrapolates through them.
    X = load_digits().data[:600]
    X = StandardScaler().fit_transform(X[:, X.std(axis=0) > 0])
    mask = np.random.default_rng(0).random(X.shape) < 0.1
    holed = np.where(mask, np.nan, X)
    rmse = lambda imputer: np.sqrt(np.mean((imputer.fit_transform(holed) - X)[mask] ** 2))  # noqa: E731
    unbounded = dict(min_value=-np.inf, max_value=np.inf, random_state=0)
    classic = rmse(EMImputer(1, covariance_type="full", **unbounded))
    default = EMImputer(**unbounded)
    assert rmse(default) < 0.95 * classic
    assert default.mixture_.prior is not None


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
    ("settings", "expected", "shrunk"),
    [
        ({"n_components": 2, "covariance_type": "diag"}, [(2, "diag")], False),
        ({"n_components": 2}, [(2, "full"), (2, "tied")], True),
        (
            {"covariance_type": "spherical"},
            [(1, "spherical"), (2, "spherical"), (3, "spherical")],
            True,
        ),
        ({"covariance_type": "tied", "prior": "conjugate"}, [(2, "tied"), (3, "tied")], False),
    ],
)
def test_fixed_settings_narrow_the_candidates(settings, expected, shrunk):
    _, X = _holed_iris()
    imputer = EMImputer(**settings, random_state=0).fit(X)
    table = imputer.candidate_scores_
    forms = [fitted_to == "all" for fitted_to in table["fitted_to"]]
    chosen = [
        (k, kind)
        for k, kind, f in zip(table["n_components"], table["covariance_type"], forms, strict=True)
        if f
    ]
    assert chosen[::2] == expected  # each scored unbounded and within the observed range
    assert (not all(forms)) == shrunk
    # Both fixed: that model alone, unshrunk (or with the imputer's own prior);
    # only its bounds are chosen.
    assert (imputer.mixture_.prior is None) == (len(expected) == 1)
    fixed = EMImputer(**settings, min_value=-np.inf, max_value=np.inf, random_state=0).fit(X)
    table = fixed.candidate_scores_
    assert np.isnan(table["overimputation_rmse"]).all() == (len(expected) == 1)
    assert fixed.imputation_bounds_ == "given"


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
    # One row far from the rest: without reg_covar (and without shrinkage)
    # the second component starts on it alone, with no variance.
    X = rng.normal(size=(600, 3))
    X[rng.random(X.shape) < 0.2] = np.nan
    X[0] = 1e3

    def make(k, kind, **overrides):
        # tol=0: EM goes on until the collapse breaks a pass (a tol may stop
        # it first, at a near-zero variance that imputes the point well).
        common = dict(reg_covar=0, random_state=0, tol=0, max_iter=500)
        return GaussianMixture(k, covariance_type=kind, **common, **overrides)

    hidden = cells_to_hide(~np.isnan(X), np.random.RandomState(0))
    candidates = Candidates(((1, "full"), (2, "full")), (0.0,))
    bounds = {"none": lambda observed: (np.full(3, -np.inf), np.full(3, np.inf))}
    mixture, _, _, table = choose_mixture(X, candidates, make, bounds, hidden)
    scores = np.asarray(table["overimputation_rmse"])
    assert np.isinf(scores[1]) and np.isfinite(scores[0])
    assert mixture.n_components == 1
    # The default's shrinkage keeps every candidate away from collapse.
    imputer = EMImputer(reg_covar=0, random_state=0).fit(X)
    assert np.all(np.isfinite(imputer.candidate_scores_["overimputation_rmse"]))
    assert not np.isnan(imputer.transform(X)).any()


def test_a_bound_must_lower_the_error_by_two_standard_errors():
    rng = np.random.default_rng(0)
    unbounded = rng.chisquare(1, size=400)
    # Clipping changes a few cells: by little, then by much.
    slightly, much = unbounded.copy(), unbounded.copy()
    slightly[:4] *= 0.9
    much[:4] = 0.0
    much[:40] *= 0.5
    squares = np.array([unbounded, slightly, much])
    rmse, bound = _preferred(squares, None)
    np.testing.assert_allclose(rmse, np.sqrt(squares.mean(axis=1)))
    assert bound == 2
    differences = unbounded - slightly
    standard_error = differences.std() / np.sqrt(differences.size)
    assert differences.mean() < BOUND_EVIDENCE * standard_error
    # Without the large gain, the small one does not earn the bound.
    assert _preferred(squares[:2], None)[1] == 0
    # Weights count cells as copies: weight 2 on a cell is that cell twice.
    weights = np.ones(400)
    weights[:4] = 2
    doubled = np.hstack([squares, squares[:, :4]])
    np.testing.assert_allclose(_preferred(squares, weights)[0], _preferred(doubled, None)[0])


def _digits_holed(n_rows=600, seed=0):
    X = load_digits().data[:n_rows]
    X = StandardScaler().fit_transform(X[:, X.std(axis=0) > 0])
    mask = np.random.default_rng(seed).random(X.shape) < 0.1
    return X, mask, np.where(mask, np.nan, X)


def test_auto_bounds_keep_rare_pixels_in_range_and_leave_gaussian_data_alone():
    X, mask, holed = _digits_holed(n_rows=400)
    holed = holed.astype(np.float32)
    imputer = EMImputer(sample_posterior=True, random_state=0).fit(holed)
    assert imputer.imputation_bounds_ == "observed"
    draws = imputer.transform(holed)
    expectations = imputer.set_params(sample_posterior=False).transform(holed)
    low, high = np.nanmin(holed, axis=0), np.nanmax(holed, axis=0)
    for out in (draws, expectations):
        assert out.dtype == np.float32 and not np.isnan(out).any()
        np.testing.assert_array_equal(out[~mask], holed[~mask])
        assert np.all((out >= low) & (out <= high))
    # Given bounds replace the chosen ones: unbounded, the model extrapolates.
    free = imputer.set_params(min_value=-np.inf, max_value=np.inf).transform(holed)
    assert (free < low).any()
    rmse = lambda out: np.sqrt(np.mean((out - X)[mask] ** 2))  # noqa: E731
    assert rmse(expectations) < rmse(free)
    # One side given: the other keeps the chosen range.
    one_sided = imputer.set_params(min_value=-1.0, max_value="auto").transform(holed)
    assert np.all(one_sided[mask] >= -1.0) and np.all(one_sided <= high)
    assert (one_sided[mask] < np.broadcast_to(low, X.shape)[mask]).any()
    # Gaussian data: clipping to the range hardly changes a cell, and is not chosen.
    rng = np.random.default_rng(0)
    gaussian = rng.multivariate_normal(np.zeros(4), 0.5 + 0.5 * np.eye(4), size=500)
    gaussian[rng.random(gaussian.shape) < 0.2] = np.nan
    assert EMImputer(random_state=0).fit(gaussian).imputation_bounds_ == "none"


@pytest.mark.parametrize("acceleration", ["squarem", None])
def test_the_choice_stops_early_and_so_do_the_drawn_models_choices(acceleration):
    _, X = _holed_iris()
    settings = dict(acceleration=acceleration, sample_posterior=True, random_state=0)
    # Plain EM stops on one step's gain, not on the gain still to come.
    per_feature = CHOICE_TOL_PER_FEATURE * (1.0 if acceleration else GAP_SAFETY)
    chosen = EMImputer(**settings).fit(X)
    assert chosen.mixture_.tol == pytest.approx(per_feature * X.shape[1] * chosen.tol)
    assert chosen.mixture_.converged_
    # A drawn model is chosen as the fitted one is (one Gaussian: plain EM's rule).
    drawn = chosen.posterior_mixture_
    factor = per_feature if drawn.n_components > 1 else CHOICE_TOL_PER_FEATURE
    assert drawn.tol == pytest.approx(factor * X.shape[1] * chosen.tol)
    partly_fixed = EMImputer(2, **settings).fit(X)  # 'full' or 'tied': a choice
    assert partly_fixed.mixture_.tol == pytest.approx(per_feature * X.shape[1] * chosen.tol)
    fixed = EMImputer(2, covariance_type="tied", scale="original", **settings).fit(X)
    assert fixed.mixture_.tol == fixed.posterior_mixture_.tol == fixed.tol


def test_a_one_gaussian_choice_that_stops_short_says_so_without_advising_squarem():
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal(np.zeros(4), 0.5 + 0.5 * np.eye(4), size=300)
    holed = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    with pytest.warns(ConvergenceWarning) as caught:
        imputer = EMImputer(random_state=0, max_iter=1).fit(holed)
    assert (imputer.mixture_.n_components, imputer.mixture_.acceleration) == (1, None)
    messages = [str(warning.message) for warning in caught]
    assert any("one Gaussian fitted by plain EM" in message for message in messages)
    assert not any("Try acceleration='squarem'" in message for message in messages)
