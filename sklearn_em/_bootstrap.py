"""A draw of the imputation model: the imputer's whole fit redone under Bayesian bootstrap weights.

Multiple imputation is proper when each imputation's model is a draw from
what the data say of the model, so that the imputations' spread carries the
model's uncertainty as well as that of the missing values given the model.
Amelia II draws the parameters by EM on a bootstrap resample of the rows
(Honaker, King & Blackwell, 2011). The imputer also chooses its model from
the data (the form, the shrinkage, the scale: ``_overimpute``), and where
the missing values lie beyond the observed ones the models it chooses among
extrapolate differently: a draw that keeps the choice fixed leaves that
uncertainty out, and its intervals under MAR covered too seldom (see
benchmarks/README.md). So each draw redoes the whole fit, choice included.

The rows are reweighted, not resampled: Rubin's (1981) Bayesian bootstrap,
``Dirichlet(1, ..., 1)`` weights over the rows (``Gamma(1)`` draws,
normalised). A resample repeats rows, and the choice then re-imputes hidden
cells whose copies it saw: it covered less than the reweighting (see
benchmarks/README.md, "Tenth session"). Rows with weights ``w_i`` draw
``Gamma(a_i)`` with ``a_i`` proportional to ``w_i`` and averaging one over
the rows of positive weight: as many units as rows, however the weights are
scaled (the fit itself does not depend on their scale), as the resample
drew as many rows as there are.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import _num_samples

from ._completed_scale import remap_on_completed
from ._impute_fit import MAX_SEED


def bayesian_bootstrap_weights(n_samples, random_state, sample_weight=None):
    """Row weights for one draw: ``Gamma(a_i, 1)``, scaled to the total of ``w``.

    Parameters
    ----------
    n_samples : int
        The number of rows.
    random_state : RandomState
        Draws the weights.
    sample_weight : ndarray of shape (n_samples,) or None
        The rows' own weights ``w`` (None: one each); ``a_i`` is ``w_i``
        times the number of rows of positive weight over the total weight.
        A row of weight zero keeps weight zero: it is never seen, as in the
        fit.

    Returns
    -------
    ndarray of shape (n_samples,)
        Positive where ``sample_weight`` is, and summing to its total.
    """
    weights = np.ones(n_samples) if sample_weight is None else sample_weight
    positive = weights > 0
    shapes = weights * (np.count_nonzero(positive) / weights.sum())
    draws = random_state.gamma(shapes)
    # A small shape can draw 0: a row of positive weight keeps a sliver.
    draws[positive & (draws == 0)] = np.finfo(np.float64).tiny
    return draws * (weights.sum() / draws.sum())


def drawn_imputer(imputer, X, random_state, sample_weight=None):
    """A clone of ``imputer`` fitted to ``X`` under Bayesian bootstrap weights.

    Its model (``mixture_`` on its ``imputation_scale_``, whose map, on
    normal scores, is re-estimated from the data it completes:
    ``_completed_scale``) is one draw of the imputer's. It makes no draws of
    its own (``sample_posterior=False``), and the draws filled under it are
    clipped to the imputer's bounds, not its own choice of them.

    Parameters
    ----------
    imputer : EMImputer
        The imputer whose settings the draw is fitted with.
    X : array-like of shape (n_samples, n_features)
        The data ``imputer`` was fitted to, as it was passed.
    random_state : RandomState
        Draws the weights, then seeds the clone's fit.
    sample_weight : ndarray of shape (n_samples,) or None
        The validated row weights of ``imputer``'s fit.

    Returns
    -------
    EMImputer
    """
    weights = bayesian_bootstrap_weights(_num_samples(X), random_state, sample_weight)
    seed = random_state.randint(MAX_SEED)
    drawn = clone(imputer).set_params(sample_posterior=False, random_state=seed)
    drawn.fit(X, sample_weight=weights)
    return remap_on_completed(drawn, X, random_state, weights)


def keep_posterior(imputer, X, rng, sample_weight=None, drawn=None):
    """With ``sample_posterior`` and a mixture to draw under, set
    ``imputer``'s ``posterior_imputer_`` (``drawn``, or a ``drawn_imputer``
    seeded from ``rng``) and its ``posterior_mixture_``."""
    if not imputer.sample_posterior or imputer.mixture_ is None:
        return
    if drawn is None:
        draw_rng = np.random.RandomState(rng.randint(MAX_SEED))
        drawn = drawn_imputer(imputer, X, draw_rng, sample_weight)
    imputer.posterior_imputer_, imputer.posterior_mixture_ = drawn, drawn.mixture_


def completed_copies(imputer, X, rng, n_imputations, sample_weight=None):
    """``n_imputations`` completed copies of ``X``, each under its own drawn model.

    Each copy is filled with draws under a ``drawn_imputer`` of ``imputer``
    on ``X``, with seeds drawn in turn from ``rng``. Returns the copies and
    the drawn imputers.
    """
    copies, models = [], []
    for _ in range(n_imputations):
        seeds = rng.randint(MAX_SEED, size=2)
        draw_rng, fill_rng = map(np.random.RandomState, seeds)
        models.append(drawn_imputer(imputer, X, draw_rng, sample_weight))
        copies.append(imputer._transform(X, models[-1], fill_rng))
    return copies, models
