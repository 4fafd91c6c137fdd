"""Choosing the imputer's mixture by overimputation: hide observed cells, impute them back.

Amelia II's check of an imputation model (Honaker, King & Blackwell, 2011),
used here to choose the model: a share of the observed cells is hidden and
each candidate imputes them back; the candidate whose imputations land
closest (RMSE in each column's standard deviations) wins. A likelihood
criterion such as BIC answers another question (which model explains the
data) and chose worse imputers.

The choice is made in two steps, each scored where its score can be
trusted (see benchmarks/README.md). First the shrinkage of the covariances:
one Gaussian per level is fitted to the data with the cells hidden, so that
a level is judged on cells it never saw (scored on cells it saw, the least
shrinkage won on every digits mask, where it imputed worse). Then the form
(one Gaussian, or three components sharing a covariance): each is fitted to
all the data at the chosen shrinkage and re-imputes the hidden cells from
the rest of their rows;
the winner is the imputer's mixture as fitted, with no refit.
"""

import time
import warnings
from dataclasses import dataclass
from itertools import product

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._filling import fill_missing
from ._gaussian import SingularCovarianceError
from ._prior import ConjugatePrior

# Tried when both are "auto": one Gaussian (the classic EM imputer) and three
# components sharing one covariance (each pattern is inverted once for all).
# Two 'full' or 'tied' components were candidates before; they did not win
# more often than they cost (see benchmarks/README.md).
AUTO_CANDIDATES = ((1, "full"), (3, "tied"))
# With one of them fixed, the other ranges over these.
AUTO_N_COMPONENTS = (1, 2, 3)
AUTO_COVARIANCE_TYPES = ("full", "tied")
# The weights with which a chosen model's covariances may be shrunk towards
# the diagonal of the column variances (``shrinkage_prior``): a covariance
# estimated from few rows per feature extrapolates through its smallest
# eigenvalues; on digits (61 features, rare extreme pixels) that decided the
# error, while the small bundled datasets want the least shrinkage.
AUTO_SHRINKAGES = (0.02, 0.1)
# A candidate needs this many rows per component.
ROWS_PER_COMPONENT = 20
# The share of observed cells hidden, and the fewest hidden cells that make a
# score worth trusting (fewer: the first candidate is used without scoring).
HIDDEN_SHARE = 0.1
MIN_HIDDEN_CELLS = 30
# The shrinkage is ranked by fits to the data with the cells hidden, not
# reported: a looser tolerance takes fewer passes.
SCREENING_SETTINGS = {"tol": 1e-2}
# What ``choose_mixture`` reports of each fit, one row each.
TABLE_COLUMNS = (
    "n_components",
    "covariance_type",
    "covariance_shrinkage",
    "fitted_to",
    "overimputation_rmse",
    "fit_time",
)


@dataclass(frozen=True)
class Candidates:
    """What the imputer chooses among: forms ``(n_components, covariance_type)``,
    simplest first, and shrinkage weights (0 fits without ``shrinkage_prior``)."""

    forms: tuple
    shrinkages: tuple


def candidate_settings(n_components, covariance_type, n_samples, prior=None):
    """The forms and shrinkages to try.

    Settings left to choose ('auto') are chosen with a shrinkage, unless the
    imputer has a prior of its own; both fixed give that model alone,
    unshrunk (the classic imputer for ``(1, 'full')``).
    """
    if n_components == "auto" and covariance_type == "auto":
        pairs = AUTO_CANDIDATES
    else:
        ks = AUTO_N_COMPONENTS if n_components == "auto" else (n_components,)
        kinds = AUTO_COVARIANCE_TYPES if covariance_type == "auto" else (covariance_type,)
        # One component: 'tied' is 'full'.
        pairs = [(k, kind) for k, kind in product(ks, kinds) if (k, kind) != (1, "tied")]
        pairs = pairs or [(1, "tied")]
    fitting = [(k, kind) for k, kind in pairs if k == 1 or k * ROWS_PER_COMPONENT <= n_samples]
    chosen = "auto" in (n_components, covariance_type) and prior is None
    return Candidates(tuple(fitting or [min(pairs)]), AUTO_SHRINKAGES if chosen else (0.0,))


def shrinkage_prior(X, shrinkage, sample_weight=None):
    """A conjugate prior that shrinks covariances towards the column variances' diagonal.

    With ``dof = nu`` and ``scale = nu D`` (``D`` the diagonal of the
    observed column variances), a 'full' component's MAP covariance is
    ``(nu D + W_k) / (nu + n_k + d + 1)``: up to a factor, the sample
    covariance ``W_k / n_k`` shrunk towards ``D`` with weight
    ``nu / (nu + n_k)``, a ridge that the conditional means (which a common
    factor does not change) feel as such. ``nu`` is ``shrinkage / (1 -
    shrinkage)`` times the number of rows (the total weight), so that one
    component's weight is ``shrinkage``; at least ``d + 1``, the least that
    keeps the prior proper with room. None for ``shrinkage`` 0.
    """
    if shrinkage <= 0:
        return None
    n_samples, d = X.shape
    weights = np.ones(n_samples) if sample_weight is None else sample_weight
    observed = ~np.isnan(X)
    filled = np.where(observed, X, 0.0).astype(np.float64)
    # A column observed in zero-weight rows only has no variance to shrink to.
    total = np.maximum(weights @ observed, np.finfo(np.float64).tiny)
    mean = (weights @ filled) / total
    variances = (weights @ np.where(observed, (filled - mean) ** 2, 0.0)) / total
    # A constant column still needs a positive scale; its own tiny variance would do.
    floor = 1e-12 * variances.max() if variances.max() > 0 else 1.0
    variances = np.maximum(variances, floor)
    nu = max(shrinkage / (1 - shrinkage) * weights.sum(), d + 1.0)
    return ConjugatePrior(shrinkage=0.0, dof=nu, scale=nu * np.diag(variances))


