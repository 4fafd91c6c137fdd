"""Filling missing values under a fitted mixture: conditional expectations or draws."""

from dataclasses import replace

import numpy as np

from ._blocks import map_blocks
from ._dialect import as_bounds, fill_empty_features, with_nan_where_missing
from ._missing import DiagonalConditionals
from ._pass import normalise_log_responsibilities

# Rows of one block: conditional means take (k, rows, d) floats.
BLOCK_VALUES = 2**20
# What the bounds left to choose ('auto') become under each choice, in order
# of preference on ties: the first is the simpler.
AUTO_BOUNDS = {"none": (-np.inf, np.inf), "observed": ("observed", "observed")}


def bounds_under(min_value, max_value, choice, observed):
    """An imputer's bounds, arrays of shape (n_features,), when 'auto' is
    ``choice`` (a key of ``AUTO_BOUNDS``; anything else: no bound) and
    ``observed`` the features' smallest and largest observed values."""
    chosen = AUTO_BOUNDS.get(choice, (-np.inf, np.inf))
    settings = [
        c if _is_auto(s) else s for s, c in zip((min_value, max_value), chosen, strict=True)
    ]
    return as_bounds(*settings, observed)


def bound_choices(min_value, max_value, modelled):
    """The bounds an imputer chooses among (``_overimpute.choose_mixture``):
    each of ``AUTO_BOUNDS`` if a bound is 'auto', else 'given' alone; each a
    function of the ``modelled`` features' observed range giving their bounds."""

    def under(choice):
        def bounds(observed):
            whole = [np.full(modelled.shape, np.nan) for _ in observed]
            for full, part in zip(whole, observed, strict=True):
                full[modelled] = part
            lower, upper = bounds_under(min_value, max_value, choice, whole)
            return lower[modelled], upper[modelled]

        return bounds

    if _is_auto(min_value) or _is_auto(max_value):
        return {name: under(name) for name in AUTO_BOUNDS}
    return {"given": under("given")}


def _is_auto(bound):
    return isinstance(bound, str) and bound == "auto"


def completed(imputer, X, missing, model=None, random_state=None):
    """What a fitted ``EMImputer`` returns for a validated ``X``: its kept
    features with the ``missing`` cells filled under ``model`` (a fitted
    EMImputer whose mixture, on its scale, fills: ``imputer`` by default,
    or a draw of its model) within ``imputer``'s bounds, then the
    indicator's columns."""
    model = imputer if model is None else model
    mixture = model.mixture_
    lower, upper = imputer._bounds()
    kept = imputer._kept_features()
    out = with_nan_where_missing(X, missing, kept)
    modelled = ~imputer._empty_features[kept]
    lower, upper = lower[kept], upper[kept]
    if mixture is not None:
        columns = out if modelled.all() else out[:, modelled]
        bounds = lower[modelled], upper[modelled]
        fill_missing(columns, mixture, *bounds, random_state, model._scale)
        out[:, modelled] = columns
    fill_empty_features(out, ~modelled, lower, upper)
    if imputer.indicator_ is not None:
        out = np.hstack([out, imputer.indicator_.transform(X).astype(out.dtype)])
    return out


def fill_missing(
    X, mixture, lower, upper, random_state=None, scale=None, wanted=None, layouts=None
):
    """Fill the NaN of ``X`` (of its rows with a ``wanted`` cell) in place; every other cell stays.

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
    scale : NormalScores or None
        The scale ``mixture`` was fitted on (``_normal_scores``): the rows
        are mapped to it; a draw is mapped back, an expectation is the mean
        of the conditional distribution mapped back; then both are clipped.
        None: ``X``'s own.
    wanted : ndarray of bool of shape (n_samples, n_features) or None
        The missing cells whose values will be read (None: all); the rows
        with none of them stay as they are, NaN included, and on a
        ``scale`` the other cells of the rest get the map of their
        conditional mean, which is cheaper than their expectation
        (overimputation reads only the hidden cells).
    layouts : LayoutCache or None
        Keeps the layouts of the blocks' NaN for fills of the same cells
        under other mixtures (the choice's scores); None: a cache of this
        fill's own.
    """
    missing = np.isnan(X)
    incomplete = np.flatnonzero((missing if wanted is None else missing & wanted).any(axis=1))
    if incomplete.size == 0:
        return
    em = mixture._em() if layouts is None else replace(mixture._em(), cache=layouts)
    model = mixture._mixture()
    step = max(1, BLOCK_VALUES // (model.n_components * X.shape[1]))
    slices = [slice(i, i + step) for i in range(0, incomplete.size, step)]

    def fill(rows):
        block = X[incomplete[rows]]
        on_scale = block if scale is None else scale.forward(block)
        cond, shift = em.conditionals(on_scale, model, ("fill", rows.start))
        resp = cond.log_prob
        normalise_log_responsibilities(resp)
        if random_state is not None:
            values = cond.draw(_choose_components(resp, random_state), random_state) + shift
            values = values if scale is None else scale.inverse(values)
        elif scale is None:
            values = np.einsum("nk,knd->nd", resp, cond.means) + shift
        else:
            variances = conditional_variances(cond)
            if wanted is not None:  # a variance of 0 takes the cheap path
                variances[:, ~wanted[incomplete[rows]]] = 0.0
            values = scale.expected_inverse(cond.means + shift, variances, resp)
        return np.clip(values, lower, upper)

    # In order on one thread: draws then follow the seed alone.
    filled = np.concatenate(map_blocks(fill, slices))
    X[incomplete] = np.where(missing[incomplete], filled, X[incomplete])


def conditional_variances(cond):
    """``(k, n, d)``: each cell's variance given the rest of its row under each
    component (0 where observed), from ``_missing``'s conditionals."""
    if isinstance(cond, DiagonalConditionals):
        return np.where(cond.missing, cond.variances[:, None, :], 0.0)
    k, n, d = cond.means.shape
    out = np.zeros((k, n, cond.layout.width))
    for group, covariances in zip(cond.layout.groups, cond.covariances, strict=True):
        diagonals = np.diagonal(covariances, axis1=-2, axis2=-1)  # (k, patterns, q)
        cells = (group.rows[:, None], group.missing)
        out[:, cells[0], cells[1]] = diagonals[:, group.pattern_of_row]
    return out[:, :, :d]


def _choose_components(resp, rng):
    """One component per row, drawn with probabilities ``resp``."""
    cumulative = np.cumsum(resp, axis=1)
    u = rng.uniform(size=(resp.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative < u).sum(axis=1), resp.shape[1] - 1)
