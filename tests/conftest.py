import os

import numpy as np
import pytest
from hypothesis import settings
from sklearn.datasets import make_blobs

from .helpers import COVARIANCE_TYPES  # noqa: F401  (test modules import it from here too)


def pytest_report_header(config):
    import sklearn

    return f"scikit-learn {sklearn.__version__} (its own test files run in tests/test_sklearn_*)"


# The fixtures scikit-learn's own test files expect (see tests/sklearn_suite.py).
# float32 is always on: this package supports it.
@pytest.fixture(params=[np.float32, np.float64])
def global_dtype(request):
    return request.param


def pytest_generate_tests(metafunc):
    """scikit-learn's ``global_random_seed``: 42, or SKLEARN_TESTS_GLOBAL_RANDOM_SEED."""
    if "global_random_seed" not in metafunc.fixturenames:
        return
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        seeds = [42]
    elif value == "all":
        seeds = list(range(100))
    else:
        low, _, high = value.partition("-")
        seeds = list(range(int(low), int(high or low) + 1))
    metafunc.parametrize("global_random_seed", seeds)


@pytest.fixture
def blobs():
    """Four well-separated clusters in three dimensions, with labels."""
    centers = [[0.0, 0.0, 0.0], [6.0, 0.0, 0.0], [0.0, 6.0, 0.0], [0.0, 0.0, 6.0]]
    return make_blobs(n_samples=600, centers=centers, cluster_std=0.8, random_state=0)


@pytest.fixture
def overlapping():
    """Three overlapping anisotropic clusters: EM converges slowly here."""
    rng = np.random.default_rng(3)
    means = np.array([[0.0, 0.0], [1.5, 0.5], [0.5, 2.0]])
    parts = [rng.multivariate_normal(mean, [[1.0, 0.6], [0.6, 1.2]], size=400) for mean in means]
    return np.vstack(parts)


# CI replays the same generated examples on every run (a failure there is a
# regression, not a new draw); elsewhere hypothesis explores afresh.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def dask_client():
    """A real distributed cluster for the Dask tests: two worker processes, one
    thread each, shared by the whole session (it takes seconds to start)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client
