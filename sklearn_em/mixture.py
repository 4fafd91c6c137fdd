"""The Gaussian mixture estimator: parameters, validation and public methods."""

from dataclasses import replace
from numbers import Integral, Real

from sklearn.base import BaseEstimator, ClusterMixin, DensityMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_features

from ._blocks import Backend, threads_for
from ._dask import is_dask_collection, persisted_if_it_fits
from ._fit import EM, Settings, fit
from ._fitted import FittedMixtureMixin, fitted_state_kept_on_failure
from ._gaussian import FAMILIES
from ._gaussian_family import GaussianFamily
from ._prior import PRIOR_CONSTRAINT, resolve_prior
from ._sample_weight import weighted_rows
from ._search import SEARCH
from ._validation import (
    check_enough_samples,
    check_every_feature_observed,
    user_start,
    validate_with_nan,
)

# The EM settings that every estimator built on GaussianMixture shares and
# passes through unchanged.
EM_PARAMETER_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left")],
    "covariance_type": [StrOptions(set(FAMILIES))],
    "tol": [Interval(Real, 0.0, None, closed="left")],
    "reg_covar": [Interval(Real, 0.0, None, closed="left")],
    "max_iter": [Interval(Integral, 0, None, closed="left")],
    "n_init": [Interval(Integral, 1, None, closed="left")],
    "init_params": [StrOptions({"kmeans", "k-means++", "random", "random_from_data", SEARCH})],
    "acceleration": [StrOptions({"squarem"}), None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "prior": PRIOR_CONSTRAINT,
}


def mixture_with_settings_of(estimator, **overrides):
    """A GaussianMixture with ``estimator``'s EM settings, some overridden."""
    settings = {name: getattr(estimator, name) for name in EM_PARAMETER_CONSTRAINTS}
    return GaussianMixture(**{**settings, **overrides})


