"""The four Gaussian covariance types: their parameters and their M-step.

A covariance type knows how its covariances are stored, factorised into
precision Cholesky factors, turned into unconstrained numbers (for SQUAREM)
and estimated from statistics. It knows nothing of how a pass computes those
statistics: the kernels (``_design``, ``_centred``, ``_origin``) do.

Statistics are moments about each component's own *centre* (``Statistics``
in ``_family``): ``s1 = sum r (x - c)`` and ``s2 = sum r (x - c)(x - c)'``.
The M-step's mean is ``c + s1 / n`` and its covariance ``s2 / n - d d'``
with ``d = s1 / n``; with the centre near the mean, ``d`` is small and the
subtraction loses nothing the data resolves.
"""

from dataclasses import dataclass, field

import numpy as np

from ._triangular import (
    from_unconstrained,
    lower_cholesky,
    to_unconstrained,
    triangular_inverses,
)

# Added to every component's count, as scikit-learn does, so that an empty
# component has a mean (its centre) rather than 0 / 0.
EPS = 10 * np.finfo(np.float64).eps


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
    # The covariances' lower Cholesky factors, as their factorisation left
    # them ('full', 'tied'; None otherwise): SQUAREM's packing reads them
    # instead of factorising the covariances again.
    covariances_cholesky: np.ndarray = field(default=None, compare=False, repr=False)

    @property
    def n_components(self):
        return self.means.shape[0]

    @property
    def n_features(self):
        return self.means.shape[1]

    def centre(self):
        """A point close to the data: the mean of the mixture."""
        return self.weights @ self.means


class _CovarianceType:
    """Shared pieces; subclasses fill in the covariance-specific parts."""

    name = None
    # Whether every component's precision is diagonal ('diag', 'spherical'):
    # its Cholesky factor is then a row of square roots, a kernel whitens by
    # a product and the missing-value path inverts nothing.
    diagonal = False
    # Whether one precision serves every component ('tied'): the
    # missing-value path then inverts each pattern's block once.
    shared = False

    def covariances(self, s2, nk, delta, reg_covar):
        """Covariances from second moments ``s2`` about the centres, the
        counts ``nk`` and the mean offsets ``delta = s1 / nk``."""
        raise NotImplementedError

    def precisions_cholesky(self, covariances, reg_covar):
        """Cholesky factors of the precisions; raise if one is singular."""
        raise NotImplementedError

    def precisions(self, precisions_cholesky):
        raise NotImplementedError

    def covariances_from_precisions(self, precisions):
        raise NotImplementedError

    def covariance_parameters(self, n_components, n_features):
        """How many free numbers the covariances hold."""
        raise NotImplementedError

    def dense_precisions(self, mixture):
        """The precision of every component as a ``(k, d, d)`` stack."""
        raise NotImplementedError

    def log_det_precisions(self, mixture):
        """``log det`` of every component's precision, shape ``(k,)``."""
        raise NotImplementedError

    def precision_factors(self, mixture):
        """Every component's precision Cholesky factor: ``(k, d, d)`` upper
        triangles, or ``(k, d)`` diagonals for the diagonal types."""
        raise NotImplementedError

    def draw(self, mixture, k, count, rng):
        """``count`` draws from component ``k``, taken from ``rng`` as scikit-learn takes them."""
        mean = mixture.means[k]
        covariance = self.component_covariance(mixture.covariances, k, mean.size)
        return rng.multivariate_normal(mean, covariance, count)

    def from_dense_second_moments(self, moments):
        """This type's ``s2`` layout from ``(k, d, d)`` second-moment sums."""
        raise NotImplementedError

    def component_covariance(self, covariances, k, d):
        """The ``d x d`` covariance matrix of component ``k``."""
        raise NotImplementedError

    def to_unconstrained(self, covariances, cholesky=None):
        """A flat vector of real numbers that parameterises the covariances
        (``cholesky``: their lower Cholesky factors, if known)."""
        raise NotImplementedError

    def at_least(self, covariances, floor):
        """Whether every eigenvalue of every component's covariance is at least ``floor``.

        A Cholesky factorisation of ``Sigma - floor I`` answers at a fraction of
        an eigendecomposition's cost; only where it fails do the eigenvalues
        decide, so a rejection is what ``eigvalsh`` says.
        """
        stack = covariances.reshape((-1,) + covariances.shape[-2:])
        if not np.all(np.isfinite(stack)):
            return False
        try:
            np.linalg.cholesky(stack - floor * np.eye(stack.shape[-1]))
            return True
        except np.linalg.LinAlgError:
            return bool(np.linalg.eigvalsh(stack).min() >= floor)

    def from_unconstrained(self, theta, n_components, n_features):
        raise NotImplementedError

    def unconstrained_mixture(self, weights, means, theta, reg_covar, floor):
        """The mixture whose covariances ``to_unconstrained`` gave as ``theta``,
        or None if a covariance has an eigenvalue below ``floor``."""
        covariances = self.from_unconstrained(theta, *means.shape)
        if not self.at_least(covariances, floor):
            return None
        return self.make_mixture(weights, means, covariances, reg_covar)

    def factorise(self, covariances, reg_covar):
        """The precision Cholesky factors, and the covariances' own lower
        Cholesky factors where they are a step on the way (else None)."""
        return self.precisions_cholesky(covariances, reg_covar), None

    def make_mixture(self, weights, means, covariances, reg_covar):
        precisions_cholesky, covariances_cholesky = self.factorise(covariances, reg_covar)
        return Mixture(weights, means, covariances, precisions_cholesky, covariances_cholesky)

    def m_step(self, stats, reg_covar):
        """The mixture that maximises the expected complete-data likelihood."""
        nk = stats.nk + EPS
        delta = stats.s1 / nk[:, None]
        covariances = self.covariances(stats.s2, nk, delta, reg_covar)
        return self.make_mixture(nk / nk.sum(), stats.centres + delta, covariances, reg_covar)


