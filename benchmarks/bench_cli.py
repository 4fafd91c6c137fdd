"""The command line on a large CSV file against pandas' own read_csv of the same file.

Generates a CSV file (about 200 MB by default: 8 numeric columns, 2% of cells empty) once,
then times, each in a fresh process and in turn within every repeat:

- ``pandas``: ``pandas.read_csv(path)`` alone (the C engine; pyarrow's too where installed);
- ``read``: the command line's reader (``sklearn_em._table.read_table``) alone;
- ``cluster``: ``python -m sklearn_em cluster FILE --k 2 --max-iter 3 -o labels.csv``, the
  whole command (reading, a short fit, writing the labels).

Reports the median wall time (after the imports) and peak resident memory (the process's
``ru_maxrss``, imports included) of each, and their ratios to pandas'. Run from the
repository root::

    python benchmarks/bench_cli.py [--megabytes 200] [--repeats 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MEASURE = """
import resource, sys, time
{setup}
started = time.perf_counter()
{work}
elapsed = time.perf_counter() - started
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

# (imports, the work timed); each runs in a fresh process
BODIES = {
    "pandas": ("import pandas", "pandas.read_csv(sys.argv[1])"),
    "pandas pyarrow": ("import pandas", "pandas.read_csv(sys.argv[1], engine='pyarrow')"),
    "read": (
        "from sklearn_em._table import Source, read_table",
        "read_table(Source(sys.argv[1], path=sys.argv[1]))",
    ),
    "cluster": (
        "import contextlib, io\nfrom sklearn_em.__main__ import main",
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['cluster', sys.argv[1], '--k', '2', '--max-iter', '3',\n"
        "                 '--covariance-type', 'diag', '-o', sys.argv[2]]) == 0",
    ),
}


def make_csv(path, megabytes, seed=0):
    """Write about ``megabytes`` MB of 8 numeric columns, 2% of cells empty."""
    import pandas

    rng = np.random.default_rng(seed)
    rows_per_chunk = 250_000
    with open(path, "w", newline="") as f:
        f.write(",".join(f"x{j}" for j in range(8)) + "\n")
        while f.tell() < megabytes * 1e6:
            X = rng.normal(size=(rows_per_chunk, 8)) * 100
            X[rng.random(X.shape) < 0.02] = np.nan
            pandas.DataFrame(X).to_csv(f, header=False, index=False, float_format="%.6f")


def measure(name, path, output):
    """(seconds, peak bytes) of one fresh process running BODIES[name] on ``path``."""
    setup, work = BODIES[name]
    code = MEASURE.format(setup=setup, work=work)
    result = subprocess.run(
        [sys.executable, "-c", code, str(path), str(output)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    seconds, peak = result.stdout.split()[-2:]
    return float(seconds), int(peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--file", type=Path, help="reuse this generated file")
    args = parser.parse_args()

    names = ["pandas", "read", "cluster"]
    try:
        import pyarrow  # noqa: F401

        names.insert(1, "pandas pyarrow")
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as scratch:
        path = args.file or Path(scratch) / "big.csv"
        if not path.exists():
            started = time.perf_counter()
            make_csv(path, args.megabytes)
            print(f"generated {path} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
        size = path.stat().st_size
        with open(path) as f:
            rows = sum(1 for _ in f) - 1
        print(f"{size / 1e6:.0f} MB, {rows} rows x 8 columns, 2% empty cells")
        measure("pandas", path, Path(scratch) / "labels.csv")  # warm the page cache
        results = {name: [] for name in names}
        for _ in range(args.repeats):
            for name in names:
                results[name].append(measure(name, path, Path(scratch) / "labels.csv"))

    pandas_time = [t for t, _ in results["pandas"]]
    pandas_peak = [m for _, m in results["pandas"]]
    print(f"median of {args.repeats} repeats, each a fresh process, taken in turn")
    print(f"{'':16}{'seconds':>9}{'peak MB':>9}{'time / pandas':>15}{'memory / pandas':>17}")
    for name in names:
        times = [t for t, _ in results[name]]
        peaks = [m for _, m in results[name]]
        time_ratio = statistics.median(a / b for a, b in zip(times, pandas_time, strict=True))
        peak_ratio = statistics.median(a / b for a, b in zip(peaks, pandas_peak, strict=True))
        print(
            f"{name:16}{statistics.median(times):9.2f}{statistics.median(peaks) / 1e6:9.0f}"
            f"{time_ratio:15.2f}{peak_ratio:17.2f}"
        )


if __name__ == "__main__":
    main()
