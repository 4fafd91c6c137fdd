"""Choosing the number of components and the covariance type."""

import time
import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, ClusterMixin, DensityMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._blocks import single_blas_thread
from ._collapse import warn_if_collapsed
from ._dask import is_dask_collection, persisted_if_it_fits
from ._gaussian import FAMILIES
from ._sample_weight import validated_sample_weight, weighted_criterion
from .mixture import EM_PARAMETER_CONSTRAINTS, mixture_with_settings_of, validate_with_nan


def bic_scorer(estimator, X, y=None):
    """Minus the BIC of a fitted mixture on ``X``, for ``scoring=``.

    Scorers are maximised, so the model with the lowest BIC wins.

    Parameters
    ----------
    estimator : GaussianMixture or Pipeline ending in one
        The fitted model.

    X : array-like of shape (n_samples, n_features)
        The data to score.

    y : Ignored
        Not used, present for API consistency.

    Returns
    -------
    score : float
        ``-estimator.bic(X)``, after any preceding pipeline steps.
    """
    return -_criterion(estimator, X, "bic")


def aic_scorer(estimator, X, y=None):
    """Minus the AIC of a fitted mixture on ``X``, for ``scoring=``.

    Parameters
    ----------
    estimator : GaussianMixture or Pipeline ending in one
        The fitted model.

    X : array-like of shape (n_samples, n_features)
        The data to score.

    y : Ignored
        Not used, present for API consistency.

    Returns
    -------
    score : float
        ``-estimator.aic(X)``, after any preceding pipeline steps.
    """
    return -_criterion(estimator, X, "aic")


def _criterion(estimator, X, name):
    if hasattr(estimator, "steps"):
        for _, step in estimator.steps[:-1]:
            if step is not None and step != "passthrough":
                X = step.transform(X)
        estimator = estimator.steps[-1][1]
    return getattr(estimator, name)(X)


def _is_positive_integer(value):
    return isinstance(value, Integral | np.integer) and not isinstance(value, bool) and value >= 1


