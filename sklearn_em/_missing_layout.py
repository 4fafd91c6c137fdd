"""Where a block's values are missing: rows grouped by pattern, worked out once per fit.

The conditional moments of ``_missing`` invert, for each row holding NaN,
the block of a precision on the coordinates it misses. Rows that miss the
same coordinates (a pattern) share that inverse; patterns with the same
number ``q`` of missing coordinates (or a few less, padded) are inverted in
one batched call, the batches cut by a cost model (``_batches``). Which
rows miss what depends on the NaN mask alone, so a fit works it out once
per block (``LayoutCache``) with the indices every pass gathers and
scatters through.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tuning:
    """How the missing-value path batches its work (results do not depend on it).

    call_cost : what one batch's fixed cost (its ~20 numpy calls through
        the pass) is worth in units of the work of a pattern, taken to grow
        as ``(q + 2)^3`` with its padded size ``q``; patterns are batched
        (and padded) to minimise the total. Measured on the bundled
        datasets (benchmarks/README.md, "Missing values").
    min_stack : stacks of fewer than this many q x q matrices per
        coordinate (32 q in all) go to numpy's per-matrix LAPACK calls, which
        then cost less than the fixed cost of the batched routes' calls.
    max_eliminated_q : blocks of up to this many coordinates are inverted by
        eliminations over the whole stack, larger ones through their
        Cholesky factors (``_spd.spd_inverse``).
    part_bytes : rows holding NaN are taken in parts whose work arrays
        (about 6 k d floats a row) take this many bytes. Measured on two
        threads, k=4, d=20: parts of 4,000 rows ran 1.3x faster than 2,240.
    """

    call_cost: float = 5e4
    min_stack: int = 32
    max_eliminated_q: int = 10
    part_bytes: int = 24 * 2**20


DEFAULT_TUNING = Tuning()


class LayoutCache:
    """The layouts of a fit's blocks, worked out on their first pass.

    A block's layout is kept under its key. One cache may serve the fits
    and fills of a few arrays (the imputer's choice fits on two NaN masks of
    its data and scores on a third): a key keeps the layouts of up to
    ``per_key`` masks, the latest, and one is worked out anew for a mask it
    has not seen.
    """

    def __init__(self, per_key=4):
        self._layouts = {}
        self.per_key = per_key

    def __len__(self):
        return sum(map(len, self._layouts.values()))

    def layout(self, key, missing_mask, tuning=DEFAULT_TUNING):
        kept = self._layouts.setdefault(key, [])
        packed = np.packbits(missing_mask, axis=1)
        for layout in kept:
            if layout.describes(missing_mask, packed):
                return layout
        layout = Layout.of(missing_mask, tuning)
        kept.append(layout)
        del kept[: -self.per_key]
        return layout


@dataclass(frozen=True)
class PatternGroup:
    """Rows of a block whose patterns are inverted in one batched call.

    Patterns that miss fewer than ``q`` coordinates are padded up to ``q``
    with coordinates ``d, d + 1, ...`` past the last feature: the pass gives
    them unit precision, independent of the features, which changes no
    result. Patterns are numbered in the order of their first row, so that
    where every row has a pattern of its own (as under MCAR on many
    features) row ``i`` has pattern ``i``.
    """

    rows: np.ndarray  # (n_g,) positions in the block, ascending
    patterns: np.ndarray  # (n_p, q) the distinct sets of missing coordinates, ascending, padded
    pattern_of_row: np.ndarray  # (n_g,) each row's index into patterns
    width: int  # coordinates in the padded space: the d features, then the pads
    missing: np.ndarray  # (n_g, q) the missing coordinates of each row, padded
    entry_index: np.ndarray  # (n_g, q) their flat positions in an (n, width) block

    @classmethod
    def of(cls, rows, patterns, pattern_of_row, width):
        if patterns.shape[0] == rows.shape[0]:
            missing = patterns  # row i has pattern i
        else:
            missing = np.take(patterns, pattern_of_row, axis=0)
        return cls(rows, patterns, pattern_of_row, width, missing, rows[:, None] * width + missing)

    @property
    def one_row_per_pattern(self):
        return self.patterns.shape[0] == self.rows.shape[0]

    def block_index(self):
        """``(n_p, q, q)``: flat positions of each pattern's block in a square ``width``
        matrix. Not kept: ``q`` times the size of the patterns, and cheap beside a pass."""
        return self.patterns[:, :, None] * self.width + self.patterns[:, None, :]

    def per_pattern(self, values):
        """``(k, n_p)``: the sums of a ``(n_g, k)`` array over the rows of each pattern."""
        if self.one_row_per_pattern:
            return values.T
        n_patterns = self.patterns.shape[0]
        return np.stack(
            [np.bincount(self.pattern_of_row, column, n_patterns) for column in values.T]
        )


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
        # Number the patterns by their first row.
        by_first_row = np.argsort(first)
        first = incomplete[first[by_first_row]]
        pattern_of_row = np.argsort(by_first_row)[pattern_of_row.ravel()]
        batches = _batches(n_missing[first], tuning)
        width = max([d] + [d + q - int(n_missing[first[chosen]].min()) for chosen, q in batches])
        groups = []
        for chosen, q in batches:
            member = chosen[pattern_of_row]  # the rows that have one of the patterns
            rows = incomplete[member].astype(index)
            patterns = _padded_coordinates(missing_mask[first[chosen]], q).astype(index)
            renumber = (np.cumsum(chosen) - 1).astype(index)
            of_row = renumber[pattern_of_row[member]]
            groups.append(PatternGroup.of(rows, patterns, of_row, width))
        return cls(missing_mask.shape, packed, tuple(groups), width)

    def describes(self, missing_mask, packed=None):
        """Whether this is the layout of ``missing_mask`` (``packed``: its
        bits packed along rows, if already known)."""
        if packed is None:
            packed = np.packbits(missing_mask, axis=1)
        return self.shape == missing_mask.shape and np.array_equal(self.packed_mask, packed)


def _batches(q_of_pattern, tuning):
    """``(chosen, q)`` pairs: which patterns are inverted together, padded to ``q``.

    Patterns are taken in order of their number of missing coordinates and
    cut into runs, each padded to its largest: the cuts minimise the sum of
    a call cost per run and each pattern's work at its padded size (exactly,
    by dynamic programming over the distinct sizes). Many patterns of one
    size keep their exact size; sizes with few patterns share a call.
    """
    values, counts = np.unique(q_of_pattern, return_counts=True)
    held = np.concatenate([[0], np.cumsum(counts)])
    work = (values + 2.0) ** 3
    best = np.zeros(values.size + 1)  # best[j]: the least cost of the first j sizes
    cut = np.zeros(values.size + 1, dtype=int)
    for j in range(1, values.size + 1):
        # The last run holds sizes i..j-1, padded to values[j - 1].
        costs = best[:j] + tuning.call_cost + (held[j] - held[:j]) * work[j - 1]
        cut[j] = int(np.argmin(costs))
        best[j] = costs[cut[j]]
    runs, j = [], values.size
    while j > 0:
        runs.append(values[cut[j] : j])
        j = cut[j]
    return [(np.isin(q_of_pattern, run), int(run[-1])) for run in runs[::-1]]


def _padded_coordinates(missing_mask, q):
    """Each row's missing coordinates, ascending, then ``d, d + 1, ...`` up to ``q``."""
    pad = np.arange(q) < (q - missing_mask.sum(axis=1))[:, None]
    return np.nonzero(np.hstack([missing_mask, pad]))[1].reshape(-1, q)
