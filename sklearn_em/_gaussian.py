"""The Gaussian family, one class per covariance type.

Every family writes the weighted log-density of component ``k`` as a linear
function of a column of row features, the *design*::

    log w_k + log N(x | mu_k, Sigma_k) = W[k] @ g(x),  g(x) = [s(x), x, 1]

where ``s(x)`` holds the second-order terms of ``x`` (the packed upper
triangle of ``x x^T`` for 'full', ``x**2`` for 'diag', ``|x|**2`` for
'spherical', ``-x' P x / 2`` for 'tied'). One GEMM per block then scores every
component at once, and one more, with the responsibilities, sums every
statistic of the M-step (counts, first and second moments). Rows are centred
on a shift close to the data as the design is built, which keeps the expanded
quadratic form accurate.

The driver never branches on the covariance type: it calls the methods below.
"""

import functools
from dataclasses import dataclass

import numpy as np
from scipy import linalg

LOG_2PI = np.log(2 * np.pi)


class SingularCovarianceError(ValueError):
    """A component's covariance is not positive definite."""

    def __init__(self, components, reg_covar):
        self.components = list(components)
        names = ", ".join(str(k) for k in self.components)
        super().__init__(
            "Fitting the mixture model failed because some components have ill-defined "
            "empirical covariance (for instance caused by singleton or collapsed samples). "
            "Try to decrease the number of components, increase reg_covar, or scale the "
            f"input data. The covariance of component(s) {names} is singular even with "
            f"reg_covar={reg_covar:g}: Increase reg_covar relative to the scale of the "
            "features (or standardise them), or remove duplicated samples."
        )


@dataclass(frozen=True)
class Mixture:
    """The parameters of a Gaussian mixture, in the layout of scikit-learn."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray

    @property
    def n_components(self):
        return self.means.shape[0]

    @property
    def n_features(self):
        return self.means.shape[1]

    def centre(self):
        """A shift close to the data: the mean of the mixture."""
        return self.weights @ self.means


class _Family:
    """Shared pieces; subclasses fill in the covariance-specific parts."""

    name = None
    # What component precisions share, for the missing-value path: see _missing.
    precision_structure = "full"

    def second_order_size(self, d):
        """How many second-order rows the design holds for ``d`` features."""
        raise NotImplementedError

    def fill_second_order(self, XT, out, coef):
        """Write the second-order rows ``out`` of the columns ``XT`` (``d x m``).

        ``coef`` is None when only statistics are wanted, not densities.
        """
        raise NotImplementedError

    def design(self, X, shift, coef=None):
        """The design of the rows ``X - shift``: one column per row.

        Column-major (terms x rows) because building it then writes whole
        contiguous rows, which measured 3.6x faster than row-major. Computed
        in the dtype of ``shift``.
        """
        m, d = X.shape
        q = self.second_order_size(d)
        G = np.empty((q + d + 1, m), dtype=shift.dtype)
        XT = G[q : q + d]
        np.subtract(X.T, shift[:, None], out=XT)
        G[-1] = 1.0
        self.fill_second_order(XT, G[:q], coef)
        return G

    def log_density(self, G, coef):
        """``log w_k + log N_k`` of every design column, shape ``(k, m)``."""
        return coef[0] @ G

    def second_moments(self, S2, XT, resp):
        """The second-moment statistics, from the sums ``S2`` of the second-order rows."""
        return S2

    def covariances(self, s2, nk, means, reg_covar, resolution):
        """Covariances from summed second moments and the new means.

        A variance smaller than ``resolution`` times its raw second moment is
        rounding noise of ``E[x^2] - mu^2``; it is set to exactly zero (with
        its row and column), so that only ``reg_covar`` can make it positive.
        """
        raise NotImplementedError

    def precisions_cholesky(self, covariances, reg_covar):
        """Cholesky factors of the precisions; raise if one is singular."""
        raise NotImplementedError

    def precisions(self, precisions_cholesky):
        raise NotImplementedError

    def covariances_from_precisions(self, precisions):
        raise NotImplementedError

    def coefficients(self, mixture, shift):
        """``(W, ...)``: the design weights of ``log w_k + log N_k``, and what
        ``fill_second_order`` needs."""
        raise NotImplementedError

    def n_parameters(self, n_components, n_features):
        raise NotImplementedError

    def dense_precisions(self, mixture):
        """The precision of every component as a ``(k, d, d)`` stack."""
        raise NotImplementedError

    def log_det_precisions(self, mixture):
        """``log det`` of every component's precision, shape ``(k,)``."""
        raise NotImplementedError

    def from_dense_second_moments(self, moments):
        """This family's ``s2`` layout from ``(k, d, d)`` second-moment sums."""
        raise NotImplementedError

    def to_unconstrained(self, covariances):
        """A flat vector of real numbers that parameterises the covariances."""
        raise NotImplementedError

    def smallest_variance(self, covariances):
        """The smallest eigenvalue of any component's covariance."""
        return float(np.linalg.eigvalsh(covariances).min())

    def from_unconstrained(self, theta, n_components, n_features):
        raise NotImplementedError

    def make_mixture(self, weights, means, covariances, reg_covar):
        return Mixture(
            weights=weights,
            means=means,
            covariances=covariances,
            precisions_cholesky=self.precisions_cholesky(covariances, reg_covar),
        )


