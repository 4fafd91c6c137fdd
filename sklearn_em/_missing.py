"""Rows with missing values: marginal log-densities and conditional moments.

For a row with observed coordinates ``o`` and missing ``m``, and a component
with mean ``mu`` and precision ``P`` (the inverse covariance), write
``y = x - mu`` with its missing entries set to zero. Then, with
``b = (P y)_m``:

- ``y_o' inv(S_oo) y_o = y' P y - b' inv(P_mm) b``;
- ``log det S_oo = -log det P + log det P_mm``;
- ``E[x_m | x_o] = mu_m - inv(P_mm) b``;
- ``Cov[x_m | x_o] = inv(P_mm)``.

So a row needs only the ``q x q`` block of its missing coordinates to be
inverted, never the observed block, and rows that miss the same coordinates
share it: each (pattern, component) is inverted once per pass. Patterns are
grouped by their number ``q`` of missing entries, and each group is inverted
for every component at once (``spd_inverse``); in small blocks, groups with
few patterns are padded to a common size and share one call. Which rows miss
what (a ``Layout``) depends on the NaN mask alone and is worked out once per
fit. Tied components share one precision, so a pattern is inverted once for
all of them; diagonal precisions need no inversion. This is the
exact E-step of Ghahramani and Jordan (1994).
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import get_lapack_funcs

LOG_2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Tuning:
    """How the missing-value path batches its work (results do not depend on it).

    pad_budget : padding a batch of patterns by one coordinate costs about
        as much as one more batched call once it adds this many rows and
        columns in all.
    max_patterns_to_pad : past this many patterns in a block, the calls are
        few beside the work, and the wider padded arrays would cost every
        row more than padding saves.
    min_stack : stacks of fewer than this many q x q matrices per
        coordinate (32 q in all) go to numpy's per-matrix LAPACK calls, which
        then cost less than the fixed cost of the eliminations' ~10 q calls.
    part_bytes : rows holding NaN are taken in parts whose work arrays
        (about 6 k d floats a row) take this many bytes. Measured on two
        threads, k=4, d=20: parts of 4,000 rows ran 1.3x faster than 2,240.
    """

    pad_budget: int = 64
    max_patterns_to_pad: int = 1024
    min_stack: int = 32
    part_bytes: int = 24 * 2**20


# From this many coordinates on, a Cholesky factor and the inverse from it
# (LAPACK's potrf and potri, one call each per matrix) beat both numpy's
# batched inv (an LU solve against the identity) and the eliminations over
# the stack, one thread (figures in benchmarks/README.md, "Imputation").
MIN_FACTORED_Q = 18


DEFAULT_TUNING = Tuning()


class LayoutCache:
    """The layouts of a fit's blocks, worked out on their first pass.

    One cache serves one fit (one data array): a block's layout is kept
    under its key, and recomputed if the block's NaN mask has changed.
    """

    def __init__(self):
        self._layouts = {}

    def __len__(self):
        return len(self._layouts)

    def layout(self, key, missing_mask, tuning=DEFAULT_TUNING):
        layout = self._layouts.get(key)
        if layout is None or not layout.describes(missing_mask):
            layout = self._layouts[key] = Layout.of(missing_mask, tuning)
        return layout


@dataclass(frozen=True)
class PatternGroup:
    """Rows of a block whose patterns are inverted in one batched call.

    Patterns that miss fewer than ``q`` coordinates are padded up to ``q``
    with coordinates ``d, d + 1, ...`` past the last feature: the pass gives
    them unit precision, independent of the features, which changes no
    result.
    """

    rows: np.ndarray  # (n_g,) positions in the block
    patterns: np.ndarray  # (n_p, q) the distinct sets of missing coordinates, ascending, padded
    pattern_of_row: np.ndarray  # (n_g,) each row's index into patterns

    @property
    def missing(self):
        """``(n_g, q)``: the missing coordinates of each row, padded."""
        return np.take(self.patterns, self.pattern_of_row, axis=0)

    def entry_index(self, width):
        """``(n_g, q)``: flat positions of the missing entries in an ``(n, width)`` block."""
        return self.rows[:, None] * width + self.missing

    def block_index(self, width):
        """``(n_p, q, q)``: flat positions of each pattern's block in a square ``width`` matrix."""
        return self.patterns[:, :, None] * width + self.patterns[:, None, :]


