"""Choosing the imputer's mixture by overimputation: hide observed cells, impute them back.

Amelia II's check of an imputation model (Honaker, King & Blackwell, 2011),
used here to choose the model: a share of the observed cells is hidden and
each candidate imputes them back; the candidate whose imputations land
closest (RMSE in each column's standard deviations) wins. A likelihood
criterion such as BIC answers another question (which model explains the
data) and chose worse imputers.

The choice is made in two steps, each scored where its score can be
trusted (see benchmarks/README.md). First the shrinkage of the covariances
and the scale: one Gaussian per level is fitted to the data with the cells
hidden, so that a level is judged on cells it never saw (scored on cells it
saw, the least shrinkage won on every digits mask, where it imputed worse);
at the best level, one Gaussian fitted to the normal scores of each
feature's observed values (``_normal_scores``) is judged alike, scored on
the data's own scale, and taken only if it wins clearly. (Its map is made
from every observed cell, the hidden ones included: their ranks shape the
scale, though not the fit; a map of the cells left observed would judge it
more strictly, not measured yet.) Then the form (one
Gaussian, or three components sharing a covariance): each is fitted to all
the data at the chosen shrinkage and scale and re-imputes the hidden cells
from the rest of their rows; the winner is the imputer's mixture as
fitted, with no refit. Each fit's re-imputations are scored unbounded and,
where the imputer leaves its bounds to choose, clipped to the range of the
cells left observed: a bound is taken only if it lowers the error clearly
(``_preferred``). Fits of one Gaussian start where the one before ended,
and those that take part in a choice run plain EM.
"""

import time
import warnings
from dataclasses import dataclass
from itertools import product

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._filling import fill_missing
from ._gaussian import SingularCovarianceError
from ._missing_layout import LayoutCache
from ._monitor import GAP_SAFETY
from ._normal_scores import NormalScores
from ._prior import floor_shrinkage, shrinkage_prior

# Tried when both are "auto": one Gaussian (the classic EM imputer) and three
# components sharing one covariance (each pattern is inverted once for all).
# Two 'full' or 'tied' components were candidates before; they did not win
# more often than they cost (see benchmarks/README.md).
AUTO_CANDIDATES = ((1, "full"), (3, "tied"))
# The scales the forms may be fitted on when both are "auto": the data's own,
# or each feature's normal scores (``_normal_scores.NormalScores``: skewed
# features and curved relations, as on breast_cancer and digits).
AUTO_SCALES = ("original", "normal-scores")
# With one of them fixed, the other ranges over these.
AUTO_N_COMPONENTS = (1, 2, 3)
AUTO_COVARIANCE_TYPES = ("full", "tied")
# The weights with which a chosen model's covariances may be shrunk towards
# the diagonal of the column variances (``shrinkage_prior``): a covariance
# estimated from few rows per feature extrapolates through its smallest
# eigenvalues; on digits (61 features, rare extreme pixels) that decided the
# error, while the small bundled datasets want the least shrinkage. 0 stands
# for the least, the floor of ``n_features + 1`` degrees of freedom
# (``shrinkage_levels``): a weight that vanishes as the rows' total weight
# grows. (The least was 0.02 of the total weight before: on 50,000 rows of
# one Gaussian it took 10% off the imputations' accuracy.)
AUTO_SHRINKAGES = (0.0, 0.1)
# A candidate needs this many rows per component.
ROWS_PER_COMPONENT = 20
# The share of observed cells hidden, and the fewest hidden cells that make a
# score worth trusting (fewer: the first candidate is used without scoring).
HIDDEN_SHARE = 0.1
MIN_HIDDEN_CELLS = 30
# Another scale replaces the data's own only if its screen lowers the hidden
# cells' mean squared error by this many standard errors of the paired
# differences: on iris (150 rows) a scale that won by less imputed worse,
# and at two the normal scores lost most of what they gain on breast_cancer
# and digits (see benchmarks/README.md).
SCALE_EVIDENCE = 1.0
# A bound replaces no bound only if it lowers the hidden cells' mean squared
# error by this many standard errors of the paired differences: it changes
# the few cells it clips, and by one standard error it was chosen on
# breast_cancer under MAR, where the missing values lie beyond the observed
# ones (see benchmarks/README.md).
BOUND_EVIDENCE = 2.0
# The fits that make a choice (the screens, and the forms where there are
# several) stop at this many times the imputer's ``tol`` for each feature:
# at the default ``tol`` and with SQUAREM's gap rule, when the mean
# log-likelihood still to gain is below 1/400 nat a feature. (Plain EM's
# rule compares one step's gain with ``tol``, so without SQUAREM the factor
# is ``GAP_SAFETY`` times this; one Gaussian, fitted by plain EM, keeps this
# factor: see ``choose_mixture``.) The imputations settle long before the
# likelihood does; four times looser, the error grew on digits and
# breast_cancer (see benchmarks/README.md, "Ninth session"). The winner is
# kept as fitted, at that ``tol``; refits use the imputer's.
CHOICE_TOL_PER_FEATURE = 50
# What ``choose_mixture`` reports of each fit, one row each.
TABLE_COLUMNS = (
    "n_components",
    "covariance_type",
    "scale",
    "covariance_shrinkage",
    "fitted_to",
    "bounds",
    "overimputation_rmse",
    "fit_time",
)


