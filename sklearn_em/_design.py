"""The one-GEMM kernel: every component scored by one product with a design.

Every covariance type writes the weighted log-density of component ``k`` as
a linear function of a column of row features, the *design*::

    log w_k + log N(x | mu_k, Sigma_k) = W[k] @ g(x),  g(x) = [s(x), x - c, 1]

where ``s(x)`` holds the second-order terms of ``x - c`` (the packed upper
triangle of the outer product for 'full', the squares for 'diag', the squared
norm for 'spherical', ``-(x-c)' P (x-c) / 2`` for 'tied') and ``c`` is one
shift for the whole mixture. One GEMM per block scores every component, one
more with the responsibilities sums every statistic. Its statistics are
moments about the shift: exact only while the components sit close to it
relative to their spread, which ``_kernels.errors`` estimates.
"""

import functools
from dataclasses import dataclass

import numpy as np

from ._gaussian import log_det_cholesky

LOG_2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Scored:
    """A block's log-densities ``(k, m)`` and what its statistics need."""

    log_prob: np.ndarray
    work: object


@functools.lru_cache(maxsize=32)
def packed_upper(d):
    """The (cached) packing helper for ``d x d`` matrices."""
    return PackedUpper(d)


class PackedUpper:
    """Packs and unpacks the upper triangles of symmetric ``d x d`` matrices.

    Entries are packed by diagonal (the main diagonal, then the first above
    it, and so on): the products along one diagonal, ``x[:d-o] * x[o:]``,
    are one elementwise product of two equal-shaped blocks, which numpy
    computes 2-3x faster than products against a broadcast row.
    """

    def __init__(self, d):
        self.d = d
        rows, cols = np.triu_indices(d)
        by_diagonal = np.argsort(cols - rows, kind="stable")
        self.rows, self.cols = rows[by_diagonal], cols[by_diagonal]
        # x^T P x = sum over the upper triangle of P_ab x_a x_b, doubled off the diagonal
        self.multiplicity = np.where(self.rows == self.cols, 1.0, 2.0)
        # Where each entry of a dense d x d matrix sits in the packing: a
        # gather unpacks many times faster than two scatters.
        position = np.empty((d, d), dtype=np.intp)
        position[self.rows, self.cols] = np.arange(self.rows.size)
        position[self.cols, self.rows] = np.arange(self.rows.size)
        self.position = position.ravel()

    @property
    def size(self):
        return self.rows.size

    def outer(self, XT, out=None):
        """The packed upper triangle of ``x x^T`` for every column ``x`` of ``XT``."""
        d, m = XT.shape
        out = np.empty((self.size, m), dtype=XT.dtype) if out is None else out
        start = 0
        for offset in range(d):
            stop = start + d - offset
            np.multiply(XT[: d - offset], XT[offset:], out=out[start:stop])
            start = stop
        return out

    def pack(self, matrices):
        return matrices[..., self.rows, self.cols]

    def unpack(self, packed):
        dense = np.take(packed, self.position, axis=-1)
        return dense.reshape(packed.shape[:-1] + (self.d, self.d))


@dataclass(frozen=True)
class DesignPrepared:
    """The design kernel's view of a mixture for one pass."""

    covariance_type: str
    shift: np.ndarray  # in the pass's dtype
    coef: tuple  # the design weights W, and what fill_second_order needs

    @property
    def dtype(self):
        return self.shift.dtype


class _Design:
    """The covariance-specific pieces of the design."""

    # Whether the design is stored row by row (see ``design``).
    row_major = True

    def second_order_size(self, d):
        raise NotImplementedError

    def fill_second_order(self, XT, out, coef):
        raise NotImplementedError

    def coefficients(self, covariance_type, mixture, shift):
        raise NotImplementedError

    def second_moments(self, S2, XT, resp):
        """This type's ``s2`` from the sums ``S2`` of the second-order rows."""
        return S2


def _design_weights(second_order, linear, constant):
    """``W`` with ``W[k] @ [s(x), x, 1]`` the weighted log-density of component ``k``."""
    return np.hstack([second_order, linear, constant[:, None]])


class _FullDesign(_Design):
    row_major = False

    def second_order_size(self, d):
        return packed_upper(d).size

    def fill_second_order(self, XT, out, coef):
        packed_upper(XT.shape[0]).outer(XT, out=out)

    def coefficients(self, covariance_type, mixture, shift):
        d = mixture.n_features
        packed = packed_upper(d)
        P = covariance_type.precisions(mixture.precisions_cholesky)
        mu = mixture.means - shift
        Pmu = np.einsum("kab,kb->ka", P, mu)
        c = (
            -0.5 * np.einsum("ka,ka->k", mu, Pmu)
            + log_det_cholesky(mixture.precisions_cholesky)
            - 0.5 * d * LOG_2PI
            + np.log(mixture.weights)
        )
        return (_design_weights(-0.5 * packed.multiplicity * packed.pack(P), Pmu, c),)

    def second_moments(self, S2, XT, resp):
        return packed_upper(XT.shape[0]).unpack(S2)


