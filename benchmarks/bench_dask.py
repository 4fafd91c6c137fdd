"""EM passes on a Dask cluster against the NumPy pass, and data larger than memory.

    python benchmarks/bench_dask.py                # (a), (b) and (c) at the issue's sizes
    python benchmarks/bench_dask.py --quick        # a small run of each, to try it out
    python benchmarks/bench_dask.py --only a,c     # some of them

(a) Overhead: one EM pass (statistics and M-step, ``_fit.EM.step``) over
    2M x 32 float64 rows (k=16, 'full'), from one start, in memory on two
    threads (``n_jobs=2``, BLAS on one thread each) against the same pass on a
    LocalCluster of 2 worker processes x 1 thread holding the data persisted
    in 20 chunks, on the same two cores. The two are timed in turn after a
    warm-up; the overhead is the median of the per-repeat ratios.
(b) Larger than memory: a lazily generated ``dask.array.random`` array of
    40M x 16 float64 (5.1 GB; two well-separated clusters, k=2, 'full') on 2
    workers limited to 2 GB each, so that it cannot be persisted and every
    pass regenerates it chunk by chunk. ``GaussianMixture.fit`` with 10 plain
    EM passes; reported: seconds per pass (the fit's time over its passes,
    which includes the validation and start reductions), the workers' peak
    memory (sampled every 0.2 s), and whether any worker was restarted or
    any task failed.
(c) The pass of (a) on 1 worker against 2 workers (1 thread each).
"""

import argparse
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster, wait
from threadpoolctl import threadpool_limits

from sklearn_em import GaussianMixture

sys.path.insert(0, str(Path(__file__).parent))
from steps import ours_at, sklearn_at_start  # noqa: E402


def clustered_rows(n, d, k, chunk_rows, seed=0):
    """A lazy (n, d) array: k unit-variance clusters 6 apart along the axes."""
    state = da.random.RandomState(seed)
    noise = state.standard_normal((n, d), chunks=(chunk_rows, d))
    which = state.randint(0, k, size=(n, 1), chunks=(chunk_rows, 1))
    shift = sum(6.0 * (which == j) * (np.arange(d) == j % d) for j in range(1, k))
    return noise + shift


def em_at_start(X, k, n_jobs):
    """Our EM step's em and parameters at scikit-learn's one-step start on 20k rows."""
    return ours_at(sklearn_at_start(X[:20_000], k, "full"), X, n_jobs=n_jobs)


def timed_step(em, X, params):
    started = time.perf_counter()
    em.step(X, params)
    return time.perf_counter() - started


