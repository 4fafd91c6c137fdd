"""Helpers shared by the test modules."""

import warnings
from dataclasses import replace

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from sklearn_em import GaussianMixture
from sklearn_em.__main__ import main

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]


def tuned(family=None, backend=None, settings=None):
    """A GaussianMixture class whose core runs with options users do not set.

    ``family`` overrides fields of ``GaussianFamily`` (``kernel``,
    ``tuning``), ``backend`` of ``Backend`` (``block_bytes``), ``settings``
    of ``_fit.Settings``: parameters, not patched constants.
    """
    family, backend, settings = family or {}, backend or {}, settings or {}

    class Tuned(GaussianMixture):
        def _family(self, fitting=False):
            return replace(super()._family(fitting), **family)

        def _em(self, fitting=False):
            em = super()._em(fitting)
            return replace(em, backend=replace(em.backend, **backend))

        def _settings(self):
            return replace(super()._settings(), **settings)

    return Tuned


def start_after_one_step(X, k, covariance_type):
    """``(weights, means, covariances, precisions)`` after one EM step from the
    column-mean-filled rows: an explicit start for tests that compare fits."""
    filled = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    model = GaussianMixture(k, covariance_type=covariance_type, random_state=0, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        model.fit(filled)
    return model.weights_, model.means_, model.covariances_, model.precisions_


def sklearn_start(X, n_components, covariance_type):
    """A common starting point: scikit-learn's mixture after one EM step."""
    sk = SklearnMixture(n_components, covariance_type=covariance_type, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(X)
    return {
        "weights_init": sk.weights_,
        "means_init": sk.means_,
        "precisions_init": sk.precisions_,
    }


def blobs3(seed=0, n=300):
    """Three overlapping clusters in three dimensions."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0, 0.0], [5.0, 1.0, 0.0], [0.0, 5.0, 2.0]])
    return centers[rng.integers(3, size=n)] + rng.normal(size=(n, 3))


def random_covariances(covariance_type, k, d, rng):
    """Well-conditioned random covariances in the type's layout."""

    def spd():
        A = rng.normal(size=(d, d))
        return A @ A.T + d * np.eye(d)

    if covariance_type == "full":
        return np.stack([spd() for _ in range(k)])
    if covariance_type == "tied":
        return spd()
    if covariance_type == "diag":
        return rng.uniform(0.5, 3.0, size=(k, d))
    return rng.uniform(0.5, 3.0, size=k)


def dense_covariance(covariance_type, covariances, k, d):
    """Component ``k``'s covariance as a ``d x d`` matrix."""
    if covariance_type == "full":
        return covariances[k]
    if covariance_type == "tied":
        return covariances
    if covariance_type == "diag":
        return np.diag(covariances[k])
    return covariances[k] * np.eye(d)


def broad_and_tight(d=3, k=8, n=2000):
    """A broad cluster holding half the rows, and k - 1 tight ones of unequal
    spreads: EM's local optima (tests/test_convergence.py, bench_convergence.py)."""
    rng = np.random.default_rng([d, k, 0])
    centres = rng.uniform(-4, 4, size=(k - 1, d))
    sizes = rng.multinomial(n // 2, np.full(k - 1, 1 / (k - 1)))
    parts = [rng.normal(scale=2.0, size=(n // 2, d))]
    parts += [
        c + rng.uniform(0.3, 0.7) * rng.normal(size=(m, d))
        for c, m in zip(centres, sizes, strict=True)
    ]
    return np.vstack(parts)


# -- the command line ----------------------------------------------------

CLUSTER = ["cluster", "--k", "1-4", "--tol", "1e-2"]
IMPUTE = ["impute", "--tol", "1e-2"]


def cli_clusters(n=60, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    return centers[np.arange(n) % 3] + rng.normal(size=(n, 2))


def csv_bytes(X, header="x,y", sep=",", newline="\n", gaps=()):
    lines = [header] if header is not None else []
    for i, row in enumerate(X):
        lines.append(sep.join("" if (i, j) in gaps else f"{v:.4f}" for j, v in enumerate(row)))
    return (newline.join(lines) + newline).encode()


def write_cli_input(tmp_path):
    """``in.csv`` in ``tmp_path``: three clusters in two columns, two cells missing."""
    path = tmp_path / "in.csv"
    path.write_bytes(csv_bytes(cli_clusters(), gaps={(0, 1), (5, 0)}))
    return path


def assert_refused(capsys, argv, tmp_path, data, message):
    """Run argv; it must fail with exit 2 before reading, leaving only the input as it was."""
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last, last
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
    return err