def _factorise(covariances, reg_covar):
    """Upper-triangular ``U`` with ``inv(Sigma) = U @ U.T``, for a stack, and the
    lower Cholesky factors ``L`` (``U = inv(L)'``)."""
    if not np.all(np.isfinite(covariances)):
        bad = np.flatnonzero(~np.isfinite(covariances).all(axis=(1, 2)))
        raise SingularCovarianceError(bad, reg_covar)
    chol, singular = lower_cholesky(covariances)
    if singular:
        raise SingularCovarianceError(singular, reg_covar)
    return _precisions_of_cholesky(chol, reg_covar), chol


def _precisions_of_cholesky(chol, reg_covar):
    """``U = inv(L)'`` of a stack of lower Cholesky factors; raise if one is singular."""
    inv_chol, singular = triangular_inverses(chol, lower=True)
    if singular:
        raise SingularCovarianceError(singular[:1], reg_covar)
    if not np.all(np.isfinite(inv_chol)):
        bad = np.flatnonzero(~np.isfinite(inv_chol).all(axis=(1, 2)))
        raise SingularCovarianceError(bad, reg_covar)
    return np.swapaxes(inv_chol, -1, -2)


def log_det_cholesky(precisions_cholesky):
    """``log det U`` for each upper-triangular factor in a stack."""
    diagonals = np.diagonal(precisions_cholesky, axis1=-2, axis2=-1)
    return np.log(diagonals).sum(axis=-1)


def _cholesky_to_unconstrained(covariances, chol=None):
    return to_unconstrained(np.linalg.cholesky(covariances) if chol is None else chol)


def _covariances_of(chol):
    return chol @ np.swapaxes(chol, -1, -2)


