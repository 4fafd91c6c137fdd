"""A draw of a fitted mixture's parameters: EM refitted to a bootstrap resample of the rows.

This is how Amelia II makes multiple imputation proper (Honaker, King &
Blackwell, 2011): the spread of the bootstrap fits stands in for the
posterior of the parameters, so that imputations drawn under them carry the
uncertainty of the parameters as well as that of the missing values given
the parameters.
"""

import numpy as np
from sklearn.base import clone

# Resamples tried before giving up on one that observes every feature.
MAX_RESAMPLES = 100


def bootstrap_mixture(mixture, X, random_state, tol, sample_weight=None):
    """``mixture`` refitted by EM to a bootstrap resample of the rows of ``X``.

    EM starts from the fitted ``mixture``: a resample's optimum lies near the
    full sample's, so the refit takes few passes, and it stays in the same
    mode (no label switching between imputations).

    Parameters
    ----------
    mixture : GaussianMixture
        A mixture fitted to ``X``.
    X : ndarray of shape (n_samples, n_features)
        The rows it was fitted to, NaN where missing.
    random_state : RandomState
        Draws the resample.
    tol : float
        The refit's convergence threshold: the imputer's (a chosen
        ``mixture`` stopped at a looser one).
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights of the fit: rows are drawn in proportion to them.

    Returns
    -------
    GaussianMixture
        A new mixture with ``mixture``'s settings, fitted to the resample.
    """
    rows = _resample_observing_every_feature(~np.isnan(X), random_state, sample_weight)
    refit = clone(mixture).set_params(
        weights_init=mixture.weights_,
        means_init=mixture.means_,
        precisions_init=mixture.precisions_,
        n_init=1,
        warm_start=False,
        random_state=random_state,
        tol=tol,
    )
    return refit._fit_unlabelled(X[rows])


def _resample_observing_every_feature(observed, random_state, sample_weight=None):
    n_samples = observed.shape[0]
    p = None if sample_weight is None else sample_weight / sample_weight.sum()
    for _ in range(MAX_RESAMPLES):
        if p is None:
            rows = random_state.randint(n_samples, size=n_samples)
        else:
            rows = random_state.choice(n_samples, size=n_samples, p=p)
        if observed[rows].any(axis=0).all():
            return rows
    raise ValueError(
        f"{MAX_RESAMPLES} bootstrap resamples of the {n_samples} rows all left a feature "
        "with no observed value: a feature is observed in too few rows to draw its "
        "parameters. Drop it, or use sample_posterior=False."
    )


def completed_copies(imputer, X, modelled, weights, rng, n_imputations):
    """``n_imputations`` completed copies of ``X`` from a fitted ``imputer``.

    Each copy is filled with draws under its own parameters, ``bootstrap_mixture``
    of the imputer's mixture on the ``modelled`` rows (NaN where missing),
    with seeds drawn in turn from ``rng``.
    """
    copies = []
    for _ in range(n_imputations):
        seeds = rng.randint(np.iinfo(np.int32).max, size=2)
        bootstrap_rng, draw_rng = map(np.random.RandomState, seeds)
        mixture = imputer.mixture_
        if mixture is not None:
            mixture = bootstrap_mixture(mixture, modelled, bootstrap_rng, imputer.tol, weights)
        copies.append(imputer._transform(X, mixture, draw_rng))
    return copies
