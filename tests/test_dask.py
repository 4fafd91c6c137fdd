"""Dask arrays and DataFrames on a real distributed cluster (the ``dask_client`` fixture).

Oracle: the NumPy fit of the same rows from the same start. A pass on Dask
sums each chunk's statistics in another order, so fits agree to rounding
(1e-10 relative), whatever the chunking.
"""

import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sklearn_em import EMImputer, GaussianMixture, GaussianMixtureIC
from sklearn_em._sample_weight import validated_sample_weight

from .helpers import COVARIANCE_TYPES, FITTED, start_after_one_step

da = pytest.importorskip("dask.array")
pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

# Uneven chunks: a one-row chunk, a chunk (rows 150-159) that will hold only NaN, an empty one.
CHUNKS = (1, 149, 10, 0, 240, 100)


def three_clusters(with_nan, n=500, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [5.0, 1.0, 0.0], [0.0, 5.0, 3.0]])
    X = centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 3))
    if with_nan:
        X[rng.random(X.shape) < 0.15] = np.nan
        X[150:160] = np.nan  # one whole chunk of rows with nothing observed
    return X


def chunked(X, chunks=CHUNKS):
    return da.from_array(X, chunks=(chunks, X.shape[1]))


def assert_same_fit(ours, theirs, rtol=1e-10):
    for name in FITTED:
        expected = getattr(theirs, name)
        scale = np.abs(expected).max()
        np.testing.assert_allclose(getattr(ours, name), expected, rtol=0, atol=rtol * scale)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=rtol)


@pytest.mark.parametrize("with_nan", [False, True], ids=["complete", "nan"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_plain_em_from_one_start_equals_numpy(dask_client, covariance_type, with_nan):
    X = three_clusters(with_nan)
    weights, means, _, precisions = start_after_one_step(X, 3, covariance_type)
    settings = dict(
        covariance_type=covariance_type,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        acceleration=None,
        tol=0.0,
        max_iter=15,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = GaussianMixture(3, **settings).fit(X)
        ours = GaussianMixture(3, **settings).fit(chunked(X))
    assert_same_fit(ours, expected)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"n_init": 2, "init_params": "k-means++"},
        {"init_params": "random_from_data", "covariance_type": "diag"},
        {"prior": "conjugate"},
        {"init_params": "k-means++-search"},
    ],
    ids=["defaults", "n_init", "random_from_data", "prior", "search"],
)
def test_default_fit_from_a_seed_equals_numpy(dask_client, settings):
    # Fewer rows than a Dask start samples: the start is the in-memory one.
    X = three_clusters(with_nan=True)
    expected = GaussianMixture(3, random_state=0, **settings).fit(X)
    ours = GaussianMixture(3, random_state=0, **settings).fit(chunked(X))
    assert_same_fit(ours, expected)


def test_sample_weight_equals_numpy(dask_client):
    X = three_clusters(with_nan=True)
    weights = np.random.default_rng(1).integers(0, 3, X.shape[0]).astype(float)
    expected = GaussianMixture(3, random_state=0).fit(X, sample_weight=weights)
    ours = GaussianMixture(3, random_state=0).fit(chunked(X), sample_weight=weights)
    assert_same_fit(ours, expected)


def test_dask_weights_stay_lazy_and_equal_numpy_weights(dask_client):
    X = three_clusters(with_nan=True)
    weights = np.random.default_rng(1).integers(0, 3, X.shape[0]).astype(float)
    expected = GaussianMixture(3, random_state=0).fit(X, sample_weight=weights)
    lazy = da.from_array(weights, chunks=100)  # not the rows' chunks
    series = dd.from_pandas(pd.Series(weights), npartitions=3)
    for dask_weights in (lazy, series):
        ours = GaussianMixture(3, random_state=0).fit(chunked(X), sample_weight=dask_weights)
        assert_same_fit(ours, expected)
    selector = GaussianMixtureIC(3, random_state=0)
    in_memory = clone(selector).fit(X, sample_weight=weights).criterion_
    on_dask = selector.fit(chunked(X), sample_weight=lazy).criterion_
    assert on_dask["n_iter"] == in_memory["n_iter"]
    np.testing.assert_allclose(on_dask["bic"], in_memory["bic"], rtol=1e-10)
    assert isinstance(validated_sample_weight(lazy, chunked(X), 3), da.Array)


