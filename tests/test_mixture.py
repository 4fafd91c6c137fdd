"""GaussianMixture against scikit-learn, closed forms and its own promises."""

import pickle

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from sklearn_em import GaussianMixture
from sklearn_em._monitor import ConvergenceMonitor

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
        init_params="random",
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
    common = dict(covariance_type=covariance_type, max_iter=5000, **start)
    # Compared at about the same final gap, not the same tol: plain EM's
    # rule at 1e-9 stops where the gap rule at 1e-9 has long gone past.
    plain = GaussianMixture(3, acceleration=None, tol=1e-12, **common).fit(overlapping)
    fast = GaussianMixture(3, acceleration="squarem", tol=1e-9, **common).fit(overlapping)
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
    with pytest.raises(ValueError, match="Invalid value for 'n_samples'.*positive integer"):
        model.sample(0)


def test_fewer_samples_than_components():
    X = np.random.default_rng(0).normal(size=(3, 2))
    with pytest.raises(ValueError, match="n_components = 5, n_samples = 3.*Reduce n_components"):
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
    with pytest.raises(ValueError, match="'weights' should be normalized.*divide weights_init"):
        GaussianMixture(2, weights_init=[0.7, 0.7]).fit(X)
    with pytest.raises(ValueError, match=r"range \[0, 1\], but got min value -0.50000, max"):
        GaussianMixture(2, weights_init=[-0.5, 1.5]).fit(X)
    with pytest.raises(ValueError, match=r"'means' should have the shape of \(2, 3\).*means_init"):
        GaussianMixture(2, means_init=np.zeros((2, 2))).fit(X)
    with pytest.raises(ValueError, match="means_init must hold numbers"):
        GaussianMixture(2, means_init=[["a", "b", "c"], [1, 2, 3]]).fit(X)
    with pytest.raises(ValueError, match="'diag precision' should be positive.*precisions_init"):
        GaussianMixture(2, covariance_type="diag", precisions_init=-np.ones((2, 3))).fit(X)
    not_symmetric = np.stack([np.eye(3), np.eye(3) + np.triu(np.ones((3, 3)), 1)])
    with pytest.raises(ValueError, match="'full precision' should be symmetric, positive-def"):
        GaussianMixture(2, precisions_init=not_symmetric).fit(X)


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
def test_fitted_attributes_have_scikit_learns_types(blobs, dtype):
    X = blobs[0].astype(dtype)
    ours = GaussianMixture(3, acceleration=None, random_state=0).fit(X)
    theirs = SklearnMixture(3, random_state=0).fit(X)
    for name in ("lower_bound_", "n_iter_", "converged_"):
        assert type(getattr(ours, name)) is type(getattr(theirs, name)), name
    assert {type(bound) for bound in ours.lower_bounds_} == {type(theirs.lower_bounds_[0])}
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(ours, name).dtype == getattr(theirs, name).dtype, name
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=1e-6)


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


INIT_PARAMS = ["kmeans", "k-means++", "random", "random_from_data"]