@dataclass(frozen=True)
class Layout:
    """Where a block's values are missing, grouped for batched inversion.

    It depends on the NaN mask alone, so a fit works it out once per block
    and reuses it on every pass. Its indices are 32-bit when they fit, to
    keep what a fit holds on to small.
    """

    shape: tuple
    packed_mask: np.ndarray  # the (n, d) NaN mask, packed to bits along rows
    groups: tuple
    width: int  # coordinates in the padded space: the d features, then the pads

    @classmethod
    def of(cls, missing_mask, tuning=DEFAULT_TUNING):
        n, d = missing_mask.shape
        index = np.int32 if n * d < 2**31 else np.intp
        packed = np.packbits(missing_mask, axis=1)
        n_missing = missing_mask.sum(axis=1)
        incomplete = np.flatnonzero(n_missing)
        # Each row's bits as one opaque value: patterns are found by a 1-d sort.
        keys = packed[incomplete].view(np.dtype((np.void, packed.shape[1]))).ravel()
        _, first, pattern_of_row = np.unique(keys, return_index=True, return_inverse=True)
        first = incomplete[first]
        groups = []
        for chosen, q in _batches(n_missing[first], tuning):
            member = chosen[pattern_of_row]  # the rows that have one of the patterns
            rows = incomplete[member].astype(index)
            patterns = _padded_coordinates(missing_mask[first[chosen]], q).astype(index)
            renumber = (np.cumsum(chosen) - 1).astype(index)
            of_row = renumber[pattern_of_row[member]]
            groups.append(PatternGroup(rows, patterns, of_row))
        width = max([d] + [int(group.patterns.max()) + 1 for group in groups])
        return cls(missing_mask.shape, packed, tuple(groups), width)

    def describes(self, missing_mask):
        """Whether this is the layout of ``missing_mask``."""
        return self.shape == missing_mask.shape and np.array_equal(
            self.packed_mask, np.packbits(missing_mask, axis=1)
        )


def _batches(q_of_pattern, tuning):
    """``(chosen, q)`` pairs: which patterns are inverted together, padded to ``q``.

    Patterns are taken in order of their number of missing coordinates; a
    run is extended while padding what it holds stays within the tuning's
    pad_budget, so small groups share a call and large ones keep their exact
    size.
    """
    values, counts = np.unique(q_of_pattern, return_counts=True)
    budget = tuning.pad_budget if q_of_pattern.size <= tuning.max_patterns_to_pad else -1
    runs, held, top = [], 0, 0
    for q, count in zip(values, counts, strict=True):
        if runs and held * (q - top) <= budget:
            runs[-1].append(q)
            held += count
        else:
            runs.append([q])
            held = count
        top = q
    return [(np.isin(q_of_pattern, run), run[-1]) for run in runs]


def _padded_coordinates(missing_mask, q):
    """Each row's missing coordinates, ascending, then ``d, d + 1, ...`` up to ``q``."""
    pad = np.arange(q) < (q - missing_mask.sum(axis=1))[:, None]
    return np.nonzero(np.hstack([missing_mask, pad]))[1].reshape(-1, q)