class _TiedDesign(_Design):
    def second_order_size(self, d):
        return 1

    def fill_second_order(self, XT, out, coef):
        # -x' P x / 2 is the same for every component: one row, weighted by
        # one. The statistics do not use it (see second_moments).
        if coef is None:
            out[:] = 0.0
            return
        y = XT.T @ coef[1]  # the rows are stored row-major: see design
        np.einsum("ij,ij->i", y, y, out=out[0])
        out *= -0.5

    def coefficients(self, covariance_type, mixture, shift):
        d = mixture.n_features
        U = mixture.precisions_cholesky
        mu = mixture.means - shift
        Pmu = mu @ U @ U.T
        c = (
            -0.5 * np.einsum("ka,ka->k", mu, Pmu)
            + log_det_cholesky(U)
            - 0.5 * d * LOG_2PI
            + np.log(mixture.weights)
        )
        return _design_weights(np.ones((len(c), 1)), Pmu, c), U

    def second_moments(self, S2, XT, resp):
        # Pooled over components, each row counts by its total responsibility.
        return (XT * resp.sum(axis=0)) @ XT.T


class _DiagDesign(_Design):
    def second_order_size(self, d):
        return d

    def fill_second_order(self, XT, out, coef):
        np.multiply(XT.T, XT.T, out=out.T)  # row-major: see design

    def coefficients(self, covariance_type, mixture, shift):
        d = mixture.n_features
        P = covariance_type.precisions(mixture.precisions_cholesky)
        mu = mixture.means - shift
        c = (
            -0.5 * np.sum(mu**2 * P, axis=1)
            + np.log(mixture.precisions_cholesky).sum(axis=1)
            - 0.5 * d * LOG_2PI
            + np.log(mixture.weights)
        )
        return (_design_weights(-0.5 * P, P * mu, c),)


class _SphericalDesign(_Design):
    def second_order_size(self, d):
        return 1

    def fill_second_order(self, XT, out, coef):
        np.einsum("ij,ij->i", XT.T, XT.T, out=out[0])  # row-major: see design

    def coefficients(self, covariance_type, mixture, shift):
        d = mixture.n_features
        p = covariance_type.precisions(mixture.precisions_cholesky)
        mu = mixture.means - shift
        c = (
            -0.5 * p * np.sum(mu**2, axis=1)
            + d * np.log(mixture.precisions_cholesky)
            - 0.5 * d * LOG_2PI
            + np.log(mixture.weights)
        )
        return (_design_weights(-0.5 * p[:, None], p[:, None] * mu, c),)

    def second_moments(self, S2, XT, resp):
        return S2[:, 0]


DESIGNS = {
    "full": _FullDesign(),
    "tied": _TiedDesign(),
    "diag": _DiagDesign(),
    "spherical": _SphericalDesign(),
}


def row_bytes(name, d, k, itemsize):
    """Bytes of work arrays per row: the design column and the log-densities."""
    return itemsize * (DESIGNS[name].second_order_size(d) + d + 1 + 2 * k)


def prepare(covariance_type, mixture, dtype, shift=None):
    """The design weights of ``mixture`` about ``shift`` (by default its centre)."""
    shift = mixture.centre() if shift is None else shift
    with np.errstate(over="ignore", invalid="ignore"):
        coef = DESIGNS[covariance_type.name].coefficients(covariance_type, mixture, shift)
    return DesignPrepared(
        covariance_type.name,
        shift.astype(dtype),
        tuple(np.asarray(a, dtype=dtype) for a in coef),
    )


def design(name, X, shift, coef=None):
    """The design of the rows ``X - shift``: one column per row, ``(terms, m)``.

    For 'full' it is stored column-major (terms x rows): its ``d(d+1)/2``
    products then write whole contiguous rows, which measured 3.6x faster
    than row-major. The other types have few second-order terms, and there
    the transposition of ``X`` into column-major cost as much as the rest of
    the pass: their design is a row-major array, seen transposed. Computed in
    the dtype of ``shift``.
    """
    m, d = X.shape
    q = DESIGNS[name].second_order_size(d)
    if DESIGNS[name].row_major:
        G = np.empty((m, q + d + 1), dtype=shift.dtype).T
    else:
        G = np.empty((q + d + 1, m), dtype=shift.dtype)
    XT = G[q : q + d]
    if DESIGNS[name].row_major:
        np.subtract(X, shift, out=XT.T)  # numpy walks the rows of the row-major array
    else:
        np.subtract(X.T, shift[:, None], out=XT)
    G[-1] = 1.0
    DESIGNS[name].fill_second_order(XT, G[:q], coef)
    return G


def score(prepared, X):
    """The ``(k, m)`` log-densities of complete rows, and their design.

    A squared distance past the float range means a density of zero: its
    overflow (to -inf, or NaN from inf - inf) is read as log 0 downstream.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        G = design(prepared.covariance_type, X, prepared.shift, prepared.coef)
        return Scored(prepared.coef[0] @ G, G)


def moments(prepared, G, resp):
    """``(nk, s1, s2)`` about the shift from a design and ``(k, m)`` responsibilities."""
    d = prepared.shift.shape[0]
    q = G.shape[0] - d - 1
    S = np.asarray(resp @ G.T, dtype=np.float64)  # one GEMM: [s2 | s1 | nk]
    s2 = DESIGNS[prepared.covariance_type].second_moments(S[:, :q], G[q : q + d], resp)
    return S[:, -1], S[:, q : q + d], np.asarray(s2, dtype=np.float64)
