"""A slow, obviously correct EM for Gaussian mixtures with missing values.

Row by row and component by component, with explicit inverses: the oracle
the package's vectorised EM is tested against.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from scipy.stats import invgamma, invwishart, multivariate_normal, norm


def dense(covariances, covariance_type, k, d):
    """Each component's covariance as a ``d x d`` matrix."""
    if covariance_type == "full":
        return [covariances[j] for j in range(k)]
    if covariance_type == "tied":
        return [covariances] * k
    if covariance_type == "diag":
        return [np.diag(covariances[j]) for j in range(k)]
    return [covariances[j] * np.eye(d) for j in range(k)]


def row_conditionals(x, weights, means, covs):
    """Per component: log(w) + log N(x_o), E[x | x_o], Cov[x | x_o] (zero on x_o)."""
    o = ~np.isnan(x)
    m = ~o
    out = []
    for w, mu, S in zip(weights, means, covs, strict=True):
        log_p = np.log(w)
        if o.any():
            log_p += multivariate_normal(mu[o], S[np.ix_(o, o)]).logpdf(x[o])
        x_hat = np.where(o, x, mu)
        C = np.zeros_like(S)
        if m.any():
            if o.any():
                gain = S[np.ix_(m, o)] @ np.linalg.inv(S[np.ix_(o, o)])
                x_hat[m] = mu[m] + gain @ (x[o] - mu[o])
                C[np.ix_(m, m)] = S[np.ix_(m, m)] - gain @ S[np.ix_(o, m)]
            else:
                C = S.copy()
        out.append((log_p, x_hat, C))
    return out


def impute(X, weights, means, covs):
    """Each missing value replaced by its responsibility-weighted conditional mean."""
    filled = X.copy()
    for i, x in enumerate(X):
        parts = row_conditionals(x, weights, means, covs)
        log_p = np.array([p[0] for p in parts])
        resp = np.exp(log_p - logsumexp(log_p))
        filled[i] = sum(r * p[1] for r, p in zip(resp, parts, strict=True))
    return filled


@dataclass(frozen=True)
class Prior:
    """Hyperparameters of the conjugate prior: ``scale`` a matrix for 'full'
    and 'tied', a number for 'diag' and 'spherical' (reg_covar not added)."""

    shrinkage: float
    mean: np.ndarray
    dof: float
    scale: object


def log_prior(prior, means, covs, covariance_type):
    """``log p(means, covariances)`` from scipy's densities, component by component."""
    k, d = means.shape
    total = 0.0
    for j in range(k):
        S = covs[j]
        if covariance_type in ("full", "tied"):
            if covariance_type == "full" or j == 0:
                total += invwishart(df=prior.dof, scale=prior.scale).logpdf(S)
            if prior.shrinkage > 0:
                total += multivariate_normal(prior.mean, S / prior.shrinkage).logpdf(means[j])
            continue
        variances = np.diag(S) if covariance_type == "diag" else S[:1, 0]
        for variance in variances:
            total += invgamma(0.5 * prior.dof, scale=0.5 * prior.scale).logpdf(variance)
        if prior.shrinkage > 0:
            sd = np.sqrt(np.diag(S) / prior.shrinkage)
            total += norm(prior.mean, sd).logpdf(means[j]).sum()
    return total


def map_m_step(prior, N, S1, S2, covariance_type):
    """Fraley & Raftery's MAP means and covariances, written out per component."""
    k, d = S1.shape
    kappa, nu = prior.shrinkage, prior.dof
    extra = 1 if kappa > 0 else 0  # the mean's normal prior adds one |Sigma|^(-1/2)
    means, scatters, pulls = [], [], []
    for j in range(k):
        ybar = S1[j] / N[j]
        diff = ybar - prior.mean
        scatters.append(S2[j] - N[j] * np.outer(ybar, ybar))
        pulls.append(kappa * N[j] / (N[j] + kappa) * np.outer(diff, diff))
        means.append((N[j] * ybar + kappa * prior.mean) / (N[j] + kappa))
    if covariance_type == "full":
        covariances = np.stack(
            [
                (prior.scale + scatters[j] + pulls[j]) / (nu + N[j] + d + 1 + extra)
                for j in range(k)
            ]
        )
    elif covariance_type == "tied":
        covariances = (prior.scale + sum(scatters) + sum(pulls)) / (
            nu + N.sum() + d + 1 + k * extra
        )
    elif covariance_type == "diag":
        covariances = np.stack(
            [
                (prior.scale + np.diag(scatters[j]) + np.diag(pulls[j])) / (nu + N[j] + 2 + extra)
                for j in range(k)
            ]
        )
    else:
        covariances = np.array(
            [
                (prior.scale + np.trace(scatters[j]) + np.trace(pulls[j]))
                / (nu + N[j] * d + 2 + d * extra)
                for j in range(k)
            ]
        )
    return np.array(means), covariances


def em(
    X,
    weights,
    means,
    covariances,
    covariance_type,
    reg_covar,
    n_iter,
    prior=None,
    sample_weight=None,
):
    """``n_iter`` EM steps; returns the parameters and the mean log-likelihoods.

    With a ``Prior`` the M-step is MAP (``reg_covar`` added to the prior's
    scale, not to the covariances) and the trace holds the mean
    log-posterior; ``sample_weight`` multiplies each row's responsibilities
    and log-likelihood, and the mean is per unit of weight.
    """
    n, d = X.shape
    k = len(weights)
    row_weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    if prior is not None:
        ridge = reg_covar * (np.eye(d) if covariance_type in ("full", "tied") else 1.0)
        prior = Prior(prior.shrinkage, prior.mean, prior.dof, prior.scale + ridge)
    trace = []
    for _ in range(n_iter):
        covs = dense(covariances, covariance_type, k, d)
        N, S1, S2, loglik = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d)), 0.0
        for x, w in zip(X, row_weights, strict=True):
            parts = row_conditionals(x, weights, means, covs)
            log_p = np.array([p[0] for p in parts])
            loglik += w * logsumexp(log_p)
            resp = w * np.exp(log_p - logsumexp(log_p))
            # The conditional variance of a missing value holds the last
            # step's reg_covar, which the M-step adds again: count it once.
            # (A prior holds reg_covar in its scale: nothing to take out.)
            once = reg_covar * np.diag(np.isnan(x).astype(float))
            if prior is not None:
                once = 0.0
            for j, (_, x_hat, C) in enumerate(parts):
                N[j] += resp[j]
                S1[j] += resp[j] * x_hat
                S2[j] += resp[j] * (np.outer(x_hat, x_hat) + C - once)
        if prior is not None:
            loglik += log_prior(prior, means, covs, covariance_type)
        trace.append(loglik / row_weights.sum())
        weights = N / row_weights.sum()
        if prior is not None:
            means, covariances = map_m_step(prior, N, S1, S2, covariance_type)
            continue
        means = S1 / N[:, None]
        full = [S2[j] / N[j] - np.outer(means[j], means[j]) for j in range(k)]
        if covariance_type == "full":
            covariances = np.stack([c + reg_covar * np.eye(d) for c in full])
        elif covariance_type == "tied":
            covariances = sum(
                N[j] * full[j] for j in range(k)
            ) / row_weights.sum() + reg_covar * np.eye(d)
        elif covariance_type == "diag":
            covariances = np.stack([np.diag(c) + reg_covar for c in full])
        else:
            covariances = np.array([np.diag(c).mean() + reg_covar for c in full])
    return weights, means, covariances, trace