@dataclass(frozen=True)
class Conditionals:
    """What a block of partially observed rows looks like under each component."""

    log_prob: np.ndarray  # (n, k) log w_k + log N(x_o | component k)
    means: np.ndarray  # (k, n, d) E[x | x_o, k]; observed entries are x itself
    layout: Layout
    covariances: tuple  # per group, (k, n_p, q, q) inv(P_mm): Cov[x_m | x_o, k]

    def moment_sums(self, resp, centres):
        """``sum_i resp[i, k] E[y_i | x_o, k]`` and ``E[y_i y_i' | x_o, k]``, (k, d) and
        (k, d, d), with ``y = x - centres[k]`` (centres in the rows' coordinates)."""
        offsets = self.means - centres[:, None, :]
        weighted = resp.T[:, :, None] * offsets
        second = np.swapaxes(weighted, 1, 2) @ offsets
        second += self.conditional_covariance_sums(resp)
        return weighted.sum(axis=1), second

    def conditional_covariance_sums(self, resp):
        """``sum_i resp[i, k] Cov[x_i | x_o, k]``, as ``(k, d, d)`` matrices."""
        k, _, d = self.means.shape
        width = self.layout.width
        sums = np.zeros((k, width * width))
        for group, covariances in zip(self.layout.groups, self.covariances, strict=True):
            n_patterns = group.patterns.shape[0]
            block_index = group.block_index(width).ravel()
            # Rows of one pattern share its covariance: sum their weights first.
            for j in range(k):
                weights = np.bincount(group.pattern_of_row, resp[group.rows, j], n_patterns)
                weighted = covariances[j] * weights[:, None, None]
                sums[j] += np.bincount(block_index, weighted.ravel(), width * width)
        return sums.reshape(k, width, width)[:, :d, :d]

    def draw(self, components, rng):
        """One draw per row from ``x_m | x_o`` under the given component of each row."""
        n, d = self.means.shape[1:]
        draws = np.zeros((n, self.layout.width))
        draws[:, :d] = self.means[components, np.arange(n)]
        for group, covariances in zip(self.layout.groups, self.covariances, strict=True):
            chosen = components[group.rows]
            factors = np.linalg.cholesky(covariances[chosen, group.pattern_of_row])
            noise = rng.standard_normal(group.missing.shape)
            offsets = (factors @ noise[..., None])[..., 0]
            draws[group.rows[:, None], group.missing] += offsets
        return draws[:, :d]


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
    filled = np.where(observed, Xc, 0.0)
    Y = np.zeros((k, Xc.shape[0], width))
    np.multiply(observed, filled - means[:, None, :], out=Y[:, :, :d])
    padded_precisions = np.zeros((k, width, width))
    padded_precisions[:, :d, :d] = precisions
    padded_precisions[:, np.arange(d, width), np.arange(d, width)] = 1.0
    PY = Y @ padded_precisions
    quad = np.einsum("kna,kna->nk", Y, PY)
    log_prob = -0.5 * quad + (0.5 * log_det_precisions + log_weights)
    n_observed = observed.sum(axis=1)
    log_prob -= 0.5 * LOG_2PI * n_observed[:, None]
    cond_means = np.zeros_like(Y)
    cond_means[:, :, :d] = np.where(observed, filled, means[:, None, :])

    # np.take gathers along one axis many times faster than fancy indexing.
    distinct = padded_precisions[:1] if structure == "shared" else padded_precisions
    flat_precisions = distinct.reshape(distinct.shape[0], width * width)
    flat_PY = PY.reshape(k, -1)
    flat_means = cond_means.reshape(-1)
    component_offsets = np.arange(k)[:, None, None] * flat_PY.shape[1]
    all_covariances = []
    for group in layout.groups:
        precisions_mm = np.take(flat_precisions, group.block_index(width), axis=1)
        # One per component, or one shared; log_det is half of log det P_mm.
        covariances, log_det = spd_inverse(precisions_mm, tuning.min_stack)
        entries = group.entry_index(width)
        b = np.take(flat_PY, entries, axis=1)
        row_covariances = np.take(covariances, group.pattern_of_row, axis=1)
        if structure == "shared":
            shift = np.einsum("nab,knb->kna", row_covariances[0], b)
            covariances = np.broadcast_to(covariances, (k,) + covariances.shape[1:])
        else:
            shift = np.einsum("knab,knb->kna", row_covariances, b)
        log_prob[group.rows] += (
            0.5 * np.einsum("kna,kna->nk", b, shift)
            - np.take(log_det, group.pattern_of_row, axis=1).T
        )
        flat_means[component_offsets + entries] -= shift
        all_covariances.append(covariances)
    # Exactly, not up to rounding: a row with nothing observed has density 1.
    log_prob[n_observed == 0] = log_weights
    return Conditionals(log_prob, cond_means[:, :, :d], layout, tuple(all_covariances))


