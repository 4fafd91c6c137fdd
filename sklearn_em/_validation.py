"""Checks of what a user passes in, each failing with a message that names the fix."""

import numpy as np
from sklearn.utils._array_api import get_namespace
from sklearn.utils.validation import validate_data

from . import _dask
from ._blocks import row_chunks


def validate_with_nan(estimator, X, **kwargs):
    """``validate_data`` that lets NaN through (it is missing data) and explains inf.

    A Dask collection stays a lazy Dask array (``_dask.validated``); with
    ``rows_counted=False`` (to score), its chunks' sizes may stay unknown.
    """
    rows_counted = kwargs.pop("rows_counted", True)
    if _dask.is_dask_collection(X):
        return _dask.validated(estimator, X, rows_counted=rows_counted, **kwargs)
    check_numpy_namespace(X)
    X = validate_data(
        estimator, X, dtype=[np.float64, np.float32], ensure_all_finite=False, **kwargs
    )
    n_inf = sum(np.count_nonzero(np.isinf(X[rows])) for rows in row_chunks(X.shape[0]))
    if n_inf:
        raise ValueError(
            f"Input X contains infinity (inf) in {n_inf} entries. NaN marks a missing "
            "value, but inf is not data: replace it with NaN to treat it as missing, "
            "or with a finite value."
        )
    return X


def check_numpy_namespace(X):
    """Refuse arrays of other array API namespaces: the core computes with NumPy."""
    namespace = get_namespace(X)[0].__name__
    if namespace.split(".")[-1] != "numpy":
        raise TypeError(
            f"sklearn_em computes with NumPy, but X is an array of the {namespace!r} "
            "namespace (array_api_dispatch=True). Pass a NumPy array, for example "
            "np.asarray(X) for data on the CPU, or turn array_api_dispatch off."
        )


def check_every_feature_observed(X, weights=None):
    """Refuse features without an observed value (and, for Dask input,
    infinities); ``weights`` (Dask input): only rows of positive weight count."""
    if _dask.is_dask_collection(X):
        observed = _dask.check_fit_data(X, weights)
    else:
        observed = np.zeros(X.shape[1], dtype=bool)
        for rows in row_chunks(X.shape[0]):
            observed |= ~np.isnan(X[rows]).all(axis=0)
    empty = np.flatnonzero(~observed)
    if empty.size:
        raise ValueError(
            f"Feature(s) {', '.join(map(str, empty))} have no observed value, so the "
            "mixture cannot be estimated along them. Drop these columns first "
            "(EMImputer drops them for you)."
        )


def check_enough_samples(n_samples, n_components):
    if n_samples < n_components:
        raise ValueError(
            "Expected n_samples >= n_components but got "
            f"n_components = {n_components}, n_samples = {n_samples}: a mixture "
            "needs at least as many samples as components. Reduce n_components or "
            "provide more samples."
        )


def user_start(estimator, family, n_features):
    """The validated initial weights, means and covariances (from precisions),
    None for each the estimator leaves to ``init_params``.

    Messages begin as scikit-learn's do, so that code matching them still works.
    """
    k = estimator.n_components
    weights = means = covariances = None
    if estimator.weights_init is not None:
        weights = as_float_array(estimator.weights_init, "weights_init", "weights", (k,))
        if np.any(weights < 0) or np.any(weights > 1):
            raise ValueError(
                "The parameter 'weights' should be in the range [0, 1], but got min "
                f"value {weights.min():.5f}, max value {weights.max():.5f}: check "
                "weights_init."
            )
        # scikit-learn's tolerance, which depends on the dtype given.
        atol = 1e-6 if np.asarray(estimator.weights_init).dtype == np.float32 else 1e-8
        if not abs(1.0 - weights.sum()) <= atol:
            raise ValueError(
                "The parameter 'weights' should be normalized, but got sum(weights) = "
                f"{weights.sum():.5f}: divide weights_init by its sum."
            )
    if estimator.means_init is not None:
        means = as_float_array(estimator.means_init, "means_init", "means", (k, n_features))
    if estimator.precisions_init is not None:
        label = f"{estimator.covariance_type} precision"
        shape = family.precisions_shape(k, n_features)
        precisions = as_float_array(estimator.precisions_init, "precisions_init", label, shape)
        covariances = family.covariances_from_precisions(precisions, label)
    return weights, means, covariances


def as_float_array(value, parameter, label, shape):
    """``value`` as a float64 array of ``shape``; ``label`` is scikit-learn's name for it."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{parameter} must hold numbers, shaped {shape}; got {value!r}."
        ) from None
    if array.shape != shape:
        raise ValueError(
            f"The parameter '{label}' should have the shape of {shape}, but got "
            f"{array.shape}: check {parameter}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{parameter} must be finite; it holds NaN or inf.")
    return array


def check_spread_fits(X, columns=None):
    """Refuse features spread too far for a covariance in float64 to hold.

    Where the squared deviations from a feature's mean sum past float64's
    range, every covariance is infinite and the fit would fail later, with
    an error about a singular covariance or about a prior the user never
    gave. ``columns`` name the features in the user's data (by default
    ``0, 1, ...``).
    """
    too_far = []
    with np.errstate(over="ignore", invalid="ignore"):
        for j, column in enumerate(X.T):
            observed = column[~np.isnan(column)].astype(np.float64)
            if observed.size and not np.isfinite(np.sum((observed - observed.mean()) ** 2)):
                too_far.append(j)
    if too_far:
        names = np.arange(X.shape[1]) if columns is None else np.asarray(columns)
        raise ValueError(
            f"Feature(s) {', '.join(str(names[j]) for j in too_far)} spread too far for "
            "float64: the squares of their deviations from the mean overflow, so no "
            "covariance can hold them. Rescale those features first, e.g. with "
            "sklearn.preprocessing.StandardScaler, or take logarithms of positive data."
        )
