"""Row weights: their validation, and the information criteria that count them.

A weight scales its row's responsibilities, so its statistics and its
log-likelihood: integer weights fit what repeating the rows fits, and a zero
weight what removing the row fits.
"""

import numpy as np
from sklearn.utils import check_array

from ._dask import as_row_array, is_dask_collection
from ._validation import check_every_feature_observed


def validated_sample_weight(sample_weight, X, n_components):
    """``sample_weight`` as a float64 vector, or None when it is None.

    Raises a ValueError naming the problem and its fix for a wrong shape,
    a negative or non-finite weight, or fewer weighted rows than components.
    """
    if sample_weight is None:
        return None
    weights = check_array(
        sample_weight,
        ensure_2d=False,
        ensure_all_finite=False,
        dtype=np.float64,
        input_name="sample_weight",
    )
    if weights.shape != (X.shape[0],):
        raise ValueError(
            f"sample_weight has shape {weights.shape}, but X has {X.shape[0]} rows: "
            f"sample_weight must hold one number per row, shape ({X.shape[0]},); "
            "check its length."
        )
    if not np.all(np.isfinite(weights)):
        raise ValueError(
            f"sample_weight holds {np.count_nonzero(~np.isfinite(weights))} NaN or "
            "infinite value(s): replace NaN or inf with a finite weight (0 leaves the "
            "row out)."
        )
    if np.any(weights < 0):
        raise ValueError(
            f"sample_weight holds {np.count_nonzero(weights < 0)} negative value(s); a "
            "weight counts how much a row contributes, so it must be >= 0. Use 0 to "
            "leave a row out."
        )
    n_weighted = np.count_nonzero(weights)
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
    return weights


def weighted_criterion(model, X, sample_weight, name):
    """``model``'s BIC or AIC on ``X``, each row counted by its weight.

    Equal to the criterion on the data with each row repeated by its
    (integer) weight: the weighted log-likelihood and the total weight as
    the number of samples.
    """
    if sample_weight is None:
        return getattr(model, name)(X)
    log_likelihood = float(sample_weight @ model.score_samples(X))
    penalty = np.log(sample_weight.sum()) if name == "bic" else 2.0
    return -2 * log_likelihood + model._n_parameters() * penalty


def weighted_rows(X, sample_weight, n_components):
    """The rows a fit uses, and their weights (None without ``sample_weight``).

    A zero weight removes its row, so that the start (k-means) and the
    prior's data-derived defaults never see it. Dask input keeps its rows
    (selecting them would lose the chunk sizes): a zero weight then counts
    nothing, and the weights come back as a Dask array chunked like the rows.
    """
    weights = validated_sample_weight(sample_weight, X, n_components)
    if weights is not None and is_dask_collection(X):
        weights_by_chunk = as_row_array(weights, X)
        if not weights.all():
            check_every_feature_observed(X, weights_by_chunk)
        return X, weights_by_chunk
    if weights is None or weights.all():
        return X, weights
    kept = weights > 0
    X = X[kept]
    check_every_feature_observed(X)
    return X, weights[kept]
