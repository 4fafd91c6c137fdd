"""Inverses and log-determinants of stacks of small positive definite matrices.

The missing-value path inverts one ``q x q`` block of a precision per row
(and component) on every pass. Three routes, by size (``spd_inverse``):
eliminations over the whole stack at once for small blocks; for larger
ones numpy's batched Cholesky factor (one call for the stack), LAPACK's
triangular inverse per factor, and the inverse ``V' V`` from the factors'
inverses ``V`` as one batched product; and LAPACK matrix by matrix for
stacks too small to pay the batched routes' fixed costs.
"""

import numpy as np
from scipy.linalg import get_lapack_funcs

NOT_POSITIVE_DEFINITE = "Matrix is not positive definite"
# A positive definite matrix scaled to a unit diagonal whose eigenvalues span
# more than 1 / (this many epsilons) is singular to rounding: its blocks
# invert to noise.
SINGULAR_RESOLUTION = 1e3


def singular_to_rounding(matrices):
    """Which matrices of a stack are singular to rounding, once scaled to a unit diagonal.

    Scaled, ``D^-1/2 M D^-1/2`` with ``D`` the diagonal of ``M``, a matrix
    keeps only the ill-conditioning its units do not explain: features
    measured in units 1e7 apart give a precision of condition 1e14 that
    Cholesky factors and inverts as accurately as a well-scaled one (their
    errors depend on the scaled condition), and they must not be refused.
    A diagonal entry that is not positive counts as singular.
    """
    diagonal = np.diagonal(matrices, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1 / np.sqrt(diagonal)
        scaled = matrices * scale[..., :, None] * scale[..., None, :]
    finite = np.isfinite(scaled).all(axis=(-2, -1))
    singular = ~finite
    if finite.any():
        eigenvalues = np.linalg.eigvalsh(scaled[finite])
        resolution = SINGULAR_RESOLUTION * np.finfo(np.float64).eps * eigenvalues[:, -1]
        singular[finite] = ~(eigenvalues[:, 0] > resolution)
    return singular


def spd_inverse(matrices, min_stack=32, max_eliminated_q=10):
    """Inverses and half log-determinants of a stack of positive definite matrices.

    Parameters
    ----------
    matrices : ndarray of shape (..., q, q)
        Symmetric positive definite to rounding.
    min_stack : int
        Stacks of small blocks with fewer than this many matrices per
        coordinate (``32 q`` in all) are inverted by LAPACK matrix by matrix
        (``cholesky``, ``inv``): the fixed cost of the eliminations' ``~10 q``
        numpy calls would outweigh the work.
    max_eliminated_q : int
        Blocks of up to this many coordinates are eliminated over the whole
        stack (``eliminate``); larger ones, in stacks of any size, go through
        their Cholesky factors (``factored_inverse``).

    Returns
    -------
    inverses : ndarray of shape (..., q, q)
    half_log_det : ndarray of shape (...)
        Half of each matrix's log-determinant.

    Raises
    ------
    numpy.linalg.LinAlgError
        If a matrix is not positive definite to rounding (or holds NaN).
    """
    q = matrices.shape[-1]
    if q > max_eliminated_q:
        return factored_inverse(matrices)
    if matrices.size < min_stack * q**3:  # size: (matrices) q^2
        _, half_log_det = _cholesky(matrices)
        return np.linalg.inv(matrices), half_log_det
    return eliminate(matrices)


def factored_inverse(matrices):
    """``spd_inverse`` through Cholesky factors: ``inv(L L') = V' V`` with ``V = inv(L)``.

    numpy factors the whole stack in one call, and multiplies it in one;
    only LAPACK's triangular inverse (``trtri``) is called matrix by matrix,
    as neither numpy nor OpenBLAS's batched routines have one. It inverts
    each factor in place, as the upper triangular factor of its transpose
    (Fortran order, so nothing is copied): the loop does nothing else.
    """
    *stack, q, _ = matrices.shape
    factors, half_log_det = _cholesky(matrices.reshape(-1, q, q))
    (trtri,) = get_lapack_funcs(("trtri",), (factors,))
    for factor in factors:
        inverse, _ = trtri(factor.T, lower=False, overwrite_c=True)
        if not np.may_share_memory(inverse, factor):  # LAPACK worked on a copy
            factor[...] = inverse.T
    inverses = np.swapaxes(factors, -1, -2) @ factors  # the factors are now V
    return inverses.reshape(matrices.shape), half_log_det.reshape(stack)


def _cholesky(matrices):
    """The lower Cholesky factors of a stack, and half their log-determinants."""
    try:
        factors = np.linalg.cholesky(matrices)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(NOT_POSITIVE_DEFINITE) from None
    diagonals = np.diagonal(factors, axis1=-2, axis2=-1)
    # NaN passes LAPACK's test of each pivot; it fails this one.
    if not np.all(diagonals > 0):
        raise np.linalg.LinAlgError(NOT_POSITIVE_DEFINITE)
    return factors, np.log(diagonals).sum(axis=-1)


def eliminate(matrices):
    """``spd_inverse`` by Gauss-Jordan elimination over the whole stack at once.

    Elimination without pivoting, which positive definite matrices need not
    (every pivot is a Schur complement, so positive). The stack is laid out
    last, so each of the ``~10 q`` numpy calls works on contiguous rows: for
    small blocks the fastest route.
    """
    *stack, q, _ = matrices.shape
    A = np.moveaxis(matrices.reshape(-1, q, q), 0, -1).copy()  # (q, q, n)
    pivots = np.empty((q, A.shape[-1]))
    update = np.empty_like(A)
    with np.errstate(divide="ignore", invalid="ignore"):  # checked once, below
        for j in range(q):
            pivots[j] = A[j, j]
            column = A[:, j] / pivots[j]
            np.multiply(column[:, None], A[j][None], out=update)
            A -= update
            A[:, j] = -column
            A[j, :] = -column
            A[j, j] = -1.0 / pivots[j]
    if not np.all(pivots > 0):
        raise np.linalg.LinAlgError(NOT_POSITIVE_DEFINITE)
    half_log_det = 0.5 * np.log(pivots).sum(axis=0)
    # The elimination leaves minus the inverse; the stack goes back in front.
    inverses = np.negative(np.moveaxis(A, -1, 0), order="C")
    return inverses.reshape(matrices.shape), half_log_det.reshape(stack)