def overhead(n, d, k, chunk_rows, repeats):
    """(a): the in-memory pass on two threads against the pass on 2 workers x 1 thread."""
    X_lazy = clustered_rows(n, d, k, chunk_rows)
    X = X_lazy.compute()
    em, params = em_at_start(X, k, n_jobs=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            X_dask = client.persist(da.from_array(X, chunks=(chunk_rows, d)))
            wait(X_dask)
            in_memory, on_dask = [], []
            for repeat in range(repeats + 1):  # the first is the warm-up
                with threadpool_limits(limits=2, user_api="blas"):
                    a = timed_step(em, X, params)
                b = timed_step(em, X_dask, params)
                if repeat:
                    in_memory.append(a)
                    on_dask.append(b)
            ratios = [b / a for a, b in zip(in_memory, on_dask, strict=True)]
            blas = client.run(lambda: __import__("threadpoolctl").threadpool_info())
    threads = sorted({lib["num_threads"] for info in blas.values() for lib in info})
    print(
        f"(a) {n:,} x {d} x {k} 'full', {n // chunk_rows} chunks: in memory (2 threads) "
        f"{statistics.median(in_memory):.3f} s, Dask (2 workers x 1 thread, BLAS threads "
        f"{threads}) {statistics.median(on_dask):.3f} s; overhead "
        f"{statistics.median(ratios):.2f}x (repeats {', '.join(f'{r:.2f}' for r in ratios)})",
        flush=True,
    )
    return X


def one_against_two_workers(X, d, k, chunk_rows, repeats):
    """(c): the pass on 1 worker against 2, each timed in its own cluster in turn."""
    em, params = em_at_start(X, k, n_jobs=1)
    times = {1: [], 2: []}
    for repeat in range(repeats + 1):
        for workers in (1, 2):
            with LocalCluster(
                n_workers=workers, threads_per_worker=1, dashboard_address=None
            ) as cluster:
                with Client(cluster) as client:
                    X_dask = client.persist(da.from_array(X, chunks=(chunk_rows, d)))
                    wait(X_dask)
                    timed_step(em, X_dask, params)  # warm-up on this cluster
                    if repeat:
                        times[workers].append(timed_step(em, X_dask, params))
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(
        f"(c) {X.shape[0]:,} x {d} x {k} 'full': 1 worker {one:.3f} s, 2 workers "
        f"{two:.3f} s per pass; speed-up {one / two:.2f}x",
        flush=True,
    )


class PeakMemory:
    """The largest memory any worker reported, sampled on a thread."""

    def __init__(self, client, every=0.2):
        self.client, self.every, self.peak = client, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            workers = self.client.scheduler_info()["workers"].values()
            self.peak = max([self.peak, *(w["metrics"]["memory"] for w in workers)])
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def larger_than_memory(n, d, chunk_rows, memory_limit, passes):
    """(b): a fit of ``passes`` plain EM passes on data the workers cannot hold."""
    X = clustered_rows(n, d, 2, chunk_rows, seed=1)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, memory_limit=memory_limit, dashboard_address=None
    ) as cluster:
        with Client(cluster) as client:
            before = {w["id"]: w for w in client.scheduler_info()["workers"].values()}
            model = GaussianMixture(2, acceleration=None, tol=0.0, max_iter=passes)
            with PeakMemory(client) as memory, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                started = time.perf_counter()
                model.fit(X)
                seconds = time.perf_counter() - started
            after = {w["id"]: w for w in client.scheduler_info()["workers"].values()}
            erred = client.run_on_scheduler(
                lambda dask_scheduler: sum(
                    1 for ts in dask_scheduler.tasks.values() if ts.state == "erred"
                )
            )
    restarted = set(before) != set(after)
    print(
        f"(b) {n:,} x {d} float64 ({X.nbytes / 1e9:.1f} GB, lazily generated, "
        f"{X.numblocks[0]} chunks) on 2 workers x {memory_limit}: {model.n_iter_} passes in "
        f"{seconds:.1f} s ({seconds / model.n_iter_:.1f} s per pass, with the validation "
        f"and start reductions); peak worker memory {memory.peak / 2**30:.2f} GiB; "
        f"workers restarted: {'yes' if restarted else 'no'}; erred tasks: {erred}; "
        f"weights {np.round(np.sort(model.weights_), 3)}",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try it out")
    parser.add_argument("--only", default="a,b,c", help="which of a, b, c to run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    only = set(args.only.split(","))
    n, d, k, chunk_rows = (200_000, 32, 16, 10_000) if args.quick else (2_000_000, 32, 16, 100_000)
    big = (4_000_000, 16, 200_000, "2GB") if args.quick else (40_000_000, 16, 500_000, "2GB")
    repeats = 2 if args.quick else args.repeats
    X = None
    if only & {"a", "c"}:
        X = overhead(n, d, k, chunk_rows, repeats) if "a" in only else None
    if "c" in only:
        X = clustered_rows(n, d, k, chunk_rows).compute() if X is None else X
        one_against_two_workers(X, d, k, chunk_rows, repeats)
    del X
    if "b" in only:
        larger_than_memory(*big, passes=10)


if __name__ == "__main__":
    main()