def _mixture_of_factors(covariance_type, weights, means, theta, n_matrices, reg_covar, floor):
    """``unconstrained_mixture`` for 'full' and 'tied': the covariances' factors
    ``L`` are known, so no factorisation is needed (the precisions' are ``inv(L)'``)."""
    chol = from_unconstrained(theta, n_matrices, means.shape[1])
    covariances = _covariances_of(chol)
    if not covariance_type.at_least(covariances, floor):
        return None
    precisions_cholesky = _precisions_of_cholesky(chol, reg_covar)
    if covariance_type.shared:
        covariances, precisions_cholesky, chol = covariances[0], precisions_cholesky[0], chol[0]
    return Mixture(weights, means, covariances, precisions_cholesky, chol)


def _symmetric(matrices):
    return 0.5 * (matrices + np.swapaxes(matrices, -1, -2))


class Full(_CovarianceType):
    name = "full"

    def covariances(self, s2, nk, delta, reg_covar):
        cov = s2 / nk[:, None, None] - delta[:, :, None] * delta[:, None, :]
        cov = _symmetric(cov)
        d = cov.shape[-1]
        cov[:, np.arange(d), np.arange(d)] += reg_covar
        return cov

    def precisions_cholesky(self, covariances, reg_covar):
        return _factorise(covariances, reg_covar)[0]

    def factorise(self, covariances, reg_covar):
        return _factorise(covariances, reg_covar)

    def precisions(self, precisions_cholesky):
        return precisions_cholesky @ np.swapaxes(precisions_cholesky, -1, -2)

    def covariances_from_precisions(self, precisions):
        return self.precisions(_factorise(precisions, 0.0)[0])

    def covariance_parameters(self, n_components, n_features):
        return n_components * n_features * (n_features + 1) // 2

    def dense_precisions(self, mixture):
        return self.precisions(mixture.precisions_cholesky)

    def log_det_precisions(self, mixture):
        return 2 * log_det_cholesky(mixture.precisions_cholesky)

    def precision_factors(self, mixture):
        return mixture.precisions_cholesky

    def trace_precisions(self, mixture):
        return np.sum(mixture.precisions_cholesky**2, axis=(1, 2))

    def trace_covariances(self, mixture):
        return np.trace(mixture.covariances, axis1=1, axis2=2)

    def from_dense_second_moments(self, moments):
        return moments

    def component_covariance(self, covariances, k, d):
        return covariances[k]

    def to_unconstrained(self, covariances, cholesky=None):
        return _cholesky_to_unconstrained(covariances, cholesky)

    def from_unconstrained(self, theta, n_components, n_features):
        return _covariances_of(from_unconstrained(theta, n_components, n_features))

    def unconstrained_mixture(self, weights, means, theta, reg_covar, floor):
        n_components = means.shape[0]
        return _mixture_of_factors(self, weights, means, theta, n_components, reg_covar, floor)


class Tied(_CovarianceType):
    name = "tied"
    shared = True

    def covariances(self, s2, nk, delta, reg_covar):
        # s2 pools every component's moments about its own centre; a row
        # counts by its responsibilities, so rows a hard initialisation
        # leaves out count for nothing (scikit-learn counts every row, which
        # inflates a 'tied' covariance started by 'random_from_data').
        between = np.einsum("k,ka,kb->ab", nk, delta, delta)
        cov = _symmetric((s2 - between) / nk.sum())
        cov.flat[:: cov.shape[0] + 1] += reg_covar
        return cov

    def precisions_cholesky(self, covariances, reg_covar):
        return _factorise(covariances[None], reg_covar)[0][0]

    def factorise(self, covariances, reg_covar):
        precisions_cholesky, cholesky = _factorise(covariances[None], reg_covar)
        return precisions_cholesky[0], cholesky[0]

    def precisions(self, precisions_cholesky):
        return precisions_cholesky @ precisions_cholesky.T

    def covariances_from_precisions(self, precisions):
        return self.precisions(_factorise(precisions[None], 0.0)[0][0])

    def covariance_parameters(self, n_components, n_features):
        return n_features * (n_features + 1) // 2

    def dense_precisions(self, mixture):
        P = self.precisions(mixture.precisions_cholesky)
        return np.broadcast_to(P, (mixture.n_components,) + P.shape)

    def log_det_precisions(self, mixture):
        log_det = 2 * log_det_cholesky(mixture.precisions_cholesky)
        return np.full(mixture.n_components, log_det)

    def precision_factors(self, mixture):
        U = mixture.precisions_cholesky
        return np.broadcast_to(U, (mixture.n_components,) + U.shape)

    def trace_precisions(self, mixture):
        return np.full(mixture.n_components, np.sum(mixture.precisions_cholesky**2))

    def trace_covariances(self, mixture):
        return np.full(mixture.n_components, np.trace(mixture.covariances))

    def from_dense_second_moments(self, moments):
        return moments.sum(axis=0)

    def component_covariance(self, covariances, k, d):
        return covariances

    def to_unconstrained(self, covariances, cholesky=None):
        return _cholesky_to_unconstrained(
            covariances[None], None if cholesky is None else cholesky[None]
        )

    def from_unconstrained(self, theta, n_components, n_features):
        return _covariances_of(from_unconstrained(theta, 1, n_features))[0]

    def unconstrained_mixture(self, weights, means, theta, reg_covar, floor):
        return _mixture_of_factors(self, weights, means, theta, 1, reg_covar, floor)


