"""What ``EMImputer.fit`` sets: its features, its indicator, the mixture chosen for imputing."""

import numpy as np
from sklearn.impute import MissingIndicator

from ._dialect import marks_nan, missing_mask, observed_range, with_nan_where_missing
from ._filling import bound_choices
from ._overimpute import candidate_settings, cells_to_hide, choose_mixture
from ._sample_weight import validated_sample_weight
from ._validation import check_spread_fits
from .mixture import mixture_with_settings_of, validate_with_nan

MAX_SEED = np.iinfo(np.int32).max


def fit_attributes(imputer, X, rng, sample_weight=None):
    """Fit every attribute of ``imputer`` to ``X``.

    Returns the validated row weights (None without ``sample_weight``):
    what the draws of the model (``_bootstrap``) reweight.
    """
    X = validate_with_nan(imputer, X, reset=True)
    missing = missing_mask(X, imputer.missing_values)
    weights = validated_sample_weight(sample_weight, X, 1)
    imputer._empty_features = missing.all(axis=0)
    imputer._observed_range = observed_range(X, missing)
    imputer.indicator_ = None
    if imputer.add_indicator:
        marker = np.nan if marks_nan(imputer.missing_values) else imputer.missing_values
        imputer.indicator_ = MissingIndicator(missing_values=marker, error_on_new=False).fit(X)
    imputer.mixture_ = imputer.posterior_mixture_ = imputer.posterior_imputer_ = None
    imputer.n_components_ = imputer.covariance_type_ = None
    imputer.imputation_bounds_ = imputer.imputation_scale_ = imputer._scale = None
    imputer.n_iter_ = 0
    imputer.candidate_scores_ = {}
    modelled = ~imputer._empty_features
    X = with_nan_where_missing(X, missing, modelled)
    if not modelled.any():
        return weights
    names = getattr(imputer, "feature_names_in_", np.arange(modelled.size))
    check_spread_fits(X, columns=names[modelled])
    candidates = candidate_settings(
        imputer.n_components,
        imputer.covariance_type,
        X.shape,
        imputer.prior,
        imputer.scale,
        total=None if weights is None else weights.sum(),
    )

    def make_mixture(n_components, covariance_type, **overrides):
        return mixture_with_settings_of(
            imputer, n_components=n_components, covariance_type=covariance_type, **overrides
        )

    mixture, bounds, scale, table = choose_mixture(
        X,
        candidates,
        make_mixture,
        bound_choices(imputer.min_value, imputer.max_value, modelled),
        cells_to_hide(~np.isnan(X), np.random.RandomState(rng.randint(MAX_SEED))),
        weights,
    )
    imputer.mixture_ = mixture
    imputer.imputation_bounds_ = bounds
    imputer.candidate_scores_ = table
    imputer._scale = scale
    imputer.imputation_scale_ = "original" if scale is None else "normal-scores"
    imputer.n_iter_ = mixture.n_iter_
    imputer.n_components_ = mixture.n_components
    imputer.covariance_type_ = mixture.covariance_type
    return weights