def _design_weights(second_order, linear, constant):
    """``W`` with ``W[k] @ [s(x), x, 1]`` the weighted log-density of component ``k``."""
    return np.hstack([second_order, linear, constant[:, None]])


def _unresolved(second_moments, squared_means, resolution):
    """Where ``second_moments - squared_means`` is below rounding noise."""
    return second_moments - squared_means <= resolution * second_moments


def _lower_cholesky(covariances, reg_covar):
    """Lower Cholesky factors of a stack of matrices, naming failures."""
    try:
        return np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError:
        bad = []
        for k, cov in enumerate(covariances):
            try:
                np.linalg.cholesky(cov)
            except np.linalg.LinAlgError:
                bad.append(k)
        raise SingularCovarianceError(bad, reg_covar) from None


def _precision_cholesky_from_cov(covariances, reg_covar):
    """Upper-triangular ``U`` with ``inv(Sigma) = U @ U.T``, for a stack."""
    if not np.all(np.isfinite(covariances)):
        bad = np.flatnonzero(~np.isfinite(covariances).all(axis=(1, 2)))
        raise SingularCovarianceError(bad, reg_covar)
    chol = _lower_cholesky(covariances, reg_covar)
    # LAPACK's triangular inverse per component: scipy's batched solve
    # costs far more in Python overhead than the few small inverses.
    inv_chol = np.empty_like(chol)
    for k, factor in enumerate(chol):
        inv_chol[k], info = linalg.lapack.dtrtri(factor, lower=1)
        if info != 0:
            raise SingularCovarianceError([k], reg_covar)
    if not np.all(np.isfinite(inv_chol)):
        bad = np.flatnonzero(~np.isfinite(inv_chol).all(axis=(1, 2)))
        raise SingularCovarianceError(bad, reg_covar)
    return np.swapaxes(inv_chol, -1, -2)


def _log_det_cholesky(precisions_cholesky):
    """``log det U`` for each upper-triangular factor in a stack."""
    diagonals = np.diagonal(precisions_cholesky, axis1=-2, axis2=-1)
    return np.log(diagonals).sum(axis=-1)


def _cholesky_to_unconstrained(covariances):
    chol = np.linalg.cholesky(covariances)
    d = chol.shape[-1]
    rows, cols = np.tril_indices(d)
    theta = chol[..., rows, cols].copy()
    diagonal = rows == cols
    theta[..., diagonal] = np.log(theta[..., diagonal])
    return theta.ravel()


def _cholesky_from_unconstrained(theta, n_matrices, d):
    rows, cols = np.tril_indices(d)
    theta = theta.reshape(n_matrices, rows.size)
    diagonal = rows == cols
    chol = np.zeros((n_matrices, d, d))
    chol[:, rows, cols] = theta
    chol[:, rows[diagonal], cols[diagonal]] = np.exp(theta[:, diagonal])
    return chol @ np.swapaxes(chol, -1, -2)


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
        out = np.zeros(packed.shape[:-1] + (self.d, self.d))
        out[..., self.rows, self.cols] = packed
        out[..., self.cols, self.rows] = packed
        return out


