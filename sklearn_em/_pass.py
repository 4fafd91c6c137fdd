"""One pass over the data: blocks of rows to statistics or log-densities.

A pass asks the family to prepare its parameters once, then maps the
family's block functions over row blocks through a backend's ``map`` and
``map_reduce`` (``_blocks.Backend``). It knows nothing of Gaussians.
"""

import numpy as np


class DensityUnderflowError(ValueError):
    """Some rows have a density that underflows to zero under every component."""


def statistics(X, family, prepared, backend, cache=None, sample_weight=None):
    """The sum of the family's statistics over every block of ``X``.

    ``sample_weight`` (one number per row of ``X``, or None) reaches the
    family block by block; a family is given no weights when there are none.
    """

    def block(rows):
        args = (prepared, X[rows], cache, (rows.start, rows.stop))
        if sample_weight is None:
            return family.block_statistics(*args)
        return family.block_statistics(*args, weights=sample_weight[rows])

    return backend.map_reduce(block, X.shape[0], prepared.row_bytes)


def log_prob(X, family, prepared, backend, reduce=None):
    """``(n, k)`` weighted log-densities, or ``reduce`` of each block's."""

    def block(rows):
        out = family.block_log_prob(prepared, X[rows])
        return out if reduce is None else reduce(out)

    return np.concatenate(backend.map(block, X.shape[0], prepared.row_bytes))


def most_probable(log_prob):
    """The index of each row's largest value: its most probable component."""
    return log_prob.argmax(axis=1)


def as_log_zero_where_overflowed(log_prob):
    log_prob[~np.isfinite(log_prob)] = -np.inf
    return log_prob


def normalise_log_responsibilities(log_prob, axis=1):
    """Turn each sample's log-densities into responsibilities, in place.

    Samples are rows (``axis=1``) or columns (``axis=0``). Returns the log of
    each sample's normaliser (its log-likelihood), computed with log-sum-exp
    so that no unnormalised density is exponentiated. NaN and +inf are
    overflowed distances, read as a density of zero.
    """
    top = log_prob.max(axis=axis, keepdims=True)
    if not np.all(np.isfinite(top)):  # the maximum is finite unless NaN or inf is in the way
        as_log_zero_where_overflowed(log_prob)
        top = log_prob.max(axis=axis, keepdims=True)
    if not np.all(np.isfinite(top)):
        raise DensityUnderflowError(
            f"{np.sum(~np.isfinite(top))} sample(s) have a density that underflows to "
            "zero under every component: they lie too far from the components for "
            "the float range. Standardise the features or increase reg_covar."
        )
    log_prob -= top
    np.exp(log_prob, out=log_prob)
    # Responsibilities below the square root of the smallest normal number
    # (1e-154; 1e-19 in float32) make subnormal products in the statistics,
    # which slow every GEMM with them tenfold or more; as zeros they change
    # no sum beyond rounding.
    log_prob[log_prob < np.sqrt(np.finfo(log_prob.dtype).tiny)] = 0.0
    total = log_prob.sum(axis=axis, keepdims=True)
    log_prob /= total
    return (np.log(total) + top).squeeze(axis)
