"""A drawn model's normal-scores map, re-estimated from the data it completes.

The imputer's normal-scores map (``_normal_scores``) gives each observed
value the normal score of its rank among the observed values of its
feature. Under MCAR the observed values are a fair sample of the feature;
under MAR they are not: where a feature goes missing mostly when it is high,
its observed values are its low ones, their ranks put them too high, and a
missing value mapped back from its score comes out too low. Every model
drawn for multiple imputation inherits that bias, so the intervals pooled
from them are off centre (on breast_cancer under MAR they covered 0.85,
benchmarks/README.md, "Eleventh session").

A draw of the model therefore re-estimates its map from the data completed
under it, as a data-augmentation step of the copula's marginals would: it
draws the missing values under the model, takes the map of the completed
features (observed and drawn values alike), refits the mixture on the new
scale from where it stood, and repeats. The drawn values that shape the map
are clipped to the feature's observed range, so the map's tails still
continue the observed values' and a draw far out cannot steepen the tail the
next round's draws come from. The point imputer keeps the map of its
observed values: re-estimated, it imputed worse on breast_cancer under MCAR,
where the observed values are a fair sample.
"""

import numpy as np
from sklearn.base import clone

from ._dialect import with_nan_where_missing
from ._filling import fill_missing
from ._normal_scores import NormalScores
from ._overimpute import started_at

# Rounds of draw, remap and refit: the bias in the pooled means of
# breast_cancer under MAR fell with each of the first three (see
# benchmarks/README.md).
ROUNDS = 3


def remap_on_completed(imputer, X, random_state, sample_weight=None, rounds=ROUNDS):
    """Re-estimate a fitted imputer's normal-scores map from completed data, in place.

    Nothing changes for an imputer fitted on the data's own scale.

    Parameters
    ----------
    imputer : EMImputer
        Fitted to ``X`` with ``sample_weight``; its ``mixture_`` and scale
        are replaced, each refit starting from the fit before.
    X : array-like of shape (n_samples, n_features)
        The data ``imputer`` was fitted to, as it was passed.
    random_state : RandomState
        Draws the missing values of each round.
    sample_weight : ndarray of shape (n_samples,) or None
        The row weights of ``imputer``'s fit: each map and fit takes them.
    rounds : int
        The number of rounds.

    Returns
    -------
    imputer : EMImputer
    """
    if imputer._scale is None or imputer.mixture_ is None:
        return imputer
    modelled = ~imputer._empty_features
    X = with_nan_where_missing(*imputer._validated(X, reset=False), modelled)
    lowest, highest = (limit[modelled] for limit in imputer._observed_range)
    unbounded = np.full(X.shape[1], np.inf)
    scale, mixture = imputer._scale, imputer.mixture_
    for _ in range(rounds):
        drawn = scale.forward(X)
        fill_missing(drawn, mixture, -unbounded, unbounded, random_state)
        completed = np.clip(scale.inverse(drawn), lowest, highest)
        scale = NormalScores.of(completed, sample_weight)
        mixture = clone(mixture).set_params(**started_at(mixture))
        mixture._fit_unlabelled(scale.forward(X), sample_weight)
    imputer.mixture_, imputer._scale, imputer.n_iter_ = mixture, scale, mixture.n_iter_
    return imputer
