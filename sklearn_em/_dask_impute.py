"""EMImputer on Dask input: a model chosen on a sample of rows, fitted on all of
them, and a lazy transform that fills each chunk on its worker.

Choosing the mixture (``n_components='auto'``) hides and re-imputes observed
cells, many fits over the same rows: it runs in memory on a sample of up to
``SAMPLE_ROWS`` rows. The chosen mixture then continues (a warm start) on
every row, one reduction per pass. With no more rows than that, the sample is
the data and the fit is the in-memory one.
"""

import numpy as np

from ._dask import map_rows, sample_rows
from ._dialect import marks_nan, missing_mask
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
    mixture on at most ``n_sampled`` rows."""
    refuse_posterior_draws(imputer)
    X_user = X
    X = validate_with_nan(imputer, X, reset=True)
    X, weights = weighted_rows(X, sample_weight, 1)  # weights chunked like the rows
    sample, sample_weights = sample_rows(X, n_sampled, rng, weights)
    imputer._fit(sample, rng, sample_weights)
    # _fit validated the sample, an array: the names and count are the collection's.
    validate_with_nan(imputer, X_user, reset=True, rows_counted=False)
    if imputer.mixture_ is None or sample.shape[0] == X.shape[0]:
        return
    modelled = ~imputer._empty_features
    marker = imputer.missing_values
    if not marks_nan(marker):
        X = X.map_blocks(_with_nan_for, marker, dtype=X.dtype)
    mixture = imputer.mixture_.set_params(warm_start=True)
    try:
        mixture.fit(X[:, modelled], sample_weight=weights)
    finally:
        mixture.set_params(warm_start=False)
    imputer.n_iter_ = mixture.n_iter_


def transform(imputer, X):
    """The lazy Dask array of ``X`` with its missing values filled, chunked like ``X``."""
    refuse_posterior_draws(imputer)
    X = validate_with_nan(imputer, X, reset=False, rows_counted=False)
    width = len(imputer.get_feature_names_out())
    return map_rows(_filled_chunk, X, width, X.dtype, imputer)


def _with_nan_for(chunk, marker):
    return np.where(chunk == marker, np.nan, chunk)


def _filled_chunk(chunk, imputer):
    missing = missing_mask(chunk, imputer.missing_values)
    return imputer._completed(chunk, missing, imputer.mixture_, None)