@pytest.mark.parametrize("init_params", INIT_PARAMS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_seed_gives_sklearns_start(overlapping, covariance_type, init_params):
    common = dict(covariance_type=covariance_type, init_params=init_params, max_iter=0)
    theirs = SklearnMixture(3, random_state=7, **common).fit(overlapping)
    ours = GaussianMixture(3, random_state=7, **common).fit(overlapping)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-9, atol=1e-12)
    # scikit-learn leaves a hard start's weights as counts over n_samples.
    np.testing.assert_allclose(ours.weights_, theirs.weights_ / theirs.weights_.sum())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("init_params", INIT_PARAMS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_seed_gives_sklearns_model(covariance_type, init_params):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(600, centers=4, n_features=3, random_state=1, cluster_std=1.5)
    common = dict(covariance_type=covariance_type, init_params=init_params, n_init=2)
    theirs = SklearnMixture(4, random_state=0, **common).fit(X)
    ours = GaussianMixture(4, random_state=0, acceleration=None, **common).fit(X)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.lower_bounds_[1:], theirs.lower_bounds_[1:], rtol=1e-9)
    # A hard start's weights are 1/k here, (1/n_samples each) in scikit-learn:
    # its first bound is lower by log(n_samples / k). Both give the same update.
    # Its components have variance reg_covar, and scikit-learn expands the
    # 'diag' and 'spherical' squares, which loses ~1e-7 of that bound.
    hard = init_params in ("k-means++", "random_from_data")
    offset = np.log(X.shape[0] / 4) if hard else 0.0
    rtol = 1e-6 if hard else 1e-9
    np.testing.assert_allclose(ours.lower_bounds_[0] - offset, theirs.lower_bounds_[0], rtol=rtol)
    # Same optimum; the component order too, unless two restarts tie to rounding.
    order = np.argsort(ours.means_[:, 0])
    np.testing.assert_allclose(
        ours.means_[order], theirs.means_[np.argsort(theirs.means_[:, 0])], rtol=1e-6
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_component_from_a_seed_skips_kmeans_and_gives_sklearns_model(
    overlapping, covariance_type, monkeypatch
):
    holed = overlapping.copy()
    holed[::7, 0] = np.nan
    common = dict(covariance_type=covariance_type, n_init=2, acceleration=None)
    # A RandomState the user holds: k-means runs, and draws from it as scikit-learn's does.
    ours_rng, their_rng = np.random.RandomState(3), np.random.RandomState(3)
    ours = GaussianMixture(1, random_state=ours_rng, **common).fit(overlapping)
    theirs = SklearnMixture(1, random_state=their_rng, covariance_type=covariance_type, n_init=2)
    theirs.fit(overlapping)
    assert ours_rng.randint(2**30) == their_rng.randint(2**30)
    # A seed: the same model without k-means (its one cluster holds every row).
    import sklearn_em._init

    class NoKMeans:
        def __init__(self, *args, **kwargs):
            raise AssertionError("k-means ran for one component from a seed")

    monkeypatch.setattr(sklearn_em._init, "KMeans", NoKMeans)
    seeded = GaussianMixture(1, random_state=3, **common).fit(overlapping)
    np.testing.assert_array_equal(seeded.means_, ours.means_)
    np.testing.assert_array_equal(seeded.covariances_, ours.covariances_)
    np.testing.assert_allclose(seeded.means_, theirs.means_, rtol=1e-12)
    # ...and with missing values.
    seeded = GaussianMixture(1, random_state=3, **common).fit(holed)
    monkeypatch.undo()
    drawing = GaussianMixture(1, random_state=np.random.RandomState(3), **common).fit(holed)
    np.testing.assert_array_equal(seeded.means_, drawing.means_)
    assert seeded.lower_bounds_ == drawing.lower_bounds_


def test_restarts_tie_only_to_rounding_when_the_order_differs():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(600, centers=4, n_features=3, random_state=1, cluster_std=1.5)
    for covariance_type in COVARIANCE_TYPES:
        for seed in range(2):
            common = dict(covariance_type=covariance_type, n_init=2, random_state=seed)
            theirs = SklearnMixture(4, **common).fit(X)
            ours = GaussianMixture(4, acceleration=None, **common).fit(X)
            if not np.allclose(ours.means_, theirs.means_, rtol=1e-6):
                assert abs(ours.lower_bound_ - theirs.lower_bound_) < 1e-12


def test_warm_start_with_no_iterations_keeps_the_lower_bound(blobs):
    X, _ = blobs
    model = GaussianMixture(4, warm_start=True, random_state=0).fit(X)
    lower_bound, means = model.lower_bound_, model.means_.copy()
    model.set_params(max_iter=0).fit(X)
    assert model.lower_bound_ == lower_bound
    np.testing.assert_array_equal(model.means_, means)


def test_a_complete_user_start_is_used_as_given_and_draws_nothing(blobs):
    X, _ = blobs
    rng = np.random.RandomState(0)
    state = rng.get_state()[1].copy()
    start = dict(
        weights_init=np.full(4, 0.25),
        means_init=X[:4],
        precisions_init=np.stack([np.eye(3) * (j + 1) for j in range(4)]),
    )
    model = GaussianMixture(4, max_iter=0, random_state=rng, **start).fit(X)
    np.testing.assert_array_equal(rng.get_state()[1], state)  # no k-means was run
    np.testing.assert_allclose(model.weights_, start["weights_init"])
    np.testing.assert_allclose(model.means_, start["means_init"])
    np.testing.assert_allclose(model.precisions_, start["precisions_init"], rtol=1e-12)


def test_weights_of_the_wrong_shape_name_it(blobs):
    with pytest.raises(ValueError, match=r"'weights' should have the shape of \(2,\), but got"):
        GaussianMixture(2, weights_init=np.full((2, 1), 0.5)).fit(blobs[0])


class _OtherNamespaceArray:
    """The least an array of a non-NumPy array API namespace shows."""

    shape = (10, 2)

    def __array_namespace__(self, api_version=None):
        import types

        return types.ModuleType("other_xp")


def test_array_api_dispatch_with_numpy_works_and_other_namespaces_are_refused(blobs):
    import sklearn

    X, _ = blobs
    with sklearn.config_context(array_api_dispatch=True):
        labels = GaussianMixture(4, random_state=0).fit(X).labels_
        with pytest.raises(TypeError, match="computes with NumPy.*'other_xp'.*np.asarray"):
            GaussianMixture(4).fit(_OtherNamespaceArray())
    np.testing.assert_array_equal(labels, GaussianMixture(4, random_state=0).fit(X).labels_)
