"""EMImputer: fills missing values from a NaN-aware Gaussian mixture."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.impute import MissingIndicator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._blocks import map_blocks
from ._em import normalise_log_responsibilities
from .mixture import EM_PARAMETER_CONSTRAINTS, mixture_with_settings_of, validate_with_nan

# Rows of one transform block: conditional means take (k, rows, d) floats.
_BLOCK_VALUES = 2**20


class EMImputer(TransformerMixin, BaseEstimator):
    """Impute missing values with their expectation under a Gaussian mixture.

    The mixture is fitted by EM on the partially observed rows themselves
    (each row contributes through the marginal density of its observed
    values), and each missing value becomes its conditional expectation given
    the observed values of its row. With one component this is the classic
    multivariate-normal EM imputer. Observed values are never changed.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.

    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        The form of the component covariances; see
        :class:`~sklearn_em.GaussianMixture`.

    tol : float, default=1e-3
        The convergence threshold of EM, on the mean log-likelihood.

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
        between EM steps while keeping the likelihood from decreasing.

    random_state : int, RandomState instance or None, default=None
        Seeds the initialization and, with ``sample_posterior``, the draws.
        Give different seeds to get several multiple imputations.

    sample_posterior : bool, default=False
        If True, draw each row's missing values from their conditional
        distribution (a component chosen by its responsibility, then its
        conditional Gaussian) instead of filling in the expectation.

    add_indicator : bool, default=False
        If True, append a :class:`~sklearn.impute.MissingIndicator` of the
        features that had missing values during ``fit``.

    keep_empty_features : bool, default=False
        If True, features with no observed value during ``fit`` are kept and
        filled with 0; otherwise they are dropped.

    verbose : int, default=0
        The verbosity of the mixture's fit.

    Attributes
    ----------
    mixture_ : GaussianMixture
        The mixture fitted to the non-empty features, or None when every
        feature is empty.

    n_iter_ : int
        The number of EM passes of the mixture's fit.

    n_features_in_ : int
        The number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        The names of the features seen during ``fit``, when they are all
        strings.

    indicator_ : MissingIndicator
        The indicator of missing values, when ``add_indicator`` is True.

    See Also
    --------
    sklearn.impute.IterativeImputer : Imputes one feature at a time by regression.
    sklearn.impute.SimpleImputer : Imputes with a statistic of each column.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_em import EMImputer
    >>> X = np.array([[1.0, 2.0], [2.0, 4.1], [3.0, np.nan], [4.0, 7.9]])
    >>> EMImputer().fit_transform(X).round(1)
    array([[1. , 2. ],
           [2. , 4.1],
           [3. , 6. ],
           [4. , 7.9]])
    """

    _parameter_constraints: dict = {
        **EM_PARAMETER_CONSTRAINTS,
        "sample_posterior": ["boolean"],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        acceleration="squarem",
        random_state=None,
        sample_posterior=False,
        add_indicator=False,
        keep_empty_features=False,
        verbose=0,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.acceleration = acceleration
        self.random_state = random_state
        self.sample_posterior = sample_posterior
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the mixture to the observed values of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN where a value is missing.

        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : EMImputer
            The fitted imputer.
        """
        X = validate_with_nan(self, X)
        observed_features = ~np.isnan(X).all(axis=0)
        self._observed = observed_features
        self.mixture_ = None
        self.n_iter_ = 0
        if observed_features.any():
            modelled = X if observed_features.all() else X[:, observed_features]
            self.mixture_ = mixture_with_settings_of(self).fit(modelled)
            self.n_iter_ = self.mixture_.n_iter_
        if self.add_indicator:
            self.indicator_ = MissingIndicator(error_on_new=False).fit(X)
        return self

    def transform(self, X):
        """Fill the missing values of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN where a value is missing.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features_out)
            ``X`` with every NaN filled, in the dtype of ``X``; features with
            no observed value during ``fit`` are dropped unless
            ``keep_empty_features``, and the indicator columns follow when
            ``add_indicator``.
        """
        check_is_fitted(self, "n_iter_")
        X = validate_with_nan(self, X, reset=False, copy=True)
        kept = self._kept_features()
        observed = self._observed
        out = X[:, kept] if not kept.all() else X
        modelled = observed[kept]
        if self.mixture_ is not None:
            out[:, modelled] = self._impute(X[:, observed])
        out[:, ~modelled] = 0.0
        if self.add_indicator:
            out = np.hstack([out, self.indicator_.transform(X).astype(out.dtype)])
        return out

    def _impute(self, X):
        """``X`` with its NaN filled; rows without NaN are untouched."""
        missing = np.isnan(X)
        incomplete = np.flatnonzero(missing.any(axis=1))
        if incomplete.size == 0:
            return X
        mixture = self.mixture_
        engine = mixture._engine()
        model = mixture._mixture()
        rng = check_random_state(self.random_state) if self.sample_posterior else None
        step = max(1, _BLOCK_VALUES // (model.n_components * X.shape[1]))
        slices = [slice(i, i + step) for i in range(0, incomplete.size, step)]

        def fill(rows):
            cond, shift = engine.conditionals(X[incomplete[rows]], model)
            resp = cond.log_prob
            normalise_log_responsibilities(resp)
            if rng is None:
                return np.einsum("nk,knd->nd", resp, cond.means) + shift
            return cond.draw(_choose_components(resp, rng), rng) + shift

        filled = np.concatenate(map_blocks(fill, slices))
        X[incomplete] = np.where(missing[incomplete], filled, X[incomplete])
        return X

    def _kept_features(self):
        if self.keep_empty_features:
            return np.ones(self.n_features_in_, dtype=bool)
        return self._observed

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
        if self.add_indicator:
            names = np.concatenate([names, self.indicator_.get_feature_names_out(input_features)])
        return names

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _choose_components(resp, rng):
    """One component per row, drawn with probabilities ``resp``."""
    cumulative = np.cumsum(resp, axis=1)
    u = rng.uniform(size=(resp.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative < u).sum(axis=1), resp.shape[1] - 1)
