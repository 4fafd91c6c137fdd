"""The EM driver: passes over row blocks, the M-step, convergence.

One pass with the current mixture returns additive sufficient statistics
(``nk``, ``s1``, ``s2``) and the observed-data log-likelihood; the M-step is a
closed form of their sums.
"""

from dataclasses import dataclass, field

import numpy as np

from ._blocks import block_slices, map_blocks, reduce_blocks
from ._gaussian import SingularCovarianceError
from ._missing import Layout, conditionals
from ._monitor import ConvergenceMonitor  # noqa: F401  (its old home)

EPS = 10 * np.finfo(np.float64).eps
# The largest squared Mahalanobis distance of a component mean from the shift
# for which the expanded quadratic form keeps about 1e-8 absolute accuracy.
MAX_SPREAD = 1e8
# Rows holding NaN go through the conditional path in parts whose work
# arrays (about 6 k d floats a row: conditional means, their products with
# the precisions, ...) take this many bytes. Measured on two threads, k=4,
# d=20: parts of 4,000 rows ran 1.3x faster than 2,240 (fewer, longer numpy
# calls); past a block's rows a part cannot grow.
CONDITIONAL_BLOCK_BYTES = 24 * 2**20
# The largest relative error of a component's smallest variance that a pass
# in float32 may make; past it the pass runs in float64.
FLOAT32_ERROR = 1e-3


@dataclass(frozen=True)
class Statistics:
    """Sufficient statistics of a set of rows, in coordinates centred on a shift."""

    nk: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    loglik: float

    def __add__(self, other):
        return Statistics(
            self.nk + other.nk,
            self.s1 + other.s1,
            self.s2 + other.s2,
            self.loglik + other.loglik,
        )


@dataclass(frozen=True)
class _Prepared:
    """What a pass needs of a mixture, computed once per pass."""

    shift: np.ndarray  # in the dtype the pass computes in
    coef: tuple  # the family's log-density coefficients, in that dtype
    means: np.ndarray  # centred on shift, float64, for the missing-data path
    precisions: np.ndarray
    log_det_precisions: np.ndarray
    log_weights: np.ndarray
    direct: bool  # every row takes the per-component-difference path

    def rows_for_direct_path(self, X):
        """Rows that the conditional-moment path must take: those holding NaN, or all."""
        if self.direct:
            return np.ones(X.shape[0], dtype=bool)
        # A row sum is NaN where the row holds NaN (or, harmlessly, inf - inf:
        # the conditional path serves complete rows too). As a matrix-vector
        # product it is twice as fast as isnan(X).any(axis=1).
        return np.isnan(X @ np.ones(X.shape[1], dtype=X.dtype))