class GaussianMixtureIC(ClusterMixin, DensityMixin, BaseEstimator):
    """A Gaussian mixture whose size and covariance type are chosen by BIC or AIC.

    In the spirit of R's mclust: every pair of a number of components and a
    covariance type is fitted, and the one with the lowest criterion on the
    training data is kept. Prediction, scoring and sampling go to that model.
    A warning says when it has a component on too few rows for its
    covariance (``prior='conjugate'`` keeps every covariance proper).

    Parameters
    ----------
    n_components : int or array-like of int, default=9
        The numbers of components to try: an int ``n`` tries 1 to ``n``; a
        list tries its values. Values above the number of samples are skipped.

    covariance_type : {'full', 'tied', 'diag', 'spherical', 'all'} or list, \
            default='full'
        The covariance types to try; 'all' tries the four.

    criterion : {'bic', 'aic'}, default='bic'
        The information criterion to minimise.

    tol : float, default=1e-3
        Passed to each :class:`~sklearn_em.GaussianMixture`.

    reg_covar : float, default=1e-6
        Passed to each mixture.

    max_iter : int, default=100
        Passed to each mixture.

    n_init : int, default=1
        Passed to each mixture.

    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        Passed to each mixture.

    acceleration : {None, 'squarem'}, default='squarem'
        Passed to each mixture.

    random_state : int, RandomState instance or None, default=None
        Seeds every fit alike.

    n_jobs : int, default=None
        The number of candidate fits run side by side on threads; one at a
        time, the threads of each fit's passes (None: as many as BLAS may
        use, as for :class:`GaussianMixture`).

    verbose : int, default=0
        Print each candidate's criterion, iterations and time as it is fitted.

    prior : {'conjugate'}, ConjugatePrior or None, default=None
        Passed to each mixture: with a prior every candidate is its MAP fit,
        and the criterion takes the log-likelihood at that fit with the same
        parameter count, as mclust's BIC with ``priorControl()`` does.

    Attributes
    ----------
    best_estimator_ : GaussianMixture
        The mixture with the lowest criterion.

    best_params_ : dict
        Its ``n_components`` and ``covariance_type``.

    criterion_ : dict of lists
        One entry per candidate: ``n_components``, ``covariance_type``, the
        criterion (``bic`` or ``aic``, inf where the fit failed),
        ``converged`` and ``n_iter``. ``pandas.DataFrame(criterion_)`` makes
        it a table.

    labels_ : ndarray of shape (n_samples,)
        The component of each training sample under the best mixture.

    n_iter_ : int
        The number of EM passes of the best mixture's fit.

    n_features_in_ : int
        The number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        The names of the features seen during ``fit``, when they are all
        strings.

    See Also
    --------
    GaussianMixture : One mixture of a given size.
    bic_scorer : Choose among mixtures with ``GridSearchCV`` instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_em import GaussianMixtureIC
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(8, 1, (100, 2))])
    >>> GaussianMixtureIC(n_components=4, random_state=0).fit(X).best_params_
    {'n_components': 2, 'covariance_type': 'full'}
    """

    _parameter_constraints: dict = {
        **EM_PARAMETER_CONSTRAINTS,
        "n_components": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "covariance_type": [StrOptions({*FAMILIES, "all"}), list, tuple],
        "criterion": [StrOptions({"bic", "aic"})],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=9,
        *,
        covariance_type="full",
        criterion="bic",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        acceleration="squarem",
        random_state=None,
        n_jobs=None,
        verbose=0,
        prior=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.criterion = criterion
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.acceleration = acceleration
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.prior = prior

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit every candidate mixture and keep the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training data; NaN marks a missing value.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, passed to each mixture's ``fit``; the
            criterion then counts each row by its weight (the total weight
            is the number of samples).

        Returns
        -------
        self : GaussianMixtureIC
            The fitted selector.
        """
        X = validate_with_nan(self, X, ensure_min_samples=2)
        weights = validated_sample_weight(sample_weight, X, 1)
        source = X
        if is_dask_collection(X):  # every candidate reads it: from the cluster's memory
            (X,) = persisted_if_it_fits(X)
        candidates = [
            (k, covariance_type)
            for covariance_type in self._covariance_types()
            for k in self._component_counts(X.shape[0])
        ]
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        n_threads = min(effective_n_jobs(self.n_jobs), len(candidates))
        inner_n_jobs = 1 if n_threads > 1 else self.n_jobs
        with single_blas_thread(n_threads > 1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results = Parallel(n_jobs=n_threads, prefer="threads")(
                delayed(self._fit_candidate)(X, k, covariance_type, seed, inner_n_jobs, weights)
                for k, covariance_type in candidates
            )
        fitted = [model for model, _ in results if model is not None]
        if not fitted:
            raise results[0][1]
        scores = [
            weighted_criterion(model, X, weights, self.criterion) if model is not None else np.inf
            for model, _ in results
        ]
        best = int(np.argmin(scores))
        self.best_estimator_ = results[best][0]
        self.best_params_ = {
            "n_components": candidates[best][0],
            "covariance_type": candidates[best][1],
        }
        self.criterion_ = {
            "n_components": [k for k, _ in candidates],
            "covariance_type": [c for _, c in candidates],
            self.criterion: scores,
            "converged": [m.converged_ if m is not None else False for m, _ in results],
            "n_iter": [m.n_iter_ if m is not None else 0 for m, _ in results],
        }
        if is_dask_collection(X):  # lazy labels that do not keep the persisted data alive
            self.best_estimator_.labels_ = self.best_estimator_.predict(source)
        self.labels_ = self.best_estimator_.labels_
        self.n_iter_ = self.best_estimator_.n_iter_
        self._collapsed = warn_if_collapsed(self.best_estimator_, X, weights, stacklevel=4)
        if not self.best_estimator_.converged_ and self.max_iter > 0:
            warnings.warn(
                f"The chosen model (n_components={candidates[best][0]}, covariance_type="
                f"{candidates[best][1]!r}) did not converge within max_iter={self.max_iter} "
                "passes: its criterion may be off. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _fit_candidate(self, X, n_components, covariance_type, seed, n_jobs, weights=None):
        model = mixture_with_settings_of(
            self,
            n_components=n_components,
            covariance_type=covariance_type,
            random_state=seed,
            verbose=0,
            n_jobs=n_jobs,
        )
        started = time.perf_counter()
        try:
            model.fit(X, sample_weight=weights)
        except ValueError as error:
            if self.verbose:
                print(f"k={n_components} {covariance_type}: failed ({error})")
            return None, error
        if self.verbose:
            print(
                f"k={n_components} {covariance_type}: {self.criterion} "
                f"{weighted_criterion(model, X, weights, self.criterion):.3f}, "
                f"{model.n_iter_} iterations, "
                f"{time.perf_counter() - started:.2f}s"
            )
        return model, None

    def _covariance_types(self):
        if isinstance(self.covariance_type, str):
            return list(FAMILIES) if self.covariance_type == "all" else [self.covariance_type]
        types = list(self.covariance_type)
        unknown = [name for name in types if name not in FAMILIES]
        if unknown or not types:
            raise ValueError(
                "covariance_type must be 'all', one of "
                f"{sorted(FAMILIES)}, or a non-empty list of them; got {self.covariance_type!r}."
            )
        return types

    def _component_counts(self, n_samples):
        """The numbers of components to try, up to ``n_samples``."""
        if isinstance(self.n_components, Integral):
            return list(range(1, min(self.n_components, n_samples) + 1))
        values = np.ravel(np.asarray(self.n_components, dtype=object))
        if values.size == 0 or not all(_is_positive_integer(k) for k in values):
            raise ValueError(
                "n_components must be a positive integer or a non-empty list of positive "
                f"integers; got {self.n_components!r}."
            )
        counts = [int(k) for k in values if k <= n_samples]
        if not counts:
            raise ValueError(
                f"No candidate fits {n_samples} samples: every n_components tried "
                "exceeds the number of samples. Try fewer components."
            )
        return counts

    def predict(self, X):
        """The most probable component of each sample, under the best mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component indices.
        """
        X = self._validated(X)
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        """The posterior probability of each component, under the best mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_components)
            Responsibilities; each row sums to 1.
        """
        X = self._validated(X)
        return self.best_estimator_.predict_proba(X)

    def score_samples(self, X):
        """The log-density of each sample under the best mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            Log-likelihood of each sample.
        """
        X = self._validated(X)
        return self.best_estimator_.score_samples(X)

    def score(self, X, y=None):
        """The mean log-likelihood per sample under the best mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        log_likelihood : float
            Mean log-density of the samples; higher is better.
        """
        X = self._validated(X)
        return self.best_estimator_.score(X)

    def _validated(self, X):
        """``X`` checked against the training features (names and count), as an array."""
        check_is_fitted(self)
        return validate_with_nan(self, X, reset=False, rows_counted=False)

    def sample(self, n_samples=1, random_state=None):
        """Draw samples from the best mixture.

        Parameters
        ----------
        n_samples : int, default=1
            The number of samples to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws; None draws afresh on every call.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.

        y : ndarray of shape (n_samples,)
            The component each sample was drawn from.
        """
        check_is_fitted(self)
        return self.best_estimator_.sample(n_samples, random_state=random_state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
