"""Which kernel computes a pass, and in which dtype.

Three kernels compute the same statistics of complete rows:

- ``design`` (``_design``): one GEMM with ``d(d+1)/2 + d + 1`` terms per row
  scores every component; moments are about one shift for the mixture;
- ``centred`` (``_centred``): per component, rows centred on its mean and
  whitened by its precision Cholesky factor (``trmm`` and ``syrk``);
- ``origin`` (``_origin``, 'diag' and 'spherical' only): products of the raw
  rows and their squares, moments about zero.

A kernel is *eligible* when its rounding error, bounded from the mixture,
stays below ``ACCURACY`` for the dtype and nothing it forms leaves the float
range; among the eligible ones the cost model (``_cost``) picks the faster.
Float32 input runs in float32 whenever a kernel is eligible there, and in
float64 otherwise, so that it never fails where float64 would not.
"""

import functools
from dataclasses import replace

import numpy as np

from . import _cost

# The largest estimate of the relative error of a component's variance that
# a pass may make. The estimates overstate the error measured on correlated
# components (benchmarks/README.md): 20x for the design, 40x for the centred
# kernel. The bound is 1e-6 (float64) and 1e-3 (float32).
ACCURACY = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-3}
KERNELS = ("design", "centred", "origin")


def _traces(covariance_type, mixture):
    """``tr P_k``, ``tr Sigma_k`` and ``|mu_k - c|^2`` for every component."""
    trace_p = covariance_type.trace_precisions(mixture)
    trace_s = covariance_type.trace_covariances(mixture)
    offsets = np.sum((mixture.means - mixture.centre()) ** 2, axis=1)
    return trace_p, trace_s, offsets


def errors(covariance_type, mixture):
    """Estimates (in units of the dtype's eps) of each kernel's relative error
    on a variance, and the largest square each kernel forms."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if covariance_type.diagonal:
            return _diagonal_errors(covariance_type, mixture)
        trace_p, trace_s, offsets = _traces(covariance_type, mixture)
        # Moments about one shift round at eps |x - c|^2; a direction's
        # variance is at least 1 / lambda_max(P) >= 1 / tr P.
        design = float(np.max(trace_p * (trace_s + offsets)))
        # Whitening rounds z at about eps |y| |U| / sqrt(d) (|y|^2 ~ tr
        # Sigma, |U|_F^2 = tr P, over d columns); moments of z are about 1.
        d = mixture.means.shape[1]
        centred = float(2 * np.max(np.sqrt(trace_p * trace_s / d)))
        design_square = float(np.max(trace_s + offsets))
    # Whitened values are about 1: only the factors' own range matters (eligible).
    return {"design": (design, design_square), "centred": (centred, 0.0)}


def _diagonal_errors(covariance_type, mixture):
    # Coordinates do not mix: each variance rounds against its own offset
    # (from the shift, or from zero), and whitening is one product an entry.
    variances = 1.0 / covariance_type.precision_factors(mixture) ** 2
    from_shift = (mixture.means - mixture.centre()) ** 2
    from_zero = mixture.means**2
    return {
        "design": (_max(1.0 + from_shift / variances), _max(variances + from_shift)),
        "centred": (2.0, 0.0),
        "origin": (_max(1.0 + from_zero / variances), _max(variances + from_zero)),
    }


def _max(values):
    return float(np.max(values))


def eligible(covariance_type, mixture, dtype):
    """The kernels whose error bound and range suit ``dtype``."""
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    room = float(info.max) * 1e-6  # sums over a block of rows, and outliers
    chosen = []
    for kernel, (error, largest) in errors(covariance_type, mixture).items():
        if np.isfinite(error) and error * info.eps < ACCURACY[dtype] and largest < room:
            chosen.append(kernel)
    if dtype == np.float32 and "centred" in chosen:
        # The factors themselves must survive the cast (no inf, no zero pivot).
        rounded = mixture.precisions_cholesky.astype(np.float32).astype(np.float64)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_det = covariance_type.log_det_precisions(
                replace(mixture, precisions_cholesky=rounded)
            )
        if not np.all(np.isfinite(rounded)) or not np.all(np.isfinite(log_det)):
            chosen.remove("centred")
    return chosen


def choose(covariance_type, mixture, dtype, n_rows, n_threads=1, kernel=None):
    """``(kernel, dtype)`` for a pass over ``n_rows`` rows of data in ``dtype``.

    ``kernel`` forces one kernel (tests compare them); the dtype is still
    raised to float64 if float32 cannot resolve the mixture with it.
    """
    dtype = np.dtype(dtype)
    k, d = mixture.means.shape
    if kernel is None and dtype == np.float64:
        # In float64 the centred kernel is eligible whenever another is (its
        # error estimate is below the design's: tr P tr Sigma >= d^2), and it
        # is the fallback when none is: where the cost model ranks it first,
        # the choice needs no error estimate.
        everything = KERNELS if covariance_type.diagonal else KERNELS[:2]
        if _fastest(everything, covariance_type.name, n_rows, d, k, dtype, n_threads) == "centred":
            return "centred", dtype
    candidates = eligible(covariance_type, mixture, dtype)
    if kernel is not None:
        if kernel not in KERNELS:
            raise ValueError(f"Unknown kernel {kernel!r}; choose from {KERNELS}.")
        if kernel in candidates or dtype == np.float64:
            return kernel, dtype
        return kernel, np.dtype(np.float64)
    if not candidates:
        # Only float32 can lack a kernel: the centred one always serves float64.
        dtype = np.dtype(np.float64)
        candidates = eligible(covariance_type, mixture, dtype) or ["centred"]
    return _fastest(tuple(candidates), covariance_type.name, n_rows, d, k, dtype, n_threads), dtype


@functools.lru_cache(maxsize=256)
def _fastest(candidates, name, n_rows, d, k, dtype, n_threads):
    """The kernel the cost model ranks first: a function of shapes alone."""

    def seconds(kernel):
        return _cost.seconds(kernel, name, n_rows, d, k, dtype, n_threads)

    return min(candidates, key=seconds)