class Full(_Family):
    name = "full"

    def second_order_size(self, d):
        return packed_upper(d).size

    def fill_second_order(self, XT, out, coef):
        packed_upper(XT.shape[0]).outer(XT, out=out)

    def covariances(self, s2, nk, means, reg_covar, resolution):
        d = means.shape[1]
        diagonal = (slice(None), np.arange(d), np.arange(d))
        cov = packed_upper(d).unpack(s2 / nk[:, None])
        unresolved = _unresolved(cov[diagonal], means**2, resolution)
        cov -= means[:, :, None] * means[:, None, :]
        component, feature = np.nonzero(unresolved)
        cov[component, feature, :] = 0.0
        cov[component, :, feature] = 0.0
        cov[diagonal] += reg_covar
        return cov

    def precisions_cholesky(self, covariances, reg_covar):
        return _precision_cholesky_from_cov(covariances, reg_covar)

    def precisions(self, precisions_cholesky):
        return precisions_cholesky @ np.swapaxes(precisions_cholesky, -1, -2)

    def covariances_from_precisions(self, precisions):
        return self.precisions(_precision_cholesky_from_cov(precisions, 0.0))

    def coefficients(self, mixture, shift):
        d = mixture.n_features
        packed = packed_upper(d)
        P = self.precisions(mixture.precisions_cholesky)
        mu = mixture.means - shift
        Pmu = np.einsum("kab,kb->ka", P, mu)
        c = (
            -0.5 * np.einsum("ka,ka->k", mu, Pmu)
            + _log_det_cholesky(mixture.precisions_cholesky)
            - 0.5 * d * LOG_2PI
            + np.log(mixture.weights)
        )
        return (_design_weights(-0.5 * packed.multiplicity * packed.pack(P), Pmu, c),)

    def n_parameters(self, n_components, n_features):
        return n_components * n_features * (n_features + 1) // 2

    def dense_precisions(self, mixture):
        return self.precisions(mixture.precisions_cholesky)

    def log_det_precisions(self, mixture):
        return 2 * _log_det_cholesky(mixture.precisions_cholesky)

    def from_dense_second_moments(self, moments):
        return packed_upper(moments.shape[-1]).pack(moments)

    def to_unconstrained(self, covariances):
        return _cholesky_to_unconstrained(covariances)

    def from_unconstrained(self, theta, n_components, n_features):
        return _cholesky_from_unconstrained(theta, n_components, n_features)


class Tied(_Family):
    name = "tied"
    precision_structure = "shared"

    def second_order_size(self, d):
        return 1

    def fill_second_order(self, XT, out, coef):
        # -x' P x / 2 is the same for every component: one row, weighted by
        # one. The statistics do not use it (see second_moments).
        if coef is None:
            out[:] = 0.0
            return
        y = coef[1].T @ XT
        np.einsum("ij,ij->j", y, y, out=out[0])
        out *= -0.5

    def second_moments(self, S2, XT, resp):
        # Pooled over components, each row counts by its total responsibility:
        # one in an E-step, but zero for rows a hard initialization leaves out.
        # (scikit-learn counts every row, which inflates a 'tied' covariance
        # started by 'random_from_data' or 'k-means++'.)
        return (XT * resp.sum(axis=0)) @ XT.T

    def covariances(self, s2, nk, means, reg_covar, resolution):
        n = nk.sum()
        between = (nk[:, None] * means).T @ means / n
        unresolved = _unresolved(np.diag(s2) / n, np.diag(between), resolution)
        cov = s2 / n - between
        cov[unresolved, :] = 0.0
        cov[:, unresolved] = 0.0
        cov.flat[:: cov.shape[0] + 1] += reg_covar
        return cov

    def precisions_cholesky(self, covariances, reg_covar):
        return _precision_cholesky_from_cov(covariances[None], reg_covar)[0]

    def precisions(self, precisions_cholesky):
        return precisions_cholesky @ precisions_cholesky.T

    def covariances_from_precisions(self, precisions):
        return self.precisions(_precision_cholesky_from_cov(precisions[None], 0.0)[0])

    def coefficients(self, mixture, shift):
        d = mixture.n_features
        U = mixture.precisions_cholesky
        mu = mixture.means - shift
        Pmu = mu @ U @ U.T
        c = (
            -0.5 * np.einsum("ka,ka->k", mu, Pmu)
            + _log_det_cholesky(U)
            - 0.5 * d * LOG_2PI
            + np.log(mixture.weights)
        )
        return _design_weights(np.ones((len(c), 1)), Pmu, c), U

    def n_parameters(self, n_components, n_features):
        return n_features * (n_features + 1) // 2

    def dense_precisions(self, mixture):
        P = self.precisions(mixture.precisions_cholesky)
        return np.broadcast_to(P, (mixture.n_components,) + P.shape)

    def log_det_precisions(self, mixture):
        log_det = 2 * _log_det_cholesky(mixture.precisions_cholesky)
        return np.full(mixture.n_components, log_det)

    def from_dense_second_moments(self, moments):
        return moments.sum(axis=0)

    def to_unconstrained(self, covariances):
        return _cholesky_to_unconstrained(covariances[None])

    def from_unconstrained(self, theta, n_components, n_features):
        return _cholesky_from_unconstrained(theta, 1, n_features)[0]