class _Independent(_CovarianceType):
    """Shared pieces of 'diag' and 'spherical', whose factors are ``1/sqrt(var)``."""

    diagonal = True

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
        dense = np.zeros((k, d, d))
        dense[:, np.arange(d), np.arange(d)] = self.precision_factors(mixture) ** 2
        return dense

    def precision_factors(self, mixture):
        """``(k, d)``: the square roots of each component's diagonal precision."""
        k, d = mixture.means.shape
        factors = mixture.precisions_cholesky.reshape(k, -1)
        return np.broadcast_to(factors, (k, d))

    def draw(self, mixture, k, count, rng):
        scale = np.sqrt(mixture.covariances[k])
        mean = mixture.means[k]
        return mean + rng.standard_normal(size=(count, mean.size)) * scale

    def log_det_precisions(self, mixture):
        return 2 * np.log(self.precision_factors(mixture)).sum(axis=1)

    def trace_precisions(self, mixture):
        return np.sum(self.precision_factors(mixture) ** 2, axis=1)

    def trace_covariances(self, mixture):
        k, d = mixture.means.shape
        return np.broadcast_to(mixture.covariances.reshape(k, -1), (k, d)).sum(axis=1)

    def to_unconstrained(self, covariances, cholesky=None):
        return np.log(covariances).ravel()

    def at_least(self, covariances, floor):
        return bool(covariances.min() >= floor)

    def from_unconstrained(self, theta, n_components, n_features):
        return np.exp(theta)


class Diag(_Independent):
    name = "diag"

    def covariances(self, s2, nk, delta, reg_covar):
        # A sum of squares: below zero only by rounding.
        return np.maximum(s2 / nk[:, None] - delta**2, 0.0) + reg_covar

    def covariance_parameters(self, n_components, n_features):
        return n_components * n_features

    def from_dense_second_moments(self, moments):
        return np.diagonal(moments, axis1=1, axis2=2).copy()

    def component_covariance(self, covariances, k, d):
        return np.diag(covariances[k])

    def from_unconstrained(self, theta, n_components, n_features):
        return np.exp(theta).reshape(n_components, n_features)


class Spherical(_Independent):
    name = "spherical"

    def covariances(self, s2, nk, delta, reg_covar):
        d = delta.shape[1]
        return np.maximum(s2 / nk - np.sum(delta**2, axis=1), 0.0) / d + reg_covar

    def covariance_parameters(self, n_components, n_features):
        return n_components

    def from_dense_second_moments(self, moments):
        return np.trace(moments, axis1=1, axis2=2)

    def component_covariance(self, covariances, k, d):
        return covariances[k] * np.eye(d)


FAMILIES = {family.name: family for family in (Full(), Tied(), Diag(), Spherical())}
