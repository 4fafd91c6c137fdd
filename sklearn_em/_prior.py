"""The conjugate prior of Fraley & Raftery (2007): MAP estimation for mixtures.

Each component's mean has a normal prior about ``mean`` with the component's
covariance divided by ``shrinkage``; each covariance has an inverse-Wishart
prior (``dof``, ``scale``) for 'full' and 'tied', and each variance an
inverse-gamma prior (shape ``dof / 2``, scale ``scale / 2``) for 'diag' and
'spherical'. The MAP M-step is then a closed form of the counts ``n_k``, the
weighted means ``ybar_k`` and the scatter ``W_k`` about them; the formulas
are derived in docs/user_guide/map.rst and agree with mclust's Fortran
(``msvvvp``, ``mseeep``, ``msvvip``, ``msviip``).

The estimator resolves a ``ConjugatePrior`` against the training data once
per fit (``resolve_prior``); the driver sees only the frozen result. The
imputer's choice shrinks its covariances with one such prior of its own
(``shrinkage_prior``).
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import gammaln, multigammaln
from sklearn.utils._param_validation import StrOptions

from ._dask import is_dask_collection, map_reduce

LOG_2PI = np.log(2 * np.pi)
SCALAR_SCALE = ("diag", "spherical")


class ConjugatePrior:
    """A conjugate prior on the component means and covariances.

    Fitting with it gives the maximum a posteriori (MAP) mixture instead of
    the maximum likelihood one: every covariance is pulled towards ``scale``
    and every mean towards ``mean``, so that no component can collapse onto
    a few points. The defaults are those of R's mclust (``defaultPrior``).

    Parameters
    ----------
    shrinkage : float, default=0.01
        How many samples' worth of weight the prior mean has; 0 puts no
        prior on the means.

    mean : array-like of shape (n_features,), default=None
        The prior mean of every component; None takes the column means of
        the training data (over observed values, weighted by
        ``sample_weight``).

    dof : float, default=None
        The degrees of freedom of the covariance prior; None takes
        ``n_features + 2``. It must exceed ``n_features - 1`` for 'full' and
        'tied', and 0 for 'diag' and 'spherical'.

    scale : float or array-like of shape (n_features, n_features), default=None
        The scale of the covariance prior. None takes
        ``(1 / n_components) ** (2 / n_features)`` times the sample
        covariance of the training data (its diagonal when there are no
        more samples than features, as in mclust, when the data hold
        missing values, or when it is singular to rounding, as on collinear
        features: the column variances over observed values). For 'diag' and
        'spherical' the scale is one number: a matrix enters through the
        mean of its diagonal, a number as given; for 'full' and 'tied' a
        number ``s`` means ``s`` times the identity.

    See Also
    --------
    GaussianMixture : Takes it as ``prior``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_em import ConjugatePrior, GaussianMixture
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [5.0, 5.0], [5.0, 5.0]])
    >>> gm = GaussianMixture(2, prior=ConjugatePrior(), reg_covar=0, random_state=0).fit(X)
    >>> bool(np.all(np.linalg.eigvalsh(gm.covariances_) > 0))
    True
    """

    def __init__(self, shrinkage=0.01, mean=None, dof=None, scale=None):
        self.shrinkage = shrinkage
        self.mean = mean
        self.dof = dof
        self.scale = scale

    def __repr__(self):
        given = [f"shrinkage={self.shrinkage!r}"] if self.shrinkage != 0.01 else []
        given += [
            f"{name}={getattr(self, name)!r}"
            for name in ("mean", "dof", "scale")
            if getattr(self, name) is not None
        ]
        return f"ConjugatePrior({', '.join(given)})"


# What an estimator's ``prior`` parameter accepts (scikit-learn's constraints).
PRIOR_CONSTRAINT = [StrOptions({"conjugate"}), ConjugatePrior, None]


@dataclass(frozen=True)
class ResolvedPrior:
    """A prior's hyperparameters for one fit: numbers, not defaults."""

    covariance_type: str
    shrinkage: float
    mean: np.ndarray  # (d,)
    dof: float
    scale: object  # (d, d) for 'full' and 'tied', a positive float otherwise

    @cached_property
    def inverse_wishart_log_normaliser(self):
        """The log normalising constant of the inverse-Wishart on one covariance
        ('full' and 'tied'): once a fit, not once a pass."""
        nu, d = self.dof, self.mean.size
        log_det_scale = np.linalg.slogdet(self.scale)[1]
        return 0.5 * nu * log_det_scale - 0.5 * nu * d * np.log(2.0) - multigammaln(0.5 * nu, d)


