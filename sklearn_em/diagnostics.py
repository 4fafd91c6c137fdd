"""Diagnostics of a fitted EMImputer, as multiple-imputation users expect them.

Each function returns its data (a dict of arrays) and a matplotlib figure;
matplotlib is needed only here. See the gallery example
``plot_imputation_diagnostics.py``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._dialect import with_nan_where_missing
from ._filling import fill_missing
from .impute import EMImputer

__all__ = ["dispersed_starts", "imputed_densities", "log_likelihood_trace", "overimputation"]


def log_likelihood_trace(imputer):
    """The mean observed-data log-likelihood at each EM pass of the imputer's fit.

    Parameters
    ----------
    imputer : EMImputer
        A fitted imputer.

    Returns
    -------
    data : dict
        ``lower_bounds``: the trace, which never decreases (of the values on
        the mixture's scale: ``imputation_scale_``).
    figure : matplotlib.figure.Figure
        The trace against the pass.
    """
    mixture = _mixture(imputer)
    trace = np.asarray(mixture.lower_bounds_)
    figure, ax = _figure(1)
    ax[0].plot(np.arange(1, trace.size + 1), trace, marker=".")
    ax[0].set_xlabel("EM pass")
    ax[0].set_ylabel("mean log-likelihood of the observed values")
    figure.tight_layout()
    return {"lower_bounds": trace}, figure


def overimputation(imputer, X, n_draws=50, confidence=0.9, random_state=None):
    """Each observed value against its re-imputation from the rest of its row.

    Every observed cell of a modelled feature is hidden in turn (one feature
    at a time) and imputed from the other values of its row: the expectation,
    and an interval from ``n_draws`` posterior draws. A well-fitting model
    puts the observed values near the diagonal and inside the intervals about
    ``confidence`` of the time (Honaker, King & Blackwell's overimputation).

    Parameters
    ----------
    imputer : EMImputer
        A fitted imputer.
    X : array-like of shape (n_samples, n_features)
        Data with missing values, e.g. the training data.
    n_draws : int, default=50
        Posterior draws per cell for the intervals, at least 2.
    confidence : float, default=0.9
        The intervals' nominal coverage.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.

    Returns
    -------
    data : dict of str to ndarray
        One entry per re-imputed cell: ``feature``, ``row``, ``observed``,
        ``imputed`` (the expectation), ``lower``, ``upper``; and
        ``coverage``, the share inside its interval for each modelled feature.
    figure : matplotlib.figure.Figure
        Per feature, the re-imputations against the observed values.
    """
    _check_count("n_draws", n_draws, 2)
    if not (isinstance(confidence, Real) and 0 < confidence < 1):
        raise ValueError(f"confidence must lie strictly between 0 and 1; got {confidence!r}.")
    Xm, lower, upper = _modelled(imputer, X)
    labels = _labels(imputer)
    rng = check_random_state(random_state)
    tail = (1 - confidence) / 2
    parts = {name: [] for name in ("feature", "row", "observed", "imputed", "lower", "upper")}
    for j in range(Xm.shape[1]):
        rows = np.flatnonzero(~np.isnan(Xm[:, j]))
        hidden = Xm[rows].copy()
        hidden[:, j] = np.nan
        expectation = hidden.copy()
        fill_missing(expectation, imputer.mixture_, lower, upper, scale=imputer._scale)
        # All the draws in one call: the rows repeated n_draws times.
        drawn = np.tile(hidden, (n_draws, 1))
        fill_missing(drawn, imputer.mixture_, lower, upper, rng, imputer._scale)
        draws = drawn[:, j].reshape(n_draws, rows.size)
        low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
        columns = (np.full(rows.size, j), rows, Xm[rows, j], expectation[:, j], low, high)
        for name, values in zip(parts, columns, strict=True):
            parts[name].append(values)
    data = {name: np.concatenate(values) for name, values in parts.items()}
    inside = (data["lower"] <= data["observed"]) & (data["observed"] <= data["upper"])
    data["coverage"] = np.array([inside[data["feature"] == j].mean() for j in range(Xm.shape[1])])
    figure, axes = _figure(Xm.shape[1])
    for j, ax in enumerate(axes):
        chosen = data["feature"] == j
        observed, imputed = data["observed"][chosen], data["imputed"][chosen]
        # A mixture's expectation can lie outside the interval of its draws.
        ax.vlines(observed, data["lower"][chosen], data["upper"][chosen], alpha=0.3, lw=0.5)
        ax.plot(observed, imputed, ".", markersize=3)
        ends = [observed.min(), observed.max()]
        ax.plot(ends, ends, color="k", linewidth=1)
        ax.set_title(f"{labels[j]}: {data['coverage'][j]:.0%} inside", fontsize=9)
        ax.set_xlabel("observed")
        ax.set_ylabel("re-imputed")
    figure.tight_layout()
    return data, figure


def imputed_densities(imputer, X, bins=30):
    """Histograms of the observed and the imputed values of each feature with missing values.

    Under MCAR the two should look alike; under MAR they may differ, and a
    difference is a reason to look closer, not a proof of misfit.

    Parameters
    ----------
    imputer : EMImputer
        A fitted imputer.
    X : array-like of shape (n_samples, n_features)
        Data with missing values.
    bins : int, default=30
        Histogram bins.

    Returns
    -------
    data : dict of int to tuple of ndarray
        For each modelled feature (its index among them) with missing
        values: its observed values and its imputed values.
    figure : matplotlib.figure.Figure
        The two densities per feature, titled by its name (or its column in
        ``X``); with nothing missing, a note that says so.
    """
    Xm, lower, upper = _modelled(imputer, X)
    filled = Xm.copy()
    fill_missing(filled, imputer.mixture_, lower, upper, scale=imputer._scale)
    missing = np.isnan(Xm)
    features = np.flatnonzero(missing.any(axis=0))
    data = {int(j): (Xm[~missing[:, j], j], filled[missing[:, j], j]) for j in features}
    labels = _labels(imputer)
    figure, axes = _figure(max(1, len(data)))
    for ax, (j, (observed, imputed)) in zip(axes, data.items(), strict=False):
        edges = np.histogram_bin_edges(np.concatenate([observed, imputed]), bins=bins)
        ax.hist(observed, bins=edges, density=True, alpha=0.5, label="observed")
        ax.hist(imputed, bins=edges, density=True, alpha=0.5, label="imputed")
        ax.set_title(labels[j], fontsize=9)
    if data:
        axes[0].legend(fontsize=8)
    else:
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, "no value of X is missing", ha="center", va="center")
    figure.tight_layout()
    return data, figure


def dispersed_starts(imputer, X, n_starts=5, random_state=None):
    """Refit the imputer's mixture from dispersed random starts: is there one optimum?

    Parameters
    ----------
    imputer : EMImputer
        A fitted imputer.
    X : array-like of shape (n_samples, n_features)
        The training data.
    n_starts : int, default=5
        The number of starts (at least 1), each from responsibilities given by random
        rows of ``X`` ('random_from_data').
    random_state : int, RandomState instance or None, default=None
        Seeds the starts.

    Returns
    -------
    data : dict
        ``lower_bounds``: each start's trace; ``final``: each start's final
        mean log-likelihood; ``spread``: the largest minus the smallest.
    figure : matplotlib.figure.Figure
        The traces, one line per start.
    """
    _check_count("n_starts", n_starts, 1)
    Xm, _, _ = _modelled(imputer, X)
    if imputer._scale is not None:  # the mixture was fitted on the normal scores
        Xm = imputer._scale.forward(Xm)
    rng = check_random_state(random_state)
    template = clone(imputer.mixture_).set_params(
        weights_init=None,
        means_init=None,
        precisions_init=None,
        n_init=1,
        init_params="random_from_data",
        # A chosen mixture stopped at a looser tol (one Gaussian: by plain EM).
        tol=imputer.tol,
        acceleration=imputer.acceleration,
    )
    traces = []
    for seed in rng.randint(np.iinfo(np.int32).max, size=n_starts):
        fitted = clone(template).set_params(random_state=int(seed)).fit(Xm)
        traces.append(np.asarray(fitted.lower_bounds_))
    final = np.array([trace[-1] for trace in traces])
    figure, ax = _figure(1)
    for trace in traces:
        ax[0].plot(np.arange(1, trace.size + 1), trace)
    ax[0].set_xlabel("EM pass")
    ax[0].set_ylabel("mean log-likelihood")
    ax[0].set_title(f"{n_starts} starts; final values spread over {np.ptp(final):.2g}")
    figure.tight_layout()
    return {"lower_bounds": traces, "final": final, "spread": float(np.ptp(final))}, figure


def _mixture(imputer):
    if not isinstance(imputer, EMImputer):
        raise TypeError(
            f"The diagnostics look inside a fitted EMImputer; got {type(imputer).__name__}. "
            "For a Pipeline, pass its imputer step (e.g. pipeline[0] or "
            "pipeline.named_steps['emimputer'])."
        )
    check_is_fitted(imputer, "n_iter_")
    if imputer.mixture_ is None:
        raise ValueError("The imputer has no mixture: every feature was empty during fit.")
    return imputer.mixture_


def _modelled(imputer, X):
    """The modelled columns of ``X`` with NaN where missing, and their bounds."""
    _mixture(imputer)
    X, missing = imputer._validated(X, reset=False)
    modelled = ~imputer._empty_features
    lower, upper = imputer._bounds()
    return with_nan_where_missing(X, missing, modelled), lower[modelled], upper[modelled]


def _labels(imputer):
    """A title for each modelled feature: its name, or its column in the input."""
    columns = np.flatnonzero(~imputer._empty_features)
    names = getattr(imputer, "feature_names_in_", None)
    return [str(names[c]) if names is not None else f"feature {c}" for c in columns]


def _check_count(name, value, least):
    if not (isinstance(value, Integral) and value >= least):
        raise ValueError(f"{name} must be an integer of at least {least}; got {value!r}.")


def _figure(n_panels):
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "The diagnostics draw with matplotlib: pip install matplotlib."
        ) from error
    ncols = min(4, n_panels)
    nrows = -(-n_panels // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(3 * ncols, 2.6 * nrows), squeeze=False)
    for ax in axes.ravel()[n_panels:]:
        ax.set_visible(False)
    return figure, list(axes.ravel()[:n_panels])
