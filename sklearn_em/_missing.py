"""Rows with missing values: marginal log-densities and conditional moments.

For a row with observed coordinates ``o`` and missing ``m``, and a component
with mean ``mu`` and precision ``P`` (the inverse covariance), write
``y = x - mu`` with its missing entries set to zero. Then, with
``b = (P y)_m``:

- ``E[x_m | x_o] = mu_m - inv(P_mm) b``;
- ``Cov[x_m | x_o] = inv(P_mm)``;
- ``y_o' inv(S_oo) y_o = z' P z``, with ``z`` the expectation of ``y``
  given ``y_o`` (``y_o`` itself, and ``-inv(P_mm) b`` where missing): ``z``
  minimises ``y' P y`` over the missing entries, so an error in them counts
  only to second order. (The equal ``y' P y - b' inv(P_mm) b`` subtracts
  two large numbers where ``P`` is ill-conditioned, and lost every digit:
  under a precision of condition 6e10, log-densities 19 to 560 nats off.);
- ``log det S_oo = -log det P + log det P_mm``.

So a row needs only the ``q x q`` block of its missing coordinates to be
inverted, never the observed block, and rows that miss the same coordinates
share it: each (pattern, component) is inverted once per pass, and where
the components share the precision (tied, or one component) each pattern
once for all of them. Which rows miss what (``_missing_layout.Layout``)
depends on the NaN mask alone and is worked out once per fit: patterns
batched by their number of missing coordinates, each batch inverted in one
call (``_spd.spd_inverse``). The M-step needs each component's sum of the
rows' conditional covariances: the rows of a pattern add their weights
first, and each batch's blocks are added into place by one sparse product.
Diagonal precisions need no inversion (``DiagonalConditionals``). This is
the exact E-step of Ghahramani and Jordan (1994).
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csc_array

from ._missing_layout import DEFAULT_TUNING, Layout
from ._spd import singular_to_rounding, spd_inverse

LOG_2PI = np.log(2 * np.pi)
# Batches whose weighted blocks hold at most this many values are summed by
# one bincount (fewer calls); larger ones by a sparse product, which needs
# no index array k times their size.
SMALL_SCATTER = 2**15


@dataclass(frozen=True)
class Conditionals:
    """What a block of partially observed rows looks like under each component."""

    log_prob: np.ndarray  # (n, k) log w_k + log N(x_o | component k)
    means: np.ndarray  # (k, n, d) E[x | x_o, k]; observed entries are x itself
    layout: Layout
    # Per group, (k, n_p, q, q) inv(P_mm) = Cov[x_m | x_o, k]; (1, n_p, q, q)
    # where the components share it (one precision, or one component).
    covariances: tuple
    block_indices: tuple  # per group, its PatternGroup.block_index()

    def moment_sums(self, resp, centres):
        """``sum_i resp[i, k] E[y_i | x_o, k]`` and ``E[y_i y_i' | x_o, k]``, (k, d) and
        (k, d, d), with ``y = x - centres[k]`` (centres in the rows' coordinates)."""
        offsets = self.means - centres[:, None, :]
        weighted = resp.T[:, :, None] * offsets
        second = np.swapaxes(weighted, 1, 2) @ offsets
        second += self.conditional_covariance_sums(resp)
        return weighted.sum(axis=1), second

    def conditional_covariance_sums(self, resp, small_scatter=SMALL_SCATTER):
        """``sum_i resp[i, k] Cov[x_i | x_o, k]``, as ``(k, d, d)`` matrices.

        Rows of one pattern share its covariance, so their weights are summed
        first; then each batch's blocks are added into their places by one
        sparse product (columns: patterns; rows: the places of a square
        ``width`` matrix), for every component at once where they share it,
        or by one bincount for batches of at most ``small_scatter`` values.
        """
        k, _, d = self.means.shape
        width = self.layout.width
        sums = np.zeros((width * width, k))
        parts = zip(self.layout.groups, self.covariances, self.block_indices, strict=True)
        for group, covariances, block_index in parts:
            weights = group.per_pattern(resp[group.rows])  # (k, n_p)
            if weights.size * block_index[0].size <= small_scatter:
                sums += _scatter_by_bincount(covariances, weights, block_index, width)
                continue
            n_patterns, q = group.patterns.shape
            pointers = np.arange(n_patterns + 1, dtype=block_index.dtype) * (q * q)
            places = block_index.ravel()
            shape = (width * width, n_patterns)
            for j, blocks in enumerate(covariances):
                scatter = csc_array((blocks.ravel(), places, pointers), shape=shape)
                if covariances.shape[0] == 1:
                    sums += scatter @ weights.T
                else:
                    sums[:, j] += scatter @ weights[j]
        return sums.T.reshape(k, width, width)[:, :d, :d]

    def draw(self, components, rng):
        """One draw per row from ``x_m | x_o`` under the given component of each row."""
        k, n, d = self.means.shape
        draws = np.zeros((n, self.layout.width))
        draws[:, :d] = self.means[components, np.arange(n)]
        for group, covariances in zip(self.layout.groups, self.covariances, strict=True):
            chosen = components[group.rows]
            every = np.broadcast_to(covariances, (k,) + covariances.shape[1:])
            factors = np.linalg.cholesky(every[chosen, group.pattern_of_row])
            noise = rng.standard_normal(group.missing.shape)
            offsets = (factors @ noise[..., None])[..., 0]
            draws[group.rows[:, None], group.missing] += offsets
        return draws[:, :d]


def _check_resolved(precisions):
    """Raise ``LinAlgError`` where a precision is singular to rounding
    (``_spd.singular_to_rounding``): blocks of it invert to rounding noise,
    which the marginal densities no longer betray (they once came out
    impossibly high) now that they are computed stably.
    """
    if singular_to_rounding(precisions).any():
        raise np.linalg.LinAlgError("Matrix is singular to rounding")


def _scatter_by_bincount(covariances, weights, block_index, width):
    """``conditional_covariance_sums``' sparse product for one small group, as
    one ``bincount``: fewer calls than building a sparse matrix."""
    k = weights.shape[0]
    weighted = weights[:, :, None, None] * covariances  # (k, n_p, q, q)
    places = np.arange(k)[:, None, None, None] * (width * width) + block_index
    sums = np.bincount(places.ravel(), weighted.ravel(), k * width * width)
    return sums.reshape(k, width * width).T


def conditionals(
    Xc,
    means,
    precisions,
    log_det_precisions,
    log_weights,
    structure="full",
    layout=None,
    tuning=DEFAULT_TUNING,
):
    """Marginal log-densities and conditional moments of rows holding NaN.

    Parameters
    ----------
    Xc : ndarray of shape (n, d)
        Rows centred like ``means``, with NaN where a value is missing.
    means : ndarray of shape (k, d)
    precisions : ndarray of shape (k, d, d)
    log_det_precisions : ndarray of shape (k,)
    log_weights : ndarray of shape (k,)
    structure : {'full', 'shared', 'diagonal'}
        What the precisions have in common: nothing, one matrix for every
        component ('tied': each pattern is inverted once), or diagonal
        ('diag', 'spherical': nothing is inverted, see
        ``DiagonalConditionals``).
    layout : Layout, optional
        That of ``np.isnan(Xc)``, if known.
    tuning : Tuning, optional
        How the work is batched.

    Returns
    -------
    Conditionals or DiagonalConditionals
    """
    if structure == "diagonal":
        return _diagonal_conditionals(Xc, means, precisions, log_weights)
    missing_mask = np.isnan(Xc)
    if layout is None:
        layout = Layout.of(missing_mask, tuning)
    k, d = means.shape
    width = layout.width
    observed = ~missing_mask
    Y = np.zeros((k, Xc.shape[0], width))
    np.subtract(np.where(observed, Xc, 0.0), means[:, None, :], out=Y[:, :, :d])
    Y[:, :, :d] *= observed
    padded_precisions = np.zeros((k, width, width))
    padded_precisions[:, :d, :d] = precisions
    padded_precisions[:, np.arange(d, width), np.arange(d, width)] = 1.0
    # The pads' entries of Y are zero, so are those of P y: products over the d features.
    PY = np.zeros_like(Y)
    np.matmul(Y[:, :, :d], precisions, out=PY[:, :, :d])
    n_observed = observed.sum(axis=1)
    log_prob = np.zeros((Xc.shape[0], k))
    cond_means = np.zeros_like(Y)
    cond_means[:, :, :d] = np.where(observed, Xc, means[:, None, :])  # x itself, bit for bit

    # One matrix per pattern where the components share the precision.
    shared = structure == "shared" or k == 1
    _check_resolved(precisions[:1] if shared else precisions)
    distinct = padded_precisions[:1] if shared else padded_precisions
    # np.take gathers along one axis many times faster than fancy indexing.
    flat_precisions = distinct.reshape(distinct.shape[0], width * width)
    flat_PY = PY.reshape(k, -1)
    flat_means = cond_means.reshape(-1)
    flat_Y = Y.reshape(-1)
    component_offsets = np.arange(k)[:, None, None] * flat_PY.shape[1]
    all_covariances, block_indices = [], []
    for group in layout.groups:
        block_index = group.block_index()
        precisions_mm = np.take(flat_precisions, block_index, axis=1)
        # log_det is half of log det P_mm.
        covariances, log_det = spd_inverse(
            precisions_mm, tuning.min_stack, tuning.max_eliminated_q
        )
        entries = group.entry_index
        b = np.take(flat_PY, entries, axis=1)  # (k, n_g, q)
        if not group.one_row_per_pattern:
            row_covariances = np.take(covariances, group.pattern_of_row, axis=1)
            log_det = np.take(log_det, group.pattern_of_row, axis=1)
        else:
            row_covariances = covariances
        if shared:  # (n_g, q, q) @ (n_g, q, k): every component in one product
            shift = np.moveaxis(row_covariances[0] @ np.moveaxis(b, 0, -1), -1, 0)
        else:
            shift = (row_covariances @ b[..., None])[..., 0]
        log_prob[group.rows] -= log_det.T
        flat_means[component_offsets + entries] -= shift
        flat_Y[component_offsets + entries] = -shift  # Y is now E[y | y_o]
        all_covariances.append(covariances)
        block_indices.append(block_index)
    # y_o' inv(S_oo) y_o as E[y | y_o]' P E[y | y_o] (see the module's docstring).
    np.matmul(Y[:, :, :d], precisions, out=PY[:, :, :d])
    quad = np.einsum("kna,kna->nk", Y[:, :, :d], PY[:, :, :d])
    log_prob += -0.5 * quad + (0.5 * log_det_precisions + log_weights)
    log_prob -= 0.5 * LOG_2PI * n_observed[:, None]
    # Exactly, not up to rounding: a row with nothing observed has density 1.
    log_prob[n_observed == 0] = log_weights
    return Conditionals(
        log_prob, cond_means[:, :, :d], layout, tuple(all_covariances), tuple(block_indices)
    )


@dataclass(frozen=True)
class DiagonalConditionals:
    """``Conditionals`` under diagonal precisions, without visiting any pattern.

    With ``P = diag(p)`` the missing coordinates of a row are independent of
    its observed ones: under component ``k`` they have means ``mu_k`` and
    variances ``1 / p_k``. Every sum is then a product of the responsibilities
    with the zero-filled rows or the NaN mask.
    """

    log_prob: np.ndarray  # (n, k)
    filled: np.ndarray  # (n, d) the rows, 0 where missing
    missing: np.ndarray  # (n, d) the NaN mask
    component_means: np.ndarray  # (k, d)
    variances: np.ndarray  # (k, d)

    @property
    def means(self):
        """``(k, n, d)``: ``E[x | x_o, k]``."""
        return np.where(self.missing, self.component_means[:, None, :], self.filled)

    def moment_sums(self, resp, centres):
        """As ``Conditionals.moment_sums``, with only the diagonal of the second moments."""
        mu, variances = self.component_means - centres, self.variances
        missing_weight = resp.T @ self.missing
        # Each component's observed offsets from its own centre, not the
        # expanded square: the pass is exact at any offset.
        offsets = self.filled - centres[:, None, :]
        offsets[:, self.missing] = 0.0
        weights = resp.T[:, None, :]  # (k, 1, n): one product per component
        s1 = (weights @ offsets)[:, 0] + missing_weight * mu
        np.square(offsets, out=offsets)
        squares = (weights @ offsets)[:, 0]
        squares += missing_weight * (mu**2 + variances)
        k, d = mu.shape
        second = np.zeros((k, d, d))
        second[:, np.arange(d), np.arange(d)] = squares
        return s1, second

    def draw(self, components, rng):
        """As ``Conditionals.draw``."""
        noise = rng.standard_normal(self.filled.shape) * np.sqrt(self.variances[components])
        return np.where(self.missing, self.component_means[components] + noise, self.filled)


def _diagonal_conditionals(Xc, means, precisions, log_weights):
    missing = np.isnan(Xc)
    observed = (~missing).astype(np.float64)
    filled = np.where(missing, 0.0, Xc)
    p = np.diagonal(precisions, axis1=1, axis2=2)
    # Differences from each mean, not the expanded square: exact at any offset.
    Y = filled - means[:, None, :]
    Y[:, missing] = 0.0
    np.square(Y, out=Y)
    quad = (Y @ p[:, :, None])[..., 0].T
    log_norm = observed @ (np.log(p) - LOG_2PI).T
    log_prob = 0.5 * (log_norm - quad) + log_weights
    return DiagonalConditionals(log_prob, filled, missing, means, 1 / p)
