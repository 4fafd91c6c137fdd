"""Whatever the data holds: a fit with finite parameters or a clear ValueError."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sklearn_em import EMImputer, GaussianMixture

from .helpers import COVARIANCE_TYPES, FITTED, blobs3, tuned


@st.composite
def awkward_data(draw):
    """1-200 rows, 1-10 columns, scales 1e-150..1e150, duplicates, constants, NaN."""
    n = draw(st.integers(1, 200))
    d = draw(st.integers(1, 10))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.normal(scale=5, size=(1, d)) * rng.integers(0, 3, (n, 1))
    X *= 10.0 ** draw(st.floats(-150, 150))
    if draw(st.booleans()):
        X[: n // 2] = X[0]  # duplicated rows
    if draw(st.booleans()):
        X[:, rng.integers(d)] = draw(st.floats(-1e6, 1e6))  # a constant column
    nan_fraction = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 0.9]))
    X[rng.random(X.shape) < nan_fraction] = np.nan
    return X


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    X=awkward_data(),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    n_components=st.integers(1, 4),
    acceleration=st.sampled_from([None, "squarem"]),
)
def test_fit_succeeds_with_finite_parameters_or_explains(
    X, covariance_type, n_components, acceleration
):
    model = GaussianMixture(
        n_components,
        covariance_type=covariance_type,
        acceleration=acceleration,
        max_iter=30,
        random_state=0,
    )
    with (
        warnings.catch_warnings(record=True) as caught,
        np.errstate(over="raise", invalid="raise", divide="raise"),
    ):
        warnings.simplefilter("always")
        try:
            model.fit(X)
        except ValueError as error:
            assert len(str(error)) > 20
            event(f"ValueError: {str(error)[:60]}")
            return
    event("fitted")
    assert len(caught) <= 3, [str(w.message) for w in caught]
    for name in FITTED:
        assert np.all(np.isfinite(getattr(model, name))), name
    assert np.isfinite(model.lower_bound_)
    scores = model.score_samples(X)
    assert np.all(np.isfinite(scores))


def _start(X, k=3, covariance_type="full"):
    model = GaussianMixture(k, covariance_type=covariance_type, random_state=0, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return dict(
        weights_init=model.weights_, means_init=model.means_, precisions_init=model.precisions_
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_permuting_rows_permutes_predictions(seed):
    X = blobs3(seed)
    start = _start(X)
    perm = np.random.default_rng(seed).permutation(len(X))
    model = GaussianMixture(3, tol=1e-8, max_iter=300, **start).fit(X)
    permuted = GaussianMixture(3, tol=1e-8, max_iter=300, **start).fit(X[perm])
    np.testing.assert_array_equal(permuted.labels_, model.labels_[perm])
    np.testing.assert_allclose(permuted.means_, model.means_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(permuted.predict_proba(X), model.predict_proba(X), atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    log_scales=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    offsets=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3),
    covariance_type=st.sampled_from(["full", "diag"]),
)
def test_affine_maps_keep_labels_and_shift_the_log_likelihood(
    seed, log_scales, offsets, covariance_type
):
    X = blobs3(seed)
    scales, offsets = 10.0 ** np.array(log_scales), np.array(offsets)
    Y = X * scales + offsets
    model = GaussianMixture(
        3,
        covariance_type=covariance_type,
        reg_covar=0,
        tol=1e-10,
        max_iter=500,
        **_start(X, covariance_type=covariance_type),
    ).fit(X)
    # The same starting point, mapped into the new coordinates.
    mapped = dict(
        weights_init=model.weights_,
        means_init=model.means_ * scales + offsets,
        precisions_init=_scaled_precisions(model.precisions_, scales, covariance_type),
    )
    moved = GaussianMixture(
        3, covariance_type=covariance_type, reg_covar=0, tol=1e-10, max_iter=500, **mapped
    ).fit(Y)
    np.testing.assert_array_equal(moved.predict(Y), model.predict(X))
    log_det = np.log(scales).sum()
    np.testing.assert_allclose(moved.score(Y), model.score(X) - log_det, rtol=1e-7, atol=1e-7)


def _scaled_precisions(precisions, scales, covariance_type):
    if covariance_type == "full":
        return precisions / np.outer(scales, scales)
    return precisions / scales**2


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_a_component_collapsing_on_identical_points(covariance_type):
    X = np.vstack([np.full((6, 2), 20.0), blobs3(1, 200)[:, :2]])
    start = dict(
        weights_init=[0.1, 0.9],
        means_init=[[20.0, 20.0], [1.0, 2.0]],
        precisions_init=np.ones((2, 2))
        if covariance_type == "diag"
        else np.stack([np.eye(2)] * 2),
    )
    handled = GaussianMixture(2, covariance_type=covariance_type, **start).fit(X)
    assert np.all(np.isfinite(handled.covariances_))
    np.testing.assert_allclose(handled.means_[0], [20.0, 20.0])
    with pytest.raises(ValueError, match=r"component\(s\) 0 .*reg_covar"):
        GaussianMixture(2, covariance_type=covariance_type, reg_covar=0, **start).fit(X)


def _standardised(loader):
    X = loader().data
    return (X - X.mean(axis=0)) / X.std(axis=0)


@pytest.fixture(scope="module")
def real_datasets():
    from sklearn.datasets import load_diabetes, load_iris, load_wine

    return [_standardised(loader) for loader in (load_iris, load_wine, load_diabetes)]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 2),
    fraction=st.floats(0.01, 0.7),
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from([np.float32, np.float64]),
    n_components=st.integers(1, 3),
    sample_posterior=st.booleans(),
)
def test_imputer_on_random_masks_keeps_observed_values(
    real_datasets, which, fraction, seed, dtype, n_components, sample_posterior
):
    X = real_datasets[which].astype(dtype)
    rng = np.random.default_rng(seed)
    X[rng.random(X.shape) < fraction] = np.nan
    observed = ~np.isnan(X)
    imputer = EMImputer(
        n_components, sample_posterior=sample_posterior, max_iter=30, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # ConvergenceWarning
        out = imputer.fit_transform(X)
    kept = observed.any(axis=0)
    assert out.dtype == dtype
    assert not np.isnan(out).any()
    assert out.shape == (X.shape[0], kept.sum())
    assert np.array_equal(out[observed[:, kept]], X[:, kept][observed[:, kept]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_joblib_round_trip(tmp_path, dtype):
    import joblib

    X = blobs3().astype(dtype)
    model = GaussianMixture(3, random_state=0).fit(X)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))

    holed = X.copy()
    holed[::3, 1] = np.nan
    imputer = EMImputer(2, random_state=0).fit(holed)
    joblib.dump(imputer, tmp_path / "imputer.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "imputer.joblib").transform(holed), imputer.transform(holed)
    )


def _freeze(estimator):
    """Make every fitted array read-only, so that a write would raise."""
    for value in vars(estimator).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return estimator


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_read_only_memmaps_and_no_writes(covariance_type):
    from sklearn.utils._testing import create_memmap_backed_data

    X = blobs3()
    X[::7, 0] = np.nan
    X_ro = create_memmap_backed_data(X)
    assert not X_ro.flags.writeable
    model = _freeze(GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X_ro))
    model.predict(X_ro)
    model.predict_proba(X_ro)
    model.score_samples(X_ro)
    model.sample(10)
    model.bic(X_ro)
    imputer = EMImputer(2, covariance_type=covariance_type, random_state=0).fit(X_ro)
    _freeze(imputer)
    _freeze(imputer.mixture_)
    imputer.transform(X_ro)
    imputer.set_params(sample_posterior=True).transform(X_ro)
    np.testing.assert_array_equal(np.asarray(X_ro), X)


@pytest.mark.parametrize("acceleration", [None, "squarem"])
def test_interrupting_a_warm_start_fit_keeps_the_previous_fit(monkeypatch, acceleration):
    from sklearn_em import _fit

    X = blobs3()
    model = GaussianMixture(3, warm_start=True, acceleration=acceleration, random_state=0).fit(X)
    before = {name: np.copy(getattr(model, name)) for name in FITTED + ["labels_"]}
    before_scalars = (model.n_iter_, model.lower_bound_, list(model.lower_bounds_))

    calls = {"n": 0}
    original = _fit.EM.step

    def interrupted(self, X, mixture):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, X, mixture)

    monkeypatch.setattr(_fit.EM, "step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.set_params(tol=0, max_iter=50).fit(X + 0.5)
    assert calls["n"] == 3
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    assert (model.n_iter_, model.lower_bound_, list(model.lower_bounds_)) == before_scalars


def test_components_far_apart_relative_to_their_spread():
    # Found by the property above: each component collapses onto one of two
    # samples 1e151 apart, so the expanded quadratic form would overflow.
    X = np.array([[1.8e151, 1.1e151], [-4.1e149, -2.4e150]])
    for covariance_type in COVARIANCE_TYPES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
        for name in FITTED:
            assert np.all(np.isfinite(getattr(model, name))), (covariance_type, name)
        assert sorted(model.labels_) == [0, 1]
        assert np.all(np.isfinite(model.score_samples(X)))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_centred_kernel_agrees_with_the_expanded_form(covariance_type):
    X = blobs3(3)
    X[::5, 2] = np.nan
    start = _start(np.nan_to_num(X), covariance_type=covariance_type)
    common = dict(covariance_type=covariance_type, tol=0, max_iter=10, acceleration=None, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expanded = tuned(family={"kernel": "design"})(3, **common).fit(X)
        direct = tuned(family={"kernel": "centred"})(3, **common).fit(X)
    np.testing.assert_allclose(direct.means_, expanded.means_, rtol=1e-9)
    np.testing.assert_allclose(direct.covariances_, expanded.covariances_, rtol=1e-8)
    np.testing.assert_allclose(direct.lower_bounds_, expanded.lower_bounds_, rtol=1e-11)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    log_scale=st.floats(-8, 8),
    offset=st.floats(-1e3, 1e3),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    n_components=st.integers(1, 4),
)
def test_float32_fits_wherever_float64_does(
    seed, log_scale, offset, covariance_type, n_components
):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4, size=(3, 3))
    X = (centers[rng.integers(3, size=300)] + rng.normal(size=(300, 3))) * 10.0**log_scale
    X += offset * 10.0**log_scale
    X[rng.random(X.shape) < 0.05] = np.nan
    common = dict(covariance_type=covariance_type, random_state=0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            double = GaussianMixture(n_components, **common).fit(X)
        except ValueError:
            event("float64 raised")
            return
        single = GaussianMixture(n_components, **common).fit(X.astype(np.float32))
    for name in FITTED:
        assert np.all(np.isfinite(getattr(single, name))), name
    # The same model to float32 precision, judged by the float64 likelihood.
    X64 = X.astype(np.float32).astype(np.float64)
    gap = double.score(X64) - single.score(X64)
    event(f"log-likelihood gap {'< 1e-3' if abs(gap) < 1e-3 else '>= 1e-3'}")
    assert gap < 1e-2


def test_a_failed_refit_leaves_every_fitted_attribute_as_it_was():
    X = blobs3()
    model = GaussianMixture(3, random_state=0).fit(X)
    before = {name: np.copy(value) for name, value in vars(model).items() if name.endswith("_")}
    collapsed = np.repeat(np.random.default_rng(0).normal(size=(3, 4)), 5, axis=0)
    start = dict(means_init=collapsed[::5], precisions_init=np.stack([np.eye(4)] * 3))
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        model.set_params(reg_covar=0.0, **start).fit(collapsed)
    after = {name: value for name, value in vars(model).items() if name.endswith("_")}
    assert after.keys() == before.keys()
    assert model.n_features_in_ == X.shape[1]
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"n_components": 4}, "n_components=3 and covariance_type='full'; got n_components=4"),
        ({"covariance_type": "diag"}, "got n_components=3 and covariance_type='diag'"),
    ],
)
def test_a_warm_start_with_other_settings_says_what_changed(change, match):
    X = blobs3()
    model = GaussianMixture(3, warm_start=True, random_state=0).fit(X)
    with pytest.raises(ValueError, match=match + ".*warm_start=False"):
        model.set_params(**change).fit(X)
    model.set_params(warm_start=False).fit(X)  # the advice works
    assert model.means_.shape[0] == model.n_components


def test_a_warm_start_on_other_features_is_refused_and_keeps_the_fit():
    X = blobs3()
    model = GaussianMixture(3, warm_start=True, random_state=0).fit(X)
    means = model.means_.copy()
    with pytest.raises(ValueError, match=f"which has {X.shape[1]} features.*warm_start=False"):
        model.fit(np.hstack([X, X]))
    np.testing.assert_array_equal(model.means_, means)
    model.sample(3)  # still a usable mixture


def test_sampling_repeats_across_runs_and_draws_afresh_per_call():
    X = blobs3()

    def two_calls():
        model = GaussianMixture(3, random_state=0).fit(X)
        return model.sample(5)[0], model.sample(5)[0]

    first, second = two_calls()
    again_first, again_second = two_calls()  # as a script run again would
    np.testing.assert_array_equal(first, again_first)
    np.testing.assert_array_equal(second, again_second)
    assert not np.allclose(first, second)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_first_sample_after_fit_is_sklearns(covariance_type):
    from sklearn.mixture import GaussianMixture as SklearnMixture

    X = blobs3()
    common = dict(covariance_type=covariance_type, random_state=3)
    ours = GaussianMixture(3, acceleration=None, **common).fit(X)
    theirs = SklearnMixture(3, **common).fit(X)
    draws, labels = ours.sample(50)
    their_draws, their_labels = theirs.sample(50)
    np.testing.assert_array_equal(labels, their_labels)
    np.testing.assert_allclose(draws, their_draws, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_in_gives_float32_parameters(covariance_type):
    X = blobs3().astype(np.float32)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    for name in FITTED:
        assert getattr(model, name).dtype == np.float32, name
    assert model.predict_proba(X).dtype == np.float32
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def test_float32_parameters_past_its_range_stay_float64_with_a_warning():
    X = (blobs3() * 1e24).astype(np.float32)  # variances near 1e48 > float32's 3e38
    with pytest.warns(UserWarning, match="exceed the range of float32.*kept in float64"):
        model = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    for name in FITTED:
        value = getattr(model, name)
        assert value.dtype == np.float64 and np.all(np.isfinite(value)), name
