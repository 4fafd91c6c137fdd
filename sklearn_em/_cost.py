"""How long each kernel takes for a pass: a model measured on the project's machine.

``seconds`` counts what a pass does per block and per row (GEMM flops,
elementwise passes over arrays, numpy calls) and prices each with constants
measured by ``python benchmarks/bench_kernels.py --calibrate`` (one thread;
benchmarks/README.md has the run and how well the model's choices match the
measured faster kernel). Only ratios matter: the model ranks kernels.
"""

import numpy as np

from ._blocks import BLOCK_BYTES

K_GRID = (1, 2, 4, 8, 16, 32, 64)
D_GRID = (2, 4, 8, 16, 32, 64, 128)

# GFLOP/s of the design's (k x q) @ (q x m) products, by k; of the centred
# kernel's trmm + syrk on (m x d) rows, by d; seconds per element of one
# elementwise numpy pass; seconds per numpy call. Keyed by itemsize.
SKINNY_GFLOPS = {
    8: {1: 5.9, 2: 6.5, 4: 12.5, 8: 23.1, 16: 30.0, 32: 44.7, 64: 54.2},
    4: {1: 11.7, 2: 9.2, 4: 18.3, 8: 31.1, 16: 57.3, 32: 84.8, 64: 108.2},
}
TRIANGULAR_GFLOPS = {
    8: {2: 0.8, 4: 2.5, 8: 9.2, 16: 16.3, 32: 21.9, 64: 33.3, 128: 41.8},
    4: {2: 1.5, 4: 5.1, 8: 13.5, 16: 28.1, 32: 41.0, 64: 67.5, 128: 90.7},
}
ELEMENT_SECONDS = {8: 8.8e-10, 4: 3.19e-10}
CALL_SECONDS = {8: 1.11e-6, 4: 1.12e-6}


def _rate(table, x, grid):
    """Log-linear interpolation of a rate table, flat past its ends."""
    values = [table[g] for g in grid]
    return float(np.interp(np.log(x), np.log(grid), values))


def seconds(kernel, covariance_type, n, d, k, dtype, n_threads=1):
    """The estimated seconds of one pass of ``kernel`` over ``n`` complete rows."""
    from . import _centred, _design, _origin  # the kernels' own work-array sizes

    size = np.dtype(dtype).itemsize
    element, call = ELEMENT_SECONDS[size], CALL_SECONDS[size]
    if kernel == "design":
        q = _design.DESIGNS[covariance_type].second_order_size(d)
        terms = q + d + 1
        gemm = 4 * k * terms / (_rate(SKINNY_GFLOPS[size], k, K_GRID) * 1e9)
        # the rows centred, the second-order terms, the log-densities normalised
        per_row = gemm + (2 * d + q + 6 * k) * element
        if covariance_type == "tied":
            per_row += 4 * d * d / (_rate(TRIANGULAR_GFLOPS[size], d, D_GRID) * 1e9)
        calls = 20 + (d if covariance_type == "full" else 0)
        row_bytes = _design.row_bytes(covariance_type, d, k, size)
    elif kernel == "origin":
        # products with the rows (and, for 'diag', their squares) to score and sum
        products = 8 if covariance_type == "diag" else 4
        gemm = products * k * d / (_rate(SKINNY_GFLOPS[size], k, K_GRID) * 1e9)
        per_row = gemm + (d + 6 * k) * element
        calls = 12
        row_bytes = _origin.row_bytes(d, k, size)
    else:
        triangular = covariance_type in ("full", "tied")
        flops = 2 * d * d / (_rate(TRIANGULAR_GFLOPS[size], d, D_GRID) * 1e9) if triangular else 0
        # centre, whiten (diagonal types), square-sum, weight: per component
        per_row = k * (flops + (4 + (0 if triangular else 2)) * d * element) + 6 * k * element
        calls = 12 * k + 10
        row_bytes = _centred.row_bytes(d, k, size)
    n_blocks = max(1, -(-n * row_bytes // BLOCK_BYTES))
    return (n * per_row + n_blocks * calls * call) / max(1, min(n_threads, n_blocks))
