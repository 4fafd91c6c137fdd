"""Peak memory of a fit beside the size of its data, measured in a subprocess.

    python benchmarks/bench_memory.py [--n 1000000] [--d 32] [--k 16]

The data is written to a .npy file first; the child process loads it, notes
its resident memory, fits, and reports its peak resident memory. The fit's
own footprint is the peak minus the resident memory before the fit (the
interpreter, the libraries and the data). RSS also holds memory that malloc
freed but kept, so the peak of live allocations (tracemalloc, which sees
numpy's buffers) is printed beside it.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import json, resource, sys, tracemalloc, warnings
import numpy as np
from sklearn_em import GaussianMixture
warnings.simplefilter("ignore")

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

X = np.load(sys.argv[1])
k, init = int(sys.argv[2]), sys.argv[3]
n_jobs = None if sys.argv[4] == "None" else int(sys.argv[4])
before = rss_mb()
tracemalloc.start()
GaussianMixture(k, max_iter=3, init_params=init, random_state=0, n_jobs=n_jobs).fit(X)
allocated = tracemalloc.get_traced_memory()[1] / 2**20
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"before": before, "peak": peak, "allocated": allocated}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--init", default="kmeans")
    parser.add_argument("--n-jobs", default="None", help="None (the default) or a number")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "X.npy"
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(args.n, args.d))
        step = 100_000
        centers = rng.normal(scale=3, size=(args.k, args.d))
        for start in range(0, args.n, step):
            rows = min(step, args.n - start)
            X[start : start + rows] = centers[rng.integers(args.k, size=rows)] + rng.normal(
                size=(rows, args.d)
            )
        X.flush()
        del X
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), str(args.k), args.init, args.n_jobs],
            capture_output=True,
            text=True,
            check=True,
        )
    measured = json.loads(result.stdout)
    data_mb = args.n * args.d * 8 / 2**20
    extra = measured["peak"] - measured["before"]
    print(f"n={args.n} d={args.d} k={args.k} float64, init_params={args.init!r}, max_iter=3")
    print(
        f"data {data_mb:.0f} MiB; resident before fit {measured['before']:.0f} MiB "
        f"(interpreter, libraries, data); peak {measured['peak']:.0f} MiB"
    )
    print(
        f"the fit's own peak: {extra:.0f} MiB = {extra / data_mb:.0%} of the data (RSS); "
        f"{measured['allocated']:.0f} MiB = {measured['allocated'] / data_mb:.0%} "
        "allocated at once (tracemalloc)"
    )


if __name__ == "__main__":
    main()
