"""The kernel for diagonal precisions without a shift: the rows as they are.

For 'diag' and 'spherical', ``log w_k + log N(x | k)`` is
``A_k . x^2 + B_k . x + c_k`` with ``A = -p/2`` and ``B = p mu``: two products
of the raw rows and their squares with ``(k, d)`` coefficients score every
component, and ``resp @ x``, ``resp @ x^2`` give the statistics. No design is
built and no row is moved: on few components and many features, where every
kernel is bound by memory traffic, this makes the fewest passes over the
rows. Its moments are about the origin, so ``_kernels`` lets it run only
where every coordinate's offset from zero is small against its spread.
"""

from dataclasses import dataclass

import numpy as np

from ._design import LOG_2PI, Scored


@dataclass(frozen=True)
class OriginPrepared:
    covariance_type: str
    second_order: np.ndarray  # (k, d) -p/2, or (k,) for 'spherical'
    linear: np.ndarray  # (k, d) p mu
    constants: np.ndarray  # (k,)

    @property
    def dtype(self):
        return self.linear.dtype


def row_bytes(d, k, itemsize):
    """Bytes of work arrays per row: the squares and the log-densities."""
    return itemsize * (2 * d + 2 * k)


def prepare(covariance_type, mixture, dtype):
    factors = covariance_type.precision_factors(mixture)
    p = factors**2
    d = mixture.n_features
    constants = (
        -0.5 * np.sum(p * mixture.means**2, axis=1)
        + np.log(factors).sum(axis=1)
        - 0.5 * d * LOG_2PI
        + np.log(mixture.weights)
    )
    second = -0.5 * (p[:, 0] if covariance_type.name == "spherical" else p)
    return OriginPrepared(
        covariance_type.name,
        second.astype(dtype),
        (p * mixture.means).astype(dtype),
        constants.astype(dtype),
    )


def score(prepared, X):
    """The ``(k, m)`` log-densities of complete rows, and the rows' squares."""
    X = X.astype(prepared.dtype, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        if prepared.covariance_type == "spherical":
            squares = np.einsum("ij,ij->i", X, X)
            log_prob = np.multiply.outer(prepared.second_order, squares)
        else:
            squares = X * X
            log_prob = prepared.second_order @ squares.T
        log_prob += prepared.linear @ X.T
        log_prob += prepared.constants[:, None]
    return Scored(log_prob, (X, squares))


def moments(prepared, work, resp):
    """``(nk, s1, s2)`` about the origin from ``(k, m)`` responsibilities."""
    X, squares = work
    nk = resp.sum(axis=1, dtype=np.float64)
    s1 = np.asarray(resp @ X, dtype=np.float64)
    s2 = np.asarray(resp @ squares, dtype=np.float64)
    return nk, s1, s2
