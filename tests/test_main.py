"""The command line."""

import subprocess
import sys

import numpy as np

from sklearn_em.__main__ import TRUE_MIXTURE, load_two_gaussians, main


def test_bundled_data_follows_the_true_mixture():
    X = load_two_gaussians()
    assert X.shape == (1000, 1)
    expected_mean = np.dot(TRUE_MIXTURE["weights"], TRUE_MIXTURE["means"])
    assert abs(X.mean() - expected_mean) < 0.5


def test_demo_prints_recovered_parameters(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    rows = {line[:12].strip(): line[12:].split() for line in out.splitlines()[2:8]}
    for name, truth in [("mean 1", 2.0), ("mean 2", 9.0), ("std 1", 4.0), ("std 2", 2.0)]:
        true, ours, sklearns = map(float, rows[name])
        assert true == truth
        assert abs(ours - truth) < 0.5
        assert abs(ours - sklearns) < 1e-3


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_em", "demo"], capture_output=True, text=True, check=True
    )
    assert "sklearn-em" in result.stdout and "scikit-learn" in result.stdout