class GaussianMixture(FittedMixtureMixin, ClusterMixin, DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by expectation-maximization.

    A drop-in replacement for :class:`sklearn.mixture.GaussianMixture`: the
    parameters and fitted attributes have the same names and meanings. It
    differs in that ``n_components`` defaults to 2 (it is a clusterer), that
    rows with missing values (NaN) are fitted and scored through their
    observed values, that EM is accelerated with SQUAREM by default
    (``acceleration=None`` gives scikit-learn's iterates exactly), and that
    ``sample`` draws afresh on every call.

    Parameters
    ----------
    n_components : int, default=2
        The number of mixture components.

    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        The form of each component's covariance: its own full matrix, one
        full matrix shared by all, its own diagonal matrix, or its own single
        variance.

    tol : float, default=1e-3
        The convergence threshold, in mean log-likelihood per sample. With
        ``acceleration=None``, scikit-learn's rule: EM stops when one step
        improves by less than ``tol``. With 'squarem', EM stops when the gain
        still to come, estimated from the rate of convergence (Aitken), is
        below ``tol / 20``: on overlapping clusters, where every step gains
        little, this goes on to the optimum (and costs the passes that takes)
        where scikit-learn's rule stops early.

    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance in every M-step, so that
        covariances stay positive definite.

    max_iter : int, default=100
        The largest number of EM passes over the data per initialization.

    n_init : int, default=1
        The number of initializations; the fit with the highest likelihood is
        kept.

    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', \
            'k-means++-search'}, default='kmeans'
        How the starting responsibilities are chosen. 'k-means++-search'
        (not in scikit-learn) runs 24 EM passes from each of 12 k-means
        starts (``n_components + 4`` from 9 components on), 10 more from
        the best 4, and the best 2 of those to
        convergence, keeping the better, which escapes poor local optima
        more often than one start.

    weights_init : array-like of shape (n_components,), default=None
        Starting weights; by default they come from ``init_params``.

    means_init : array-like of shape (n_components, n_features), default=None
        Starting means; by default they come from ``init_params``.

    precisions_init : array-like, default=None
        Starting precisions (inverse covariances), shaped as
        ``precisions_``; by default they come from ``init_params``.

    random_state : int, RandomState instance or None, default=None
        Seeds the initialization. Pass an int for reproducible fits.

    warm_start : bool, default=False
        If True, each ``fit`` starts from the previous solution and
        ``n_init`` is ignored.

    verbose : int, default=0
        0 is silent; 1 prints each initialization and every
        ``verbose_interval`` iterations; 2 also prints times and changes.

    verbose_interval : int, default=10
        The number of iterations between progress messages.

    acceleration : {'squarem', None}, default='squarem'
        'squarem' extrapolates between EM steps (Varadhan & Roland, 2008) and
        keeps a jump only when it does not lower the likelihood; it reaches the
        same optimum in fewer passes, and stops by the estimated gap to the
        optimum (see ``tol``). None runs plain EM, whose iterates and
        stopping rule are exactly scikit-learn's.

    n_jobs : int, default=None
        The number of threads: several initializations run side by side, or
        else the row blocks of one pass do, with BLAS held to one thread
        each. None means as many threads as BLAS may use, so that its limits
        (``OMP_NUM_THREADS``, ``threadpoolctl``, joblib's workers) apply.

    prior : {'conjugate'}, ConjugatePrior or None, default=None
        None fits by maximum likelihood. A prior gives the maximum a
        posteriori (MAP) mixture under the conjugate prior of mclust
        (Fraley & Raftery, 2007); 'conjugate' is ``ConjugatePrior()``, with
        mclust's defaults drawn from the training data. The start stays
        that of ``init_params``, with the prior's M-step, as in mclust.
        With a prior, ``reg_covar`` is added to the prior's scale instead of
        to each covariance (so that EM stays monotone in the log-posterior).

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The weight of each component.

    means_ : ndarray of shape (n_components, n_features)
        The mean of each component.

    covariances_ : ndarray
        The covariances: shape (n_components, n_features, n_features) for
        'full', (n_features, n_features) for 'tied', (n_components,
        n_features) for 'diag' and (n_components,) for 'spherical'.

    precisions_ : ndarray
        The inverses of the covariances, shaped as ``covariances_``.

    precisions_cholesky_ : ndarray
        Upper-triangular factors ``U`` with ``precision = U @ U.T`` (the
        square roots of the precisions for 'diag' and 'spherical').

    converged_ : bool
        Whether the kept fit reached ``tol`` within ``max_iter`` passes.

    n_iter_ : int
        The number of EM passes of the kept fit.

    lower_bound_ : float
        A scalar of ``X``'s dtype, as in scikit-learn: the mean
        log-likelihood of the last iterate of the kept fit (with a
        ``prior``: the log-posterior, log-likelihood plus log prior density,
        per sample; per unit of weight with ``sample_weight``).

    lower_bounds_ : list of float
        The same at each pass of the kept fit. It never decreases; with
        SQUAREM, a rejected jump repeats the value.

    labels_ : ndarray of shape (n_samples,)
        The component of each training sample.

    n_features_in_ : int
        The number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        The names of the features seen during ``fit``, when they are all
        strings.

    See Also
    --------
    sklearn.mixture.GaussianMixture : The scikit-learn estimator this mirrors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_em import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> gm.means_[np.argsort(gm.means_[:, 0])]
    array([[ 1.,  2.],
           [10.,  2.]])
    >>> gm.predict([[0, 0], [12, 3]]) == gm.predict([[1, 2], [10, 2]])
    array([ True,  True])
    """

    _parameter_constraints: dict = {
        **EM_PARAMETER_CONSTRAINTS,
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "warm_start": ["boolean"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=2,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        acceleration="squarem",
        n_jobs=None,
        prior=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.acceleration = acceleration
        self.n_jobs = n_jobs
        self.prior = prior

    # -- fitting ---------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Fit the mixture by EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training data.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights: a weight scales its row's statistics
            and log-likelihood, so an integer weight counts as that many
            copies of the row and a zero weight removes it.

        Returns
        -------
        self : GaussianMixture
            The fitted mixture.
        """
        self.fit_predict(X, sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit the mixture by EM and return the component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training data.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, as for ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The component of each sample, equal to ``labels_``.
        """
        with fitted_state_kept_on_failure(self):
            return self._fit(X, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit_unlabelled(self, X, sample_weight=None, layouts=None):
        """``fit`` without the E-step that sets ``labels_`` (none is set).

        For the imputer's mixtures, which never label rows: one pass fewer.
        ``layouts`` (a ``LayoutCache``) keeps the layouts of the NaN of
        ``X``'s blocks for other fits on the same cells (the choice's).
        """
        with fitted_state_kept_on_failure(self):
            self._fit(X, sample_weight, label=False, layouts=layouts)
        return self

    def _fit(self, X, sample_weight=None, label=True, layouts=None):
        warm = self.warm_start and hasattr(self, "converged_")
        if warm:
            self._check_warm_start_matches(X)
        X = validate_with_nan(self, X, ensure_min_samples=2, reset=not warm)
        check_every_feature_observed(X)
        check_enough_samples(X.shape[0], self.n_components)
        X_fit, weights = weighted_rows(X, sample_weight, self.n_components)
        if is_dask_collection(X):  # read from the source once, not once a pass
            X_fit, weights = persisted_if_it_fits(X_fit, weights)
        em = self._fitting_em(X_fit, weights)
        if layouts is not None:
            em = replace(em, cache=layouts)
        start = user_start(self, em.family, X.shape[1])

        trace = getattr(self, "_convergence_trace", self.lower_bound_) if warm else None
        previous = (self._mixture(), trace) if warm else None
        random_state = check_random_state(self.random_state)
        result = fit(X_fit, em, self._settings(), random_state, start, warm=previous)

        self._set_mixture(result.params, X.dtype)
        # Labels from the stored parameters, so that predict(X) gives the same.
        labels = em.labels(X, self._mixture()) if label else None
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        # Scalars of X's dtype, as scikit-learn's (the fit's own stay float64).
        self.lower_bounds_ = [X.dtype.type(bound) for bound in result.lower_bounds]
        self.lower_bound_ = X.dtype.type(result.lower_bound)
        self._convergence_trace = result.trace
        if label:
            self.labels_ = labels
        else:
            vars(self).pop("labels_", None)  # a warm start's would describe another fit
        self._sampling_random_state = None
        return labels

    def _check_warm_start_matches(self, X):
        """A warm start continues the fitted mixture, so its settings must describe it."""
        n_features = _num_features(X)
        if n_features != self.n_features_in_:
            raise ValueError(
                f"warm_start=True continues the previous fit, which has "
                f"{self.n_features_in_} features; X has {n_features}. Set "
                "warm_start=False to fit these features from a fresh start."
            )
        k = self.means_.shape[0]
        fitted_type = getattr(self, "_fitted_covariance_type", self.covariance_type)
        if self.n_components != k or self.covariance_type != fitted_type:
            raise ValueError(
                f"warm_start=True continues the previous fit, which has n_components={k} "
                f"and covariance_type={fitted_type!r}; got n_components={self.n_components} "
                f"and covariance_type={self.covariance_type!r}. Set warm_start=False to "
                "fit the new settings from a fresh start."
            )

    def _settings(self):
        """How ``fit`` iterates, from this estimator's parameters."""
        private = isinstance(self.random_state, Integral)  # a generator of its own
        return replace(Settings.of(self), private_draws=private)

    # -- the family behind the fitted model -----------------------------

    def _family(self, fitting=False):
        """The family to fit with, or (by default) the one that was fitted."""
        covariance_type = self.covariance_type
        if not fitting:
            covariance_type = getattr(self, "_fitted_covariance_type", covariance_type)
        return GaussianFamily(covariance_type, self.reg_covar)

    def _em(self, fitting=False):
        """Passes of this mixture's family for one fit or one scoring."""
        return EM(self._family(fitting), Backend(threads_for(self.n_jobs)))

    def _fitting_em(self, X, weights):
        """The em of a fit on rows ``X`` with ``weights``: MAP with a prior."""
        prior = resolve_prior(
            self.prior, X, weights, self.n_components, self.covariance_type, self.reg_covar
        )
        family = replace(self._family(fitting=True), prior=prior)
        log_prior = None if prior is None else family.log_prior
        em = self._em(fitting=True)
        return replace(em, family=family, sample_weight=weights, log_prior=log_prior)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