@pytest.mark.parametrize(
    "weights, message",
    [
        (np.r_[np.ones(499), -1.0], "1 negative"),
        (np.r_[np.ones(498), np.nan, np.inf], "2 NaN or infinite"),
        (np.zeros(500), "zero on every row"),
        (np.r_[np.ones(2), np.zeros(498)], "2 row\\(s\\) a positive weight, fewer than"),
        (np.ones(499), "shape \\(499,\\), but X has 500 rows"),
        (np.array(["a"] * 500), "weights must be numbers"),
    ],
    ids=["negative", "not-finite", "all-zero", "too-few", "length", "strings"],
)
def test_dask_weights_are_checked_on_the_cluster(dask_client, weights, message):
    X = chunked(three_clusters(with_nan=False))
    with pytest.raises(ValueError, match=message):
        GaussianMixture(3).fit(X, sample_weight=da.from_array(weights, chunks=100))


def test_dask_weights_of_unknown_length_are_refused(dask_client):
    X = chunked(three_clusters(with_nan=False))
    weights = da.ones(500, chunks=100)
    unknown = weights[weights > 0]  # chunk sizes unknown until computed
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        GaussianMixture(3).fit(X, sample_weight=unknown)


def test_float32_stays_float32(dask_client):
    X = three_clusters(with_nan=True).astype(np.float32)
    expected = GaussianMixture(3, random_state=0).fit(X)
    ours = GaussianMixture(3, random_state=0).fit(chunked(X))
    assert ours.means_.dtype == np.float32
    np.testing.assert_allclose(ours.means_, expected.means_, rtol=1e-5, atol=1e-5)
    assert ours.predict_proba(chunked(X)).dtype == np.float32


def test_warm_start_continues_on_dask(dask_client):
    X = three_clusters(with_nan=False)
    settings = dict(random_state=0, acceleration=None, max_iter=2, warm_start=True)
    expected, ours = GaussianMixture(3, **settings), GaussianMixture(3, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            expected.fit(X)
            ours.fit(chunked(X))
    assert_same_fit(ours, expected)


def test_outputs_are_lazy_and_equal_numpy(dask_client, monkeypatch):
    X = three_clusters(with_nan=True)
    model = GaussianMixture(3, random_state=0).fit(X)
    X_dask = chunked(X)

    def refuse(*args, **kwargs):
        raise AssertionError("computed while building a lazy output")

    import dask

    with dask.config.set(scheduler=refuse):
        outputs = {
            "predict": model.predict(X_dask),
            "predict_proba": model.predict_proba(X_dask),
            "score_samples": model.score_samples(X_dask),
        }
    for name, lazy in outputs.items():
        assert isinstance(lazy, da.Array), name
        assert lazy.chunks[0] == X_dask.chunks[0], name
        np.testing.assert_allclose(lazy.compute(), getattr(model, name)(X), rtol=1e-12)
    assert model.score(X_dask) == pytest.approx(model.score(X), rel=1e-12)
    assert model.bic(X_dask) == pytest.approx(model.bic(X), rel=1e-12)
    assert model.aic(X_dask) == pytest.approx(model.aic(X), rel=1e-12)


def test_frames_and_the_imputer_give_lazy_outputs_too(dask_client):
    import dask

    X = three_clusters(with_nan=True)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=3)
    model = GaussianMixture(3, random_state=0).fit(frame)
    imputer = EMImputer(random_state=0).fit(frame)

    def refuse(*args, **kwargs):
        raise AssertionError("computed while building a lazy output")

    with dask.config.set(scheduler=refuse):
        labels = model.predict(frame)
        completed = imputer.transform(frame)
    np.testing.assert_array_equal(labels.compute(), model.labels_.compute())
    assert completed.compute().shape == X.shape


def test_pickled_and_loaded_back(dask_client):
    import pickle

    X = three_clusters(with_nan=True)
    model = GaussianMixture(3, random_state=0).fit(chunked(X))
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(chunked(X)).compute())
    np.testing.assert_array_equal(loaded.labels_.compute(), model.labels_.compute())


def test_dataframes_keep_feature_names(dask_client):
    X = three_clusters(with_nan=True)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    ours = GaussianMixture(3, random_state=0).fit(dd.from_pandas(frame, npartitions=3))
    expected = GaussianMixture(3, random_state=0).fit(frame)
    assert list(ours.feature_names_in_) == ["a", "b", "c"]
    assert_same_fit(ours, expected)
    renamed = dd.from_pandas(frame.rename(columns={"a": "z"}), npartitions=2)
    with pytest.raises(ValueError, match="feature names"):
        ours.predict(renamed)
    labels = ours.predict(dd.from_pandas(frame, npartitions=2))
    np.testing.assert_array_equal(labels.compute(), expected.predict(frame))


