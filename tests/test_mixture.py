"""GaussianMixture against scikit-learn, closed forms and its own promises."""

import pickle

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from sklearn_em import GaussianMixture
from sklearn_em._em import ConvergenceMonitor

from .helpers import COVARIANCE_TYPES, tuned


def _sorted_means(model):
    return model.means_[np.lexsort(model.means_.T)]


def _start(X, n_components, covariance_type):
    """A common starting point: scikit-learn's mixture after one EM step."""
    sk = SklearnMixture(n_components, covariance_type=covariance_type, max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning):
        sk.fit(X)
    return {
        "weights_init": sk.weights_,
        "means_init": sk.means_,
        "precisions_init": sk.precisions_,
    }


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_plain_em_iterates_match_sklearn(overlapping, covariance_type):
    start = _start(overlapping, 3, covariance_type)
    common = dict(covariance_type=covariance_type, tol=0, max_iter=15, **start)
    with pytest.warns(ConvergenceWarning):
        theirs = SklearnMixture(3, **common).fit(overlapping)
    with pytest.warns(ConvergenceWarning):
        ours = GaussianMixture(3, acceleration=None, **common).fit(overlapping)

    for name in ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-6)
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-10)
    assert ours.n_iter_ == theirs.n_iter_ == 15
    np.testing.assert_allclose(ours.bic(overlapping), theirs.bic(overlapping), rtol=1e-10)
    np.testing.assert_allclose(ours.aic(overlapping), theirs.aic(overlapping), rtol=1e-10)
    np.testing.assert_allclose(
        ours.score_samples(overlapping), theirs.score_samples(overlapping), rtol=1e-8
    )
    np.testing.assert_allclose(
        ours.predict_proba(overlapping), theirs.predict_proba(overlapping), atol=1e-8
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_default_fit_matches_sklearn(blobs, covariance_type):
    X, _ = blobs
    ours = GaussianMixture(
        4, covariance_type=covariance_type, acceleration=None, random_state=0
    ).fit(X)
    theirs = SklearnMixture(4, covariance_type=covariance_type, random_state=0).fit(X)
    # Seeds are drawn differently, so components may come in another order.
    np.testing.assert_allclose(_sorted_means(ours), _sorted_means(theirs), rtol=1e-6)
    np.testing.assert_allclose(ours.score(X), theirs.score(X), rtol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("acceleration", [None, "squarem"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_likelihood_never_decreases(overlapping, covariance_type, acceleration):
    model = GaussianMixture(
        3,
        covariance_type=covariance_type,
        acceleration=acceleration,
        init_params="random_from_data",
        tol=1e-10,
        max_iter=500,
        random_state=1,
    ).fit(overlapping)
    trace = np.asarray(model.lower_bounds_)
    assert len(trace) == model.n_iter_ > 5
    assert np.all(np.diff(trace) >= -1e-12 * np.abs(trace[1:]))
    assert trace[-1] > trace[0]


def test_only_an_em_step_can_show_convergence():
    monitor = ConvergenceMonitor(tol=1e-3, max_iter=100)
    monitor.report(-5.0)
    monitor.report(-4.0)
    monitor.report(-4.0 + 1e-6, jump=True)  # a SQUAREM jump landing as high by chance
    assert not monitor.converged
    monitor.report(-4.0 + 2e-6)
    assert monitor.converged


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_squarem_reaches_the_plain_optimum_in_fewer_passes(overlapping, covariance_type):
    start = _start(overlapping, 3, covariance_type)
    common = dict(covariance_type=covariance_type, tol=1e-9, max_iter=5000, **start)
    plain = GaussianMixture(3, acceleration=None, **common).fit(overlapping)
    fast = GaussianMixture(3, acceleration="squarem", **common).fit(overlapping)
    assert plain.converged_ and fast.converged_
    assert fast.n_iter_ <= plain.n_iter_
    assert fast.lower_bound_ >= plain.lower_bound_ - 1e-8
    np.testing.assert_allclose(_sorted_means(fast), _sorted_means(plain), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("acceleration", [None, "squarem"])
def test_labels_agree(blobs, acceleration):
    X, _ = blobs
    model = GaussianMixture(4, acceleration=acceleration, random_state=0, max_iter=3, tol=0)
    with pytest.warns(ConvergenceWarning):
        labels = model.fit_predict(X)
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_array_equal(labels, model.predict(X))


def test_recovers_separated_clusters(blobs):
    from sklearn.metrics import adjusted_rand_score

    X, y = blobs
    model = GaussianMixture(4, random_state=0).fit(X)
    assert adjusted_rand_score(y, model.labels_) > 0.99
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_sample_draws_anew_and_follows_the_mixture(blobs):
    X, _ = blobs
    model = GaussianMixture(4, random_state=0).fit(X)
    first, _ = model.sample(5)
    second, _ = model.sample(5)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(
        model.sample(5, random_state=3)[0], model.sample(5, random_state=3)[0]
    )

    draws, labels = model.sample(40000, random_state=0)
    assert draws.shape == (40000, 3)
    np.testing.assert_allclose(np.bincount(labels) / 40000, model.weights_, atol=0.01)
    for k in range(4):
        mine = draws[labels == k]
        np.testing.assert_allclose(mine.mean(axis=0), model.means_[k], atol=0.05)
        np.testing.assert_allclose(np.cov(mine.T), model.covariances_[k], atol=0.05)


def test_sample_rejects_a_bad_count(blobs):
    model = GaussianMixture(4, random_state=0).fit(blobs[0])
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        model.sample(0)


def test_fewer_samples_than_components():
    X = np.random.default_rng(0).normal(size=(3, 2))
    with pytest.raises(ValueError, match="n_samples=3 but n_components=5.*Reduce n_components"):
        GaussianMixture(5).fit(X)


def test_inf_is_an_error_that_names_it():
    X = np.random.default_rng(0).normal(size=(20, 2))
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"infinity \(inf\) in 1 entries.*replace it with NaN"):
        GaussianMixture().fit(X)


def test_wrong_feature_count_at_predict(blobs):
    model = GaussianMixture(4, random_state=0).fit(blobs[0])
    with pytest.raises(ValueError, match="3 features"):
        model.predict(np.zeros((2, 5)))


def test_singular_covariance_names_component_and_remedy():
    X = np.vstack([np.zeros((5, 2)), np.random.default_rng(0).normal(5, 1, size=(20, 2))])
    start = dict(
        weights_init=[0.2, 0.8],
        means_init=[[0.0, 0.0], [5.0, 5.0]],
        precisions_init=np.stack([np.eye(2), np.eye(2)]),
    )
    model = GaussianMixture(2, reg_covar=0.0, **start)
    with pytest.raises(ValueError, match=r"component\(s\) 0 .*Increase reg_covar"):
        model.fit(X)
    # The same data fits once reg_covar regularises the collapsed component.
    model.set_params(reg_covar=1e-6).fit(X)
    assert np.all(np.isfinite(model.covariances_))


def test_bad_initial_parameters_are_explained(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="weights_init must be non-negative and sum to 1"):
        GaussianMixture(2, weights_init=[0.7, 0.7]).fit(X)
    with pytest.raises(ValueError, match=r"means_init must have shape \(2, 3\)"):
        GaussianMixture(2, means_init=np.zeros((2, 2))).fit(X)
    with pytest.raises(ValueError, match="precisions_init must be positive definite"):
        GaussianMixture(2, covariance_type="diag", precisions_init=-np.ones((2, 3))).fit(X)


@pytest.mark.parametrize("acceleration", [None, "squarem"])
def test_warm_start_continues_where_it_left_off(overlapping, acceleration):
    start = _start(overlapping, 3, "full")
    common = dict(tol=0, acceleration=acceleration, **start)
    warm = GaussianMixture(3, max_iter=4, warm_start=True, **common)
    with pytest.warns(ConvergenceWarning):
        warm.fit(overlapping)
        warm.fit(overlapping)
    if acceleration is None:
        with pytest.warns(ConvergenceWarning):
            cold = GaussianMixture(3, max_iter=8, **common).fit(overlapping)
        np.testing.assert_allclose(warm.means_, cold.means_, rtol=1e-10)
    else:
        with pytest.warns(ConvergenceWarning):
            once = GaussianMixture(3, max_iter=4, **common).fit(overlapping)
        assert warm.lower_bound_ > once.lower_bound_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_threads_and_blocks_do_not_change_the_result(overlapping):
    # Plain EM: its iterates differ only by summation order, so they agree to rounding.
    common = dict(
        n_components=3, n_init=3, random_state=0, tol=1e-6, max_iter=300, acceleration=None
    )
    serial = GaussianMixture(**common, n_jobs=1).fit(overlapping)
    parallel = GaussianMixture(**common, n_jobs=2).fit(overlapping)
    np.testing.assert_allclose(parallel.means_, serial.means_, rtol=1e-12)

    small_blocks = tuned(backend={"block_bytes": 10_000})  # many small blocks
    blocked = small_blocks(**{**common, "n_init": 1}, n_jobs=2).fit(overlapping)
    single = small_blocks(**{**common, "n_init": 1}, n_jobs=1).fit(overlapping)
    whole = GaussianMixture(**{**common, "n_init": 1}, n_jobs=1).fit(overlapping)
    np.testing.assert_allclose(blocked.means_, whole.means_, rtol=1e-9)
    np.testing.assert_allclose(single.means_, whole.means_, rtol=1e-9)


def test_n_init_keeps_the_best_run(overlapping):
    runs = [
        GaussianMixture(3, init_params="random", random_state=seed).fit(overlapping)
        for seed in range(3)
    ]
    best = GaussianMixture(3, init_params="random", n_init=5, random_state=0).fit(overlapping)
    assert best.lower_bound_ >= min(run.lower_bound_ for run in runs)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_initialization_finds_separated_clusters(blobs, init_params):
    from sklearn.metrics import adjusted_rand_score

    X, y = blobs
    model = GaussianMixture(4, init_params=init_params, n_init=3, random_state=0).fit(X)
    assert adjusted_rand_score(y, model.labels_) > 0.95


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_input_gives_the_float64_model(blobs, covariance_type):
    X, _ = blobs
    common = dict(covariance_type=covariance_type, random_state=0)
    single = GaussianMixture(4, **common).fit(X.astype(np.float32))
    double = GaussianMixture(4, **common).fit(X)
    np.testing.assert_allclose(single.means_, double.means_, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(single.labels_, double.labels_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pickle_round_trip(blobs, dtype):
    X = blobs[0].astype(dtype)
    model = GaussianMixture(4, random_state=0).fit(X)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_verbose_reports_progress(blobs, capsys):
    GaussianMixture(4, verbose=2, verbose_interval=1, random_state=0).fit(blobs[0])
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Iteration 1" in out and "converged" in out


@pytest.mark.parametrize("init_params", ["random_from_data", "k-means++"])
def test_hard_initialization_of_a_tied_covariance(overlapping, init_params):
    # Each component starts on one sample, so the pooled within-component
    # covariance is zero: only reg_covar remains.
    model = GaussianMixture(
        3, covariance_type="tied", init_params=init_params, max_iter=0, random_state=0
    ).fit(overlapping)
    np.testing.assert_allclose(model.covariances_, 1e-6 * np.eye(2), atol=1e-12)


def test_kmeans_initialization_on_a_subsample_of_many_rows():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    X = centers[np.arange(3000) % 3] + rng.normal(size=(3000, 2))
    model = tuned(settings={"kmeans_rows": 200})(3, max_iter=0, random_state=0).fit(X)
    np.testing.assert_allclose(np.sort(model.weights_), [1 / 3] * 3, atol=0.01)
    assert np.abs(np.sort(model.means_[:, 0]) - [0.0, 0.0, 8.0]).max() < 0.2


def test_kmeans_plus_plus_on_a_subsample_starts_on_data_rows():
    X = np.random.default_rng(1).normal(size=(3000, 2))
    subsampled = tuned(settings={"kmeans_rows": 200})
    model = subsampled(3, init_params="k-means++", max_iter=0, random_state=0).fit(X)
    for mean in model.means_:
        assert np.any(np.all(np.isclose(X, mean, rtol=1e-12, atol=1e-12), axis=1))


def test_warm_start_with_no_iterations_keeps_the_lower_bound(blobs):
    X, _ = blobs
    model = GaussianMixture(4, warm_start=True, random_state=0).fit(X)
    lower_bound, means = model.lower_bound_, model.means_.copy()
    model.set_params(max_iter=0).fit(X)
    assert model.lower_bound_ == lower_bound
    np.testing.assert_array_equal(model.means_, means)
