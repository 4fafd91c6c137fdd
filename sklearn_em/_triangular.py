"""Small stacks of triangular factors: Cholesky factors and their inverses.

LAPACK's routines one matrix at a time: for the few small matrices of a
mixture they cost less than numpy's batched calls with their checks, or
scipy's batched solves with their Python overhead. And lower Cholesky
factors as flat vectors of unconstrained numbers (SQUAREM's parameters).
"""

import functools

import numpy as np
from scipy import linalg


def lower_cholesky(matrices):
    """``(factors, failed)``: the lower Cholesky factor of each matrix of a
    ``(k, d, d)`` stack, and the indices of those that are not positive definite."""
    factors = np.empty_like(matrices)
    failed = []
    for k, matrix in enumerate(matrices):
        factors[k], info = linalg.lapack.dpotrf(matrix, lower=1, clean=1)
        if info != 0:
            failed.append(k)
    return factors, failed


# Triangular matrices of at least twice this many rows are inverted by halves.
HALF_ROWS = 32


def triangular_inverses(factors, lower):
    """The inverses of a ``(k, d, d)`` stack of triangular matrices, and the
    indices of those with a zero on the diagonal (whose inverse is not finite).

    LAPACK's ``trtri`` per matrix; from ``d = 2 * HALF_ROWS`` on,
    ``trtri`` inverts the two diagonal halves of each matrix and one batched
    product the off-diagonal blocks, ``[[A, 0], [B, C]]^-1 = [[A^-1, 0],
    [-C^-1 B A^-1, C^-1]]``: OpenBLAS's ``trtri`` is slow at these sizes
    (benchmarks/README.md).
    """
    d = factors.shape[-1]
    inverses = np.zeros_like(factors)
    singular = []
    h = d // 2 if d >= 2 * HALF_ROWS else d
    for k, factor in enumerate(factors):
        inverses[k, :h, :h], info = linalg.lapack.dtrtri(factor[:h, :h], lower=lower)
        if h < d:
            inverses[k, h:, h:], second_info = linalg.lapack.dtrtri(factor[h:, h:], lower=lower)
            info = info or second_info
        if info != 0:
            singular.append(k)
    if h < d:
        first, second = inverses[:, :h, :h], inverses[:, h:, h:]
        if lower:
            inverses[:, h:, :h] = -(second @ factors[:, h:, :h] @ first)
        else:
            inverses[:, :h, h:] = -(first @ factors[:, :h, h:] @ second)
    return inverses, singular


@functools.lru_cache(maxsize=32)
def _lower_triangle(d):
    """Flat positions of a ``d x d`` lower triangle's entries (row by row), the
    positions of its diagonal among them, and the diagonal's flat positions."""
    rows, cols = np.tril_indices(d)
    return rows * d + cols, np.flatnonzero(rows == cols), np.arange(d) * (d + 1)


def to_unconstrained(factors):
    """The lower triangles of ``(n, d, d)`` Cholesky factors as one flat vector,
    their (positive) diagonals as logarithms."""
    n_matrices, d = factors.shape[0], factors.shape[-1]
    flat, diagonal, _ = _lower_triangle(d)
    theta = np.take(factors.reshape(n_matrices, d * d), flat, axis=1)
    theta[:, diagonal] = np.log(theta[:, diagonal])
    return theta.ravel()


def from_unconstrained(theta, n_matrices, d):
    """The ``(n, d, d)`` lower Cholesky factors of ``to_unconstrained``'s vector."""
    flat, diagonal, flat_diagonal = _lower_triangle(d)
    theta = theta.reshape(n_matrices, flat.size)
    factors = np.zeros((n_matrices, d * d))
    factors[:, flat] = theta
    factors[:, flat_diagonal] = np.exp(theta[:, diagonal])
    return factors.reshape(n_matrices, d, d)
