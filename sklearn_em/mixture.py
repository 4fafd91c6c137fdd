"""The Gaussian mixture estimator: parameters, validation and public methods."""

import time
import warnings
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, ClusterMixin, DensityMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._acceleration import run_squarem
from ._blocks import blas_threads, row_chunks, single_blas_thread
from ._em import Engine, normalise_log_responsibilities, run_plain_em
from ._gaussian import FAMILIES, Mixture
from ._init import initial_responsibilities, starting_parameters
from ._monitor import monitor_for
from ._search import SEARCH, searched_start

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
}


def mixture_with_settings_of(estimator, **overrides):
    """A GaussianMixture with ``estimator``'s EM settings, some overridden."""
    settings = {name: getattr(estimator, name) for name in EM_PARAMETER_CONSTRAINTS}
    return GaussianMixture(**{**settings, **overrides})


_PRECISION_SHAPES = {
    "full": lambda k, d: (k, d, d),
    "tied": lambda k, d: (d, d),
    "diag": lambda k, d: (k, d),
    "spherical": lambda k, d: (k,),
}


class GaussianMixture(ClusterMixin, DensityMixin, BaseEstimator):
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
        (not in scikit-learn) runs 10 short EM runs of 10 passes from as many
        k-means++ starts and continues the best, which escapes poor local
        optima more often than one start.

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
        The mean log-likelihood of the last iterate of the kept fit.

    lower_bounds_ : list of float
        The mean log-likelihood of the iterate at each pass of the kept fit.
        It never decreases; with SQUAREM, a rejected jump repeats the value.

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

    # -- fitting ---------------------------------------------------------

    def fit(self, X, y=None):
        """Fit the mixture by EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training data.

        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : GaussianMixture
            The fitted mixture.
        """
        self.fit_predict(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None):
        """Fit the mixture by EM and return the component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training data.

        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The component of each sample, equal to ``labels_``.
        """
        with fitted_state_kept_on_failure(self):
            return self._fit(X)

    def _fit(self, X):
        warm = self.warm_start and hasattr(self, "converged_")
        if warm:
            self._check_warm_start_matches()
        X = validate_with_nan(self, X, ensure_min_samples=2, reset=not warm)
        _check_every_feature_observed(X)
        n_samples = X.shape[0]
        if n_samples < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got "
                f"n_components = {self.n_components}, n_samples = {n_samples}: a mixture "
                "needs at least as many samples as components. Reduce n_components or "
                "provide more samples."
            )
        engine = self._engine()
        user_start = self._user_start(X.shape[1])

        if warm:
            trace = getattr(self, "_convergence_trace", (self.lower_bound_,))
            runs = [self._run(X, engine, self._mixture(), trace, 0)]
        else:
            runs = self._run_initializations(X, engine, user_start)

        mixture, monitor = max(runs, key=lambda run: run[1].lower_bound)
        if not monitor.converged and self.max_iter > 0:
            hint = " Try acceleration='squarem'." if self.acceleration is None else ""
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data. "
                f"(max_iter={self.max_iter} passes were not enough to reach tol={self.tol}.)"
                + hint,
                ConvergenceWarning,
                stacklevel=3,
            )
        self._set_mixture(mixture, X.dtype)
        # Labels from the stored parameters, so that predict(X) gives the same.
        labels = engine.labels(X, self._mixture())
        self.converged_ = monitor.converged
        self.n_iter_ = monitor.n_iter
        self.lower_bounds_ = list(monitor.history)
        self.lower_bound_ = monitor.lower_bound
        self._convergence_trace = monitor.trace
        self.labels_ = labels
        self._sampling_random_state = None
        return labels

    def _check_warm_start_matches(self):
        """A warm start continues the fitted mixture, so its settings must describe it."""
        k = self.means_.shape[0]
        fitted_type = getattr(self, "_fitted_covariance_type", self.covariance_type)
        if self.n_components != k or self.covariance_type != fitted_type:
            raise ValueError(
                f"warm_start=True continues the previous fit, which has n_components={k} "
                f"and covariance_type={fitted_type!r}; got n_components={self.n_components} "
                f"and covariance_type={self.covariance_type!r}. Set warm_start=False to "
                "fit the new settings from a fresh start."
            )

    def _run_initializations(self, X, engine, user_start):
        # Starts are drawn in turn from one generator, as scikit-learn draws
        # them, so that a seed gives scikit-learn's starts; the runs from them
        # then share the threads.
        random_state = check_random_state(self.random_state)
        starts = [
            self._initial_mixture(X, engine, user_start, random_state) for _ in range(self.n_init)
        ]
        n_threads = min(engine.n_threads, self.n_init)
        if n_threads <= 1:
            return [self._run(X, engine, start, (), i) for i, start in enumerate(starts)]
        # Restarts share the threads, so each runs its blocks serially.
        engine = replace(engine, n_threads=1)
        with single_blas_thread(True):
            return Parallel(n_jobs=n_threads, prefer="threads")(
                delayed(self._run)(X, engine, start, (), i) for i, start in enumerate(starts)
            )

    def _run(self, X, engine, start, trace, index):
        if self.verbose:
            print(f"Initialization {index}")
        started = time.perf_counter()
        monitor = monitor_for(
            self.acceleration, self.tol, self.max_iter, self.verbose, self.verbose_interval, trace
        )
        run = run_squarem if self.acceleration == "squarem" else run_plain_em
        mixture = run(X, start, engine, monitor) if self.max_iter > 0 else start
        if self.verbose:
            state = "converged" if monitor.converged else "did not converge"
            print(
                f"Initialization {state}. time lapse {time.perf_counter() - started:.5f}s"
                f"\t lower bound {monitor.lower_bound:.5f}"
            )
        return mixture, monitor

    def _initial_mixture(self, X, engine, user_start, random_state, init_params=None):
        if init_params is None and self.init_params == SEARCH:
            start = partial(self._initial_mixture, X, engine, user_start, init_params="k-means++")
            return searched_start(X, engine, start, random_state, self.acceleration)
        weights, means, covariances = user_start
        if weights is None or means is None or covariances is None:
            X = _fill_with_column_means(X)
            method = init_params or self.init_params
            resp = initial_responsibilities(X, self.n_components, method, random_state)
            start = starting_parameters(X, resp, self.covariance_type, self.reg_covar)
            weights = start[0] if weights is None else weights
            means = start[1] if means is None else means
            covariances = start[2] if covariances is None else covariances
        return engine.family.make_mixture(weights, means, covariances, self.reg_covar)

    def _user_start(self, n_features):
        """The validated initial weights, means and covariances (from precisions).

        Messages begin as scikit-learn's do, so that code matching them still works.
        """
        k = self.n_components
        weights = means = covariances = None
        if self.weights_init is not None:
            weights = _as_float_array(self.weights_init, "weights_init", "weights", (k,))
            if np.any(weights < 0) or np.any(weights > 1):
                raise ValueError(
                    "The parameter 'weights' should be in the range [0, 1], but got min "
                    f"value {weights.min():.5f}, max value {weights.max():.5f}: check "
                    "weights_init."
                )
            # scikit-learn's tolerance, which depends on the dtype given.
            atol = 1e-6 if np.asarray(self.weights_init).dtype == np.float32 else 1e-8
            if not abs(1.0 - weights.sum()) <= atol:
                raise ValueError(
                    "The parameter 'weights' should be normalized, but got sum(weights) = "
                    f"{weights.sum():.5f}: divide weights_init by its sum."
                )
        if self.means_init is not None:
            means = _as_float_array(self.means_init, "means_init", "means", (k, n_features))
        if self.precisions_init is not None:
            covariance_type = self.covariance_type
            label = f"{covariance_type} precision"
            shape = _PRECISION_SHAPES[covariance_type](k, n_features)
            precisions = _as_float_array(self.precisions_init, "precisions_init", label, shape)
            family = FAMILIES[covariance_type]
            matrices = covariance_type in ("full", "tied")
            requirement = "symmetric, positive-definite" if matrices else "positive"
            problem = ValueError(f"'{label}' should be {requirement}: check precisions_init.")
            if matrices and not np.allclose(precisions, np.swapaxes(precisions, -1, -2)):
                raise problem
            try:
                covariances = family.covariances_from_precisions(precisions)
                family.precisions_cholesky(covariances, 0.0)
            except ValueError:
                raise problem from None
        return weights, means, covariances

    # -- the fitted model ------------------------------------------------

    def _set_mixture(self, mixture, dtype):
        """Store the fitted parameters in the dtype of the data, as scikit-learn does.

        A value past the range of float32 keeps every parameter in float64, with
        a warning, rather than becoming inf.
        """
        family = FAMILIES[self.covariance_type]
        parameters = {
            "weights_": mixture.weights,
            "means_": mixture.means,
            "covariances_": mixture.covariances,
            "precisions_cholesky_": mixture.precisions_cholesky,
            "precisions_": family.precisions(mixture.precisions_cholesky),
        }
        if dtype != np.float64:
            with np.errstate(over="ignore"):
                cast = {name: value.astype(dtype) for name, value in parameters.items()}
            if all(np.all(np.isfinite(value)) for value in cast.values()):
                parameters = cast
            else:
                warnings.warn(
                    f"The fitted parameters exceed the range of {np.dtype(dtype).name}, so "
                    "they are kept in float64. Rescale the features to keep them in "
                    f"{np.dtype(dtype).name}.",
                    UserWarning,
                    stacklevel=4,
                )
        for name, value in parameters.items():
            setattr(self, name, value)
        self._fitted_covariance_type = self.covariance_type

    def _mixture(self):
        """The fitted parameters as the core's mixture, in float64."""
        weights, means, covariances, factors = (
            np.asarray(value, dtype=np.float64)
            for value in (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_)
        )
        return Mixture(weights, means, covariances, factors)

    def _engine(self):
        """A new engine for one fit or one scoring of this mixture's settings."""
        return Engine(FAMILIES[self.covariance_type], self.reg_covar, _n_threads(self.n_jobs))

    def _engine_and_data(self, X):
        check_is_fitted(self)
        X = validate_with_nan(self, X, reset=False)
        engine = self._engine()
        return engine, X

    def _weighted_log_prob(self, X):
        engine, X = self._engine_and_data(X)
        return engine.log_prob(X, self._mixture())

    def predict(self, X):
        """The most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component indices.
        """
        engine, X = self._engine_and_data(X)
        return engine.labels(X, self._mixture())

    def predict_proba(self, X):
        """The posterior probability of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_components)
            Responsibilities; each row sums to 1.
        """
        resp = self._weighted_log_prob(X)
        normalise_log_responsibilities(resp)
        return resp

    def score_samples(self, X):
        """The log-density of each sample under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            Log-likelihood of each sample.
        """
        return normalise_log_responsibilities(self._weighted_log_prob(X))

    def score(self, X, y=None):
        """The mean log-likelihood per sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        log_likelihood : float
            Mean log-density of the samples; higher is better.
        """
        return float(np.mean(self.score_samples(X)))

    def sample(self, n_samples=1, random_state=None):
        """Draw samples from the fitted mixture.

        The first call after ``fit`` draws what scikit-learn's would; later
        calls go on with the same generator, so they draw afresh, and a script
        run again with an int ``random_state`` repeats every draw.

        Parameters
        ----------
        n_samples : int, default=1
            The number of samples to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds these draws instead of the estimator's ``random_state``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.

        y : ndarray of shape (n_samples,)
            The component each sample was drawn from.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires at "
                "least one sample: pass a positive integer."
            )
        if random_state is not None:
            rng = check_random_state(random_state)
        else:
            if getattr(self, "_sampling_random_state", None) is None:
                self._sampling_random_state = check_random_state(self.random_state)
            rng = self._sampling_random_state
        counts = rng.multinomial(n_samples, self.weights_)
        labels = np.repeat(np.arange(len(counts)), counts)
        X = draw_from_components(
            rng, counts, self.means_, self.covariances_, self._fitted_covariance_type
        )
        return X, labels

    def _n_parameters(self):
        k, d = self.means_.shape
        return FAMILIES[self.covariance_type].n_parameters(k, d) + k * d + k - 1

    def bic(self, X):
        """Bayesian information criterion of the mixture on ``X``; lower is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        bic : float
            ``-2 log L + n_parameters log n_samples``.
        """
        n_samples = _num_samples(X)
        return -2 * self.score(X) * n_samples + self._n_parameters() * np.log(n_samples)

    def aic(self, X):
        """Akaike information criterion of the mixture on ``X``; lower is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        aic : float
            ``-2 log L + 2 n_parameters``.
        """
        return -2 * self.score(X) * _num_samples(X) + 2 * self._n_parameters()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def draw_from_components(rng, counts, means, covariances, covariance_type):
    """``counts[k]`` draws from each component ``k``, stacked, as scikit-learn draws them."""
    parts = []
    for k, (mean, count) in enumerate(zip(means, counts, strict=True)):
        if covariance_type in ("full", "tied"):
            covariance = covariances[k] if covariance_type == "full" else covariances
            parts.append(rng.multivariate_normal(mean, covariance, int(count)))
        else:
            scale = np.sqrt(covariances[k])
            parts.append(mean + rng.standard_normal(size=(int(count), mean.size)) * scale)
    return np.vstack(parts)


@contextmanager
def fitted_state_kept_on_failure(estimator):
    """A context in which a failed or interrupted fit leaves ``estimator`` as it was."""
    saved = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        raise


def validate_with_nan(estimator, X, **kwargs):
    """``validate_data`` that lets NaN through (it is missing data) and explains inf."""
    _check_numpy_namespace(X)
    X = validate_data(
        estimator, X, dtype=[np.float64, np.float32], ensure_all_finite=False, **kwargs
    )
    n_inf = sum(np.count_nonzero(np.isinf(X[rows])) for rows in row_chunks(X.shape[0]))
    if n_inf:
        raise ValueError(
            f"Input X contains infinity (inf) in {n_inf} entries. NaN marks a missing "
            "value, but inf is not data: replace it with NaN to treat it as missing, "
            "or with a finite value."
        )
    return X


def _check_numpy_namespace(X):
    """Refuse arrays of other array API namespaces: the core computes with NumPy."""
    namespace = get_namespace(X)[0].__name__
    if namespace.split(".")[-1] != "numpy":
        raise TypeError(
            f"sklearn_em computes with NumPy, but X is an array of the {namespace!r} "
            "namespace (array_api_dispatch=True). Pass a NumPy array, for example "
            "np.asarray(X) for data on the CPU, or turn array_api_dispatch off."
        )


def _n_threads(n_jobs):
    """Threads for a fit: ``n_jobs``, or by default as many as BLAS may use."""
    return blas_threads() if n_jobs is None else effective_n_jobs(n_jobs)


def _check_every_feature_observed(X):
    observed = np.zeros(X.shape[1], dtype=bool)
    for rows in row_chunks(X.shape[0]):
        observed |= ~np.isnan(X[rows]).all(axis=0)
    empty = np.flatnonzero(~observed)
    if empty.size:
        raise ValueError(
            f"Feature(s) {', '.join(map(str, empty))} have no observed value, so the "
            "mixture cannot be estimated along them. Drop these columns first "
            "(EMImputer drops them for you)."
        )


def _fill_with_column_means(X):
    """A copy of ``X`` with NaN replaced by column means, for initialization only."""
    missing = np.isnan(X)
    if not missing.any():
        return X
    filled = X.copy()
    filled[missing] = np.take(np.nanmean(X, axis=0), np.nonzero(missing)[1])
    return filled


def _num_samples(X):
    return len(X) if not hasattr(X, "shape") else X.shape[0]


def _as_float_array(value, parameter, label, shape):
    """``value`` as a float64 array of ``shape``; ``label`` is scikit-learn's name for it."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{parameter} must hold numbers, shaped {shape}; got {value!r}."
        ) from None
    if array.shape != shape:
        raise ValueError(
            f"The parameter '{label}' should have the shape of {shape}, but got "
            f"{array.shape}: check {parameter}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{parameter} must be finite; it holds NaN or inf.")
    return array