def resolve_prior(prior, X, sample_weight, n_components, covariance_type, reg_covar):
    """The ``ResolvedPrior`` of ``prior`` ('conjugate', a ConjugatePrior or None) on ``X``.

    ``reg_covar`` is added to the diagonal of the scale: the M-step then
    stays the exact maximiser of the log-posterior it reports, which an
    addition after the MAP step would not be (the log-posterior could fall
    by about ``reg_covar`` near convergence).
    """
    if prior is None:
        return None
    if isinstance(prior, str):
        prior = ConjugatePrior()
    d = X.shape[1]
    shrinkage = _checked_shrinkage(prior.shrinkage)
    if prior.mean is None or prior.scale is None:
        moments = column_moments(X, sample_weight)
    mean = moments.mean if prior.mean is None else _checked_vector(prior.mean, d, "mean")
    dof = float(d + 2) if prior.dof is None else _checked_dof(prior.dof, d, covariance_type)
    if prior.scale is None:
        covariance = _default_covariance(moments, covariance_type)
        scale = (1.0 / n_components) ** (2.0 / d) * covariance
    else:
        scale = _checked_scale(prior.scale, d, covariance_type)
    scale = scale + (reg_covar if covariance_type in SCALAR_SCALE else reg_covar * np.eye(d))
    return ResolvedPrior(covariance_type, shrinkage, mean, dof, scale)


def scatter_from_covariances(prior, covariances, nk):
    """Scatter about each weighted mean, from ML covariances in the family's layout.

    The families divide the scatter by the counts (summed counts for
    'tied', counts times ``d`` for 'spherical'); this undoes it.
    """
    kind = prior.covariance_type
    if kind == "full":
        return covariances * nk[:, None, None]
    if kind == "tied":
        return covariances * nk.sum()
    if kind == "diag":
        return covariances * nk[:, None]
    return covariances * nk * prior.mean.size


def map_parameters(prior, nk, means, scatter, shift=0.0):
    """The MAP means and covariances from weighted statistics.

    Parameters
    ----------
    prior : ResolvedPrior
    nk : ndarray of shape (k,)
        The (weighted) responsibility sums.
    means : ndarray of shape (k, d)
        The weighted means ``ybar_k``, in coordinates shifted by ``shift``.
    scatter : ndarray
        ``W_k``, the weighted scatter about ``ybar_k``: (k, d, d) for
        'full', its sum over components (d, d) for 'tied', its diagonal
        (k, d) for 'diag' and its trace (k,) for 'spherical'.
    shift : ndarray of shape (d,) or float
        The origin of ``means``; the prior mean is moved to it.

    Returns
    -------
    means, covariances : the MAP means (shifted coordinates) and covariances.
    """
    kappa, nu = prior.shrinkage, prior.dof
    k, d = means.shape
    diff = means - (prior.mean - shift)
    pull = kappa * nk / (nk + kappa)
    map_means = (nk[:, None] * means + kappa * (prior.mean - shift)) / (nk + kappa)[:, None]
    has_mean_prior = 1.0 if kappa > 0 else 0.0
    kind = prior.covariance_type
    if kind == "full":
        numerator = (
            prior.scale + scatter + pull[:, None, None] * diff[:, :, None] * diff[:, None, :]
        )
        denominator = nu + nk + d + 1 + has_mean_prior
        covariances = numerator / denominator[:, None, None]
    elif kind == "tied":
        numerator = prior.scale + scatter + (pull[:, None] * diff).T @ diff
        denominator = nu + nk.sum() + d + 1 + k * has_mean_prior
        covariances = numerator / denominator
    elif kind == "diag":
        numerator = prior.scale + scatter + pull[:, None] * diff**2
        denominator = nu + nk + 2 + has_mean_prior
        covariances = numerator / denominator[:, None]
    else:
        numerator = prior.scale + scatter + pull * np.sum(diff**2, axis=1)
        denominator = nu + nk * d + 2 + d * has_mean_prior
        covariances = numerator / denominator
    return map_means, covariances


