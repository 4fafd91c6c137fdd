"""The per-component kernel: rows centred on each component and whitened.

For component ``k`` with centre ``c_k`` (its mean) and precision Cholesky
factor ``U_k`` (``P = U U'``), the block's rows become ``Z = (X - c_k) U_k``:
one in-place triangular product (``trmm``, half a GEMM's work). Then

- ``log w_k + log N(x | k) = log w_k + log det U_k - d log(2 pi) / 2 - |z|^2 / 2``;
- the statistics are sums of ``r z`` and ``r z z'`` (``syrk``, half a GEMM's
  work, on ``sqrt(r) Z``), brought back to ``x - c_k`` by ``U_k``'s inverse
  (the covariance's Cholesky factor ``L_k'``) in float64. A row whose
  weight in a component is far below rounding is left out of that
  component's sums: on well-separated components most are.

Whitened moments are about ``r I``: every direction of a component is
summed relative to its own spread, whatever the offset, scale or shape of
the data. So this kernel is exact where the one-GEMM design is not, and it is
the one that lets float32 stay in float32 (``_kernels``). Diagonal and
spherical factors whiten by a product with ``sqrt(p)``.
"""

import functools
from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas

from ._design import LOG_2PI, Scored
from ._triangular import triangular_inverses


@dataclass(frozen=True)
class CentredPrepared:
    """The centred kernel's view of a mixture for one pass."""

    covariance_type: str
    centres: np.ndarray  # (k, d) in the pass's dtype
    factors: np.ndarray  # (k, d, d): each U' C-ordered, so U is Fortran; (k, d) if diagonal
    unwhiten: np.ndarray  # float64 inverses of the factors as the pass holds them
    constants: np.ndarray  # (k,) log w + log det U - d log(2 pi) / 2

    @property
    def dtype(self):
        return self.centres.dtype

    @property
    def triangular(self):
        return self.factors.ndim == 3


@functools.cache
def _blas(name, dtype):
    # Looking a routine up costs about as much as a small block's product.
    return blas.get_blas_funcs(name, dtype=dtype)


@functools.cache
def _upper(d):
    """A ``d x d`` mask of the upper triangle and the diagonal."""
    return np.triu(np.ones((d, d), dtype=bool))


def row_bytes(d, k, itemsize):
    """Bytes of work arrays per row: ``k`` whitened copies and the log-densities."""
    return itemsize * (k * d + d + 2 * k)


# What a whitened row may lose, relative to its own size (about 1): a
# centre's coordinate, or a factor's off-diagonal entry times the spread of
# its coordinate, below this is set to zero. Such values arise where a
# feature is lit only by rows whose responsibility vanishes (a pixel that
# is zero in a component's rows): a mean or a coupling decays by a fixed
# factor each pass until it is subnormal, and every product with a
# subnormal number runs many times slower (passes of 2-5x their time on
# digits, k=3). Far below the dtype's rounding, this changes no result.
NEGLIGIBLE = {np.dtype(np.float64): 1e-100, np.dtype(np.float32): 1e-15}


def prepare(covariance_type, mixture, dtype):
    k, d = mixture.means.shape
    log_weights = np.log(mixture.weights)
    U = covariance_type.precision_factors(mixture)
    negligible = NEGLIGIBLE.get(np.dtype(dtype), NEGLIGIBLE[np.dtype(np.float32)])
    spread = np.sqrt(_variances(covariance_type, mixture))  # (k, d)
    centres = np.where(np.abs(mixture.means) < negligible * spread, 0.0, mixture.means)
    if covariance_type.diagonal:
        factors = U.astype(dtype)
        unwhiten = 1.0 / factors.astype(np.float64)
        log_det = np.log(factors.astype(np.float64)).sum(axis=1)
    else:
        scaled = np.abs(U) * spread[:, :, None]  # row b of U weighs coordinate b
        # Never a diagonal entry: U_bb = 1 / L_bb >= 1 / spread_b.
        small = (scaled < negligible) & (scaled > 0.0)
        exact = not small.any()
        factors = np.ascontiguousarray(
            np.swapaxes(U if exact else np.where(small, 0.0, U), 1, 2), dtype=dtype
        )
        unwhiten = _unwhitening(mixture, factors, exact)
        log_det = np.log(np.diagonal(factors, axis1=1, axis2=2).astype(np.float64)).sum(axis=1)
    constants = log_weights + log_det - 0.5 * d * LOG_2PI
    return CentredPrepared(
        covariance_type.name,
        centres.astype(dtype),
        factors,
        unwhiten,
        constants.astype(dtype),
    )


def _unwhitening(mixture, factors, exact):
    """``(k, d, d)`` float64 inverses of the factors ``U`` as the pass holds them.

    ``U = inv(L)'`` for the covariances' lower Cholesky factor ``L``, so
    where the pass holds ``U`` unchanged in float64 (``exact``) and the
    factorisation kept ``L``, its transpose is the inverse, to the rounding
    of ``U`` itself, and no triangular inverse is needed.
    """
    k, d = mixture.means.shape
    cholesky = mixture.covariances_cholesky
    if exact and factors.dtype == np.float64 and cholesky is not None:
        return np.swapaxes(np.broadcast_to(cholesky, (k, d, d)), 1, 2)
    rounded = np.swapaxes(factors, 1, 2).astype(np.float64)
    return triangular_inverses(rounded, lower=False)[0]


