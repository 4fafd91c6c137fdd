"""A slow, obviously correct EM for Gaussian mixtures with missing values.

Row by row and component by component, with explicit inverses: the oracle
the package's vectorised EM is tested against.
"""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal


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


def em(X, weights, means, covariances, covariance_type, reg_covar, n_iter):
    """``n_iter`` EM steps; returns the parameters and the mean log-likelihoods."""
    n, d = X.shape
    k = len(weights)
    trace = []
    for _ in range(n_iter):
        covs = dense(covariances, covariance_type, k, d)
        N, S1, S2, loglik = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d)), 0.0
        for x in X:
            parts = row_conditionals(x, weights, means, covs)
            log_p = np.array([p[0] for p in parts])
            loglik += logsumexp(log_p)
            resp = np.exp(log_p - logsumexp(log_p))
            # The conditional variance of a missing value holds the last
            # step's reg_covar, which the M-step adds again: count it once.
            once = reg_covar * np.diag(np.isnan(x).astype(float))
            for j, (_, x_hat, C) in enumerate(parts):
                N[j] += resp[j]
                S1[j] += resp[j] * x_hat
                S2[j] += resp[j] * (np.outer(x_hat, x_hat) + C - once)
        trace.append(loglik / n)
        weights = N / n
        means = S1 / N[:, None]
        full = [S2[j] / N[j] - np.outer(means[j], means[j]) for j in range(k)]
        if covariance_type == "full":
            covariances = np.stack([c + reg_covar * np.eye(d) for c in full])
        elif covariance_type == "tied":
            covariances = sum(N[j] * full[j] for j in range(k)) / n + reg_covar * np.eye(d)
        elif covariance_type == "diag":
            covariances = np.stack([np.diag(c) + reg_covar for c in full])
        else:
            covariances = np.array([np.diag(c).mean() + reg_covar for c in full])
    return weights, means, covariances, trace