def log_prior_density(prior, mixture):
    """``log p(means, covariances)`` of a mixture under the prior (weights flat)."""
    k, d = mixture.means.shape
    kappa, nu = prior.shrinkage, prior.dof
    U = mixture.precisions_cholesky
    diff = mixture.means - prior.mean
    if prior.covariance_type in ("full", "tied"):
        factors = np.broadcast_to(U, (k, d, d))
        log_det_cov = -2 * np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
        n_covariances = 1 if prior.covariance_type == "tied" else k
        trace = np.einsum("ab,kbc,kac->k", prior.scale, factors, factors)[:n_covariances]
        total = n_covariances * prior.inverse_wishart_log_normaliser - np.sum(
            0.5 * (nu + d + 1) * log_det_cov[:n_covariances] + 0.5 * trace
        )
        mahalanobis = np.sum(np.einsum("ka,kab->kb", diff, factors) ** 2, axis=1)
    else:
        # Independent inverse-gamma variances: d per component for 'diag', one for 'spherical'.
        precisions = U**2
        a, b = 0.5 * nu, 0.5 * prior.scale
        total = np.sum(a * np.log(b) - gammaln(a) + (a + 1) * np.log(precisions) - b * precisions)
        per_feature = precisions.reshape(k, -1)
        log_det_cov = -np.broadcast_to(np.log(per_feature), (k, d)).sum(axis=1)
        mahalanobis = np.sum(diff**2 * per_feature, axis=1)
    if kappa > 0:
        total += np.sum(
            -0.5 * d * LOG_2PI
            + 0.5 * d * np.log(kappa)
            - 0.5 * log_det_cov
            - 0.5 * kappa * mahalanobis
        )
    return float(total)


@dataclass(frozen=True)
class ColumnMoments:
    """What the prior's defaults need of the data, over observed values only.

    The weights count as frequencies: integer weights give the moments of
    the data with each row repeated that many times.
    """

    mean: np.ndarray  # (d,) weighted column means
    pair_weight: np.ndarray  # (d, d) weight of the rows observing both features
    scatter: np.ndarray  # (d, d) weighted sums of products of deviations (0 where missing)
    total_weight: float
    all_observed: bool


def column_moments(X, sample_weight=None):
    """The ``ColumnMoments`` of ``X`` (NumPy: in memory; Dask: two reductions)."""
    first = _summed(_first_moments, X, sample_weight)
    mean = first[0] / first[1]
    pair_weight, scatter = _summed(_second_moments, X, sample_weight, mean)
    return ColumnMoments(mean, pair_weight, scatter, float(first[2]), first[3] == 0)


def _summed(moments, X, weights, *shared):
    """``moments(X, weights, *shared)``: at once in memory, chunk by chunk and summed for Dask."""
    if is_dask_collection(X):
        return map_reduce(moments, [X, weights], *shared, add=_add_each)
    return moments(X, weights, *shared)


def _first_moments(X, weights=None):
    """Weighted sums of the observed values and of the observations, per
    feature; the total weight; the number of missing values in weighted rows."""
    weights = np.ones(X.shape[0]) if weights is None else weights
    observed = ~np.isnan(X)
    filled = np.where(observed, X, 0.0).astype(np.float64)
    n_missing = np.count_nonzero(~observed[weights > 0])
    return weights @ filled, weights @ observed, weights.sum(), n_missing


def _second_moments(X, weights, mean):
    """The weight of each pair of observed features, the weighted scatter about ``mean``."""
    weights = np.ones(X.shape[0]) if weights is None else weights
    observed = ~np.isnan(X)
    deviations = np.where(observed, X.astype(np.float64) - mean, 0.0)
    return (observed.T * weights) @ observed, (deviations.T * weights) @ deviations


