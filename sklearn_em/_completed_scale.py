"""A drawn model's normal-scores map, re-estimated from the data it completes.

The imputer's normal-scores map (``_normal_scores``) gives each observed
value the normal score of its rank among the observed values of its
feature. Under MCAR the observed values are a fair sample of the feature;
under MAR they are not: where a feature goes missing mostly when it is high,
its observed values are its low ones, their ranks put them too high, and a
missing value mapped back from its score comes out too low. Every model
drawn for multiple imputation inherits that bias, so the intervals pooled
from them are off centre (on breast_cancer under MAR: benchmarks/README.md,
"Eleventh session").

A draw of the model therefore re-estimates its map from the data completed
under it, as a data-augmentation step of the copula's marginals would: it
draws the missing values under the model, takes the map of the completed
features (observed and drawn values alike), refits the mixture on the new
scale from where it stood, and repeats. The drawn values that shape the map
are clipped to the range of the observed values the fit saw, so the map's
tails still continue the observed values' and a draw far out cannot steepen
the tail the next round's draws come from. The point imputer keeps the map
of its observed values: re-estimated, it imputed worse on breast_cancer
under MCAR, where the observed values are a fair sample.
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from ._dialect import with_nan_where_missing
from ._filling import fill_missing
from ._gaussian import SingularCovarianceError
from ._normal_scores import NormalScores
from ._overimpute import started_at
from ._prior import diagonal_prior

# Rounds of draw, remap and refit: on breast_cancer under MAR the coverage
# rose from one round to three and fell back at five (benchmarks/README.md).
ROUNDS = 3


def remap_on_completed(imputer, X, random_state, sample_weight=None, rounds=ROUNDS):
    """Re-estimate a fitted imputer's normal-scores map from completed data, in place.

    Nothing changes for an imputer fitted on the data's own scale. A round
    whose refit collapses (``SingularCovarianceError``) ends the rounds, the
    model before it kept; one warning says if the last refit stopped at
    ``max_iter``. ``n_iter_`` and the mixture's attributes describe the last
    refit.

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
    if imputer._scale is None or imputer.mixture_ is None or rounds == 0:
        return imputer
    modelled = ~imputer._empty_features
    X = with_nan_where_missing(*imputer._validated(X, reset=False), modelled)
    scale, mixture = imputer._scale, imputer.mixture_
    # The map's end knots: the range of the observed values of the rows of
    # positive weight (``NormalScores.of``), those the fit saw.
    lowest = np.array([values[0] for values in scale.values])
    highest = np.array([values[-1] for values in scale.values])
    unbounded = np.full(X.shape[1], np.inf)
    refitted = False
    on_scale = scale.forward(X)  # X on the scale of the latest fit
    for _ in range(rounds):
        drawn = on_scale.copy()
        fill_missing(drawn, mixture, -unbounded, unbounded, random_state)
        completed = np.clip(scale.inverse(drawn), lowest, highest)
        remapped = NormalScores.of(completed, sample_weight)
        on_remapped = remapped.forward(X)
        try:
            refit = _refit(imputer, mixture, on_remapped, sample_weight)
        except SingularCovarianceError:
            break
        scale, mixture, on_scale, refitted = remapped, refit, on_remapped, True
    if refitted and not mixture.converged_:
        warnings.warn(
            "A drawn model's refit on the map of the data it completes did not converge "
            f"in max_iter={mixture.max_iter} passes. Increase max_iter.",
            ConvergenceWarning,
            stacklevel=2,
        )
    imputer.mixture_, imputer._scale, imputer.n_iter_ = mixture, scale, mixture.n_iter_
    return imputer


def _refit(imputer, mixture, Z, sample_weight):
    """``mixture`` refitted to ``Z`` from where it stands. A covariance
    shrinkage of the choice's (no ``prior`` of the imputer's) shrinks, with
    its weight, towards the observed column variances on the new scale."""
    settings = started_at(mixture)
    if imputer.prior is None and mixture.prior is not None:
        settings["prior"] = diagonal_prior(Z, mixture.prior.dof, sample_weight)
    with warnings.catch_warnings():
        # The rounds warn once, not once a refit, and without plain EM's
        # advice to try SQUAREM: the choice fits one Gaussian without it on
        # purpose (``_overimpute``).
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clone(mixture).set_params(**settings)._fit_unlabelled(Z, sample_weight)
