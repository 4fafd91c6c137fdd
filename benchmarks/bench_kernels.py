"""Measure the constants of the kernels' cost model, and check its choices.

    python benchmarks/bench_kernels.py --calibrate     # print the constants for _cost.py
    python benchmarks/bench_kernels.py --check [--n 20000] [--repeats 3]

``--calibrate`` times the operations the model counts, on one thread: the
design's skinny GEMM (k rows) per k, the centred kernel's triangular
products (trmm + syrk) per d, one elementwise pass, one numpy call.
``--check`` times both kernels on a grid of shapes (interleaved repeats,
medians), with each one's GEMM-like work as a share of the GEMM peak, and
reports where the model's choice is not the faster one, and by how much.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.linalg import blas
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from steps import interleaved, make_data, our_step, ours_at, sklearn_at_start  # noqa: E402

from sklearn_em import _cost  # noqa: E402


def _best(f, repeats=5):
    f()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        f()
        times.append(time.perf_counter() - began)
    return min(times)


def calibrate(dtype):
    rng = np.random.default_rng(0)
    m = 4096
    skinny = {}
    for k in _cost.K_GRID:
        W = rng.normal(size=(k, 528)).astype(dtype)
        G = rng.normal(size=(528, m)).astype(dtype)
        skinny[k] = 2 * k * 528 * m / _best(lambda W=W, G=G: W @ G) / 1e9
    triangular = {}
    trmm, syrk = blas.get_blas_funcs(("trmm", "syrk"), dtype=dtype)
    for d in _cost.D_GRID:
        Z = rng.normal(size=(m, d)).astype(dtype)
        U = np.asfortranarray(np.triu(rng.normal(size=(d, d))) + d * np.eye(d), dtype=dtype)

        def both(Z=Z, U=U):
            trmm(1.0, U, Z.T, side=0, lower=0, trans_a=1, overwrite_b=1)
            syrk(1.0, Z.T, trans=0, lower=0)

        triangular[d] = 2 * m * d * d / _best(both) / 1e9
    X = rng.normal(size=(m, 64)).astype(dtype)
    out = np.empty_like(X)
    elementwise = _best(lambda: np.multiply(X, X, out=out)) / X.size
    # One call of the kind a kernel makes per block: an f2py BLAS wrapper
    # and a ufunc on a slice, each on a tiny array.
    tiny = np.ones((2, 2), dtype=dtype, order="F")
    call = 0.5 * _best(
        lambda: (trmm(1.0, tiny, tiny, overwrite_b=1), np.multiply(tiny[:1], tiny[:1])),
        repeats=200,
    )
    return skinny, triangular, elementwise, call


def flop(kernel, covariance_type, n, d, k):
    """The floating-point work of one pass: GEMM-like products only."""
    from sklearn_em._design import DESIGNS

    if kernel == "design":
        return 4 * k * (DESIGNS[covariance_type].second_order_size(d) + d + 1) * n
    if covariance_type in ("full", "tied"):
        return 2 * k * d * d * n  # trmm and syrk, d^2 each per row
    return 0


def check(n, repeats):
    worst = []
    square = np.ones((2000, 2000))
    peak = 2 * 2000**3 / _best(lambda: square @ square, 3) / 1e9
    print(f"GEMM peak {peak:.1f} GFLOP/s (float64, one thread)")
    with threadpool_limits(limits=1, user_api="blas"):
        for covariance_type in ("full", "tied", "diag", "spherical"):
            for d in (2, 8, 32, 64):
                for k in (2, 4, 16):
                    X = make_data(n, d, k)
                    start = sklearn_at_start(X, k, covariance_type)
                    design, params = ours_at(start, X, kernel="design")
                    centred, _ = ours_at(start, X, kernel="centred")
                    chosen = ours_at(start, X)[0].prepare(X, params).kernel
                    (t_design, t_centred), _ = interleaved(
                        [our_step(design, params, X), our_step(centred, params, X)], repeats
                    )
                    faster = "design" if t_design < t_centred else "centred"
                    loss = {"design": t_design, "centred": t_centred}[chosen] / min(
                        t_design, t_centred
                    )
                    worst.append(loss)
                    shares = [
                        flop(name, covariance_type, n, d, k) / t / 1e9 / peak
                        for name, t in (("design", t_design), ("centred", t_centred))
                    ]
                    print(
                        f"{covariance_type:10}d={d:3} k={k:3} design {t_design * 1e3:8.2f} ms "
                        f"({shares[0]:4.0%} of peak) centred {t_centred * 1e3:8.2f} ms "
                        f"({shares[1]:4.0%}) faster {faster:8} chosen {chosen:8}"
                        f" {'' if chosen == faster else f'(loses {loss:.2f}x)'}",
                        flush=True,
                    )
    print(f"model's choice within {max(worst):.2f}x of the faster kernel in every cell")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.calibrate:
        with threadpool_limits(limits=1, user_api="blas"):
            for dtype in (np.float64, np.float32):
                skinny, triangular, elementwise, call = calibrate(dtype)
                print(f"# {np.dtype(dtype).name}")
                for name, table in (("SKINNY", skinny), ("TRIANGULAR", triangular)):
                    entries = ", ".join(f"{key}: {value:.1f}" for key, value in table.items())
                    print(f"{name}_GFLOPS = {{{entries}}}")
                print(f"ELEMENT_SECONDS = {elementwise:.3g}")
                print(f"CALL_SECONDS = {call:.3g}")
    if args.check:
        check(args.n, args.repeats)


if __name__ == "__main__":
    main()
