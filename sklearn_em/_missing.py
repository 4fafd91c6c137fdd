"""Rows with missing values: marginal log-densities and conditional moments.

For a row with observed coordinates ``o`` and missing ``m``, and a component
with mean ``mu`` and precision ``P`` (the inverse covariance), write
``y = x - mu`` with its missing entries set to zero. Then, with
``b = (P y)_m`` and ``L`` the Cholesky factor of ``P_mm``:

- ``y_o' inv(S_oo) y_o = y' P y - b' inv(P_mm) b``;
- ``log det S_oo = -log det P + 2 sum(log diag L)``;
- ``E[x_m | x_o] = mu_m - inv(P_mm) b``;
- ``Cov[x_m | x_o] = inv(P_mm)``.

So a row needs only the ``q x q`` block of its missing coordinates to be
factorised and inverted, never the observed block, and rows that miss the
same coordinates share it: each (pattern, component) is factorised once per
pass. Patterns are grouped by their number ``q`` of missing entries, and each
group is factorised for every component in one batched call. This is the
exact E-step of Ghahramani and Jordan (1994).
"""

from dataclasses import dataclass

import numpy as np

LOG_2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class MissingGroup:
    """Rows of a block that miss the same number of coordinates."""

    rows: np.ndarray  # (n_g,) positions in the block
    patterns: np.ndarray  # (n_p, q) the distinct sets of missing coordinates, ascending
    pattern_of_row: np.ndarray  # (n_g,) each row's index into patterns
    covariances: np.ndarray  # (k, n_p, q, q) inv(P_mm): Cov[x_m | x_o, k] per pattern

    @property
    def missing(self):
        """``(n_g, q)``: the missing coordinates of each row."""
        return self.patterns[self.pattern_of_row]


@dataclass(frozen=True)
class Conditionals:
    """What a block of partially observed rows looks like under each component."""

    log_prob: np.ndarray  # (n, k) log w_k + log N(x_o | component k)
    means: np.ndarray  # (k, n, d) E[x | x_o, k]; observed entries are x itself
    groups: list

    def conditional_covariance_sums(self, resp):
        """``sum_i resp[i, k] Cov[x_i | x_o, k]``, as ``(k, d, d)`` matrices."""
        k, _, d = self.means.shape
        flat = np.zeros(k * d * d)
        offsets = (np.arange(k) * d * d)[:, None, None, None]
        for group in self.groups:
            n_patterns = group.patterns.shape[0]
            # Rows of one pattern share its covariance: sum their weights first.
            weights = np.stack(
                [
                    np.bincount(group.pattern_of_row, resp[group.rows, j], minlength=n_patterns)
                    for j in range(k)
                ]
            )
            weighted = group.covariances * weights[:, :, None, None]
            index = group.patterns[:, :, None] * d + group.patterns[:, None, :]
            flat += np.bincount(
                (offsets + index[None]).ravel(), weighted.ravel(), minlength=k * d * d
            )
        return flat.reshape(k, d, d)

    def draw(self, components, rng):
        """One draw per row from ``x_m | x_o`` under the given component of each row."""
        n = components.size
        draws = self.means[components, np.arange(n)].copy()
        for group in self.groups:
            chosen = components[group.rows]
            factors = np.linalg.cholesky(group.covariances[chosen, group.pattern_of_row])
            noise = rng.standard_normal(group.missing.shape)
            offsets = (factors @ noise[..., None])[..., 0]
            draws[group.rows[:, None], group.missing] += offsets
        return draws


def conditionals(Xc, means, precisions, log_det_precisions, log_weights):
    """Marginal log-densities and conditional moments of rows holding NaN.

    Parameters
    ----------
    Xc : ndarray of shape (n, d)
        Rows centred like ``means``, with NaN where a value is missing.
    means : ndarray of shape (k, d)
    precisions : ndarray of shape (k, d, d)
    log_det_precisions : ndarray of shape (k,)
    log_weights : ndarray of shape (k,)

    Returns
    -------
    Conditionals
    """
    observed = ~np.isnan(Xc)
    filled = np.where(observed, Xc, 0.0)
    Y = observed * (filled - means[:, None, :])
    PY = Y @ precisions
    quad = np.einsum("kna,kna->nk", Y, PY)
    n_observed = observed.sum(axis=1)
    log_prob = -0.5 * quad + (0.5 * log_det_precisions + log_weights)
    log_prob -= 0.5 * LOG_2PI * n_observed[:, None]
    cond_means = np.where(observed, filled, means[:, None, :])

    groups = []
    n_missing = Xc.shape[1] - n_observed
    for q in np.unique(n_missing[n_missing > 0]):
        rows = np.flatnonzero(n_missing == q)
        missing = np.nonzero(~observed[rows])[1].reshape(rows.size, q)
        patterns, pattern_of_row = np.unique(missing, axis=0, return_inverse=True)
        pattern_of_row = pattern_of_row.ravel()
        precisions_mm = precisions[:, patterns[:, :, None], patterns[:, None, :]]
        # Batched numpy linalg loops in C; scipy's batched solvers loop in Python.
        cholesky = np.linalg.cholesky(precisions_mm)
        log_det = np.log(np.diagonal(cholesky, axis1=-2, axis2=-1)).sum(axis=-1)
        covariances = np.linalg.inv(precisions_mm)
        b = PY[:, rows[:, None], missing]
        shift = (covariances[:, pattern_of_row] @ b[..., None])[..., 0]
        log_prob[rows] += (0.5 * np.sum(b * shift, axis=-1) - log_det[:, pattern_of_row]).T
        cond_means[:, rows[:, None], missing] -= shift
        groups.append(MissingGroup(rows, patterns, pattern_of_row, covariances))
    # Exactly, not up to rounding: a row with nothing observed has density 1.
    log_prob[n_observed == 0] = log_weights
    return Conditionals(log_prob, cond_means, groups)