def choose_mixture(X, candidates, make_mixture, bounds, hidden, sample_weight=None):
    """Fit the form and shrinkage that best re-impute hidden observed cells.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Every feature observed somewhere; NaN where missing.
    candidates : Candidates
        From :func:`candidate_settings`; the first of each wins ties.
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
        The chosen model, fitted to ``X``.
    table : dict of str to list
        One entry per fit: ``n_components``, ``covariance_type``,
        ``covariance_shrinkage``, ``fitted_to`` ('rest' for the shrinkage's
        screening fits, 'all' for the forms'), ``overimputation_rmse`` (NaN
        when nothing was scored, inf for a fit that collapsed) and
        ``fit_time``.
    """
    table = {name: [] for name in TABLE_COLUMNS}
    forms, shrinkages = candidates.forms, candidates.shrinkages

    def make(form, shrinkage, **overrides):
        if shrinkage > 0:
            overrides["prior"] = shrinkage_prior(X, shrinkage, sample_weight)
        return make_mixture(*form, **overrides)

    if hidden.sum() < MIN_HIDDEN_CELLS or len(forms) == len(shrinkages) == 1:
        _record(table, forms[0], shrinkages[0], "all", np.nan, 0.0)
        return make(forms[0], shrinkages[0]).fit(X, sample_weight=sample_weight), table
    score = _scorer(X, hidden, bounds, sample_weight)
    shrinkage = shrinkages[0]
    if len(shrinkages) > 1:
        overimputed = np.where(hidden, np.nan, X)
        scores = []
        for level in shrinkages:
            began = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                screen = make((1, "full"), level, **SCREENING_SETTINGS)
                fitted = _fitted_or_none(screen, overimputed, sample_weight)
            scores.append(np.inf if fitted is None else score(fitted))
            _record(table, (1, "full"), level, "rest", scores[-1], time.perf_counter() - began)
        shrinkage = shrinkages[int(np.argmin(scores))]
    fits, failures = [], []
    for form in forms:
        began = time.perf_counter()
        try:
            fits.append(make(form, shrinkage).fit(X, sample_weight=sample_weight))
            rmse = score(fits[-1]) if len(forms) > 1 else np.nan
        except SingularCovarianceError as error:
            # A component collapsed: this candidate loses.
            failures.append(error)
            fits.append(None)
            rmse = np.inf
        _record(table, form, shrinkage, "all", rmse, time.perf_counter() - began)
    if len(failures) == len(forms):
        raise failures[0]
    scores = np.asarray(table["overimputation_rmse"][-len(forms) :])
    return fits[int(np.argmin(np.nan_to_num(scores, nan=0.0)))], table


def _scorer(X, hidden, bounds, sample_weight):
    """``score(mixture)``: the RMSE, in column standard deviations, of its
    re-imputations of the hidden cells from the rest of their rows."""
    overimputed = np.where(hidden, np.nan, X)
    scale = np.nanstd(X, axis=0)
    scale[~(scale > 0)] = 1.0
    weights = _cell_weights(sample_weight, hidden)

    def score(mixture):
        filled = overimputed.copy()
        fill_missing(filled, mixture, *bounds)
        return _root_mean_square(((filled - X) / scale)[hidden], weights)

    return score


def _fitted_or_none(mixture, X, sample_weight):
    try:
        return mixture.fit(X, sample_weight=sample_weight)
    except SingularCovarianceError:
        return None


def _cell_weights(sample_weight, hidden):
    """Each hidden cell's row weight (None without weights, or if all are zero)."""
    if sample_weight is None:
        return None
    weights = np.broadcast_to(sample_weight[:, None], hidden.shape)[hidden]
    return weights if weights.sum() > 0 else None


def _root_mean_square(errors, weights):
    return float(np.sqrt(np.average(errors**2, weights=weights)))


def _record(table, form, shrinkage, fitted_to, rmse, seconds):
    row = (*form, shrinkage, fitted_to, rmse, seconds)
    for name, value in zip(TABLE_COLUMNS, row, strict=True):
        table[name].append(value)


def cells_to_hide(observed, random_state):
    """A random share of the observed cells; every column keeps one observed cell."""
    hidden = observed & (random_state.uniform(size=observed.shape) < HIDDEN_SHARE)
    for j in np.flatnonzero(~(observed & ~hidden).any(axis=0)):
        keep = random_state.choice(np.flatnonzero(observed[:, j]))
        hidden[keep, j] = False
    return hidden
