"""Row blocks: bounded memory, and both cores.

A pass over the data visits row blocks small enough that one block's work
arrays stay within a few megabytes. With more than one thread, the calling
thread and a process-wide pool share the blocks, with BLAS capped at one
thread each, because two BLAS pools fighting over two cores are slower than
one. Measured on two cores (n=100k, d=32, k=16, 'full'): blocks on two
threads ran 1.3x faster than one thread of ours with BLAS on two.
"""

import functools
import itertools
import threading
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import threadpoolctl
from joblib import effective_n_jobs
from threadpoolctl import ThreadpoolController

# Bytes of work arrays one block may hold. Measured on two threads, d=32,
# k=16, 'full': 8 MiB blocks ran 1.15x faster than 4 MiB (fewer, longer
# numpy calls contend less for the GIL), 16 MiB 1.19x but took the fit of a
# million rows past a quarter of the data's size in peak memory.
BLOCK_BYTES = 8 * 2**20


def block_slices(n_rows, row_bytes, block_bytes=None):
    """Consecutive slices that cover ``range(n_rows)``."""
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    step = max(64, block_bytes // max(row_bytes, 1))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


@dataclass(frozen=True)
class Backend:
    """Blocks of rows on numpy and ``n_threads`` threads: the package's one
    chunking policy. ``block_bytes`` bounds one block's work arrays."""

    n_threads: int = 1
    block_bytes: int = BLOCK_BYTES

    def slices(self, n_rows, row_bytes):
        return block_slices(n_rows, row_bytes, self.block_bytes)

    def map(self, func, n_rows, row_bytes):
        """``[func(rows) for rows in blocks]``, in order."""
        return map_blocks(func, self.slices(n_rows, row_bytes), self.n_threads)

    def map_reduce(self, func, n_rows, row_bytes):
        """The sum of ``func(rows)`` over the blocks, added in order."""
        return reduce_blocks(func, self.slices(n_rows, row_bytes), self.n_threads)


def row_chunks(n_rows, rows=65536):
    """Slices of at most ``rows`` rows: for one cheap scan without an (n, d) temporary."""
    return [slice(start, min(start + rows, n_rows)) for start in range(0, n_rows, rows)]


def map_blocks(func, slices, n_threads=1):
    """``[func(s) for s in slices]``, in order, on ``n_threads`` threads."""
    parts = []
    _each_in_order(func, slices, n_threads, parts.append)
    return parts


def reduce_blocks(func, slices, n_threads=1):
    """The sum of ``func(s)`` over the slices, added in order as they come."""
    total = None

    def add(part):
        nonlocal total
        total = part if total is None else total + part

    _each_in_order(func, slices, n_threads, add)
    return total


def _each_in_order(func, slices, n_threads, consume):
    """``consume(func(s))`` for each slice in order, ``func`` on ``n_threads`` threads.

    The calling thread works too: the memory it already holds (malloc keeps
    each thread's freed memory apart) serves its blocks, so only the helpers'
    blocks add to the fit's peak.
    """
    if n_threads <= 1 or len(slices) <= 1:
        for s in slices:
            consume(func(s))
        return
    claim = itertools.count()  # next() is atomic: each block goes to one thread
    failed = threading.Event()
    done = {}
    consumed = 0

    def claimed():
        while not failed.is_set() and (i := next(claim)) < len(slices):
            yield i

    def work(consume_in_order=False):
        nonlocal consumed
        try:
            for i in claimed():
                done[i] = func(slices[i])
                # Only the calling thread consumes, in order, as parts come.
                while consume_in_order and consumed in done:
                    consume(done.pop(consumed))
                    consumed += 1
        except BaseException:
            failed.set()
            raise

    with single_blas_thread(True):
        helpers = [_executor(n_threads - 1).submit(work) for _ in range(n_threads - 1)]
        try:
            work(consume_in_order=True)
        finally:
            futures.wait(helpers)
        for helper in helpers:
            helper.result()  # raises a helper's error
    for i in range(consumed, len(slices)):
        consume(done.pop(i))


@functools.cache
def _executor(n_threads):
    # Kept for the process, as BLAS keeps its threads: starting and joining
    # a pool costs ~2 ms, which every pass would pay.
    return ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="sklearn_em")


def threads_for(n_jobs):
    """Threads for a fit: ``n_jobs``, or by default as many as BLAS may use."""
    return blas_threads() if n_jobs is None else effective_n_jobs(n_jobs)


def blas_threads():
    """How many threads BLAS may use now: its environment variables and limits
    (``threadpoolctl``, joblib's workers) decide, as for scikit-learn's own."""
    counts = [lib["num_threads"] for lib in _controller().info() if lib["user_api"] == "blas"]
    return max(counts, default=1)


def single_blas_thread(active):
    """Cap BLAS at one thread while our own threads run, else do nothing.

    The cap is process-wide, and callers on several threads overlap in any
    order: the first to enter sets it and the last to leave lifts it, so the
    limits from before the first are what remain.
    """
    return _one_blas_thread() if active else nullcontext()


_cap_lock = threading.Lock()
_cap_holders = 0
_cap = None


@contextmanager
def _one_blas_thread():
    global _cap_holders, _cap
    with _cap_lock:
        if _cap_holders == 0:
            _release_blas_control()
            _cap = _controller().limit(limits=1, user_api="blas")
            _release_blas_control()
        _cap_holders += 1
    try:
        yield
    finally:
        with _cap_lock:
            _cap_holders -= 1
            if _cap_holders == 0:
                _release_blas_control()
                _cap.restore_original_limits()
                _cap = None
                _release_blas_control()


def _release_blas_control():
    """Let the next thread set OpenBLAS's process-wide pool.

    Since threadpoolctl 3.8, only the first thread to set it may change it
    again until it is released (and ``limit()`` outside a ``with`` never
    releases it): the cap taken on a worker thread after one taken on the
    main thread did nothing, and one lifted by another thread than set it
    stayed. The cap is set and lifted under ``_cap_lock``, so two of its
    own changes cannot fight. Another thread's limits can, as before
    threadpoolctl 3.8: a ``threadpool_limits`` entered elsewhere while the
    cap is held takes the cap for the original it restores.
    """
    controller = getattr(threadpoolctl, "OpenBLASController", None)
    release = getattr(controller, "clear_controlling_thread", None)
    if release is not None:
        release(force=True)


@functools.cache
def _controller():
    # Finding the loaded libraries takes milliseconds; limiting them, microseconds.
    return ThreadpoolController()
