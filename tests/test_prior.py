"""MAP estimation with the conjugate prior, against a row-by-row oracle and closed forms."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from sklearn_em import ConjugatePrior, GaussianMixture, GaussianMixtureIC
from sklearn_em._prior import log_prior_density, map_parameters, resolve_prior

from . import reference
from .conftest import COVARIANCE_TYPES
from .helpers import start_after_one_step


def _three_features(overlapping, step=10, holes=0.0, seed=1):
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [overlapping, overlapping @ [0.5, -0.3] + rng.normal(size=len(overlapping))]
    )[::step]
    if holes:
        X = X.copy()
        X[np.random.default_rng(seed).random(X.shape) < holes] = np.nan
        X[3] = np.nan  # a row with nothing observed
    return X


def default_prior(X, k, covariance_type, sample_weight=None):
    """mclust's defaultPrior, written out: column moments over observed values.

    Frequency weights: a weighted variance divides by the total weight minus one.
    """
    n, d = X.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    observed = ~np.isnan(X)
    mean = np.array(
        [np.average(X[observed[:, a], a], weights=w[observed[:, a]]) for a in range(d)]
    )
    variances = np.array(
        [
            np.sum(w[observed[:, a]] * (X[observed[:, a], a] - mean[a]) ** 2)
            / (w[observed[:, a]].sum() - 1)
            for a in range(d)
        ]
    )
    factor = (1 / k) ** (2 / d)
    if covariance_type in ("diag", "spherical"):
        scale = factor * variances.mean()
    elif observed.all() and w.sum() > d:
        centred = X - mean
        scale = factor * (centred.T * w) @ centred / (w.sum() - 1)
    else:
        scale = factor * np.diag(variances)
    return reference.Prior(0.01, mean, d + 2.0, scale)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("holes", [0.0, 0.3], ids=["complete", "nan"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_map_em_matches_the_row_by_row_oracle(overlapping, covariance_type, holes, weighted):
    X = _three_features(overlapping, step=20, holes=holes)
    sample_weight = np.random.default_rng(5).uniform(0.2, 3.0, len(X)) if weighted else None
    start = start_after_one_step(X, 3, covariance_type)
    model = GaussianMixture(
        3,
        covariance_type=covariance_type,
        tol=0,
        max_iter=5,
        acceleration=None,
        weights_init=start[0],
        means_init=start[1],
        precisions_init=start[3],
        prior="conjugate",
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X, sample_weight=sample_weight)
    prior = default_prior(X, 3, covariance_type, sample_weight)
    expected = reference.em(
        X, *start[:3], covariance_type, 1e-6, 5, prior=prior, sample_weight=sample_weight
    )
    np.testing.assert_allclose(model.weights_, expected[0], rtol=1e-10)
    np.testing.assert_allclose(model.means_, expected[1], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.covariances_, expected[2], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.lower_bounds_, expected[3], rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_given_hyperparameters_and_no_mean_prior_match_the_oracle(overlapping, covariance_type):
    X = _three_features(overlapping, step=20, holes=0.2)
    d = X.shape[1]
    matrix = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.5]])
    for shrinkage in [0.0, 0.5]:
        given = ConjugatePrior(
            shrinkage=shrinkage, mean=[1.0, -1.0, 0.5], dof=d + 0.5, scale=matrix
        )
        start = start_after_one_step(X, 2, covariance_type)
        model = GaussianMixture(
            2,
            covariance_type=covariance_type,
            tol=0,
            max_iter=4,
            acceleration=None,
            weights_init=start[0],
            means_init=start[1],
            precisions_init=start[3],
            prior=given,
            reg_covar=0.0,
        )
        with pytest.warns(ConvergenceWarning):
            model.fit(X)
        # For 'diag' and 'spherical' a matrix scale enters through its mean diagonal.
        scale = np.diag(matrix).mean() if covariance_type in ("diag", "spherical") else matrix
        prior = reference.Prior(shrinkage, np.array([1.0, -1.0, 0.5]), d + 0.5, scale)
        expected = reference.em(X, *start[:3], covariance_type, 0.0, 4, prior=prior)
        np.testing.assert_allclose(model.means_, expected[1], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(model.covariances_, expected[2], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(model.lower_bounds_, expected[3], rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_default_hyperparameters_are_mclusts(overlapping, covariance_type):
    X = _three_features(overlapping)
    resolved = resolve_prior("conjugate", X, None, 4, covariance_type, 0.0)
    d = X.shape[1]
    assert resolved.shrinkage == 0.01
    assert resolved.dof == d + 2
    np.testing.assert_allclose(resolved.mean, X.mean(axis=0), rtol=1e-12, atol=1e-15)
    factor = 0.25 ** (2 / d)
    if covariance_type in ("full", "tied"):
        expected = factor * np.cov(X.T)
    else:
        expected = factor * np.var(X, axis=0, ddof=1).mean()
    np.testing.assert_allclose(resolved.scale, expected, rtol=1e-12)
    # No more samples than features: the diagonal, as mclust takes.
    few = resolve_prior("conjugate", X[:3], None, 4, covariance_type, 0.0)
    if covariance_type in ("full", "tied"):
        np.testing.assert_allclose(few.scale, factor * np.diag(np.var(X[:3], axis=0, ddof=1)))


def _expected_complete_log_posterior(X, resp, means, covs, prior, covariance_type):
    total = sum(
        resp[:, j] @ multivariate_normal(means[j], covs[j]).logpdf(X) for j in range(len(means))
    )
    return total + reference.log_prior(prior, means, covs, covariance_type)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_map_m_step_maximises_the_expected_complete_log_posterior(
    overlapping, covariance_type
):
    X = _three_features(overlapping, step=20)
    n, d = X.shape
    k = 3
    rng = np.random.default_rng(2)
    resp = rng.dirichlet(np.ones(k), size=n)
    nk = resp.sum(axis=0)
    ybar = resp.T @ X / nk[:, None]
    scatter = np.stack([(resp[:, j] * (X - ybar[j]).T) @ (X - ybar[j]) for j in range(k)])
    layout = {
        "full": scatter,
        "tied": scatter.sum(axis=0),
        "diag": np.diagonal(scatter, axis1=1, axis2=2),
        "spherical": np.trace(scatter, axis1=1, axis2=2),
    }[covariance_type]
    resolved = resolve_prior("conjugate", X, None, k, covariance_type, 0.0)
    prior = reference.Prior(resolved.shrinkage, resolved.mean, resolved.dof, resolved.scale)
    means, covariances = map_parameters(resolved, nk, ybar, layout)
    covs = reference.dense(covariances, covariance_type, k, d)
    best = _expected_complete_log_posterior(X, resp, means, covs, prior, covariance_type)
    for trial in range(20):
        step = 10.0 ** -rng.integers(1, 4)
        moved_means = means + step * rng.normal(size=means.shape)
        if covariance_type in ("full", "tied"):
            shape = covariances.shape
            A = np.eye(d) + step * rng.normal(size=shape)
            moved = A @ covariances @ np.swapaxes(A, -1, -2)
        else:
            moved = covariances * np.exp(step * rng.normal(size=covariances.shape))
        moved_covs = reference.dense(moved, covariance_type, k, d)
        for trial_means, trial_covs in [(moved_means, covs), (means, moved_covs)]:
            value = _expected_complete_log_posterior(
                X, resp, trial_means, trial_covs, prior, covariance_type
            )
            assert value < best, (trial, step)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_prior_density_is_scipys(overlapping, covariance_type):
    X = _three_features(overlapping)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    resolved = resolve_prior("conjugate", X, None, 3, covariance_type, 0.0)
    prior = reference.Prior(resolved.shrinkage, resolved.mean, resolved.dof, resolved.scale)
    covs = reference.dense(model.covariances_, covariance_type, 3, 3)
    expected = reference.log_prior(prior, model.means_, covs, covariance_type)
    assert log_prior_density(resolved, model._mixture()) == pytest.approx(expected, rel=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("acceleration", [None, "squarem"])
@pytest.mark.parametrize("holes", [0.0, 0.3], ids=["complete", "nan"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_log_posterior_never_decreases(overlapping, covariance_type, holes, acceleration):
    X = _three_features(overlapping, step=8, holes=holes)
    model = GaussianMixture(
        3,
        covariance_type=covariance_type,
        acceleration=acceleration,
        prior="conjugate",
        tol=1e-10,
        max_iter=300,
        random_state=0,
    ).fit(X)
    trace = np.asarray(model.lower_bounds_)
    assert model.n_iter_ > 5
    assert np.all(np.diff(trace) >= -1e-12 * np.abs(trace[1:]))


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_start_is_the_map_step_of_its_responsibilities(overlapping, init_params):
    X = _three_features(overlapping)
    model = GaussianMixture(
        3, prior="conjugate", init_params=init_params, max_iter=0, random_state=0
    ).fit(X)
    if init_params != "kmeans":
        # The same draws as without a prior: only the M-step differs.
        plain = GaussianMixture(3, init_params=init_params, max_iter=0, random_state=0).fit(X)
        assert np.all(np.isfinite(model.means_)) and plain.n_iter_ == 0
        return
    labels = KMeans(3, n_init=1, random_state=np.random.RandomState(0)).fit(X).labels_
    resp = np.eye(3)[labels]
    N = resp.sum(axis=0)
    S1 = resp.T @ X
    S2 = np.einsum("ik,ia,ib->kab", resp, X, X)
    prior = default_prior(X, 3, "full")
    prior = reference.Prior(prior.shrinkage, prior.mean, prior.dof, prior.scale + 1e-6 * np.eye(3))
    means, covariances = reference.map_m_step(prior, N, S1, S2, "full")
    np.testing.assert_allclose(model.means_, means, rtol=1e-10)
    np.testing.assert_allclose(model.covariances_, covariances, rtol=1e-10)


def test_warm_start_goes_on_raising_the_log_posterior(overlapping):
    X = _three_features(overlapping)
    model = GaussianMixture(
        3, prior="conjugate", warm_start=True, max_iter=3, acceleration=None, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    first = model.lower_bounds_[-1]
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    assert model.lower_bounds_[0] >= first


def test_information_criteria_use_the_likelihood_at_the_map_fit(overlapping):
    X = _three_features(overlapping)
    model = GaussianMixture(3, prior="conjugate", random_state=0).fit(X)
    covs = reference.dense(model.covariances_, "full", 3, 3)
    density = sum(
        w * multivariate_normal(mu, S).pdf(X)
        for w, mu, S in zip(model.weights_, model.means_, covs, strict=True)
    )
    n_parameters = 3 * 6 + 3 * 3 + 2  # covariances, means, weights: as without a prior
    loglik = np.log(density).sum()
    assert model.bic(X) == pytest.approx(-2 * loglik + n_parameters * np.log(len(X)), rel=1e-12)
    assert model.aic(X) == pytest.approx(-2 * loglik + 2 * n_parameters, rel=1e-12)


def test_model_selection_passes_the_prior_to_every_candidate(overlapping):
    X = _three_features(overlapping)
    selector = GaussianMixtureIC(3, covariance_type="all", prior="conjugate", random_state=0)
    selector.fit(X)
    assert selector.best_estimator_.prior == "conjugate"
    table = selector.criterion_
    for k, covariance_type, bic in zip(
        table["n_components"], table["covariance_type"], table["bic"], strict=True
    ):
        alone = GaussianMixture(
            k,
            covariance_type=covariance_type,
            prior="conjugate",
            random_state=selector.best_estimator_.random_state,
        ).fit(X)
        assert alone.bic(X) == pytest.approx(bic, rel=1e-12)


# Data on which maximum likelihood with reg_covar=0 breaks down.
def _collinear():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(60, 1))
    return np.hstack([t, 2 * t, rng.normal(size=(60, 1))])


def _duplicated():
    rng = np.random.default_rng(1)
    return np.vstack([rng.normal(size=(40, 2)), np.repeat([[5.0, 5.0]], 10, axis=0)])


def _few_points_for_a_component():
    rng = np.random.default_rng(2)
    return np.vstack([rng.normal(size=(50, 4)), 8 + rng.normal(size=(3, 4))])


DEGENERATE = {
    "collinear": _collinear,
    "duplicated_rows": _duplicated,
    "component_on_fewer_points_than_dimensions": _few_points_for_a_component,
}


# Without a prior, with reg_covar=0 and random_state=0. Ours fails on more of
# the duplicated rows: moments about each component's centre give their
# variance as zero, where scikit-learn's keeps rounding noise.
OURS_FAIL = {
    "collinear": {"full", "tied"},
    "duplicated_rows": {"full", "diag", "spherical"},
    "component_on_fewer_points_than_dimensions": {"full"},
}
SKLEARN_FAILS = {
    "collinear": {"full", "tied"},
    "duplicated_rows": {"full"},
    "component_on_fewer_points_than_dimensions": {"full"},
}


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("name", DEGENERATE)
def test_the_prior_fits_what_maximum_likelihood_cannot(name, covariance_type):
    X = DEGENERATE[name]()
    settings = dict(n_components=2, covariance_type=covariance_type, reg_covar=0.0, random_state=0)
    fitted = GaussianMixture(prior="conjugate", **settings).fit(X)
    covariances = reference.dense(fitted.covariances_, covariance_type, 2, X.shape[1])
    assert all(np.linalg.eigvalsh(S).min() > 0 for S in covariances)
    assert np.isfinite(fitted.score(X))
    # What fails without the prior, here and in scikit-learn (docs/user_guide/map.rst).
    if covariance_type in OURS_FAIL[name]:
        with pytest.raises(ValueError, match="ill-defined empirical covariance"):
            GaussianMixture(**settings).fit(X)
    if covariance_type in SKLEARN_FAILS[name]:
        with pytest.raises(ValueError, match="ill-defined empirical covariance"):
            SklearnGaussianMixture(**settings).fit(X)


@pytest.mark.parametrize(
    ("prior", "message"),
    [
        (ConjugatePrior(dof=1.0), "dof must be a number above 2"),
        (ConjugatePrior(scale=[[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1]]), "positive definite"),
        (ConjugatePrior(scale=-1.0), "positive definite"),
        (ConjugatePrior(scale=np.eye(2)), r"a number or a \(3, 3\) matrix"),
        (ConjugatePrior(mean=[0.0, 1.0]), "mean must be 3 finite numbers"),
        (ConjugatePrior(shrinkage=-0.1), "shrinkage must be a finite number >= 0"),
    ],
)
def test_a_bad_prior_is_named_with_its_fix(overlapping, prior, message):
    X = _three_features(overlapping)
    with pytest.raises(ValueError, match=message):
        GaussianMixture(2, prior=prior).fit(X)


def test_dof_bound_follows_the_covariance_type(overlapping):
    X = _three_features(overlapping)
    GaussianMixture(2, covariance_type="diag", prior=ConjugatePrior(dof=0.5)).fit(X)
    with pytest.raises(ValueError, match="dof must be a number above 0"):
        GaussianMixture(2, covariance_type="diag", prior=ConjugatePrior(dof=0.0)).fit(X)


def test_an_unknown_prior_name_is_refused(overlapping):
    with pytest.raises(ValueError, match="prior"):
        GaussianMixture(2, prior="jeffreys").fit(_three_features(overlapping))


def test_a_prior_clones_and_prints_with_its_estimator():
    from sklearn.base import clone

    prior = ConjugatePrior(shrinkage=0.1, mean=np.zeros(3), dof=7)
    model = clone(GaussianMixture(2, prior=prior))
    assert repr(model.prior) == "ConjugatePrior(shrinkage=0.1, mean=array([0., 0., 0.]), dof=7)"
    assert repr(ConjugatePrior()) == "ConjugatePrior()"
    assert "prior=ConjugatePrior(shrinkage=0.1" in repr(model)


def test_a_data_scale_needs_a_total_weight_above_one(overlapping):
    X = _three_features(overlapping)
    small = np.full(len(X), 0.5 / len(X))
    with pytest.raises(ValueError, match="total sample_weight above 1"):
        GaussianMixture(2, prior="conjugate").fit(X, sample_weight=small)
    given = ConjugatePrior(scale=1.0)
    GaussianMixture(2, prior=given).fit(X, sample_weight=small)
