"""The command line."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from sklearn_em.__main__ import TRUE_MIXTURE, load_two_gaussians, main


def test_bundled_data_follows_the_true_mixture():
    X = load_two_gaussians()
    assert X.shape == (1000, 1)
    expected_mean = np.dot(TRUE_MIXTURE["weights"], TRUE_MIXTURE["means"])
    assert abs(X.mean() - expected_mean) < 0.5


def test_demo_prints_recovered_parameters(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    rows = {line[:12].strip(): line[12:].split() for line in out.splitlines()[2:10]}
    for name, truth in [("mean 1", 2.0), ("mean 2", 9.0), ("std 1", 4.0), ("std 2", 2.0)]:
        true, sklearns, ours, mle = map(float, rows[name])
        assert true == truth
        assert abs(ours - truth) < 0.5
        assert abs(ours - mle) < 0.05  # the default fit stops near the optimum
    sklearns, ours, mle = map(float, rows["mean loglik"])
    assert abs(ours - mle) < 1e-4
    assert mle - sklearns > 1e-3  # scikit-learn's default stops far from it


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_em", "demo"], capture_output=True, text=True, check=True
    )
    assert "sklearn-em" in result.stdout and "scikit-learn" in result.stdout


def _write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")


def _three_clusters(n=90, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [7.0, 0.0], [0.0, 7.0]])
    return centers[np.arange(n) % 3] + rng.normal(size=(n, 2))


def test_cluster_selects_k_writes_labels_probabilities_and_plot(tmp_path, capsys):
    X = _three_clusters()
    rows = [[f"{a:.5f}", "" if i % 10 == 0 else f"{b:.5f}"] for i, (a, b) in enumerate(X)]
    _write_csv(tmp_path / "data.csv", ["x", "y"], rows)
    out, plot = tmp_path / "labels.csv", tmp_path / "bic.png"
    code = main(
        [
            "cluster",
            str(tmp_path / "data.csv"),
            "--k",
            "1-5",
            "-o",
            str(out),
            "--proba",
            "--plot",
            str(plot),
            "--covariance-type",
            "auto",
        ]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert "<- best" in printed.out
    assert len([line for line in printed.out.splitlines() if "full" in line]) == 5
    assert "iterations" in printed.err  # progress goes to stderr
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    assert header[0] == "label" and len(header) == 1 + 3
    labels = np.array([int(line.split(",")[0]) for line in lines[1:]])
    assert len(labels) == 90
    assert adjusted_rand_score(np.arange(90) % 3, labels) > 0.9
    proba = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_impute_keeps_header_order_and_observed_cells(tmp_path):
    X = _three_clusters()
    rows = [[f"{a:.6f}", f"{b:.6f}", f"{a + b:.6f}"] for a, b in X]
    for i in range(0, 90, 4):
        rows[i][i % 3] = ""
    _write_csv(tmp_path / "in.csv", ["b_col", "a_col", "c_col"], rows)
    out = tmp_path / "out.csv"
    assert main(["impute", str(tmp_path / "in.csv"), "-o", str(out), "--n-components", "3"]) == 0
    lines = [line.split(",") for line in out.read_text().splitlines()]
    assert lines[0] == ["b_col", "a_col", "c_col"]
    for original, written in zip(rows, lines[1:], strict=True):
        for cell, new in zip(original, written, strict=True):
            assert new == cell if cell else np.isfinite(float(new))
    # The third column is the sum of the first two; imputation should know it.
    completed = np.array([[float(v) for v in line] for line in lines[1:]])
    np.testing.assert_allclose(completed[:, 2], completed[:, 0] + completed[:, 1], atol=0.05)


def test_impute_multiple_writes_distinct_draws(tmp_path):
    rows = [
        [f"{a:.6f}", "" if i % 3 == 0 else f"{b:.6f}"]
        for i, (a, b) in enumerate(_three_clusters())
    ]
    _write_csv(tmp_path / "in.csv", ["x", "y"], rows)
    assert (
        main(
            [
                "impute",
                str(tmp_path / "in.csv"),
                "-o",
                str(tmp_path / "out.csv"),
                "--multiple",
                "3",
            ]
        )
        == 0
    )
    copies = [(tmp_path / f"out_{m}.csv").read_text() for m in (1, 2, 3)]
    assert len(set(copies)) == 3
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("", "empty"),
        ("x,y\n", "no data rows"),
        ("x,species\n1,setosa\n2,virginica\n", "column 'species' is not numeric"),
        ("x,y\n1,\n2,\n3,\n", "column(s) 'y' have no observed value"),
        ("x,y\n1,inf\n2,3\n", "finite"),
    ],
)
@pytest.mark.parametrize("command", ["cluster", "impute"])
def test_bad_input_is_one_line_and_exit_2_with_no_output(
    tmp_path, capsys, command, content, message
):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content)
    out = tmp_path / "out.csv"
    assert main([command, str(path), "-o", str(out)]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last
    assert list(tmp_path.iterdir()) == ([path] if content is not None else [])


def test_every_command_has_help(capsys):
    for command in ["demo", "cluster", "impute"]:
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert "usage:" in capsys.readouterr().out
