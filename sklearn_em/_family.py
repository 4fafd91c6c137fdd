"""What the driver needs of a mixture family: the contract, and its statistics.

A family turns rows into additive statistics under its parameters, and
statistics into new parameters. The pass (``_pass``), the driver (``_fit``)
and SQUAREM (``_acceleration``) see a family only through ``Family``; the
Gaussian one is ``_gaussian_family.GaussianFamily``, and the tests run the
driver on a stub family too.
"""

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Statistics:
    """Additive statistics of a set of rows, about each component's centre.

    ``s1 = sum_i r_ik (x_i - c_k)`` and ``s2`` the matching second moments
    (in the covariance type's layout); every block of one pass shares the
    centres ``c``, so blocks add.
    """

    nk: np.ndarray
    centres: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    loglik: float

    def __add__(self, other):
        return Statistics(
            self.nk + other.nk,
            self.centres,
            self.s1 + other.s1,
            self.s2 + other.s2,
            self.loglik + other.loglik,
        )


class Prepared(Protocol):
    """A family's view of its parameters for one pass."""

    dtype: np.dtype  # what the pass computes in
    row_bytes: int  # work memory per row of a block


class Family(Protocol):
    """The mixture families' contract with the pass, the driver and SQUAREM."""

    def prepare(self, params: Any, dtype, n_rows: int, n_threads: int) -> Prepared:
        """What every block of a pass needs, computed once per pass."""

    def block_statistics(
        self, prepared: Prepared, block: np.ndarray, cache, key, weights=None
    ) -> Any:
        """Statistics (with ``__add__`` and a ``loglik``) of one block of rows.

        ``cache`` keeps what depends on the block's data alone between passes
        (``_missing_layout.LayoutCache``), under ``key``; None keeps nothing.
        ``weights``, given only when a fit has row weights, holds the block's:
        a weight multiplies its row's responsibilities (so every moment) and
        its log-likelihood, so that an integer weight counts as that many
        copies of the row. A family without weighted rows may omit it.
        """

    def block_log_prob(self, prepared: Prepared, block: np.ndarray, cache, key) -> np.ndarray:
        """``(m, k)``: ``log w_k + log p(x | k)`` for each row of the block."""

    def m_step(self, stats: Any) -> Any:
        """The parameters that maximise the expected complete-data likelihood."""

    def resolved(self, prepared: Prepared, update: Any) -> bool:
        """Whether a pass in ``prepared.dtype`` resolves ``update``; if not,
        the driver repeats the pass in float64."""

    def pack(self, params: Any) -> np.ndarray:
        """The parameters as one flat vector of unconstrained real numbers."""

    def unpack(self, theta: np.ndarray, shape: tuple) -> Any:
        """Parameters of ``shape = (n_components, n_features)`` from ``pack``'s vector."""

    def n_parameters(self, params: Any) -> int:
        """The number of free parameters."""

    def sample(self, params: Any, n_samples: int, rng) -> tuple:
        """``(X, labels)``: ``n_samples`` draws, grouped by component."""
