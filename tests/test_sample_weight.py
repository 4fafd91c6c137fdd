"""Row weights: integer weights repeat rows, zero weights remove them."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import check_sample_weight_equivalence_on_dense_data

from sklearn_em import GaussianMixture, GaussianMixtureIC
from sklearn_em._gaussian import FAMILIES

from . import reference
from .conftest import COVARIANCE_TYPES
from .helpers import start_after_one_step


@pytest.fixture
def data(overlapping):
    rng = np.random.default_rng(0)
    X = np.column_stack([overlapping, rng.normal(size=len(overlapping))])[::12]
    return X, rng.integers(0, 4, size=len(X))


def _holed(X, seed=3):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < 0.25] = np.nan
    return X


def _explicit_start(X, k, covariance_type):
    weights, means, _, precisions = start_after_one_step(X, k, covariance_type)
    return dict(weights_init=weights, means_init=means, precisions_init=precisions)


def _fit(X, sample_weight=None, **settings):
    model = GaussianMixture(tol=0, **settings)
    with pytest.warns(ConvergenceWarning):
        return model.fit(X, sample_weight=sample_weight)


def _assert_same_fit(a, b, rtol=1e-10):
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=rtol)
    np.testing.assert_allclose(a.means_, b.means_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.lower_bounds_, b.lower_bounds_, rtol=rtol)


@pytest.mark.parametrize("prior", [None, "conjugate"])
@pytest.mark.parametrize("acceleration", [None, "squarem"])
@pytest.mark.parametrize("holes", [False, True], ids=["complete", "nan"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_weights_are_repeated_rows(data, covariance_type, holes, acceleration, prior):
    X, counts = data
    X = _holed(X) if holes else X
    settings = dict(
        n_components=3,
        covariance_type=covariance_type,
        max_iter=8,
        acceleration=acceleration,
        prior=prior,
        **_explicit_start(X, 3, covariance_type),
    )
    weighted = _fit(X, counts, **settings)
    repeated = _fit(np.repeat(X, counts, axis=0), **settings)
    _assert_same_fit(weighted, repeated)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_weights_match_the_row_by_row_oracle(data, covariance_type):
    X, _ = data
    X = _holed(X)
    sample_weight = np.random.default_rng(1).uniform(0.1, 2.0, len(X))
    start = _explicit_start(X, 2, covariance_type)
    model = _fit(
        X,
        sample_weight,
        n_components=2,
        covariance_type=covariance_type,
        max_iter=4,
        acceleration=None,
        **start,
    )
    start_covariances = FAMILIES[covariance_type].covariances_from_precisions(
        start["precisions_init"]
    )
    expected = reference.em(
        X,
        start["weights_init"],
        start["means_init"],
        start_covariances,
        covariance_type,
        1e-6,
        4,
        sample_weight=sample_weight,
    )
    np.testing.assert_allclose(model.weights_, expected[0], rtol=1e-10)
    np.testing.assert_allclose(model.means_, expected[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.covariances_, expected[2], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.lower_bounds_, expected[3], rtol=1e-10)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_a_zero_weight_removes_its_row_from_any_start(data, init_params):
    X, counts = data
    keep = np.minimum(counts, 1)
    settings = dict(n_components=3, init_params=init_params, random_state=0, tol=1e-6)
    weighted = GaussianMixture(**settings).fit(X, sample_weight=keep)
    removed = GaussianMixture(**settings).fit(X[keep > 0])
    _assert_same_fit(weighted, removed)
    assert weighted.labels_.shape == (len(X),)
    np.testing.assert_array_equal(weighted.labels_[keep > 0], removed.labels_)


def test_weights_of_one_change_nothing(data):
    X, _ = data
    for init_params in ["kmeans", "k-means++", "random", "random_from_data"]:
        settings = dict(n_components=3, init_params=init_params, random_state=0)
        ones = GaussianMixture(**settings).fit(X, sample_weight=np.ones(len(X)))
        plain = GaussianMixture(**settings).fit(X)
        _assert_same_fit(ones, plain, rtol=1e-12)


def test_the_kmeans_start_is_weighted(data):
    X, counts = data
    weights = counts + 0.5
    model = GaussianMixture(3, covariance_type="diag", max_iter=0, random_state=0)
    model.fit(X, sample_weight=weights)
    kmeans = KMeans(3, n_init=1, random_state=np.random.RandomState(0))
    labels = kmeans.fit(X, sample_weight=weights).labels_
    for j in range(3):
        rows = labels == j
        mean = np.average(X[rows], axis=0, weights=weights[rows])
        np.testing.assert_allclose(model.means_[j], mean, rtol=1e-10)
        variance = np.average((X[rows] - mean) ** 2, axis=0, weights=weights[rows])
        np.testing.assert_allclose(model.covariances_[j], variance + 1e-6, rtol=1e-10)


def test_random_from_data_starts_on_weighted_rows(data):
    X, counts = data
    for seed in range(5):
        model = GaussianMixture(3, init_params="random_from_data", max_iter=0, random_state=seed)
        # Rows past the fifth are all but weightless: they are (almost) never drawn.
        model.fit(X, sample_weight=np.where(np.arange(len(X)) < 5, 2.0, 1e-12))
        for mean in model.means_:
            assert np.min(np.abs(X[:5] - mean).max(axis=1)) < 1e-12


def test_sklearns_weight_equivalence_check_passes_from_an_explicit_start():
    # The check's data, to place a start on it (check_sample_weight_equivalence).
    X = np.random.RandomState(42).rand(15, 30)
    for covariance_type in COVARIANCE_TYPES:
        start = _explicit_start(X, 2, covariance_type)
        model = GaussianMixture(2, covariance_type=covariance_type, max_iter=20, **start)
        check_sample_weight_equivalence_on_dense_data("GaussianMixture", model)


def test_model_selection_counts_a_row_by_its_weight(data):
    X, counts = data
    # One component starts alike however the rows are counted.
    settings = dict(n_components=[1], covariance_type="all", random_state=0, tol=1e-8)
    weighted = GaussianMixtureIC(**settings).fit(X, sample_weight=counts)
    repeated = GaussianMixtureIC(**settings).fit(np.repeat(X, counts, axis=0))
    np.testing.assert_allclose(weighted.criterion_["bic"], repeated.criterion_["bic"], rtol=1e-9)
    keep = np.minimum(counts, 1)
    settings = dict(n_components=3, covariance_type="all", random_state=0)
    weighted = GaussianMixtureIC(**settings).fit(X, sample_weight=keep)
    removed = GaussianMixtureIC(**settings).fit(X[keep > 0])
    np.testing.assert_allclose(weighted.criterion_["bic"], removed.criterion_["bic"], rtol=1e-10)


@pytest.mark.parametrize(
    ("sample_weight", "message"),
    [
        (-np.ones(40), "negative value"),
        (np.r_[np.nan, np.ones(39)], "replace NaN or inf"),
        (np.r_[np.inf, np.ones(39)], "replace NaN or inf"),
        (np.ones(41), "check its length"),
        (np.ones((40, 2)), "check its length"),
        (np.zeros(40), "zero on every row"),
        (np.r_[1.0, np.zeros(39)], "fewer than n_components=2"),
    ],
)
def test_bad_weights_are_named_with_their_fix(data, sample_weight, message):
    X = data[0][:40]
    with pytest.raises(ValueError, match=message):
        GaussianMixture(2).fit(X, sample_weight=sample_weight)
    if "fewer than" not in message:  # the selector skips the sizes it cannot fit
        with pytest.raises(ValueError, match=message):
            GaussianMixtureIC(2).fit(X, sample_weight=sample_weight)


def test_a_feature_observed_only_on_weightless_rows_is_named(data):
    X = data[0][:40].copy()
    X[5:, 2] = np.nan
    weights = np.r_[np.zeros(5), np.ones(35)]
    with pytest.raises(ValueError, match="Feature\\(s\\) 2 have no observed value"):
        GaussianMixture(2).fit(X, sample_weight=weights)


@pytest.mark.parametrize("prior", [None, "conjugate"])
def test_the_imputer_passes_weights_and_prior_to_its_mixture(data, prior):
    from sklearn_em import EMImputer

    X, counts = data
    X = _holed(X)
    imputer = EMImputer(2, covariance_type="full", random_state=0, prior=prior)
    imputer.fit(X, sample_weight=counts)
    direct = GaussianMixture(2, random_state=0, prior=prior).fit(X, sample_weight=counts)
    unweighted = GaussianMixture(2, random_state=0, prior=prior).fit(X)
    assert imputer.mixture_.prior == prior
    np.testing.assert_allclose(imputer.mixture_.means_, direct.means_, rtol=1e-12)
    assert not np.allclose(imputer.mixture_.means_, unweighted.means_)
    # Rows of zero weight are left out of the model but still imputed.
    assert (counts == 0).any()
    completed = imputer.transform(X)
    assert not np.isnan(completed).any()
    np.testing.assert_array_equal(completed[~np.isnan(X)], X[~np.isnan(X)])


def test_the_imputers_choice_fits_every_candidate_with_the_weights(data):
    from sklearn_em import EMImputer

    X, counts = data
    X = _holed(X, seed=5)
    weighted = EMImputer(random_state=0).fit(X, sample_weight=counts)
    repeated_share = EMImputer(random_state=0).fit(X, sample_weight=np.ones(len(X)))
    plain = EMImputer(random_state=0).fit(X)
    # Weights of one change nothing; other weights change the scores.
    np.testing.assert_allclose(
        repeated_share.candidate_scores_["overimputation_rmse"],
        plain.candidate_scores_["overimputation_rmse"],
    )
    assert weighted.candidate_scores_["overimputation_rmse"] != pytest.approx(
        plain.candidate_scores_["overimputation_rmse"]
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_every_kernel_weighs_rows_as_repeats(covariance_type, dtype):
    from dataclasses import replace

    from sklearn_em._fit import EM
    from sklearn_em._gaussian_family import GaussianFamily

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3)) + rng.integers(3, size=(300, 1)) * 2.0
    X[:40][rng.random((40, 3)) < 0.3] = np.nan  # the missing-value path too
    counts = rng.integers(1, 4, size=len(X))
    start = GaussianMixture(3, covariance_type=covariance_type, random_state=0, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        mixture = start.fit(np.where(np.isnan(X), 0.0, X))._mixture()
    kernels = ["design", "centred"] + (
        ["origin"] if covariance_type in ("diag", "spherical") else []
    )
    # float32 sums of 300 rows and of their ~600 repeats round differently.
    tolerance, atol = (1e-10, 1e-12) if dtype == np.float64 else (1e-4, 1e-5)
    for kernel in kernels:
        family = replace(GaussianFamily(covariance_type, 1e-6), kernel=kernel)
        Xd = X.astype(dtype)
        weighted = EM(family, sample_weight=counts.astype(float)).step(Xd, mixture)
        repeated = EM(family).step(np.repeat(Xd, counts, axis=0), mixture)
        assert weighted[0] == pytest.approx(repeated[0], rel=tolerance), kernel
        for name in ("weights", "means", "covariances"):
            np.testing.assert_allclose(
                getattr(weighted[1], name), getattr(repeated[1], name), rtol=tolerance, atol=atol
            )