@dataclass(frozen=True)
class Engine:
    """How passes run: the covariance family, ``reg_covar`` and the threads.

    Complete rows go through the family's one-GEMM path; rows holding NaN
    through the conditional moments of ``_missing``. Both add into the same
    statistics. An engine serves one fit: it keeps the layout of each
    block's NaN between passes.
    """

    family: object
    reg_covar: float
    n_threads: int = 1
    layouts: dict = field(default_factory=dict, compare=False, repr=False)

    def slices(self, X, dtype=None):
        """Row blocks whose work arrays (design, log-densities) fit the budget."""
        n_samples, d = X.shape
        itemsize = np.dtype(X.dtype if dtype is None else dtype).itemsize
        row_bytes = itemsize * (self.family.second_order_size(d) + 2 * d + 1)
        return block_slices(n_samples, row_bytes)

    def statistics(self, X, mixture, dtype=None):
        """Statistics of all rows of ``X`` under ``mixture``, and their shift.

        The pass computes in ``X``'s dtype unless ``dtype`` says otherwise or
        float32 cannot resolve the mixture (see ``_resolved_in_float32``).
        """
        prepared = self._prepare(mixture, X.dtype if dtype is None else np.dtype(dtype))

        def block(rows):
            block = X[rows]
            incomplete = prepared.rows_for_direct_path(block)
            if not incomplete.any():
                return self._complete_statistics(block, prepared)
            stats = self._incomplete_statistics(block, incomplete, prepared, rows)
            if incomplete.all():
                return stats
            return stats + self._complete_statistics(block[~incomplete], prepared)

        stats = reduce_blocks(block, self.slices(X, prepared.shift.dtype), self.n_threads)
        return stats, prepared.shift

    def _complete_statistics(self, X, prepared):
        G, log_prob = self._design_and_log_density(X, prepared)
        loglik = normalise_log_responsibilities(log_prob, axis=0).sum(dtype=np.float64)
        return _moments(self.family, G, X.shape[1], log_prob, loglik)

    def _design_and_log_density(self, X, prepared):
        """The design of complete rows and their ``(k, m)`` log-densities.

        A squared distance past the float range means a density of zero: its
        overflow (to -inf, or NaN from inf - inf) is read as log 0 by
        ``normalise_log_responsibilities`` and ``_as_log_zero_where_overflowed``.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            G = self.family.design(X, prepared.shift, prepared.coef)
            return G, self.family.log_density(G, prepared.coef)

    def _incomplete_statistics(self, block, incomplete, prepared, rows):
        total = None
        for positions, cond in self._conditional_parts(block, incomplete, prepared, rows):
            resp = cond.log_prob
            loglik = normalise_log_responsibilities(resp).sum()
            s1, second = cond.moment_sums(resp)
            # A missing value's conditional variance holds the reg_covar of the
            # step before; the M-step adds it again, so it is taken out here.
            # Otherwise it compounds, and the likelihood falls, on rows with
            # little observed.
            missing_weight = resp.T @ np.isnan(block[positions])
            diagonal = np.arange(block.shape[1])
            second[:, diagonal, diagonal] -= self.reg_covar * missing_weight
            stats = Statistics(
                nk=resp.sum(axis=0),
                s1=s1,
                s2=self.family.from_dense_second_moments(second),
                loglik=float(loglik),
            )
            total = stats if total is None else total + stats
        return total

    def _conditional_parts(self, block, incomplete, prepared, rows):
        """``(positions, conditionals)`` of the block's ``incomplete`` rows, by parts.

        The conditional path's work arrays can be wider than a design's (see
        CONDITIONAL_BLOCK_BYTES), so it takes the rows in parts.
        """
        positions = np.flatnonzero(incomplete)
        row_bytes = 8 * 6 * prepared.means.size  # k d floats, six times
        for part in block_slices(positions.size, row_bytes, CONDITIONAL_BLOCK_BYTES):
            Xc = block[positions[part]] - prepared.shift
            layout = self._layout(Xc, (rows.start, part.start))
            yield positions[part], self._conditionals(Xc, prepared, layout)

    def _layout(self, Xc, key):
        """The layout of the NaN in the part ``key``, worked out on its first pass."""
        if self.family.precision_structure == "diagonal":
            return None  # not needed: see _missing.DiagonalConditionals
        missing_mask = np.isnan(Xc)
        layout = self.layouts.get(key)
        if layout is None or not layout.describes(missing_mask):
            layout = self.layouts[key] = Layout.of(missing_mask)
        return layout

    def _conditionals(self, Xc, prepared, layout=None):
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                cond = conditionals(
                    Xc.astype(np.float64, copy=False),
                    prepared.means,
                    prepared.precisions,
                    prepared.log_det_precisions,
                    prepared.log_weights,
                    self.family.precision_structure,
                    layout,
                )
        except np.linalg.LinAlgError:
            # A block of a positive definite precision is positive definite:
            # one that fails to invert belongs to a numerically singular
            # precision (SQUAREM rejects such a jump; plain EM names it).
            bad = _numerically_singular(prepared.precisions)
            raise SingularCovarianceError(bad, self.reg_covar) from None
        _as_log_zero_where_overflowed(cond.log_prob)
        return cond

    def statistics_from_responsibilities(self, X, responsibilities):
        """Statistics of the complete rows ``X``, with ``responsibilities(rows)`` given."""
        shift = X.mean(axis=0, dtype=np.float64).astype(X.dtype)

        def block(rows):
            G = self.family.design(X[rows], shift)
            resp = responsibilities(rows).T.astype(X.dtype, copy=False)
            return _moments(self.family, G, X.shape[1], resp, 0.0)

        return reduce_blocks(block, self.slices(X), self.n_threads), shift

    def labels(self, X, mixture):
        """The most probable component of each row, without an (n, k) array."""
        return self._map_log_prob(X, mixture, lambda log_prob: log_prob.argmax(axis=1))

    def log_prob(self, X, mixture):
        """``log w_k + log N(x_o | k)`` for every row and component."""
        return self._map_log_prob(X, mixture, lambda log_prob: log_prob)

    def _map_log_prob(self, X, mixture, reduce):
        prepared = self._prepare(mixture, X.dtype)

        def block(rows):
            block = X[rows]
            incomplete = prepared.rows_for_direct_path(block)
            out = np.empty((block.shape[0], mixture.n_components), dtype=prepared.shift.dtype)
            complete = block[~incomplete] if incomplete.any() else block
            log_prob = self._design_and_log_density(complete, prepared)[1]
            out[~incomplete] = _as_log_zero_where_overflowed(log_prob).T
            if incomplete.any():  # the conditional path cleans its own
                for part, cond in self._conditional_parts(block, incomplete, prepared, rows):
                    out[part] = cond.log_prob
            return reduce(out)

        slices = self.slices(X, prepared.shift.dtype)
        return np.concatenate(map_blocks(block, slices, self.n_threads))

    def conditionals(self, X, mixture):
        """Conditional moments of rows of ``X`` holding NaN (one block)."""
        prepared = self._prepare(mixture, np.float64)
        return self._conditionals(X - prepared.shift, prepared), prepared.shift

    def m_step(self, stats, shift):
        """The mixture that maximises the expected complete-data likelihood."""
        nk = stats.nk + EPS
        means = stats.s1 / nk[:, None]
        # Second moments are raw sums of the centred features, computed in
        # the data's precision; differences below this are rounding noise.
        resolution = 1e3 * np.finfo(shift.dtype).eps
        covariances = self.family.covariances(stats.s2, nk, means, self.reg_covar, resolution)
        return self.family.make_mixture(nk / nk.sum(), means + shift, covariances, self.reg_covar)

    def step(self, X, mixture):
        """One EM iteration: the mean log-likelihood of ``mixture``, and its update.

        A float32 pass whose update float32 could not have resolved (a
        component grown too thin for its rounding) is redone in float64, so
        float32 input never fails where float64 succeeds.
        """
        stats, shift = self.statistics(X, mixture)
        if shift.dtype == np.float32:
            try:
                update = self.m_step(stats, shift)
                offsets = update.means - update.centre()
                if _resolved_in_float32(self.family.dense_precisions(update), offsets):
                    return stats.loglik / X.shape[0], update
            except SingularCovarianceError:
                pass
            stats, shift = self.statistics(X, mixture, dtype=np.float64)
        return stats.loglik / X.shape[0], self.m_step(stats, shift)

    def _prepare(self, mixture, dtype):
        shift = mixture.centre()
        precisions = self.family.dense_precisions(mixture)
        # The one-GEMM path expands (x - mu)' P (x - mu) around the shift; its
        # rounding error is about eps times the largest Mahalanobis distance
        # of a mean from the shift. Past MAX_SPREAD that error matters, and
        # every row takes the path that subtracts each mean from the raw row.
        offsets = mixture.means - shift
        with np.errstate(over="ignore", invalid="ignore"):
            spread = np.einsum("ka,kab,kb->k", offsets, precisions, offsets).max()
        direct = not spread <= MAX_SPREAD
        if direct:
            shift = np.zeros_like(shift)
        if dtype == np.float32 and not _resolved_in_float32(precisions, offsets):
            dtype = np.float64  # blocks are cast as they are read
        with np.errstate(over="ignore", invalid="ignore"):
            coef = self.family.coefficients(mixture, shift)
        return _Prepared(
            shift=shift.astype(dtype),
            coef=tuple(np.asarray(a, dtype=dtype) for a in coef),
            means=mixture.means - shift.astype(dtype),
            precisions=precisions,
            log_det_precisions=self.family.log_det_precisions(mixture),
            log_weights=np.log(mixture.weights),
            direct=direct,
        )


def _moments(family, G, d, resp, loglik):
    """Statistics from a block's design ``G`` and its ``(k, m)`` responsibilities."""
    q = G.shape[0] - d - 1
    S = np.asarray(resp @ G.T, dtype=np.float64)  # one GEMM: [s2 | s1 | nk]
    s2 = family.second_moments(S[:, :q], G[q : q + d], resp)
    return Statistics(
        nk=S[:, -1],
        s1=S[:, q : q + d],
        s2=np.asarray(s2, dtype=np.float64),
        loglik=float(loglik),
    )


