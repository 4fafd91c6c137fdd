"""Checks of what a user passes in, each failing with a message that names the fix."""

import numpy as np
from sklearn.utils.validation import validate_data

from ._blocks import row_chunks


def validate_with_nan(estimator, X, **kwargs):
    """``validate_data`` that lets NaN through (it is missing data) and explains inf."""
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


def check_every_feature_observed(X):
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
            f"Got n_samples={n_samples} but n_components={n_components}: "
            "a mixture needs at least as many samples as components. "
            "Reduce n_components or provide more samples."
        )


def user_start(estimator, family, n_features):
    """The validated initial weights, means and covariances (from precisions),
    None for each the estimator leaves to ``init_params``."""
    k = estimator.n_components
    weights = means = covariances = None
    if estimator.weights_init is not None:
        weights = as_float_array(estimator.weights_init, "weights_init", (k,))
        if np.any(weights < 0) or np.any(weights > 1) or not np.isclose(weights.sum(), 1.0):
            raise ValueError(
                "weights_init must be non-negative and sum to 1; got "
                f"{weights} with sum {weights.sum():.6g}. Normalise it first."
            )
    if estimator.means_init is not None:
        means = as_float_array(estimator.means_init, "means_init", (k, n_features))
    if estimator.precisions_init is not None:
        shape = family.precisions_shape(k, n_features)
        precisions = as_float_array(estimator.precisions_init, "precisions_init", shape)
        covariances = family.covariances_from_precisions(precisions)
    return weights, means, covariances


def as_float_array(value, name, shape):
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; it holds NaN or inf.")
    return array


def num_samples(X):
    return len(X) if not hasattr(X, "shape") else X.shape[0]
