"""EMImputer: fills missing values from a NaN-aware Gaussian mixture."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, MissingValues, StrOptions
from sklearn.utils._set_output import _wrap_data_with_container
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from . import _dask_impute
from ._bootstrap import completed_copies, keep_posterior
from ._dask import is_dask_collection
from ._dialect import missing_mask, warn_of_dropped_features
from ._filling import bounds_under, completed
from ._fitted import fitted_state_kept_on_failure
from ._gaussian import FAMILIES
from ._impute_fit import MAX_SEED, fit_attributes
from ._overimpute import AUTO_SCALES
from .mixture import EM_PARAMETER_CONSTRAINTS, validate_with_nan

_BOUND_CONSTRAINT = [
    None,
    Interval(Real, None, None, closed="both"),
    "array-like",
    StrOptions({"observed", "auto"}),
]


class EMImputer(TransformerMixin, BaseEstimator):
    """Impute missing values with their expectation under a Gaussian mixture.

    The mixture is fitted by EM on the partially observed rows themselves
    (each row contributes through the marginal density of its observed
    values), and each missing value becomes its conditional expectation given
    the observed values of its row. With one component this is the classic
    multivariate-normal EM imputer; by default the number of components and
    the covariance type are chosen by how well each candidate re-imputes
    observed values hidden from it. Observed values are never changed.

    Parameters
    ----------
    n_components : int or 'auto', default='auto'
        The number of mixture components. 'auto' chooses it, with the
        covariance type, by overimputation: 10% of the observed cells are
        hidden and each candidate imputes them back (RMSE in each column's
        standard deviations). Chosen models have their covariances shrunk
        towards the column variances (weight 0.1, or the least, worth
        ``n_features + 1`` rows, which fades as rows are added; screened with
        one Gaussian fitted to the rest) and are fitted on each feature's normal
        scores if a Gaussian screened there does clearly better (``scale``).
        Then one full Gaussian (the classic EM imputer) and three tied
        components are fitted to all the data; the one whose re-imputations
        land closest is kept. A candidate needs 20 rows per component; with
        fewer than 30 cells to hide, the first is used unscored.

    missing_values : int, float or np.nan, default=np.nan
        The placeholder of a missing value, as in scikit-learn's imputers.
        With a number, NaN in ``X`` is an error (it would be neither data nor
        missing).

    covariance_type : {'auto', 'full', 'tied', 'diag', 'spherical'}, default='auto'
        The form of the component covariances; see
        :class:`~sklearn_em.GaussianMixture`. 'auto' chooses between 'full'
        and 'tied' by overimputation, as ``n_components='auto'`` does.

    tol : float, default=1e-3
        The convergence threshold of EM, on the mean log-likelihood: of a
        fit with nothing to choose and of the pass over every row of Dask
        input. The fits that choose a model (also those of each model that
        multiple imputation draws) stop earlier, at ``50 * n_features *
        tol`` (see the user guide), and the chosen one is kept as fitted
        (``mixture_.tol``).

    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance in every M-step.

    max_iter : int, default=100
        The largest number of EM passes.

    n_init : int, default=1
        The number of initializations; the best fit is kept.

    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        How the starting responsibilities are chosen (on column-mean-filled
        data).

    acceleration : {None, 'squarem'}, default='squarem'
        EM converges slowly when much is missing; SQUAREM extrapolates
        between EM steps while keeping the likelihood from decreasing. The
        fits of one Gaussian that take part in a choice run plain EM
        whatever this is (they need a few passes).

    random_state : int, RandomState instance or None, default=None
        Seeds the initialization, the cells hidden to choose the model and,
        with ``sample_posterior``, the drawn model and the draws. Give
        different seeds to get several multiple imputations.

    sample_posterior : bool, default=False
        If True, ``fit`` also draws the model: the whole fit, the choice of
        the model included, is redone with the rows weighted by a Bayesian
        bootstrap draw (see ``posterior_imputer_``), and ``transform`` draws
        each row's missing values under it (a component chosen by its
        responsibility, then its conditional Gaussian) instead of filling in
        the expectation. One fit with each of several ``random_state``
        values, or one call of :meth:`fit_transform_multiple`, gives proper
        multiple imputations: their spread carries the uncertainty of the
        model (its parameters, and which model the data choose) as well as
        that of the missing values. ``fit`` then fits at least twice, with
        warnings and ``verbose`` output from the fits.

    min_value : float, array-like of shape (n_features,), 'observed' or 'auto', \
            default='auto'
        The smallest value an imputation may take, for every feature or per
        feature; 'observed' is each feature's smallest value observed during
        ``fit``. Expectations and posterior draws below it are set to it
        (clipped, so a draw can land exactly on the bound); observed values
        are never changed. 'auto' chooses, by the overimputation that
        chooses the model, between no bound (-inf) and 'observed'
        (``imputation_bounds_``); when there is nothing to score (too few
        cells, or a fixed model with fixed bounds) it is no bound.

    max_value : float, array-like of shape (n_features,), 'observed' or 'auto', \
            default='auto'
        The largest value an imputation may take; as ``min_value``.
        ``min_value='observed', max_value='observed'`` keeps every imputation
        within its feature's observed range: it helps where rare extreme
        values make a Gaussian extrapolate, and can cost where the missing
        values lie beyond the observed ones (see ``benchmarks/README.md``);
        'auto' lets overimputation decide, with ``min_value``'s 'auto' if
        both are.

    add_indicator : bool, default=False
        If True, append a :class:`~sklearn.impute.MissingIndicator` of the
        features that had missing values during ``fit``.

    keep_empty_features : bool, default=False
        If True, features with no observed value during ``fit`` are kept:
        their missing values become 0 (within the bounds) and their observed
        values stay. Otherwise they are dropped, with a warning, as
        :class:`~sklearn.impute.SimpleImputer` does.

    verbose : int, default=0
        The verbosity of the mixture's fit.

    prior : {'conjugate'}, ConjugatePrior or None, default=None
        Passed to every mixture fitted: MAP EM under mclust's conjugate
        prior (see :class:`~sklearn_em.GaussianMixture`), in place of the
        shrinkage of models chosen by 'auto'.

    scale : {'auto', 'original', 'normal-scores'}, default='auto'
        Where the mixture is fitted. 'original': on the values themselves.
        'normal-scores': each feature mapped, monotonically, to the normal
        scores of its observed values (the normal quantile of its mid-rank,
        weighted by ``sample_weight``; linear between them, or between 256
        of them spread evenly in rank, and continued linearly past the
        ends), which brings skewed features and curved relations (ratios,
        powers) closer to Gaussian; an expectation is the mean of its
        conditional distribution mapped back, a draw is a draw mapped back
        (a drawn model's map is of the data it completes). 'auto'
        chooses between them by overimputation when ``n_components`` and
        ``covariance_type`` are both 'auto' (the normal scores only if
        their screen lowers the hidden cells' squared error by more than one
        standard error of the paired differences), else it is 'original'.

    Attributes
    ----------
    mixture_ : GaussianMixture
        The mixture fitted by EM to the non-empty features (the maximum
        likelihood estimate, or the MAP one under ``prior`` or the shrinkage
        'auto' chose), on the scale ``imputation_scale_``, or None when
        every feature is empty. The expectations are taken under it. Its
        ``tol`` is the one it stopped at, and it labels no rows (no
        ``labels_``: its fit skips that pass). One Gaussian chosen among
        others was fitted by plain EM (``acceleration=None``).

    posterior_imputer_ : EMImputer or None
        With ``sample_posterior``, one draw of the model: a clone of this
        imputer (``sample_posterior=False``) fitted to the same rows under
        Rubin's Bayesian bootstrap weights (``Gamma(1)`` draws; with
        ``sample_weight``, ``Gamma(a)`` with ``a`` proportional to the
        weight and one on average over the rows of positive weight), seeded
        by ``random_state``; on normal scores its map is then re-estimated
        from the data it completes, in three rounds of draws and refits (its
        ``n_iter_`` is the last's). Its ``mixture_``, on its scale, is what
        ``transform`` draws under, within this imputer's bounds; its
        ``candidate_scores_`` show its own choice. None otherwise, and then
        draws (if ``sample_posterior`` is set after ``fit``) are taken under
        ``mixture_``, with the model held fixed.

    posterior_mixture_ : GaussianMixture or None
        ``posterior_imputer_.mixture_`` (None without it).

    n_iter_ : int
        The number of EM passes of the mixture's fit.

    n_components_ : int or None
        The number of components of ``mixture_`` (chosen, or as given).

    covariance_type_ : str or None
        The covariance type of ``mixture_`` (chosen, or as given).

    imputation_bounds_ : {'none', 'observed', 'given'} or None
        What the bounds set to 'auto' became: 'none' (unbounded) or
        'observed' (each feature's observed range); 'given' when neither
        ``min_value`` nor ``max_value`` is 'auto'. None when every feature
        is empty.

    imputation_scale_ : {'original', 'normal-scores'} or None
        The scale ``mixture_`` was fitted on (as given, or chosen by 'auto');
        None when every feature is empty.

    candidate_scores_ : dict of str to list
        One entry per fit and bound, in order: ``n_components``,
        ``covariance_type``, ``scale``, ``covariance_shrinkage`` (0: unshrunk),
        ``fitted_to`` ('rest' for the screening fits, 'all'), ``bounds``
        (as ``imputation_bounds_``), ``overimputation_rmse`` (NaN when
        unscored, inf for a collapsed fit) and ``fit_time`` in seconds (of
        the fit, repeated on each of its bounds).
        ``pandas.DataFrame(imputer.candidate_scores_)`` shows it as a table.

    n_features_in_ : int
        The number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        The names of the features seen during ``fit``, when they are all
        strings.

    indicator_ : MissingIndicator or None
        The indicator of missing values when ``add_indicator`` is True, else
        None.

    See Also
    --------
    sklearn.impute.IterativeImputer : Imputes one feature at a time by regression.
    sklearn.impute.SimpleImputer : Imputes with a statistic of each column.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_em import EMImputer
    >>> X = np.array([[1.0, 2.0], [2.0, 4.1], [3.0, np.nan], [4.0, 7.9]])
    >>> EMImputer(n_components=1, covariance_type="full").fit_transform(X).round(1)
    array([[1. , 2. ],
           [2. , 4.1],
           [3. , 6. ],
           [4. , 7.9]])
    """

    _parameter_constraints: dict = {
        **EM_PARAMETER_CONSTRAINTS,
        "n_components": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "covariance_type": [StrOptions(set(FAMILIES) | {"auto"})],
        "missing_values": [MissingValues(numeric_only=True)],
        "sample_posterior": ["boolean"],
        "min_value": _BOUND_CONSTRAINT,
        "max_value": _BOUND_CONSTRAINT,
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "scale": [StrOptions({"auto", *AUTO_SCALES})],
    }

    def __init__(
        self,
        n_components="auto",
        *,
        missing_values=np.nan,
        covariance_type="auto",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        acceleration="squarem",
        random_state=None,
        sample_posterior=False,
        min_value="auto",
        max_value="auto",
        add_indicator=False,
        keep_empty_features=False,
        verbose=0,
        prior=None,
        scale="auto",
    ):
        self.n_components = n_components
        self.missing_values = missing_values
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.acceleration = acceleration
        self.random_state = random_state
        self.sample_posterior = sample_posterior
        self.min_value = min_value
        self.max_value = max_value
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.verbose = verbose
        self.prior = prior
        self.scale = scale

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the mixture to the observed values of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with ``missing_values`` where a value is missing.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights for every mixture fitted, the
            overimputation error and the bootstrap (see the user guide, MAP).

        Returns
        -------
        self : EMImputer
            The fitted imputer.
        """
        rng = check_random_state(self.random_state)
        with fitted_state_kept_on_failure(self):
            if is_dask_collection(X):
                return _dask_impute.fit(self, X, rng, sample_weight)
            weights = fit_attributes(self, X, rng, sample_weight)
            keep_posterior(self, X, rng, weights)
            # One generator for every transform's draws: fresh per call, repeated per script.
            self._draws_random_state = np.random.RandomState(rng.randint(MAX_SEED))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform_multiple(self, X, n_imputations=5, sample_weight=None):
        """Fit, then make ``n_imputations`` completed copies of ``X`` (proper multiple imputation).

        Each copy draws the model anew, as ``sample_posterior=True`` does
        for one: the whole fit, its choice of the model included, redone
        under Bayesian bootstrap weights (``n_imputations`` fits besides
        this imputer's own); then it draws the missing values under that
        model. Analyse each copy and pool the results with
        :func:`pool_estimates`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with ``missing_values`` where a value is missing.

        n_imputations : int, default=5
            The number of completed copies.

        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as in :meth:`fit`; in each drawn model a row's
            weight is ``Gamma(a)``, ``a`` proportional to its weight (see
            ``posterior_imputer_``).

        Returns
        -------
        imputations : list of ndarray of shape (n_samples, n_features_out)
            The completed copies, each as ``transform`` returns it (a
            DataFrame under ``set_output(transform="pandas")``).
        """
        if not isinstance(n_imputations, Integral) or n_imputations < 1:
            raise ValueError(f"n_imputations must be a positive integer; got {n_imputations!r}.")
        if is_dask_collection(X):
            raise ValueError("fit_transform_multiple needs the rows in memory: X.compute().")
        rng = check_random_state(self.random_state)
        with fitted_state_kept_on_failure(self):
            weights = fit_attributes(self, X, rng, sample_weight)
            copies, models = completed_copies(self, X, rng, n_imputations, weights)
            self._draws_random_state = np.random.RandomState(rng.randint(MAX_SEED))
            keep_posterior(self, X, rng, drawn=models[0])  # a later transform draws under it
        warn_of_dropped_features(self)
        return [_wrap_data_with_container("transform", copy, X, self) for copy in copies]

    def transform(self, X):
        """Fill the missing values of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with ``missing_values`` where a value is missing.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features_out)
            ``X`` with every missing value filled, in the dtype of ``X``;
            features with no observed value during ``fit`` are dropped (with
            a warning) unless ``keep_empty_features``, and the indicator
            columns follow when ``add_indicator``.
        """
        check_is_fitted(self, "n_iter_")
        warn_of_dropped_features(self)
        if is_dask_collection(X):  # lazy, chunked like X
            return _dask_impute.transform(self, X)
        if not self.sample_posterior:
            return self._transform(X)
        # Without a drawn model (sample_posterior set after fit): the fitted one's.
        return self._transform(X, self.posterior_imputer_, self._draws_random_state)

    def _transform(self, X, model=None, random_state=None):
        """``X`` filled under ``model`` (this imputer's by default, or a draw
        of it): expectations, or draws from ``random_state``."""
        return completed(self, *self._validated(X, reset=False), model, random_state)

    def _validated(self, X, reset):
        """``X`` as a float array, and where its values are missing."""
        X = validate_with_nan(self, X, reset=reset)
        return X, missing_mask(X, self.missing_values)

    def _bounds(self):
        """``min_value`` and ``max_value`` as arrays of shape (n_features_in_,)."""
        return bounds_under(
            self.min_value, self.max_value, self.imputation_bounds_, self._observed_range
        )

    def _kept_features(self):
        empty = self._empty_features
        return np.ones_like(empty) if self.keep_empty_features else ~empty

    def get_feature_names_out(self, input_features=None):
        """The names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            The input feature names; by default ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The kept input names, then the indicator's names.
        """
        check_is_fitted(self, "n_iter_")
        input_features = _check_feature_names_in(self, input_features)
        names = input_features[self._kept_features()]
        if self.indicator_ is not None:
            names = np.concatenate([names, self.indicator_.get_feature_names_out(input_features)])
        return names

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
