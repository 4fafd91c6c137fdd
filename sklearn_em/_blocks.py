"""Row blocks: bounded memory, and both cores.

A pass over the data visits row blocks small enough that one block's work
arrays stay within a few megabytes. Blocks go to a thread pool when more than
one thread is asked for; BLAS is then capped at one thread per block, because
two BLAS pools fighting over two cores are slower than one.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import cache

from threadpoolctl import ThreadpoolController

# Bytes of work arrays one block may hold: a block fits in the L2/L3 caches
# of common CPUs while its GEMMs stay large enough to run near peak.
BLOCK_BYTES = 4 * 2**20


def block_slices(n_rows, row_bytes, block_bytes=None):
    """Consecutive slices that cover ``range(n_rows)``."""
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    step = max(64, block_bytes // max(row_bytes, 1))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def row_chunks(n_rows, rows=65536):
    """Slices of at most ``rows`` rows: for one cheap scan without an (n, d) temporary."""
    return [slice(start, min(start + rows, n_rows)) for start in range(0, n_rows, rows)]


def map_blocks(func, slices, n_threads=1):
    """``[func(s) for s in slices]``, in order, on ``n_threads`` threads."""
    if n_threads <= 1 or len(slices) <= 1:
        return [func(s) for s in slices]
    with single_blas_thread(True):
        return list(_executor(n_threads).map(func, slices))


def reduce_blocks(func, slices, n_threads=1):
    """The sum of ``func(s)`` over the slices, holding only a few parts at a time."""
    if n_threads <= 1 or len(slices) <= 1:
        parts = map(func, slices)
        total = next(parts)
        for part in parts:
            total = total + part
        return total
    window = 4 * n_threads
    total = None
    with single_blas_thread(True):
        for start in range(0, len(slices), window):
            for part in _executor(n_threads).map(func, slices[start : start + window]):
                total = part if total is None else total + part
    return total


@cache
def _executor(n_threads):
    # Kept for the process, as BLAS keeps its threads: starting and joining
    # a pool costs ~2 ms, which every pass would pay.
    return ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="sklearn_em")


def blas_threads():
    """How many threads BLAS may use now: its environment variables and limits
    (``threadpoolctl``, joblib's workers) decide, as for scikit-learn's own."""
    counts = [lib["num_threads"] for lib in _controller().info() if lib["user_api"] == "blas"]
    return max(counts, default=1)


def single_blas_thread(active):
    """Cap BLAS at one thread while our own threads run, else do nothing."""
    return _controller().limit(limits=1, user_api="blas") if active else nullcontext()


@cache
def _controller():
    # Finding the loaded libraries takes milliseconds; limiting them, microseconds.
    return ThreadpoolController()
