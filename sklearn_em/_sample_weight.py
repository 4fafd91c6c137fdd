"""Row weights: their validation, and the information criteria that count them.

A weight scales its row's responsibilities, so its statistics and its
log-likelihood: integer weights fit what repeating the rows fits, and a zero
weight what removing the row fits.
"""

import numpy as np
from sklearn.utils import check_array

from ._dask import as_row_array, dask_array_module, is_dask_collection
from ._validation import check_every_feature_observed


def validated_sample_weight(sample_weight, X, n_components):
    """``sample_weight`` as a float64 vector, or None when it is None.

    Raises a ValueError naming the problem and its fix for a wrong shape,
    a negative or non-finite weight, or fewer weighted rows than components.
    Dask weights for Dask rows stay lazy: a Dask vector chunked like the
    rows, checked by one reduction on the cluster.
    """
    return _validated_and_counted(sample_weight, X, n_components)[0]


def _validated_and_counted(sample_weight, X, n_components):
    """The validated weights (or None) and how many of them are positive."""
    if sample_weight is None:
        return None, X.shape[0]
    if is_dask_collection(sample_weight) and is_dask_collection(X):
        weights = _dask_weights(sample_weight, X)
        da = dask_array_module()
        counts = da.compute(
            da.count_nonzero(~da.isfinite(weights)),
            da.count_nonzero(weights < 0),
            da.count_nonzero(weights),
        )
    else:
        weights = check_array(
            sample_weight,
            ensure_2d=False,
            ensure_all_finite=False,
            dtype=np.float64,
            input_name="sample_weight",
        )
        if weights.shape != (X.shape[0],):
            raise _wrong_shape(weights.shape, X.shape[0])
        counts = (
            np.count_nonzero(~np.isfinite(weights)),
            np.count_nonzero(weights < 0),
            np.count_nonzero(weights),
        )
    n_not_finite, n_negative, n_weighted = (int(count) for count in counts)
    if n_not_finite:
        raise ValueError(
            f"sample_weight holds {n_not_finite} NaN or infinite value(s): replace NaN or "
            "inf with a finite weight (0 leaves the row out)."
        )
    if n_negative:
        raise ValueError(
            f"sample_weight holds {n_negative} negative value(s); a weight counts how much "
            "a row contributes, so it must be >= 0. Use 0 to leave a row out."
        )
    if n_weighted == 0:
        raise ValueError(
            "sample_weight is zero on every row, so no row counts: give at least "
            f"n_components={n_components} rows a positive weight."
        )
    if n_weighted < n_components:
        raise ValueError(
            f"sample_weight gives {n_weighted} row(s) a positive weight, fewer than "
            f"n_components={n_components}: a mixture needs at least as many weighted "
            "samples as components. Give more rows a positive weight or reduce "
            "n_components."
        )
    return weights, n_weighted


def _dask_weights(sample_weight, X):
    """A Dask array or Series of weights as a lazy float64 vector chunked like ``X``'s rows."""
    if hasattr(sample_weight, "to_dask_array"):  # a Dask Series (or DataFrame)
        sample_weight = sample_weight.to_dask_array(lengths=True)
    shape = sample_weight.shape
    if len(shape) == 1 and np.isnan(shape[0]):
        raise ValueError(
            "sample_weight is a Dask array whose chunk sizes are unknown (NaN), so its "
            "length cannot be checked: call sample_weight.compute_chunk_sizes() first."
        )
    if shape != (X.shape[0],):
        raise _wrong_shape(shape, X.shape[0])
    if not (np.issubdtype(sample_weight.dtype, np.number) or sample_weight.dtype == bool):
        raise ValueError(
            f"sample_weight holds {sample_weight.dtype} values; weights must be numbers: "
            "convert them with sample_weight.astype(float)."
        )
    return as_row_array(sample_weight.astype(np.float64), X)


def _wrong_shape(shape, n_rows):
    return ValueError(
        f"sample_weight has shape {shape}, but X has {n_rows} rows: sample_weight must "
        f"hold one number per row, shape ({n_rows},); check its length."
    )


def weighted_criterion(model, X, sample_weight, name):
    """``model``'s BIC or AIC on ``X``, each row counted by its weight.

    Equal to the criterion on the data with each row repeated by its
    (integer) weight: the weighted log-likelihood and the total weight as
    the number of samples.
    """
    if sample_weight is None:
        return getattr(model, name)(X)
    log_likelihood = float(sample_weight @ model.score_samples(X))
    penalty = np.log(float(sample_weight.sum())) if name == "bic" else 2.0
    return -2 * log_likelihood + model._n_parameters() * penalty


def weighted_rows(X, sample_weight, n_components):
    """The rows a fit uses, and their weights (None without ``sample_weight``).

    A zero weight removes its row, so that the start (k-means) and the
    prior's data-derived defaults never see it. Dask input keeps its rows
    (selecting them would lose the chunk sizes): a zero weight then counts
    nothing, and the weights come back as a Dask array chunked like the rows.
    """
    weights, n_weighted = _validated_and_counted(sample_weight, X, n_components)
    all_weighted = n_weighted == X.shape[0]
    if weights is not None and is_dask_collection(X):
        weights_by_chunk = as_row_array(weights, X)
        if not all_weighted:
            check_every_feature_observed(X, weights_by_chunk)
        return X, weights_by_chunk
    if weights is None or all_weighted:
        return X, weights
    kept = weights > 0
    X = X[kept]
    check_every_feature_observed(X)
    return X, weights[kept]