class _Independent(_Family):
    """Shared pieces of 'diag' and 'spherical', whose factors are ``1/sqrt(var)``."""

    precision_structure = "diagonal"

    def precisions_cholesky(self, covariances, reg_covar):
        bad = ~(covariances > 0) | ~np.isfinite(covariances)
        if bad.any():
            bad_components = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
            raise SingularCovarianceError(bad_components, reg_covar)
        return 1.0 / np.sqrt(covariances)

    def precisions(self, precisions_cholesky):
        return precisions_cholesky**2

    def covariances_from_precisions(self, precisions):
        return 1.0 / precisions

    def dense_precisions(self, mixture):
        k, d = mixture.means.shape
        diagonal = np.broadcast_to(
            self.precisions(mixture.precisions_cholesky).reshape(k, -1), (k, d)
        )
        dense = np.zeros((k, d, d))
        dense[:, np.arange(d), np.arange(d)] = diagonal
        return dense

    def log_det_precisions(self, mixture):
        k, d = mixture.means.shape
        log_factors = np.log(mixture.precisions_cholesky).reshape(k, -1)
        return 2 * np.broadcast_to(log_factors, (k, d)).sum(axis=1)

    def to_unconstrained(self, covariances):
        return np.log(covariances).ravel()

    def smallest_variance(self, covariances):
        return float(covariances.min())

    def from_unconstrained(self, theta, n_components, n_features):
        return np.exp(theta)


class Diag(_Independent):
    name = "diag"

    def second_order_size(self, d):
        return d

    def fill_second_order(self, XT, out, coef):
        np.multiply(XT, XT, out=out)

    def covariances(self, s2, nk, means, reg_covar, resolution):
        moments = s2 / nk[:, None]
        cov = moments - means**2
        cov[_unresolved(moments, means**2, resolution)] = 0.0
        return cov + reg_covar

    def coefficients(self, mixture, shift):
        d = mixture.n_features
        P = self.precisions(mixture.precisions_cholesky)
        mu = mixture.means - shift
        c = (
            -0.5 * np.sum(mu**2 * P, axis=1)
            + np.log(mixture.precisions_cholesky).sum(axis=1)
            - 0.5 * d * LOG_2PI
            + np.log(mixture.weights)
        )
        return (_design_weights(-0.5 * P, P * mu, c),)

    def n_parameters(self, n_components, n_features):
        return n_components * n_features

    def from_dense_second_moments(self, moments):
        return np.diagonal(moments, axis1=1, axis2=2).copy()

    def from_unconstrained(self, theta, n_components, n_features):
        return np.exp(theta).reshape(n_components, n_features)


class Spherical(_Independent):
    name = "spherical"

    def second_order_size(self, d):
        return 1

    def fill_second_order(self, XT, out, coef):
        np.einsum("ij,ij->j", XT, XT, out=out[0])

    def second_moments(self, S2, XT, resp):
        return S2[:, 0]

    def covariances(self, s2, nk, means, reg_covar, resolution):
        moments = s2 / nk
        squared_means = np.sum(means**2, axis=1)
        cov = (moments - squared_means) / means.shape[1]
        cov[_unresolved(moments, squared_means, resolution)] = 0.0
        return cov + reg_covar

    def coefficients(self, mixture, shift):
        d = mixture.n_features
        p = self.precisions(mixture.precisions_cholesky)
        mu = mixture.means - shift
        c = (
            -0.5 * p * np.sum(mu**2, axis=1)
            + d * np.log(mixture.precisions_cholesky)
            - 0.5 * d * LOG_2PI
            + np.log(mixture.weights)
        )
        return (_design_weights(-0.5 * p[:, None], p[:, None] * mu, c),)

    def n_parameters(self, n_components, n_features):
        return n_components

    def from_dense_second_moments(self, moments):
        return np.trace(moments, axis1=1, axis2=2)


FAMILIES = {family.name: family for family in (Full(), Tied(), Diag(), Spherical())}
