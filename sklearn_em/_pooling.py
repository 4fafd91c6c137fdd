"""Rubin's rules: one estimate, its variance and an interval from M completed datasets."""

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PooledEstimate:
    """Estimates from ``M`` imputations, pooled by Rubin's rules.

    Every array has the shape of one imputation's estimate.

    Attributes
    ----------
    estimate : ndarray
        The mean of the ``M`` estimates, ``Qbar``.
    within_variance : ndarray
        The mean of the ``M`` variances, ``Ubar``: the uncertainty had
        nothing been missing.
    between_variance : ndarray
        The variance of the ``M`` estimates across imputations, ``B``: the
        uncertainty the missing values add.
    total_variance : ndarray
        ``T = Ubar + (1 + 1/M) B``.
    degrees_of_freedom : ndarray
        Of the t reference distribution: Rubin's (1987), or Barnard and
        Rubin's (1999) when the complete-data degrees of freedom are given.
    fraction_missing_information : ndarray
        The share of the information about the estimand that the missing
        values take away, ``(r + 2 / (nu + 3)) / (1 + r)`` with ``r`` the
        relative increase in variance.
    n_imputations : int
        ``M``.
    """

    estimate: np.ndarray
    within_variance: np.ndarray
    between_variance: np.ndarray
    total_variance: np.ndarray
    degrees_of_freedom: np.ndarray
    fraction_missing_information: np.ndarray
    n_imputations: int

    @property
    def relative_increase_in_variance(self):
        """``r = (1 + 1/M) B / Ubar``: how much the missing values widen the variance."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (1 + 1 / self.n_imputations) * self.between_variance / self.within_variance

    def interval(self, confidence=0.95):
        """The interval ``Qbar +- t_nu sqrt(T)`` at ``confidence``.

        Parameters
        ----------
        confidence : float, default=0.95
            The coverage the interval aims for.

        Returns
        -------
        low, high : ndarray
            The interval's ends.
        """
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must lie strictly between 0 and 1; got {confidence}.")
        half = stats.t.ppf(0.5 + confidence / 2, self.degrees_of_freedom) * np.sqrt(
            self.total_variance
        )
        return self.estimate - half, self.estimate + half


def pool_estimates(estimates, variances, complete_dof=None):
    """Pool the estimates of ``M`` completed datasets by Rubin's rules.

    Fit the same analysis to each of the ``M`` datasets that
    :meth:`EMImputer.fit_transform_multiple` returns, then pool its
    estimates and their squared standard errors here.

    Parameters
    ----------
    estimates : array-like of shape (n_imputations, ...)
        One estimate (a number or an array) per imputation.

    variances : array-like of shape (n_imputations, ...)
        The variance (squared standard error) of each estimate, as the
        analysis reports it for a complete dataset.

    complete_dof : float or array-like, default=None
        The degrees of freedom the analysis would have on complete data
        (e.g. ``n_samples - n_parameters``), one for all estimates or one
        each; with it, the degrees of freedom get Barnard and Rubin's
        small-sample adjustment. None assumes a large sample.

    Returns
    -------
    pooled : PooledEstimate
        The pooled estimate, its variance parts, degrees of freedom and the
        fraction of missing information; ``pooled.interval()`` gives the
        confidence interval.

    Examples
    --------
    >>> from sklearn_em import pool_estimates
    >>> pooled = pool_estimates([1.0, 1.2, 0.9, 1.1, 1.3], [0.04] * 5)
    >>> round(float(pooled.estimate), 3), round(float(pooled.total_variance), 3)
    (1.1, 0.07)
    """
    estimates = np.asarray(estimates, dtype=np.float64)
    variances = np.asarray(variances, dtype=np.float64)
    if estimates.ndim == 0 or estimates.shape[0] < 2:
        raise ValueError(
            "Pooling needs the estimates of at least 2 imputations, one per row of "
            f"`estimates`; got shape {estimates.shape}."
        )
    if variances.shape != estimates.shape:
        raise ValueError(
            f"variances must have the shape of estimates, {estimates.shape}; "
            f"got {variances.shape}."
        )
    if not (np.isfinite(estimates).all() and np.isfinite(variances).all()):
        raise ValueError("estimates and variances must be finite.")
    if (variances < 0).any():
        raise ValueError("variances must be non-negative: they are squared standard errors.")
    if complete_dof is not None:
        complete_dof = _checked_complete_dof(complete_dof)
    m = estimates.shape[0]
    qbar = estimates.mean(axis=0)
    ubar = variances.mean(axis=0)
    b = estimates.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(t > 0, (1 + 1 / m) * b / t, 0.0)
        dof = np.where(lam > 0, (m - 1) / lam**2, np.inf)
        if complete_dof is not None:
            observed_dof = (complete_dof + 1) / (complete_dof + 3) * complete_dof * (1 - lam)
            dof = np.where(np.isinf(dof), observed_dof, dof * observed_dof / (dof + observed_dof))
        fmi = np.where(np.isinf(dof), lam, (dof + 1) / (dof + 3) * lam + 2 / (dof + 3))
    return PooledEstimate(qbar, ubar, b, t, dof[()], fmi[()], m)


def _checked_complete_dof(complete_dof):
    """``complete_dof`` as float64 (a number, or one per estimate), each finite and positive."""
    try:
        if isinstance(complete_dof, (bool, str)):
            raise TypeError
        checked = np.asarray(complete_dof, dtype=np.float64)
        if not (np.isfinite(checked).all() and (checked > 0).all()):
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(
            "complete_dof must be a positive number (or one per estimate), the degrees of "
            "freedom of the analysis on complete data (e.g. n_samples - n_parameters); got "
            f"{complete_dof!r}. None assumes a large sample."
        ) from None
    return checked
