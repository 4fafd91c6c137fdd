"""scikit-learn's imputer conventions: missing-value markers, bounds, warnings, failed fits."""

import warnings
from numbers import Real

import numpy as np


def missing_mask(X, marker):
    """Where ``X`` (validated, no inf) holds ``marker``; NaN in ``X`` is an error for a number."""
    if marks_nan(marker):
        return np.isnan(X)
    if np.isinf(marker):
        raise ValueError(
            f"missing_values={marker} is not supported: infinity is not data. "
            "Replace it with NaN in X and use missing_values=np.nan."
        )
    if np.isnan(X).any():
        raise ValueError(
            f"X holds NaN, but missing_values={marker!r} marks the missing values, "
            "so NaN is neither data nor missing. Set missing_values=np.nan, or "
            f"replace NaN by {marker!r}."
        )
    return X == marker


def observed_range(X, missing):
    """Each column's smallest and largest observed value (-inf and inf when none is)."""
    lower = np.where(missing, np.inf, X).min(axis=0)
    upper = np.where(missing, -np.inf, X).max(axis=0)
    empty = missing.all(axis=0)
    lower[empty], upper[empty] = -np.inf, np.inf
    return lower.astype(np.float64), upper.astype(np.float64)


def as_bounds(min_value, max_value, observed):
    """``min_value`` and ``max_value`` as arrays of shape (n_features,).

    ``observed`` is :func:`observed_range` of the training data, what
    ``'observed'`` stands for.
    """
    lower = _as_bound(min_value, "min_value", -np.inf, observed[0])
    upper = _as_bound(max_value, "max_value", np.inf, observed[1])
    crossed = np.flatnonzero(lower > upper)
    if crossed.size:
        raise ValueError(
            f"min_value exceeds max_value for feature(s) {crossed.tolist()}: "
            "each lower bound must be at most its upper bound."
        )
    return lower, upper


def marks_nan(marker):
    """Whether ``missing_values`` means NaN (NaN itself, or pandas' NA)."""
    # MissingValues(numeric_only=True) lets through numbers and pd.NA only.
    return not isinstance(marker, Real) or np.isnan(marker)


def with_nan_where_missing(X, missing, columns):
    """A new array of ``X[:, columns]`` with NaN in its missing cells."""
    out = X[:, columns]  # boolean indexing copies, even when every column is kept
    out[missing[:, columns]] = np.nan
    return out


def _as_bound(value, name, default, observed):
    n_features = observed.shape[0]
    if isinstance(value, str):  # 'observed', the only string the constraints allow
        return observed.copy()
    if value is None:
        value = default
    bound = np.asarray(value, dtype=np.float64)
    if np.isnan(bound).any():
        raise ValueError(f"{name} holds NaN; use -np.inf or np.inf for no bound.")
    if bound.ndim == 0:
        return np.full(n_features, float(bound))
    if bound.shape != (n_features,):
        raise ValueError(
            f"{name} must be a number or an array of shape ({n_features},), one bound "
            f"per feature seen during fit; got shape {bound.shape}."
        )
    return bound


def warn_of_dropped_features(imputer):
    """SimpleImputer's warning for the features dropped for having no observed value."""
    if imputer.keep_empty_features or not imputer._empty_features.any():
        return
    dropped = np.flatnonzero(imputer._empty_features)
    if hasattr(imputer, "feature_names_in_"):
        dropped = imputer.feature_names_in_[dropped]
    warnings.warn(
        f"Skipping features without any observed values: {dropped}. A feature needs "
        "at least one observed value during fit to be imputed; pass "
        "keep_empty_features=True to keep it (filled with 0).",
        UserWarning,
        stacklevel=4,  # past the public method and scikit-learn's wrapper of it
    )


def fill_empty_features(out, empty, lower, upper):
    """Fill, in place, the missing cells of the columns ``empty`` of ``out`` with 0 within bounds.

    Features with no observed value at fit have nothing to condition on.
    """
    if empty.any():
        cells = out[:, empty]
        fill = np.clip(0.0, lower[empty], upper[empty])
        out[:, empty] = np.where(np.isnan(cells), fill, cells)
