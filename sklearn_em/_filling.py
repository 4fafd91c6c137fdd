"""Filling missing values under a fitted mixture: conditional expectations or draws."""

import numpy as np

from ._blocks import map_blocks
from ._dialect import fill_empty_features, with_nan_where_missing
from ._pass import normalise_log_responsibilities

# Rows of one block: conditional means take (k, rows, d) floats.
BLOCK_VALUES = 2**20


def completed(imputer, X, missing, mixture, random_state=None):
    """What a fitted ``EMImputer`` returns for a validated ``X``: its kept
    features with the ``missing`` cells filled under ``mixture`` (within the
    imputer's bounds), then the indicator's columns."""
    lower, upper = imputer._bounds()
    kept = imputer._kept_features()
    out = with_nan_where_missing(X, missing, kept)
    modelled = ~imputer._empty_features[kept]
    lower, upper = lower[kept], upper[kept]
    if mixture is not None:
        columns = out if modelled.all() else out[:, modelled]
        fill_missing(columns, mixture, lower[modelled], upper[modelled], random_state)
        out[:, modelled] = columns
    fill_empty_features(out, ~modelled, lower, upper)
    if imputer.indicator_ is not None:
        out = np.hstack([out, imputer.indicator_.transform(X).astype(out.dtype)])
    return out


def fill_missing(X, mixture, lower, upper, random_state=None):
    """Fill the NaN of ``X`` in place; every other cell stays as it is.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows with NaN where a value is missing; written to.
    mixture : GaussianMixture
        A mixture fitted on the same features.
    lower, upper : ndarray of shape (n_features,)
        Bounds each filled value is clipped to.
    random_state : RandomState or None
        None fills the conditional expectation (the responsibility-weighted
        conditional means); a RandomState draws a component by its
        responsibility, then a value from its conditional Gaussian.
    """
    missing = np.isnan(X)
    incomplete = np.flatnonzero(missing.any(axis=1))
    if incomplete.size == 0:
        return
    em = mixture._em()
    model = mixture._mixture()
    step = max(1, BLOCK_VALUES // (model.n_components * X.shape[1]))
    slices = [slice(i, i + step) for i in range(0, incomplete.size, step)]

    def fill(rows):
        cond, shift = em.conditionals(X[incomplete[rows]], model)
        resp = cond.log_prob
        normalise_log_responsibilities(resp)
        if random_state is None:
            values = np.einsum("nk,knd->nd", resp, cond.means) + shift
        else:
            values = cond.draw(_choose_components(resp, random_state), random_state) + shift
        return np.clip(values, lower, upper)

    # In order on one thread: draws then follow the seed alone.
    filled = np.concatenate(map_blocks(fill, slices))
    X[incomplete] = np.where(missing[incomplete], filled, X[incomplete])


def _choose_components(resp, rng):
    """One component per row, drawn with probabilities ``resp``."""
    cumulative = np.cumsum(resp, axis=1)
    u = rng.uniform(size=(resp.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative < u).sum(axis=1), resp.shape[1] - 1)