def _variances(covariance_type, mixture):
    """``(k, d)``: each component's variance along each coordinate."""
    k, d = mixture.means.shape
    covariances = mixture.covariances
    if not covariance_type.diagonal:
        covariances = np.diagonal(covariances, axis1=-2, axis2=-1)
    elif covariances.ndim == 1:  # spherical
        covariances = covariances[:, None]
    return np.broadcast_to(covariances, (k, d))


def score(prepared, X):
    """The ``(k, m)`` log-densities of complete rows, and what ``moments`` needs:
    their whitened copies, squared norms and where those overflowed."""
    k, d = prepared.centres.shape
    m = X.shape[0]
    Z = np.empty((k, m, d), dtype=prepared.dtype)
    squares = np.empty((k, m), dtype=prepared.dtype)
    trmm = _blas("trmm", prepared.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        # Whole-stack numpy calls; only the triangular products go by component.
        np.subtract(X[None], prepared.centres[:, None, :], out=Z)
        if prepared.triangular:
            for j in range(k):
                # Z[j].T is Fortran-ordered (d, m): U' Y' in place is (Y U)'.
                U = prepared.factors[j].T
                trmm(1.0, U, Z[j].T, side=0, lower=0, trans_a=1, overwrite_b=1)
        else:
            Z *= prepared.factors[:, None, :]
        np.einsum("kij,kij->ki", Z, Z, out=squares)
        log_prob = squares * -0.5
        log_prob += prepared.constants[:, None]
    overflowed = ~np.isfinite(log_prob)
    return Scored(log_prob, (Z, squares, overflowed if overflowed.any() else None))


def moments(prepared, work, resp):
    """``(nk, s1, s2)`` about the centres from whitened rows and ``(k, m)`` responsibilities."""
    Z, squares, overflowed = work
    k, m, d = Z.shape
    nk = resp.sum(axis=1, dtype=np.float64)
    if overflowed is not None:
        Z[overflowed] = 0.0  # rows of zero density here carry no weight
    if prepared.triangular:
        s1z, s2z = _triangular_moments(Z, squares, resp, nk)
    else:
        s1z = (resp[:, None, :] @ Z)[:, 0]
        np.multiply(Z, Z, out=Z)
        s2z = (resp[:, None, :] @ Z)[:, 0]
    # Back from whitened coordinates, all components at once, in float64.
    V = prepared.unwhiten
    if prepared.triangular:
        s2z = np.where(_upper(d), s2z, np.swapaxes(s2z, 1, 2))  # syrk fills the upper half
        s1 = np.einsum("ka,kab->kb", s1z, V)
        second = np.swapaxes(V, 1, 2) @ s2z @ V
    else:
        s1 = s1z * V
        second = s2z * V**2
    return nk, s1, _in_layout(prepared.covariance_type, second)


# A row whose responsibility times ``1 + |z|^2`` is below this share of its
# component's count per row is left out of that component's whitened
# moments: all such rows together change an entry of them (about ``n_k``
# on the diagonal) by at most this share of ``n_k``, far below rounding
# (``|r z_a z_b| <= r |z|^2``). On well-separated components most rows are
# such for all but one component (responsibilities of 1e-30 and below), and
# the moments' products then run on the rows that count.
NEGLIGIBLE_WEIGHT = 1e-18
# Below this share of rows left out, the rows are not gathered: the copy
# would cost about what it saves.
GATHER_SHARE = 0.1


def counted_rows(squares, resp, nk, negligible=NEGLIGIBLE_WEIGHT):
    """``(k, m)``: whether a row counts in a component's moments (see
    ``NEGLIGIBLE_WEIGHT``), from its squared whitened norms and responsibilities."""
    with np.errstate(invalid="ignore", over="ignore"):
        # NaN (an overflowed row, of zero responsibility) does not count.
        return resp * (1.0 + squares) > (negligible / resp.shape[1]) * nk[:, None]


def _triangular_moments(Z, squares, resp, nk):
    """Whitened ``(s1z, s2z)`` (upper halves of ``s2z``) of each component's rows
    that count, by ``syrk`` on ``sqrt(r) Z``; ``Z`` is overwritten."""
    k, m, d = Z.shape
    s1z = np.empty((k, d))
    s2z = np.empty((k, d, d))
    syrk = _blas("syrk", Z.dtype)
    counts = counted_rows(squares, resp, nk)
    for j in range(k):
        rows = np.flatnonzero(counts[j]) if counts[j].sum() < (1 - GATHER_SHARE) * m else None
        if rows is not None and rows.size == 0:
            s1z[j], s2z[j] = 0.0, 0.0
            continue
        weighted = Z[j] if rows is None else Z[j, rows]
        root = np.sqrt(resp[j] if rows is None else resp[j, rows])
        weighted *= root[:, None]
        s1z[j] = root @ weighted
        s2z[j] = syrk(1.0, weighted.T, trans=0, lower=0)
    return s1z, s2z


def _in_layout(covariance_type, second):
    """Per-component second moments in the covariance type's layout."""
    if covariance_type == "tied":
        return second.sum(axis=0)
    if covariance_type == "spherical":
        return second.sum(axis=1)
    return second
