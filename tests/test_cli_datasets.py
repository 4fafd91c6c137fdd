"""scikit-learn's bundled datasets exported to CSV with holes punched, through the command line."""

import importlib.util

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

from sklearn_em.__main__ import main
from sklearn_em._criterion_plot import criterion_image, pyplot
from sklearn_em._table import Source, read_table


def _export(path, loader, fraction=0.1, seed=0):
    """Write a dataset as CSV with an ID column and ``fraction`` of its cells emptied."""
    bunch = loader()
    names = [n.replace(",", " ") for n in getattr(bunch, "feature_names", [])]
    X = bunch.data
    hidden = np.random.default_rng(seed).random(X.shape) < fraction
    lines = ["id," + ",".join(names)]
    for i, (row, gaps) in enumerate(zip(X, hidden, strict=True)):
        cells = ["" if gap else repr(float(v)) for v, gap in zip(row, gaps, strict=True)]
        lines.append(f"row{i}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return X, hidden, lines


@pytest.mark.parametrize("loader", [load_iris, load_wine, load_diabetes, load_breast_cancer])
def test_bundled_datasets_round_trip(tmp_path, loader):
    data = tmp_path / "in.csv"
    X, hidden, lines = _export(data, loader)
    out = tmp_path / "out.csv"
    argv = ["--id-column", "id", "--tol", "1e-2"]
    assert main(["impute", str(data), *argv, "-o", str(out)]) == 0
    written = out.read_text().splitlines()
    assert written[0] == lines[0] and len(written) == len(lines)
    filled = np.array([[float(c) for c in line.split(",")[1:]] for line in written[1:]])
    # every observed cell as it was, to the character; every hole filled with a finite number
    for original, new in zip(lines[1:], written[1:], strict=True):
        for cell, value in zip(original.split(","), new.split(","), strict=True):
            assert value == cell or (cell == "" and np.isfinite(float(value)))
    # one full Gaussian uses the correlations: closer than the column means
    scale = X.std(axis=0)
    mean_error = np.abs((X - np.nanmean(np.where(hidden, np.nan, X), axis=0)) / scale)[hidden]
    our_error = np.abs((filled - X) / scale)[hidden]
    assert our_error.mean() < mean_error.mean()

    labels = tmp_path / "labels.csv"
    assert (
        main(
            [
                "cluster",
                str(data),
                *argv,
                "--k",
                "1-3",
                "--covariance-type",
                "diag",
                "-o",
                str(labels),
            ]
        )
        == 0
    )
    rows = [line.split(",") for line in labels.read_text().splitlines()]
    assert rows[0] == ["id", "label"] and [r[0] for r in rows[1:]] == [
        f"row{i}" for i in range(len(X))
    ]
    assert {int(r[1]) for r in rows[1:]} <= {0, 1, 2}


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow not installed")
def test_pyarrow_engine_reads_the_same_numbers(tmp_path):
    data = tmp_path / "in.csv"
    _export(data, load_wine)
    source = Source(str(data), path=str(data))
    ours = read_table(source, id_column="id")
    theirs = read_table(source, id_column="id", engine="pyarrow")
    np.testing.assert_array_equal(ours.values, theirs.values)


def test_criterion_plot_has_a_panel_per_covariance_type_and_marks_the_best():
    plt = pyplot()
    criterion = {
        "n_components": [1, 2, 3] * 2,
        "covariance_type": ["full"] * 3 + ["spherical"] * 3,
        "bic": [10.0, 5.0, 7.0, 1000.0, 900.0, 950.0],
    }
    shown = []
    png = criterion_image(
        plt, criterion, "bic", {"n_components": 2, "covariance_type": "full"}, keep=shown
    )
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = shown
    panels = fig.axes
    assert [ax.get_title() for ax in panels] == [
        "full\nlowest 5 at k=2",
        "spherical\nlowest 900 at k=2",
    ]
    assert "lower is better" in panels[0].get_ylabel()
    # each panel scales to its own curve: spherical's 900-1000 do not flatten full's 5-10
    low, high = panels[0].get_ylim()
    assert low > 0 and high < 20
    assert any("best: k=2" in t.get_text() for t in panels[0].texts)
    plt.close(fig)