def _add_each(a, b):
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _default_covariance(moments, covariance_type):
    """The sample covariance (frequency weights, ddof=1) or what mclust takes for it."""
    pair_weight = moments.pair_weight
    if np.any(np.diag(pair_weight) <= 1):
        raise ValueError(
            "The default scale of the prior is the sample variance, which needs a total "
            "sample_weight above 1 on the observed values of every feature. Pass "
            "ConjugatePrior(scale=...) or larger sample weights."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        covariance = moments.scatter / (pair_weight - 1)
    variances = np.diag(covariance).copy()
    if covariance_type in SCALAR_SCALE:
        return float(variances.mean())
    d = variances.size
    # With missing values the covariance is pairwise and need not be
    # positive definite: the column variances are what is well defined. On
    # collinear data it is singular (mclust's chol(scale) then fails).
    if moments.total_weight <= d or not moments.all_observed or not _well_conditioned(covariance):
        return np.diag(variances)
    return covariance


def _well_conditioned(matrix):
    """Positive definite beyond rounding: the smallest eigenvalue is resolved."""
    eigenvalues = np.linalg.eigvalsh(matrix)
    return bool(eigenvalues[0] > 1e3 * np.finfo(np.float64).eps * eigenvalues[-1])


def _positive_definite(matrix):
    if not np.all(np.isfinite(matrix)):
        return False
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def _checked_shrinkage(shrinkage):
    if not (np.isscalar(shrinkage) and np.isfinite(shrinkage) and shrinkage >= 0):
        raise ValueError(
            f"ConjugatePrior shrinkage must be a finite number >= 0; got {shrinkage!r}. "
            "Pass 0 for no prior on the means, or the default 0.01."
        )
    return float(shrinkage)


def _checked_vector(value, d, name):
    array = np.asarray(value, dtype=np.float64)
    if array.shape != (d,) or not np.all(np.isfinite(array)):
        raise ValueError(
            f"ConjugatePrior {name} must be {d} finite numbers (one per feature); got "
            f"shape {array.shape}. Pass {name}=None for the column means of the data."
        )
    return array


def _checked_dof(dof, d, covariance_type):
    bound = d - 1 if covariance_type in ("full", "tied") else 0
    if not (np.isscalar(dof) and np.isfinite(dof) and dof > bound):
        law = "an inverse-Wishart" if bound else "an inverse-gamma"
        raise ValueError(
            f"ConjugatePrior dof must be a number above {bound} for "
            f"covariance_type={covariance_type!r} with {d} features ({law} prior needs "
            f"it); got {dof!r}. Pass dof=None for mclust's default n_features + 2 = {d + 2}."
        )
    return float(dof)


def _checked_scale(scale, d, covariance_type):
    array = np.asarray(scale, dtype=np.float64)
    fix = "Pass scale=None for the data-derived default."
    if array.ndim == 0:
        matrix = float(array) * np.eye(d)
    elif array.shape == (d, d):
        matrix = array
    else:
        raise ValueError(
            f"ConjugatePrior scale must be a number or a ({d}, {d}) matrix; got shape "
            f"{array.shape}. {fix}"
        )
    if not (np.allclose(matrix, matrix.T) and _positive_definite(matrix)):
        raise ValueError(
            "ConjugatePrior scale must be positive (a number) or symmetric positive "
            f"definite (a matrix). {fix}"
        )
    if covariance_type in SCALAR_SCALE:
        return float(np.diag(matrix).mean())
    return matrix


def shrinkage_prior(X, shrinkage, sample_weight=None):
    """A conjugate prior that shrinks covariances towards the column variances' diagonal.

    With ``dof = nu`` and ``scale = nu D`` (``D`` the diagonal of the
    observed column variances), a 'full' component's MAP covariance is
    ``(nu D + W_k) / (nu + n_k + d + 1)``: up to a factor, the sample
    covariance ``W_k / n_k`` shrunk towards ``D`` with weight
    ``nu / (nu + n_k)``, a ridge that the conditional means (which a common
    factor does not change) feel as such. ``nu`` is ``shrinkage / (1 -
    shrinkage)`` times the number of rows (the total weight), so that one
    component's weight is ``shrinkage``; at least ``d + 1``, which keeps the
    prior proper with room (a weight at or below ``floor_shrinkage``'s gives
    exactly that). None for ``shrinkage`` 0.
    """
    if shrinkage <= 0:
        return None
    total = X.shape[0] if sample_weight is None else sample_weight.sum()
    floor = X.shape[1] + 1.0
    if shrinkage <= floor_shrinkage(X.shape[1], total):  # the floor exactly, on any total
        return diagonal_prior(X, floor, sample_weight)
    return diagonal_prior(X, max(shrinkage / (1 - shrinkage) * total, floor), sample_weight)


def floor_shrinkage(n_features, total):
    """The weight of ``shrinkage_prior``'s floor of ``n_features + 1`` degrees
    of freedom beside rows of that ``total`` weight: the least it shrinks by."""
    return (n_features + 1) / (n_features + 1 + total)


def diagonal_prior(X, dof, sample_weight=None):
    """``shrinkage_prior``'s prior of ``dof`` degrees of freedom: its scale is
    ``dof`` times the diagonal of ``X``'s observed column variances."""
    n_samples, d = X.shape
    weights = np.ones(n_samples) if sample_weight is None else sample_weight
    observed = ~np.isnan(X)
    filled = np.where(observed, X, 0.0).astype(np.float64)
    # A column observed in zero-weight rows only has no variance to shrink to.
    total = np.maximum(weights @ observed, np.finfo(np.float64).tiny)
    mean = (weights @ filled) / total
    variances = (weights @ np.where(observed, (filled - mean) ** 2, 0.0)) / total
    # A constant column still needs a positive scale; its own tiny variance would do.
    floor = 1e-12 * variances.max() if variances.max() > 0 else 1.0
    variances = np.maximum(variances, floor)
    return ConjugatePrior(shrinkage=0.0, dof=dof, scale=dof * np.diag(variances))
