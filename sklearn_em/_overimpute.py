"""Choosing the imputer's mixture by overimputation: hide observed cells, impute them back.

Amelia II's check of an imputation model (Honaker, King & Blackwell, 2011),
used here to choose the model: a share of the observed cells is hidden, each
candidate mixture is fitted to what is left and imputes the hidden cells,
and the candidate whose imputations land closest (RMSE in each column's
standard deviations) is refitted to all the data. A likelihood criterion
such as BIC answers another question (which model explains the data) and
chose worse imputers.
"""

import time
import warnings
from itertools import product

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._filling import fill_missing
from ._gaussian import SingularCovarianceError

# Tried when both are "auto": one Gaussian (the classic EM imputer) and a few
# mixtures; 'tied' shares one covariance, so each pattern is inverted once.
# Three 'full' components scored worst on every bundled dataset and cost the
# most, so they are left out (see benchmarks/README.md).
AUTO_CANDIDATES = ((1, "full"), (2, "full"), (2, "tied"), (3, "tied"))
# With one of them fixed, the other ranges over these.
AUTO_N_COMPONENTS = (1, 2, 3)
AUTO_COVARIANCE_TYPES = ("full", "tied")
# A candidate needs this many rows per component.
ROWS_PER_COMPONENT = 20
# The share of observed cells hidden, and the fewest hidden cells that make a
# score worth trusting (fewer: the first candidate is used without scoring).
HIDDEN_SHARE = 0.1
MIN_HIDDEN_CELLS = 30
# Candidates are fitted to rank them, not to report them: a looser tolerance
# takes fewer passes, and the chosen one is refitted at the imputer's own.
SCORING_SETTINGS = {"tol": 1e-2}


def candidate_settings(n_components, covariance_type, n_samples):
    """The (n_components, covariance_type) pairs to try, simplest first."""
    if n_components == "auto" and covariance_type == "auto":
        pairs = AUTO_CANDIDATES
    else:
        ks = AUTO_N_COMPONENTS if n_components == "auto" else (n_components,)
        kinds = AUTO_COVARIANCE_TYPES if covariance_type == "auto" else (covariance_type,)
        # One component: 'tied' is 'full'.
        pairs = [(k, kind) for k, kind in product(ks, kinds) if (k, kind) != (1, "tied")]
        pairs = pairs or [(1, "tied")]
    fitting = [(k, kind) for k, kind in pairs if k == 1 or k * ROWS_PER_COMPONENT <= n_samples]
    return fitting or [min(pairs)]


def choose_mixture(X, candidates, make_mixture, bounds, hidden, sample_weight=None):
    """Fit the candidate that best re-imputes hidden observed cells.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Every feature observed somewhere; NaN where missing.
    candidates : list of (int, str)
        ``(n_components, covariance_type)`` pairs, simplest first (it wins ties).
    make_mixture : callable
        ``make_mixture(n_components, covariance_type, **overrides)`` returns
        an unfitted GaussianMixture with the imputer's settings.
    bounds : tuple of ndarray
        The imputations' lower and upper bounds, per feature.
    hidden : ndarray of bool of shape (n_samples, n_features)
        The observed cells to hide, from :func:`cells_to_hide`.
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights: every fit takes them, and the error counts each hidden
        cell by its row's weight.

    Returns
    -------
    mixture : GaussianMixture
        The chosen candidate, fitted to ``X``.
    table : dict of str to list
        One entry per candidate: ``n_components``, ``covariance_type``,
        ``overimputation_rmse`` (NaN when nothing was scored, inf for a
        candidate whose fit collapsed), ``fit_time``.
    """
    table = {"n_components": [], "covariance_type": [], "overimputation_rmse": [], "fit_time": []}
    if len(candidates) == 1 or hidden.sum() < MIN_HIDDEN_CELLS:
        k, kind = candidates[0]
        _record(table, k, kind, np.nan, 0.0)
        return make_mixture(k, kind).fit(X, sample_weight=sample_weight), table
    overimputed = np.where(hidden, np.nan, X)
    scale = np.nanstd(X, axis=0)
    scale[~(scale > 0)] = 1.0
    fits, failures = [], []
    for k, kind in candidates:
        began = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fitted = make_mixture(k, kind, **SCORING_SETTINGS)
                fitted.fit(overimputed, sample_weight=sample_weight)
        except SingularCovarianceError as error:
            # A component collapsed on the thinner data: this candidate loses.
            failures.append(error)
            _record(table, k, kind, np.inf, time.perf_counter() - began)
            fits.append(None)
            continue
        filled = overimputed.copy()
        fill_missing(filled, fitted, *bounds)
        errors = ((filled - X) / scale)[hidden]
        rmse = _root_mean_square(errors, _cell_weights(sample_weight, hidden))
        _record(table, k, kind, rmse, time.perf_counter() - began)
        fits.append(fitted)
    if len(failures) == len(candidates):
        raise failures[0]
    # The best candidate is refitted to all of X from its own overimputation
    # fit (a few passes more). That refit can still collapse on the fuller
    # data; the next best then serves, and the collapsed one scores inf.
    for best in np.argsort(table["overimputation_rmse"], kind="stable"):
        if fits[best] is None:
            break
        k, kind = candidates[best]
        start = fits[best]
        warm = make_mixture(
            k,
            kind,
            weights_init=start.weights_,
            means_init=start.means_,
            precisions_init=start.precisions_,
            n_init=1,
        )
        try:
            return warm.fit(X, sample_weight=sample_weight), table
        except SingularCovarianceError as error:
            failures.append(error)
            table["overimputation_rmse"][best] = np.inf
    raise failures[-1]


def _cell_weights(sample_weight, hidden):
    """Each hidden cell's row weight (None without weights, or if all are zero)."""
    if sample_weight is None:
        return None
    weights = np.broadcast_to(sample_weight[:, None], hidden.shape)[hidden]
    return weights if weights.sum() > 0 else None


def _root_mean_square(errors, weights):
    return float(np.sqrt(np.average(errors**2, weights=weights)))


def _record(table, k, kind, rmse, seconds):
    table["n_components"].append(k)
    table["covariance_type"].append(kind)
    table["overimputation_rmse"].append(rmse)
    table["fit_time"].append(seconds)


def cells_to_hide(observed, random_state):
    """A random share of the observed cells; every column keeps one observed cell."""
    hidden = observed & (random_state.uniform(size=observed.shape) < HIDDEN_SHARE)
    for j in np.flatnonzero(~(observed & ~hidden).any(axis=0)):
        keep = random_state.choice(np.flatnonzero(observed[:, j]))
        hidden[keep, j] = False
    return hidden
