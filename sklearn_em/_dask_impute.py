"""EMImputer on Dask input: a model chosen on a sample of rows, fitted on all of
them, and a lazy transform that fills each chunk on its worker.

Choosing the mixture (``n_components='auto'``) hides and re-imputes observed
cells, many fits over the same rows: it runs in memory on a sample of up to
``SAMPLE_ROWS`` rows. The chosen mixture then continues (a warm start) on
every row, one reduction per pass. With no more rows than that, the sample is
the data and the fit is the in-memory one.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils._set_output import _get_output_config

from ._dask import check_finite_chunk, dask_array_module, map_rows, sample_rows
from ._dialect import marks_nan, missing_mask
from ._filling import completed
from ._impute_fit import fit_attributes
from ._sample_weight import weighted_rows
from ._validation import validate_with_nan

SAMPLE_ROWS = 100_000


def refuse_posterior_draws(imputer):
    if imputer.sample_posterior:
        raise ValueError(
            "sample_posterior=True is not supported for Dask input: its bootstrap needs "
            "the rows in memory. Use sample_posterior=False (conditional expectations), "
            "or compute the rows first (X.compute())."
        )


def fit(imputer, X, rng, sample_weight=None, n_sampled=SAMPLE_ROWS):
    """Fit ``imputer``'s attributes on the Dask collection ``X``, choosing its
    mixture on at most ``n_sampled`` rows; returns ``imputer``."""
    refuse_posterior_draws(imputer)
    X_user = X
    X = validate_with_nan(imputer, X, reset=True)
    X, weights = weighted_rows(X, sample_weight, 1)  # weights chunked like the rows
    marker = imputer.missing_values
    if not marks_nan(marker):
        X = X.map_blocks(_with_nan_for, marker, dtype=X.dtype)
    sample, sample_weights = sample_rows(X, n_sampled, rng, weights)
    whole = sample.shape[0] == X.shape[0]
    if not whole:
        columns = _column_facts(X)
        sample, sample_weights = _with_a_row_observing_each_feature(
            X, weights, sample, sample_weights, columns.observed
        )
    if not marks_nan(marker):
        sample = np.where(np.isnan(sample), marker, sample)
    fit_attributes(imputer, sample, rng, sample_weights)
    # Draws for a later transform of in-memory rows, as a fit in memory makes.
    imputer._draws_random_state = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
    # _fit validated the sample, an array: the names and count are the collection's.
    validate_with_nan(imputer, X_user, reset=True, rows_counted=False)
    if whole:
        return imputer
    # What the sample stands for is the data's: the observed range and which
    # features miss values (the indicator's columns).
    imputer._observed_range = columns.observed_range
    if imputer.indicator_ is not None:
        imputer.indicator_.fit(_pattern_of_missing(columns.incomplete, marker))
    if imputer.mixture_ is None:
        return imputer
    # The choice's tol was looser (one Gaussian: by plain EM); this pass is the imputer's.
    mixture = imputer.mixture_.set_params(
        warm_start=True, tol=imputer.tol, acceleration=imputer.acceleration
    )
    rows = X[:, ~imputer._empty_features]
    if imputer._scale is not None:  # the mixture was chosen on the sample's normal scores
        rows = rows.map_blocks(imputer._scale.forward, dtype=rows.dtype)
    try:
        # Unlabelled: lazy labels would carry the data's graph into every transform.
        mixture._fit_unlabelled(rows, weights)
    finally:
        mixture.set_params(warm_start=False)
    imputer.n_iter_ = mixture.n_iter_
    return imputer


@dataclass(frozen=True)
class _ColumnFacts:
    observed: np.ndarray  # (d,) whether a feature has an observed value
    incomplete: np.ndarray  # (d,) whether it misses one
    observed_range: tuple  # the smallest and largest observed values (-inf, inf if none)


def _column_facts(X):
    """The ``_ColumnFacts`` of a Dask array with NaN where missing: one reduction."""
    da = dask_array_module()
    missing = da.isnan(X)
    lower, upper, incomplete, empty = da.compute(
        da.where(missing, np.inf, X).min(axis=0),
        da.where(missing, -np.inf, X).max(axis=0),
        missing.any(axis=0),
        missing.all(axis=0),
    )
    lower, upper = lower.astype(np.float64), upper.astype(np.float64)
    lower[empty], upper[empty] = -np.inf, np.inf
    return _ColumnFacts(~empty, incomplete, (lower, upper))


def _with_a_row_observing_each_feature(X, weights, sample, sample_weights, observed):
    """The sample, with the first row observing each feature it never observes
    (so that no feature observed in the data is taken for empty)."""
    unseen = np.flatnonzero(observed & np.isnan(sample).all(axis=0))
    if unseen.size == 0:
        return sample, sample_weights
    da = dask_array_module()
    rows = np.unique(da.argmax(~da.isnan(X[:, unseen]), axis=0).compute())
    extra, extra_weights = da.compute(X[rows], None if weights is None else weights[rows])
    sample = np.vstack([sample, extra])
    if sample_weights is not None:
        sample_weights = np.concatenate([sample_weights, extra_weights])
    return sample, sample_weights


def _pattern_of_missing(incomplete, marker):
    """One row that misses a value exactly where the data does: what the
    indicator is fitted on to mark the data's incomplete features."""
    fill = 1.0 if not marks_nan(marker) and marker == 0 else 0.0
    missing = np.nan if marks_nan(marker) else marker
    return np.where(incomplete, missing, fill)[None, :]


def transform(imputer, X):
    """The lazy Dask array of ``X`` with its missing values filled, chunked like ``X``."""
    refuse_posterior_draws(imputer)
    if _get_output_config("transform", imputer)["dense"] != "default":
        raise ValueError(
            "set_output(transform=...) would compute the imputed Dask array into one "
            "DataFrame in memory. Use set_output(transform='default') for a lazy Dask "
            "array, and dask.dataframe.from_dask_array(X, columns=imputer."
            "get_feature_names_out()) for a Dask DataFrame."
        )
    X = validate_with_nan(imputer, X, reset=False, rows_counted=False)
    width = len(imputer.get_feature_names_out())
    return map_rows(_filled_chunk, X, width, X.dtype, imputer)


def _with_nan_for(chunk, marker):
    return np.where(missing_mask(chunk, marker), np.nan, chunk)


def _filled_chunk(chunk, imputer):
    check_finite_chunk(chunk)
    missing = missing_mask(chunk, imputer.missing_values)
    return completed(imputer, chunk, missing)