def spd_inverse(matrices, min_stack=DEFAULT_TUNING.min_stack):
    """Inverses and half log-determinants of a stack of positive definite matrices.

    Gauss-Jordan elimination without pivoting, which positive definite
    matrices need not (every pivot is a Schur complement, so positive), done
    for the whole stack at once: the stack is laid out last, so each step is
    a few operations on contiguous rows. For the small blocks of missing
    coordinates this ran 2-9x faster than numpy's per-matrix LAPACK calls
    (``cholesky`` and ``inv``). Raises ``LinAlgError`` where a pivot is not
    positive: the matrix is not positive definite to rounding. Stacks of
    fewer than ``min_stack`` matrices per coordinate go to LAPACK (``Tuning``);
    from ``MIN_FACTORED_Q`` coordinates on, one Cholesky factor and ``potri``
    per matrix.
    """
    *stack, q, _ = matrices.shape
    if q >= MIN_FACTORED_Q:
        return _factored_inverse(matrices)
    if matrices.size < min_stack * q**3:  # size: (matrices) q^2
        factors = np.linalg.cholesky(matrices)
        half_log_det = np.log(np.diagonal(factors, axis1=-2, axis2=-1)).sum(axis=-1)
        return np.linalg.inv(matrices), half_log_det
    A = np.moveaxis(matrices.reshape(-1, q, q), 0, -1).copy()  # (q, q, n)
    pivots = np.empty((q, A.shape[-1]))
    update = np.empty_like(A)
    with np.errstate(divide="ignore", invalid="ignore"):  # checked once, below
        for j in range(q):
            pivots[j] = A[j, j]
            column = A[:, j] / pivots[j]
            np.multiply(column[:, None], A[j][None], out=update)
            A -= update
            A[:, j] = -column
            A[j, :] = -column
            A[j, j] = -1.0 / pivots[j]
    if not np.all(pivots > 0):
        raise np.linalg.LinAlgError("Matrix is not positive definite")
    half_log_det = 0.5 * np.log(pivots).sum(axis=0)
    inverses = -np.moveaxis(A, -1, 0)  # the elimination leaves minus the inverse
    return inverses.reshape(matrices.shape), half_log_det.reshape(stack)


def _factored_inverse(matrices):
    """``spd_inverse`` matrix by matrix through LAPACK's Cholesky factor and potri.

    The loop does no more than the two calls and a copy of the factor's
    diagonal: the logarithms are taken over the stack after it, and potri
    inverts in place (per matrix, this halved the loop's time at q = 30).
    """
    *stack, q, _ = matrices.shape
    flat = matrices.reshape(-1, q, q)
    potrf, potri = get_lapack_funcs(("potrf", "potri"), (flat,))
    inverses = np.empty_like(flat)
    diagonals = np.empty(flat.shape[:2])
    for i, matrix in enumerate(flat):
        factor, info = potrf(matrix, lower=True, clean=False)
        if info != 0:
            raise np.linalg.LinAlgError("Matrix is not positive definite")
        diagonals[i] = factor.diagonal()
        inverses[i] = potri(factor, lower=True, overwrite_c=True)[0]
    half_log_det = np.log(diagonals).sum(axis=1)
    # potri fills the lower triangle only.
    upper = np.triu_indices(q, 1)
    inverses[:, upper[0], upper[1]] = inverses[:, upper[1], upper[0]]
    return inverses.reshape(matrices.shape), half_log_det.reshape(stack)


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
        offsets = np.where(self.missing, 0.0, self.filled - centres[:, None, :])
        s1 = np.einsum("nk,knd->kd", resp, offsets) + missing_weight * mu
        squares = np.einsum("nk,knd->kd", resp, offsets**2)
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
    Y = np.where(missing, 0.0, Xc - means[:, None, :])
    quad = (Y * Y @ p[:, :, None])[..., 0].T
    log_norm = observed @ (np.log(p) - LOG_2PI).T
    log_prob = 0.5 * (log_norm - quad) + log_weights
    return DiagonalConditionals(log_prob, filled, missing, means, 1 / p)