def test_selection_by_bic_on_dask(dask_client):
    X = three_clusters(with_nan=False, n=300)
    settings = dict(n_components=[2, 3, 4], covariance_type=["full", "diag"], random_state=0)
    expected = GaussianMixtureIC(**settings).fit(X)
    ours = GaussianMixtureIC(**settings).fit(chunked(X, (100, 100, 100)))
    assert ours.best_params_ == expected.best_params_
    np.testing.assert_allclose(ours.criterion_["bic"], expected.criterion_["bic"], rtol=1e-10)
    np.testing.assert_array_equal(ours.labels_.compute(), expected.labels_)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda X: da.from_array(X, chunks=(100, 2)), None),
        (lambda X: chunked(X)[da.from_array(X[:, 0]) > 0], "compute_chunk_sizes"),
        (
            lambda X: dd.from_pandas(
                pd.DataFrame({"a": X[:, 0], "b": ["x"] * len(X), "c": X[:, 2]}), npartitions=2
            ),
            "Column\\(s\\) b",
        ),
        (lambda X: chunked(np.where(np.arange(len(X))[:, None] == 7, np.inf, X)), "inf"),
    ],
    ids=["chunked-columns", "unknown-rows", "text-column", "infinity"],
)
def test_bad_dask_input_says_what_to_do(dask_client, make, message):
    X = three_clusters(with_nan=False)
    if message is None:  # chunks along the columns are merged, not refused
        ours = GaussianMixture(3, random_state=0).fit(make(X))
        assert_same_fit(ours, GaussianMixture(3, random_state=0).fit(X))
        return
    with pytest.raises(ValueError, match=message):
        GaussianMixture(3, random_state=0).fit(make(X))


def test_a_start_drawn_from_a_row_sample_does_not_depend_on_chunks():
    from sklearn_em._fit import start_rows

    X = three_clusters(with_nan=False, n=1000)
    samples = [
        start_rows(chunked(X, chunks), None, np.random.RandomState(0), n_rows=50)[0]
        for chunks in [(1000,), (1, 499, 500), (300, 300, 400)]
    ]
    for sample in samples[1:]:
        np.testing.assert_array_equal(sample, samples[0])
    assert samples[0].shape == (50, 3)


def test_without_dask_the_error_names_the_extra(monkeypatch):
    X = chunked(three_clusters(with_nan=False))
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r'pip install "sklearn-em\[dask\]"'):
        GaussianMixture(3).fit(X)


def test_imputer_on_dask_equals_numpy_and_keeps_observed_values(dask_client):
    X = three_clusters(with_nan=True)
    expected = EMImputer(random_state=0).fit(X)
    imputer = EMImputer(random_state=0).fit(chunked(X))
    lazy = imputer.transform(chunked(X))
    assert isinstance(lazy, da.Array) and lazy.chunks[0] == CHUNKS
    completed = lazy.compute()
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(completed[observed], X[observed])  # bit for bit
    assert not np.isnan(completed).any()
    np.testing.assert_allclose(completed, expected.transform(X), rtol=1e-10, atol=1e-10)