@dataclass(frozen=True)
class Candidates:
    """What the imputer chooses among: forms ``(n_components, covariance_type)``,
    simplest first, shrinkage weights (0 fits without ``shrinkage_prior``)
    and scales (names of ``AUTO_SCALES``, the data's own first)."""

    forms: tuple
    shrinkages: tuple
    scales: tuple = ("original",)


def candidate_settings(n_components, covariance_type, shape, prior=None, scale="auto", total=None):
    """The forms, shrinkages and scales to try on data of ``shape``.

    Settings left to choose ('auto') are chosen with a shrinkage, unless the
    imputer has a prior of its own (the weights of ``shrinkage_levels`` for
    rows of ``total`` weight, their number by default), and a ``scale`` left
    to choose is chosen when both are 'auto' (else it is the data's own);
    both fixed give that model alone, unshrunk (the classic imputer for
    ``(1, 'full')``).
    """
    n_samples, n_features = shape
    both = n_components == "auto" and covariance_type == "auto"
    scales = (scale,) if scale != "auto" else AUTO_SCALES if both else ("original",)
    if both:
        pairs = AUTO_CANDIDATES
    else:
        ks = AUTO_N_COMPONENTS if n_components == "auto" else (n_components,)
        kinds = AUTO_COVARIANCE_TYPES if covariance_type == "auto" else (covariance_type,)
        # One component: 'tied' is 'full'.
        pairs = [(k, kind) for k, kind in product(ks, kinds) if (k, kind) != (1, "tied")]
        pairs = pairs or [(1, "tied")]
    fitting = [(k, kind) for k, kind in pairs if k == 1 or k * ROWS_PER_COMPONENT <= n_samples]
    chosen = "auto" in (n_components, covariance_type) and prior is None
    total = n_samples if total is None else total
    shrinkages = shrinkage_levels(n_features, total) if chosen else (0.0,)
    return Candidates(tuple(fitting or [min(pairs)]), shrinkages, tuple(scales))


def shrinkage_levels(n_features, total):
    """``AUTO_SHRINKAGES`` as the weights ``shrinkage_prior`` gives them on
    ``n_features`` features and rows of that ``total`` weight: none below its
    floor's (``floor_shrinkage``), each once, increasing (on few rows they
    are one)."""
    least = floor_shrinkage(n_features, total)
    return tuple(sorted({max(level, least) for level in AUTO_SHRINKAGES}))


