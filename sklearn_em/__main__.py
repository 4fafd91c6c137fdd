"""The command line: ``python -m sklearn_em demo``."""

import argparse
import sys
from importlib import resources

import numpy as np

TRUE_MIXTURE = {"weights": (0.6, 0.4), "means": (2.0, 9.0), "stds": (4.0, 2.0)}


def load_two_gaussians():
    """The bundled sample: 1000 draws from 0.6 N(2, 4^2) + 0.4 N(9, 2^2)."""
    with resources.files("sklearn_em").joinpath("data/two_gaussians.csv").open() as f:
        return np.loadtxt(f, delimiter=",", skiprows=1).reshape(-1, 1)


def _sorted_parameters(model):
    order = np.argsort(model.means_[:, 0])
    stds = np.sqrt(model.covariances_.reshape(model.n_components, -1)[:, 0])
    return model.weights_[order], model.means_[order, 0], stds[order]


def demo(out=None):
    """Fit the classic two-Gaussian example and compare with the truth and scikit-learn."""
    out = sys.stdout if out is None else out
    from sklearn.mixture import GaussianMixture as SklearnMixture

    from . import GaussianMixture

    X = load_two_gaussians()
    ours = GaussianMixture(n_components=2, random_state=0, tol=1e-8, max_iter=1000).fit(X)
    theirs = SklearnMixture(n_components=2, random_state=0, tol=1e-8, max_iter=1000).fit(X)

    print(f"Fitted a 2-component mixture to {X.shape[0]} bundled samples.", file=out)
    print(f"{'':12}{'true':>10}{'sklearn-em':>12}{'scikit-learn':>14}", file=out)
    rows = zip(
        ("weight", "mean", "std"),
        TRUE_MIXTURE.values(),
        _sorted_parameters(ours),
        _sorted_parameters(theirs),
        strict=True,
    )
    for name, truth, mine, peer in rows:
        for k in range(2):
            label = f"{name} {k + 1}"
            print(f"{label:12}{truth[k]:10.3f}{mine[k]:12.3f}{peer[k]:14.3f}", file=out)
    print(f"{'mean loglik':12}{'':10}{ours.score(X):12.4f}{theirs.score(X):14.4f}", file=out)
    print(f"{'iterations':12}{'':10}{ours.n_iter_:12d}{theirs.n_iter_:14d}", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sklearn_em", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="fit the bundled two-Gaussian example")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
