"""How long each kernel takes for a pass: a model measured on the project's machine.

``seconds`` estimates one pass over complete rows from the shape of the
problem. Its constants come from ``benchmarks/bench_kernels.py`` (see
benchmarks/README.md for the run and its table); only their ratios matter,
since the model only ranks kernels.
"""

import numpy as np

from ._design import DESIGNS


def seconds(kernel, covariance_type, n, d, k, dtype, n_threads=1):
    """The estimated seconds of one pass of ``kernel`` over ``n`` rows."""
    fast = 2.0 if np.dtype(dtype) == np.float32 else 1.0
    if kernel == "design":
        q = DESIGNS[covariance_type].second_order_size(d)
        flops = 4 * k * (q + d + 1)
        return n * (flops / (GEMM_RATE * fast * _skinny(k)) + q * BUILD) / n_threads
    if covariance_type in ("full", "tied"):
        flops = 2 * k * d * d
        return n * (flops / (GEMM_RATE * fast * _narrow(d)) + k * d * ELEMENTWISE) / n_threads
    return n * 6 * k * d * ELEMENTWISE / n_threads


# Placeholder constants, replaced by measured ones.
GEMM_RATE = 2e10
BUILD = 1e-9
ELEMENTWISE = 1e-9


def _skinny(k):
    return min(1.0, k / 16)


def _narrow(d):
    return min(1.0, d / 64)
