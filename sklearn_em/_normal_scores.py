"""A per-feature monotone map of values to normal scores, and back: a scale to impute on.

A Gaussian's conditional mean is linear in the rest of the row; on skewed
features, or on features related through ratios and powers (breast_cancer's
radius, perimeter and area), it misses the curve. Mapped to the normal
scores of their observed values (rank-based, van der Waerden's), such
features are closer to jointly Gaussian; the imputer fits its mixture on
that scale and maps the imputations back. The map is fitted to the observed
values alone and, beyond them, continues along the straight line through
its outermost few values, so an imputation may lie beyond the observed
range (where the bounds, if chosen, clip it), and maps back to a finite
value whatever it is.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

# The map continues past the ends along the chord over this share of the
# distinct observed values at each end (at least two of them).
TAIL_SHARE = 0.05
# A feature keeps at most this many knots (of its distinct observed values,
# evenly spread in rank): an expectation mapped back costs one term per knot.
MAX_KNOTS = 256
# Knots whose terms are summed at once (a (k, n, KNOTS_PER_STEP) array).
KNOTS_PER_STEP = 64
# The least share of the weight below (or above) a knot: a weight that
# rounds to none of the total still has a finite score.
TINY_SHARE = np.finfo(np.float64).eps


@dataclass(frozen=True)
class NormalScores:
    """Each feature's distinct observed values and their normal scores, both increasing.

    ``values[j]`` and ``scores[j]`` are the knots of feature ``j``'s map,
    linear between knots; ``slopes[j]`` are its lower and upper tail slopes
    (value per score) beyond the first and last knot.
    """

    values: tuple
    scores: tuple
    slopes: tuple

    @classmethod
    def of(cls, X, sample_weight=None):
        """The map of each column's observed (non-NaN) values of ``X``; every column needs one.

        A value observed ``c`` times at sorted positions ``r + 1 .. r + c`` of
        ``n`` gets the score ``Phi^-1((r + c / 2) / n)``: tied values share
        their mid-rank, and no score is infinite. With ``sample_weight`` the
        counts are the rows' weights, and values of rows of weight 0 are no
        knots (as if those rows were not there), unless no other row observes
        the feature. A value whose share of the weight rounds to nothing
        beside its neighbour's (``TINY_SHARE``) shares its score, and only
        the first of the values of one score is a knot: the map stays finite
        and one to one.
        """
        X = np.asarray(X, dtype=np.float64)
        weights = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight)
        values, scores, slopes = [], [], []
        for column in X.T:
            seen = ~np.isnan(column)
            if not seen.any():
                raise ValueError("Every feature needs an observed value to be put on a scale.")
            counted = seen & (weights > 0)
            rows = counted if counted.any() else seen
            row_weights = weights[rows] if counted.any() else np.ones(rows.sum())
            distinct, inverse = np.unique(column[rows], return_inverse=True)
            counts = np.bincount(inverse, weights=row_weights, minlength=distinct.size)
            mid_ranks = np.cumsum(counts) - counts / 2
            score = ndtri(np.clip(mid_ranks / counts.sum(), TINY_SHARE, 1 - TINY_SHARE))
            # A weight too small beside the rest's shares its neighbour's score:
            # the map keeps the first value of each score, increasing strictly.
            rising = np.r_[True, np.diff(score) > 0]
            distinct, score = distinct[rising], score[rising]
            if distinct.size > MAX_KNOTS:
                kept = np.unique(np.linspace(0, distinct.size - 1, MAX_KNOTS).round().astype(int))
                distinct, score = distinct[kept], score[kept]
            values.append(distinct)
            scores.append(score)
            slopes.append(_tail_slopes(distinct, score))
        return cls(tuple(values), tuple(scores), tuple(slopes))

    def forward(self, X):
        """``X`` on the scale: a new array of its dtype, NaN where ``X`` has NaN."""
        out = np.array(X, copy=True)
        for j, (values, scores, (low, high)) in enumerate(self._knots()):
            out[:, j] = _piecewise(out[:, j], values, scores, 1 / low, 1 / high)
        return out

    def inverse(self, Z):
        """Values on the scale ``Z`` (last axis the features) mapped back, as float64."""
        out = np.array(Z, dtype=np.float64, copy=True)
        for j, (values, scores, (low, high)) in enumerate(self._knots()):
            out[..., j] = _piecewise(out[..., j], scores, values, low, high)
        return out

    def expected_inverse(self, means, variances, weights):
        """``E[inverse(Z)]`` for ``Z`` a mixture of independent normals per cell.

        The expectation of a missing value is the mean of its conditional
        distribution mapped back, not the map of its conditional mean (that
        is the median: too low on a right-skewed feature). Under component
        ``k`` cell ``(i, j)`` is normal with ``means[k, i, j]`` and
        ``variances[k, i, j]``; ``weights[i, k]`` are the components'
        responsibilities. The map is linear between knots, so the integral
        has a closed form: the line of the lower tail plus one hinge
        ``(z - z_j)_+`` per knot, each weighted by its change of slope, and
        ``E[(Z - z)_+] = u Phi(u / s) + s phi(u / s)`` with ``u = m - z``.
        """
        # Cells known under every component (variance 0) are their mean mapped back.
        expected = np.einsum("nk,knd->nd", weights, self.inverse(means))
        for j, (values, scores, (low, high)) in enumerate(self._knots()):
            rows = np.flatnonzero((variances[..., j] > 0).any(axis=0))
            if rows.size == 0:
                continue
            m, s = means[:, rows, j], np.sqrt(np.maximum(variances[:, rows, j], 0.0))
            inner = np.diff(values) / np.diff(scores)
            bends = np.diff(np.concatenate([[low], inner, [high]]))
            total = values[0] + low * (m - scores[0])
            for start in range(0, scores.size, KNOTS_PER_STEP):
                knots = slice(start, start + KNOTS_PER_STEP)
                total += _expected_hinges(m, s, scores[knots]) @ bends[knots]
            expected[rows, j] = np.einsum("nk,kn->n", weights[rows], total)
        return expected

    def _knots(self):
        return zip(self.values, self.scores, self.slopes, strict=True)


def _tail_slopes(values, scores):
    """The value per score of the chords over the outermost ``TAIL_SHARE`` of the knots."""
    if values.size == 1:  # a constant feature: any finite slope keeps the map one to one
        return 1.0, 1.0
    k = max(2, int(np.ceil(TAIL_SHARE * values.size)))
    low = (values[k - 1] - values[0]) / (scores[k - 1] - scores[0])
    high = (values[-1] - values[-k]) / (scores[-1] - scores[-k])
    return float(low), float(high)


def _piecewise(x, xp, fp, low_slope, high_slope):
    """``np.interp`` through the knots ``(xp, fp)``, continued linearly past both ends."""
    y = np.interp(x, xp, fp)
    y[np.isnan(x)] = np.nan  # np.interp through one knot gives it for NaN too
    below, above = x < xp[0], x > xp[-1]
    y[below] = fp[0] + low_slope * (x[below] - xp[0])
    y[above] = fp[-1] + high_slope * (x[above] - xp[-1])
    return y


def _expected_hinges(m, s, knots):
    """``E[(Z - knot)_+]`` for ``Z ~ N(m, s^2)``: shape ``m.shape + (len(knots),)``."""
    u = m[..., None] - knots
    spread = s[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = u / spread
        smooth = u * ndtr(t) + spread * np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi)
    return np.where(spread > 0, smooth, np.maximum(u, 0.0))