def test_imputer_continues_on_every_row_after_choosing_on_a_sample(dask_client):
    from sklearn_em import _dask_impute

    X = three_clusters(with_nan=True, n=1200, seed=2)
    X_dask = chunked(X, (600, 600))
    imputer = EMImputer(random_state=0, max_iter=200)
    _dask_impute.fit(imputer, X_dask, np.random.RandomState(0), n_sampled=300)
    # The chosen mixture, continued on all the rows, is a fixed point of EM on them:
    # the in-memory fit of all the rows from it moves nowhere.
    settings = imputer.mixture_.get_params()
    in_memory = GaussianMixture(**{**settings, "warm_start": False}).set_params(
        weights_init=imputer.mixture_.weights_,
        means_init=imputer.mixture_.means_,
        precisions_init=imputer.mixture_.precisions_,
        acceleration=None,
        max_iter=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory.fit(X)
    np.testing.assert_allclose(in_memory.means_, imputer.mixture_.means_, atol=1e-3)
    assert imputer.mixture_.converged_
    # That pass ran at the imputer's settings, not the choice's looser ones.
    assert imputer.mixture_.tol == imputer.tol
    assert imputer.mixture_.acceleration == imputer.acceleration
    completed = imputer.transform(X_dask).compute()
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(completed[observed], X[observed])


def test_imputer_with_a_number_for_missing_on_dask(dask_client):
    X = three_clusters(with_nan=True)
    X[150:160] = X[140:150]
    marked = np.where(np.isnan(X), -1.0, X)
    expected = EMImputer(missing_values=-1.0, random_state=0).fit_transform(marked)
    ours = EMImputer(missing_values=-1.0, random_state=0).fit(chunked(marked))
    np.testing.assert_allclose(ours.transform(chunked(marked)).compute(), expected, rtol=1e-10)


def test_imputer_refuses_posterior_draws_on_dask(dask_client):
    X = chunked(three_clusters(with_nan=True))
    with pytest.raises(ValueError, match="sample_posterior=True is not supported for Dask"):
        EMImputer(sample_posterior=True).fit(X)
    with pytest.raises(ValueError, match="in memory"):
        EMImputer().fit_transform_multiple(X)


def test_nothing_imports_dask_without_a_dask_input():
    import subprocess

    script = (
        "import sys, numpy as np; from sklearn_em import EMImputer, GaussianMixture;"
        "X = np.random.default_rng(0).normal(size=(60, 3)); X[::5, 1] = np.nan;"
        "GaussianMixture(2).fit(X).predict(X); EMImputer().fit_transform(X);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_imputer_on_dask_takes_the_data_not_the_sample(dask_client):
    from sklearn_em import _dask_impute

    X = three_clusters(with_nan=True, n=1200, seed=3)
    X[:, 2] = np.nan
    X[1100, 2] = 7.0  # observed once, outside any small sample
    X[50, 0] = -40.0  # the data's smallest observed value in column 0
    imputer = EMImputer(random_state=0, add_indicator=True, min_value="observed")
    _dask_impute.fit(imputer, chunked(X, (600, 600)), np.random.RandomState(0), n_sampled=100)
    assert not imputer._empty_features.any()  # column 2 is observed, so it is kept
    assert imputer._observed_range[0][0] == -40.0
    completed = imputer.transform(chunked(X, (600, 600))).compute()
    assert completed.shape == (1200, 6)  # every column, and an indicator for each
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(completed[:, :3][observed], X[observed])
    assert not hasattr(imputer.mixture_, "labels_")  # no graph of the data in transforms


def test_dask_input_errors_name_the_problem(dask_client):
    X = three_clusters(with_nan=False)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=2)
    with pytest.raises(ValueError, match="2-D"):
        GaussianMixture(2).fit(frame["a"])
    with pytest.raises(ValueError, match="Complex"):
        GaussianMixture(2).fit(chunked(X.astype(complex)))
    with pytest.raises(ValueError, match="0 feature"):
        GaussianMixture(2).fit(chunked(X[:, :0]))
    weights = np.ones(len(X))
    weights[:5] = 0.0
    hidden = X.copy()
    hidden[5:, 2] = np.nan  # column 2 observed only in rows of weight zero
    with pytest.raises(ValueError, match="Feature\\(s\\) 2 have no observed value"):
        GaussianMixture(2).fit(chunked(hidden), sample_weight=weights)
    imputer = EMImputer().fit(chunked(np.where(np.arange(500)[:, None] % 9 == 0, np.nan, X)))
    with pytest.raises(ValueError, match="inf"):
        imputer.transform(chunked(np.where(np.arange(500)[:, None] == 3, np.inf, X))).compute()
    with pytest.raises(ValueError, match="set_output"):
        imputer.set_output(transform="pandas").transform(chunked(X))


def test_data_is_persisted_only_when_it_fits(dask_client):
    from distributed import Future

    from sklearn_em._dask import persisted_if_it_fits

    small = chunked(three_clusters(with_nan=False))
    huge = da.zeros((10**12, 8), chunks=(10**8, 8))  # 64 TB, never computed
    weights = da.ones(10**12, chunks=10**8)  # 8 TB: too large as well
    kept_small, kept_huge, kept_weights, nothing = persisted_if_it_fits(small, huge, weights, None)
    graph = dict(kept_small.__dask_graph__())
    assert graph and all(isinstance(value, Future) for value in graph.values())
    assert kept_huge is huge and kept_weights is weights and nothing is None
    np.testing.assert_array_equal(kept_small.compute(), small.compute())