def choose_mixture(X, candidates, make_mixture, bounds, hidden, sample_weight=None):
    """The form, shrinkage, scale and bounds that best re-impute hidden observed cells.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Every feature observed somewhere; NaN where missing.
    candidates : Candidates
        From :func:`candidate_settings`; the first of each wins ties.
    make_mixture : callable
        ``make_mixture(n_components, covariance_type, **overrides)`` returns
        an unfitted GaussianMixture with the imputer's settings.
    bounds : dict of str to callable
        The imputations' bounds to choose among, by name, the first winning
        ties: ``bounds[name](observed)`` returns the lower and upper bounds
        per feature when ``observed`` is each feature's (smallest, largest)
        observed value. Scores use the range of the cells left observed,
        so that a bound is judged on cells beyond it as the imputer's will be.
    hidden : ndarray of bool of shape (n_samples, n_features)
        The observed cells to hide, from :func:`cells_to_hide`.
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights: every fit takes them, and the error counts each hidden
        cell by its row's weight.

    Returns
    -------
    mixture : GaussianMixture
        The chosen model, fitted to ``X`` on its scale, at the ``tol`` it
        stopped at (looser than the imputer's where there was a choice).
    bound : str
        The chosen key of ``bounds``.
    scale : NormalScores or None
        The scale ``mixture`` was fitted on; None for ``X``'s own.
    table : dict of str to list
        One entry per fit and bound: ``n_components``, ``covariance_type``,
        ``scale``, ``covariance_shrinkage``, ``fitted_to`` ('rest' for the shrinkage's
        screening fits, 'all' for the forms'), ``bounds``,
        ``overimputation_rmse`` (NaN when nothing was scored, inf for a fit
        that collapsed) and ``fit_time``.
    """
    table = {name: [] for name in TABLE_COLUMNS}
    forms, shrinkages, scale_names = candidates.forms, candidates.shrinkages, candidates.scales
    names = list(bounds)
    # Each scale's map (None: the data's own), and the data on it.
    scales = {"original": None}
    if "normal-scores" in scale_names:
        scales["normal-scores"] = NormalScores.of(X, sample_weight)
    data = {name: X if s is None else s.forward(X) for name, s in scales.items()}

    def make(form, scale, shrinkage, **overrides):
        if shrinkage > 0:
            overrides["prior"] = shrinkage_prior(data[scale], shrinkage, sample_weight)
        return make_mixture(*form, **overrides)

    def loosened(mixture):
        factor = CHOICE_TOL_PER_FEATURE * X.shape[1]
        if mixture.n_components == 1:
            # One Gaussian: plain EM, until a step gains less than that tol.
            # It imputed as well as SQUAREM's gap rule, in fewer passes
            # (benchmarks/README.md, "Tenth session"); several components
            # stopped so were short of as good.
            return mixture.set_params(acceleration=None, tol=factor * mixture.tol)
        if mixture.acceleration is None:  # plain EM stops on one step's gain
            factor *= GAP_SAFETY
        return mixture.set_params(tol=factor * mixture.tol)

    first = scale_names[0]
    nothing_to_choose = len(forms) == len(shrinkages) == len(names) == len(scale_names) == 1
    if hidden.sum() < MIN_HIDDEN_CELLS or nothing_to_choose:
        _record(table, forms[0], first, shrinkages[0], "all", names[0], np.nan, 0.0)
        fitted = make(forms[0], first, shrinkages[0])._fit_unlabelled(data[first], sample_weight)
        return fitted, names[0], scales[first], table
    # Every fit sees one of two NaN masks, X's or X's with the cells hidden,
    # and every score the rows of the second that hold a hidden cell: each
    # layout is worked out once.
    layouts = LayoutCache()
    score = _scorer(X, hidden, [bounds[name] for name in names], sample_weight, layouts)
    screens = {}  # (scale, shrinkage): the screen (None if it collapsed), its score, squares

    def screen(scale, shrinkage, start=None):
        began = time.perf_counter()
        rest = np.where(hidden, np.nan, data[scale])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = loosened(make((1, "full"), scale, shrinkage, **started_at(start)))
            fitted = _fitted_or_none(model, rest, sample_weight, layouts)
        scores, bound, squares = (
            _unscored(names) if fitted is None else score(fitted, scales[scale])
        )
        _record_each(table, (1, "full"), scale, shrinkage, "rest", names, scores, began)
        screens[scale, shrinkage] = fitted, scores[bound], squares
        return fitted

    shrinkage, scale = shrinkages[0], first
    if len(shrinkages) > 1 or len(scale_names) > 1:
        start = None
        for level in shrinkages:  # each level starts where the one before ended: fewer passes
            start = screen(first, level, start) or start
        shrinkage = min(shrinkages, key=lambda level: screens[first, level][1])
        for other in scale_names[1:]:
            screen(other, shrinkage)
        scale = _preferred_scale(screens, scale_names, shrinkage, hidden, sample_weight)
    # One Gaussian fitted to all the rows starts from its screen on the rest.
    screened = screens.get((scale, shrinkage), (None,))[0]
    fits, failures, scored, made_plain = [], [], [], []
    for form in forms:
        began = time.perf_counter()
        start = started_at(screened) if form == (1, "full") else {}
        try:
            candidate = make(form, scale, shrinkage, **start)
            made_plain.append(len(forms) > 1 and form[0] == 1 and bool(candidate.acceleration))
            if len(forms) > 1:
                loosened(candidate)
            with warnings.catch_warnings():
                if made_plain[-1]:  # its warning would advise the SQUAREM it had: see below
                    warnings.simplefilter("ignore", ConvergenceWarning)
                fits.append(candidate._fit_unlabelled(data[scale], sample_weight, layouts))
            scores, bound, _ = score(fits[-1], scales[scale])
        except SingularCovarianceError as error:
            # A component collapsed: this candidate loses.
            failures.append(error)
            fits.append(None)
            scores, bound, _ = _unscored(names)
        _record_each(table, form, scale, shrinkage, "all", names, scores, began)
        scored.append((scores[bound], bound))
    if len(failures) == len(forms):
        raise failures[0]
    best = min(range(len(forms)), key=lambda i: scored[i][0])  # ties: the simpler form
    if made_plain[best] and not fits[best].converged_:
        warnings.warn(
            f"The imputer's chosen mixture, one Gaussian fitted by plain EM (as the "
            f"choice fits one Gaussian), did not converge in max_iter={fits[best].max_iter} "
            "passes. Increase max_iter.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return fits[best], names[scored[best][1]], scales[scale], table


def _preferred_scale(screens, scale_names, shrinkage, hidden, sample_weight):
    """The first scale, unless another's screen imputed the hidden cells better
    by ``SCALE_EVIDENCE`` standard errors of the paired differences."""
    fitted = [name for name in scale_names if screens[name, shrinkage][0] is not None]
    if fitted[:1] != [scale_names[0]] or len(fitted) == 1:
        return fitted[0] if fitted else scale_names[0]
    squares = np.array([screens[name, shrinkage][2] for name in fitted])
    weights = _cell_weights(sample_weight, hidden)
    return fitted[_preferred(squares, weights, SCALE_EVIDENCE)[1]]


def _scorer(X, hidden, bounds, sample_weight, layouts=None):
    """``score(mixture, scale=None)``: for each of ``bounds``, the RMSE in
    column standard deviations of the re-imputations of the hidden cells from
    the rest of their rows by a mixture fitted on ``scale`` (``fill_missing``),
    clipped to those bounds of the rest's range; and the bound to use
    (``_preferred``). ``layouts`` keeps the fills' layouts between scores."""
    overimputed = np.where(hidden, np.nan, X)
    rest_range = (np.nanmin(overimputed, axis=0), np.nanmax(overimputed, axis=0))
    limits = [np.broadcast_to(limit, X.shape)[hidden] for b in bounds for limit in b(rest_range)]
    units = np.broadcast_to(np.nanstd(X, axis=0), X.shape)[hidden].copy()
    units[~(units > 0)] = 1.0
    truth = X[hidden]
    weights = _cell_weights(sample_weight, hidden)
    unbounded = np.full(X.shape[1], np.inf)

    def score(mixture, scale=None):
        filled = overimputed.copy()
        fill_missing(
            filled, mixture, -unbounded, unbounded, scale=scale, wanted=hidden, layouts=layouts
        )
        # An expectation clipped after filling is the one filled clipped.
        values = filled[hidden]
        pairs = zip(limits[::2], limits[1::2], strict=True)
        squares = np.array(
            [((np.clip(values, lower, upper) - truth) / units) ** 2 for lower, upper in pairs]
        )
        rmse, bound = _preferred(squares, weights)
        return rmse, bound, squares[bound]

    return score


def _preferred(squares, weights, evidence=BOUND_EVIDENCE):
    """Each choice's RMSE from its ``(choices, cells)`` squared errors, and the one to use.

    A bound changes the few cells it clips, so its score differs from the
    first's by the noise of a few cells: it replaces the first (the simpler,
    unbounded, choice) only if it lowers the mean squared error by more than
    ``evidence`` standard errors of the cells' paired differences. (Scales
    are chosen alike, with ``SCALE_EVIDENCE``.)
    """
    rmse = np.sqrt(np.average(squares, axis=1, weights=weights))
    gains = np.average(squares[0] - squares, axis=1, weights=weights)
    spread = np.average((squares[0] - squares - gains[:, None]) ** 2, axis=1, weights=weights)
    standard_errors = np.sqrt(spread / squares.shape[1])
    earned = np.flatnonzero(gains > evidence * standard_errors)
    bound = 0 if earned.size == 0 else int(earned[np.argmax(gains[earned])])
    return rmse, bound


def started_at(mixture):
    """The settings that start EM from a fitted ``mixture`` (none for None)."""
    if mixture is None:
        return {}
    return {
        "weights_init": mixture.weights_,
        "means_init": mixture.means_,
        "precisions_init": mixture.precisions_,
        "n_init": 1,
    }


def _unscored(names):
    """What a collapsed fit scores: inf under every bound, the first chosen, no squares."""
    return np.full(len(names), np.inf), 0, None


def _fitted_or_none(mixture, X, sample_weight, layouts=None):
    try:
        return mixture._fit_unlabelled(X, sample_weight, layouts)
    except SingularCovarianceError:
        return None


def _cell_weights(sample_weight, hidden):
    """Each hidden cell's row weight (None without weights, or if all are zero)."""
    if sample_weight is None:
        return None
    weights = np.broadcast_to(sample_weight[:, None], hidden.shape)[hidden]
    return weights if weights.sum() > 0 else None


def _record(table, form, scale, shrinkage, fitted_to, bound, rmse, seconds):
    row = (*form, scale, shrinkage, fitted_to, bound, rmse, seconds)
    for name, value in zip(TABLE_COLUMNS, row, strict=True):
        table[name].append(value)


def _record_each(table, form, scale, shrinkage, fitted_to, names, scores, began):
    """One row per bound for a fit begun at ``began`` (its time on each)."""
    seconds = time.perf_counter() - began
    for name, rmse in zip(names, scores, strict=True):
        _record(table, form, scale, shrinkage, fitted_to, name, float(rmse), seconds)


def cells_to_hide(observed, random_state):
    """A random share of the observed cells; every column keeps one observed cell."""
    hidden = observed & (random_state.uniform(size=observed.shape) < HIDDEN_SHARE)
    for j in np.flatnonzero(~(observed & ~hidden).any(axis=0)):
        keep = random_state.choice(np.flatnonzero(observed[:, j]))
        hidden[keep, j] = False
    return hidden