def _resolved_in_float32(precisions, offsets):
    """Whether float32 sums of centred second moments resolve every component.

    Moments are sums of squares around the shift, rounded to about eps times
    their size; a component's smallest variance must stand well clear of that,
    or the M-step makes it up (and EM stops increasing the likelihood).
    """
    eigenvalues = np.linalg.eigvalsh(precisions)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        condition = eigenvalues[:, -1] / eigenvalues[:, 0]
        spread = np.einsum("ka,ka->k", offsets, offsets) * eigenvalues[:, -1]
        error = np.finfo(np.float32).eps * (condition + spread)
    return bool(np.all(error < FLOAT32_ERROR))


def _numerically_singular(precisions):
    """The components whose precision is singular to rounding (all, if none is)."""
    eigenvalues = np.linalg.eigvalsh(precisions)
    resolution = 1e3 * np.finfo(np.float64).eps * np.abs(eigenvalues[:, -1])
    bad = np.flatnonzero(eigenvalues[:, 0] <= resolution)
    return bad if bad.size else np.arange(len(precisions))


def _as_log_zero_where_overflowed(log_prob):
    log_prob[~np.isfinite(log_prob)] = -np.inf
    return log_prob


def normalise_log_responsibilities(log_prob, axis=1):
    """Turn each sample's log-densities into responsibilities, in place.

    Samples are rows (``axis=1``) or columns (``axis=0``). Returns the log of
    each sample's normaliser (its log-likelihood), computed with log-sum-exp
    so that no unnormalised density is exponentiated. NaN and +inf are
    overflowed distances, read as a density of zero.
    """
    top = log_prob.max(axis=axis, keepdims=True)
    if not np.all(np.isfinite(top)):  # the maximum is finite unless NaN or inf is in the way
        _as_log_zero_where_overflowed(log_prob)
        top = log_prob.max(axis=axis, keepdims=True)
    if not np.all(np.isfinite(top)):
        raise ValueError(
            f"{np.sum(~np.isfinite(top))} sample(s) have a density that underflows to "
            "zero under every component: they lie too far from the components for "
            "the float range. Standardise the features or increase reg_covar."
        )
    log_prob -= top
    np.exp(log_prob, out=log_prob)
    total = log_prob.sum(axis=axis, keepdims=True)
    log_prob /= total
    return (np.log(total) + top).squeeze(axis)


def run_plain_em(X, start, engine, monitor):
    """Iterate EM from ``start`` until the monitor says done."""
    mixture = start
    while not monitor.done:
        loglik, mixture = engine.step(X, mixture)
        monitor.report(loglik)
    return mixture
