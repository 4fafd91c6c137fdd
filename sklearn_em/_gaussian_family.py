"""The Gaussian mixture family: the ``_family.Family`` contract for four covariance types.

Complete rows go through the kernel that ``_kernels.choose`` picks for the
pass; rows holding NaN through the conditional moments of ``_missing``.
Both add into statistics about the same centres.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import softmax

from . import _centred, _design, _origin
from ._family import Statistics
from ._gaussian import EPS, FAMILIES, SingularCovarianceError
from ._init import starting_parameters
from ._kernels import choose, eligible
from ._missing import conditionals
from ._missing_layout import DEFAULT_TUNING
from ._pass import as_log_zero_where_overflowed, normalise_log_responsibilities
from ._prior import log_prior_density, map_parameters, scatter_from_covariances
from ._spd import singular_to_rounding

KERNEL_MODULES = {"design": _design, "centred": _centred, "origin": _origin}
PRECISION_SHAPES = {
    "full": lambda k, d: (k, d, d),
    "tied": lambda k, d: (d, d),
    "diag": lambda k, d: (k, d),
    "spherical": lambda k, d: (k,),
}


@dataclass(frozen=True)
class GaussianPrepared:
    """What a pass needs of a mixture, computed once per pass."""

    kernel: str
    kernel_prepared: object  # the kernel's own view (_design or _centred)
    centres: np.ndarray  # (k, d) float64: what the statistics are about
    mixture: object
    covariance_type: object
    row_bytes: int

    @property
    def dtype(self):
        return self.kernel_prepared.dtype

    # What only the missing-value path needs, computed on its first use.

    @cached_property
    def shift(self):
        """``(d,)`` float64: the origin of the missing-value path."""
        return self.mixture.centre()

    @cached_property
    def means(self):
        return self.mixture.means - self.shift

    @cached_property
    def precisions(self):
        return self.covariance_type.dense_precisions(self.mixture)

    @cached_property
    def log_det_precisions(self):
        return self.covariance_type.log_det_precisions(self.mixture)

    @cached_property
    def log_weights(self):
        return np.log(self.mixture.weights)


def rows_with_nan(X):
    """Whether each row holds NaN (or, harmlessly, inf - inf: the
    conditional path serves complete rows too). As a matrix-vector product
    it is twice as fast as ``isnan(X).any(axis=1)``."""
    return np.isnan(X @ np.ones(X.shape[1], dtype=X.dtype))


@dataclass(frozen=True)
class GaussianFamily:
    """Gaussian mixtures of one covariance type, regularised by ``reg_covar``.

    ``kernel`` forces the complete rows' kernel ('design' or 'centred');
    None lets the cost model choose per pass. ``tuning`` batches the
    missing-value path. Neither changes a result beyond rounding.
    ``prior`` (a ``_prior.ResolvedPrior``, whose scale holds ``reg_covar``)
    makes the M-step MAP; None is maximum likelihood.
    """

    covariance_type: str
    reg_covar: float
    kernel: str = None
    tuning: object = DEFAULT_TUNING
    prior: object = None

    @property
    def type(self):
        return FAMILIES[self.covariance_type]

    # -- one pass --------------------------------------------------------

    def prepare(self, mixture, dtype, n_rows, n_threads=1):
        kernel, dtype = choose(self.type, mixture, dtype, n_rows, n_threads, self.kernel)
        k, d = mixture.means.shape
        itemsize = np.dtype(dtype).itemsize
        if kernel == "design":
            prepared = _design.prepare(self.type, mixture, dtype)
            centres = np.broadcast_to(prepared.shift.astype(np.float64), (k, d))
            row_bytes = _design.row_bytes(self.covariance_type, d, k, itemsize)
        elif kernel == "origin":
            prepared = _origin.prepare(self.type, mixture, dtype)
            centres = np.zeros((k, d))
            row_bytes = _origin.row_bytes(d, k, itemsize)
        else:
            prepared = _centred.prepare(self.type, mixture, dtype)
            centres = prepared.centres.astype(np.float64)
            row_bytes = _centred.row_bytes(d, k, itemsize)
        return GaussianPrepared(
            kernel=kernel,
            kernel_prepared=prepared,
            centres=centres,
            mixture=mixture,
            covariance_type=self.type,
            row_bytes=row_bytes,
        )

    def block_statistics(self, prepared, block, cache=None, key=None, weights=None):
        incomplete = rows_with_nan(block)
        if not incomplete.any():
            return self._complete_statistics(prepared, block, weights)
        stats = self._incomplete_statistics(prepared, block, incomplete, cache, key, weights)
        if incomplete.all():
            return stats
        complete_weights = None if weights is None else weights[~incomplete]
        return stats + self._complete_statistics(prepared, block[~incomplete], complete_weights)

    def _complete_statistics(self, prepared, X, weights=None):
        kernel = KERNEL_MODULES[prepared.kernel]
        scored = kernel.score(prepared.kernel_prepared, X)
        resp = scored.log_prob
        loglik = _weighted_sum(normalise_log_responsibilities(resp, axis=0), weights)
        if weights is not None:
            resp *= weights.astype(resp.dtype)  # (k, m): now weighted responsibilities
        nk, s1, s2 = kernel.moments(prepared.kernel_prepared, scored.work, resp)
        return Statistics(nk, prepared.centres, s1, s2, float(loglik))

    def _incomplete_statistics(self, prepared, block, incomplete, cache, key, weights=None):
        total = None
        centres = prepared.centres - prepared.shift
        diagonal = np.arange(block.shape[1])
        for part, cond in self._conditional_parts(prepared, block, incomplete, cache, key):
            resp = cond.log_prob
            part_weights = None if weights is None else weights[part]
            loglik = _weighted_sum(normalise_log_responsibilities(resp), part_weights)
            if part_weights is not None:
                resp *= part_weights[:, None]  # (m, k): now weighted responsibilities
            s1, second = cond.moment_sums(resp, centres)
            # A missing value's conditional variance holds the reg_covar of the
            # step before; the M-step adds it again, so it is taken out here.
            # Otherwise it compounds, and the likelihood falls, on rows with
            # little observed. A prior holds reg_covar in its scale instead.
            if self.prior is None:
                missing_weight = resp.T @ np.isnan(block[part])
                second[:, diagonal, diagonal] -= self.reg_covar * missing_weight
            s2 = self.type.from_dense_second_moments(second)
            stats = Statistics(resp.sum(axis=0), prepared.centres, s1, s2, float(loglik))
            total = stats if total is None else total + stats
        return total

    def _conditional_parts(self, prepared, block, incomplete, cache, key):
        """``(positions, conditionals)`` of the block's ``incomplete`` rows, by parts."""
        positions = np.flatnonzero(incomplete)
        k, d = prepared.means.shape
        step = max(64, self.tuning.part_bytes // (8 * 6 * k * d))  # k d floats, six times
        for start in range(0, positions.size, step):
            part = positions[start : start + step]
            Xc = block[part].astype(np.float64) - prepared.shift
            layout = None
            if cache is not None and not self.type.diagonal:
                layout = cache.layout((key, start), np.isnan(Xc), self.tuning)
            yield part, self._conditionals(prepared, Xc, layout)

    def _conditionals(self, prepared, Xc, layout=None):
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                cond = conditionals(
                    Xc,
                    prepared.means,
                    prepared.precisions,
                    prepared.log_det_precisions,
                    prepared.log_weights,
                    _missing_structure(self.type),
                    layout,
                    self.tuning,
                )
        except np.linalg.LinAlgError:
            # A block of a positive definite precision is positive definite:
            # one that fails to invert belongs to a numerically singular
            # precision (SQUAREM rejects such a jump; plain EM names it).
            bad = _numerically_singular(prepared.precisions)
            raise SingularCovarianceError(bad, self.reg_covar) from None
        as_log_zero_where_overflowed(cond.log_prob)
        # No marginal density exceeds its Gaussian's at the mean, at most
        # (tr P / 2 pi)^(d_o / 2): every eigenvalue of a marginal covariance
        # is at least the smallest of Sigma, 1 / lambda_max(P) >= 1 / tr P.
        # One above it is the rounding of a numerically singular precision.
        d = Xc.shape[1]
        trace_p = prepared.covariance_type.trace_precisions(prepared.mixture)
        # (A component of weight 0 has peak -inf: its slack is NaN, and no
        # density counts as above it.)
        with np.errstate(divide="ignore", invalid="ignore"):
            peak = prepared.log_weights + 0.5 * d * np.maximum(np.log(trace_p / (2 * np.pi)), 0.0)
            impossible = cond.log_prob > peak + 1.0 + 1e-9 * np.abs(peak)
        if impossible.any():
            raise SingularCovarianceError(np.flatnonzero(impossible.any(axis=0)), self.reg_covar)
        return cond

    def block_log_prob(self, prepared, block, cache=None, key=None):
        incomplete = rows_with_nan(block)
        k = prepared.centres.shape[0]
        out = np.empty((block.shape[0], k), dtype=prepared.dtype)
        complete = block[~incomplete] if incomplete.any() else block
        if complete.shape[0]:
            scored = KERNEL_MODULES[prepared.kernel].score(prepared.kernel_prepared, complete)
            out[~incomplete] = as_log_zero_where_overflowed(scored.log_prob).T
        if incomplete.any():  # the conditional path cleans its own
            for part, cond in self._conditional_parts(prepared, block, incomplete, cache, key):
                out[part] = cond.log_prob
        return out

    def conditionals(self, mixture, X, cache, key):
        """Conditional moments of rows ``X`` holding NaN, and the origin they are about;
        the layout of their NaN is kept in ``cache`` under ``key``."""
        prepared = self.prepare(mixture, np.float64, X.shape[0])
        Xc = X - prepared.shift
        layout = None if self.type.diagonal else cache.layout(key, np.isnan(Xc), self.tuning)
        return self._conditionals(prepared, Xc, layout), prepared.shift

    # -- parameters ------------------------------------------------------

    def m_step(self, stats):
        if self.prior is None:
            return self.type.m_step(stats, self.reg_covar)
        # MAP: the scatter about the weighted means, from the ML covariances
        # without reg_covar (the prior's scale holds it).
        nk = stats.nk + EPS
        delta = stats.s1 / nk[:, None]
        ml_covariances = self.type.covariances(stats.s2, nk, delta, 0.0)
        scatter = scatter_from_covariances(self.prior, ml_covariances, nk)
        means, covariances = map_parameters(self.prior, nk, stats.centres + delta, scatter)
        return self.from_parts(nk / nk.sum(), means, covariances)

    def log_prior(self, mixture):
        """The log prior density of ``mixture`` (its weights flat); 0 without a prior."""
        return 0.0 if self.prior is None else log_prior_density(self.prior, mixture)

    def resolved(self, prepared, update):
        if prepared.dtype == np.float64:
            return True
        return prepared.kernel in eligible(self.type, update, prepared.dtype)

    def from_parts(self, weights, means, covariances):
        return self.type.make_mixture(weights, means, covariances, self.reg_covar)

    def from_responsibilities(self, X, resp, sample_weight=None):
        """The start that ``(n, k)`` starting responsibilities give, as scikit-learn's
        (with row weights, and the MAP step with a prior)."""
        weights, means, covariances = starting_parameters(
            X, resp, self.covariance_type, self.reg_covar, sample_weight, self.prior
        )
        return self.from_parts(weights, means, covariances)

    def pack(self, mixture):
        return np.concatenate(
            [
                np.log(mixture.weights),
                mixture.means.ravel(),
                self.type.to_unconstrained(mixture.covariances, mixture.covariances_cholesky),
            ]
        )

    def unpack(self, theta, shape):
        k, d = shape
        weights = softmax(theta[:k])
        means = theta[k : k + k * d].reshape(k, d)
        # Every EM step keeps the covariances at reg_covar or above; a jump
        # below would trade that regularisation for likelihood. The slack is
        # for the rounding of an EM step's own smallest eigenvalue. (A MAP
        # step has no such floor: its prior keeps the covariances positive.)
        floor = 0.0 if self.prior is not None else self.reg_covar * (1 - 1e-6)
        mixture = self.type.unconstrained_mixture(
            weights, means, theta[k + k * d :], self.reg_covar, floor
        )
        if mixture is None:
            raise SingularCovarianceError(range(k), self.reg_covar)
        return mixture

    def n_parameters(self, mixture):
        k, d = mixture.means.shape
        return self.type.covariance_parameters(k, d) + k * d + k - 1

    def precisions(self, mixture):
        """The precisions, shaped as the covariances."""
        return self.type.precisions(mixture.precisions_cholesky)

    def precisions_shape(self, n_components, n_features):
        return PRECISION_SHAPES[self.covariance_type](n_components, n_features)

    def covariances_from_precisions(self, precisions, label):
        """The covariances of user-given precisions, which must be valid.

        ``label`` names them in the error, as scikit-learn does ('full precision').
        """
        structured = not self.type.diagonal
        requirement = "symmetric, positive-definite" if structured else "positive"
        problem = ValueError(f"'{label}' should be {requirement}: check precisions_init.")
        if structured and not np.allclose(precisions, np.swapaxes(precisions, -1, -2)):
            raise problem
        try:
            covariances = self.type.covariances_from_precisions(precisions)
            self.type.precisions_cholesky(covariances, 0.0)
        except ValueError:
            raise problem from None
        return covariances

    def sample(self, mixture, n_samples, rng):
        """Draws grouped by component, taken from ``rng`` as scikit-learn takes them."""
        counts = rng.multinomial(n_samples, mixture.weights)
        labels = np.repeat(np.arange(mixture.n_components), counts)
        parts = [self.type.draw(mixture, k, int(count), rng) for k, count in enumerate(counts)]
        return np.vstack(parts), labels


def _missing_structure(covariance_type):
    """``_missing.conditionals``' name for what the components' precisions share."""
    if covariance_type.diagonal:
        return "diagonal"
    return "shared" if covariance_type.shared else "full"


def _weighted_sum(row_logliks, weights):
    """The log-likelihood of a block: its rows' sum, each by its weight."""
    if weights is None:
        return row_logliks.sum(dtype=np.float64)
    return weights @ row_logliks.astype(np.float64)


def _numerically_singular(precisions):
    """The components whose precision is singular to rounding (all, if none is)."""
    bad = np.flatnonzero(singular_to_rounding(precisions))
    return bad if bad.size else np.arange(len(precisions))
