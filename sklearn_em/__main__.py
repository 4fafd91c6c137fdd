"""The command line: ``python -m sklearn_em {demo,cluster,impute}``."""

import argparse
import contextlib
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np

from ._table import InputError, read_table, write_tables

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
    """Fit the classic two-Gaussian example as a user would: with default settings.

    Prints the true mixture, scikit-learn's default fit, ours and the maximum
    likelihood estimate (scikit-learn's EM run to tol=1e-10). On this
    overlapping mixture every EM step gains little, so scikit-learn's rule
    (stop when a step gains less than tol) stops far from the optimum; ours
    estimates the gain still to come and stops near it.
    """
    out = sys.stdout if out is None else out
    from sklearn.mixture import GaussianMixture as SklearnMixture

    from . import GaussianMixture

    X = load_two_gaussians()
    theirs = SklearnMixture(n_components=2, random_state=0).fit(X)
    ours = GaussianMixture(n_components=2, random_state=0).fit(X)
    mle = SklearnMixture(n_components=2, random_state=0, tol=1e-10, max_iter=100_000).fit(X)
    fits = [theirs, ours, mle]

    print(
        f"A 2-component mixture fitted to {X.shape[0]} bundled samples of "
        "0.6 N(2, 4^2) + 0.4 N(9, 2^2), with default settings.",
        file=out,
    )
    print(f"{'':12}{'true':>8}{'scikit-learn':>14}{'sklearn-em':>12}{'MLE':>9}", file=out)
    columns = [_sorted_parameters(model) for model in fits]
    for i, (name, truth) in enumerate(zip(("weight", "mean", "std"), TRUE_MIXTURE.values())):
        for k in range(2):
            cells = _cells([column[i][k] for column in columns], ".3f")
            print(f"{name + ' ' + str(k + 1):12}{truth[k]:8.3f}{cells}", file=out)
    print(f"{'mean loglik':12}{'':8}{_cells([m.score(X) for m in fits], '.5f')}", file=out)
    print(f"{'iterations':12}{'':8}{_cells([m.n_iter_ for m in fits], 'd')}", file=out)
    print(
        f"scikit-learn stops {mle.score(X) - theirs.score(X):.1e} below the optimum's mean "
        f"log-likelihood, sklearn-em {max(mle.score(X) - ours.score(X), 0.0):.1e}.",
        file=out,
    )


def _cells(values, fmt):
    """The demo's three fitted columns: scikit-learn, sklearn-em, MLE."""
    return "".join(f"{v:{w}{fmt}}" for v, w in zip(values, (14, 12, 9), strict=True))


def _component_range(text):
    """``"3"`` or ``"1-10"`` as a list of component counts."""
    try:
        low, _, high = text.partition("-")
        low, high = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K or LOW-HIGH, got {text!r}") from None
    if not 1 <= low <= high:
        raise argparse.ArgumentTypeError(f"expected 1 <= LOW <= HIGH, got {text!r}")
    return list(range(low, high + 1))


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def cluster(args):
    """Select k (and the covariance type) by an information criterion; write labels."""
    from . import GaussianMixtureIC

    table = read_table(args.data)
    covariance_type = "all" if args.covariance_type == "auto" else args.covariance_type
    plot = _pyplot() if args.plot else None
    selector = GaussianMixtureIC(
        args.k,
        covariance_type=covariance_type,
        criterion=args.criterion,
        random_state=args.random_state,
        verbose=1,
    )
    _fit_showing_progress(selector, table.values)

    criterion = selector.criterion_
    print(f"{'k':>4}  {'covariance':<10}  {args.criterion:>14}")
    for k, cov, value in zip(
        criterion["n_components"],
        criterion["covariance_type"],
        criterion[args.criterion],
        strict=True,
    ):
        best = "  <- best" if (k, cov) == tuple(selector.best_params_.values()) else ""
        print(f"{k:>4}  {cov:<10}  {value:14.3f}{best}")

    header, rows = ["label"], [[label] for label in selector.labels_]
    if args.proba:
        proba = selector.predict_proba(table.values)
        header += [f"p{k}" for k in range(proba.shape[1])]
        rows = [
            [label, *(repr(float(p)) for p in ps)]
            for label, ps in zip(selector.labels_, proba, strict=True)
        ]
    outputs = {args.output: (header, rows)}
    write_tables(outputs)
    if plot is not None:
        _plot_criterion(plot, criterion, args.criterion, args.plot)


def _fit_showing_progress(estimator, X):
    """Fit with the estimator's progress lines on stderr, then say how long it took."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        estimator.fit(X)
    print(
        f"fitted {type(estimator).__name__} to {X.shape[0]} rows in "
        f"{time.perf_counter() - started:.1f}s ({estimator.n_iter_} iterations of the kept fit)",
        file=sys.stderr,
    )


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install matplotlib") from None
    return plt


def _plot_criterion(plt, criterion, name, path):
    fig, ax = plt.subplots(figsize=(6, 4))
    types = list(dict.fromkeys(criterion["covariance_type"]))
    for cov in types:
        rows = [i for i, c in enumerate(criterion["covariance_type"]) if c == cov]
        ks = [criterion["n_components"][i] for i in rows]
        ax.plot(ks, [criterion[name][i] for i in rows], marker="o", label=cov)
    ax.set_xlabel("number of components")
    ax.set_ylabel(name.upper())
    ax.legend(title="covariance")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def impute(args):
    """Fill the missing cells of a table; with --multiple, write M posterior draws."""
    from . import EMImputer

    table = read_table(args.data)
    missing = np.isnan(table.values)
    imputer = EMImputer(args.n_components, random_state=args.random_state, verbose=1)
    _fit_showing_progress(imputer, table.values)

    if args.multiple:
        seeds = np.random.default_rng(args.random_state).integers(2**31, size=args.multiple)
        output = Path(args.output)
        completed = {
            output.with_name(f"{output.stem}_{m + 1}{output.suffix}"): imputer.set_params(
                sample_posterior=True, random_state=int(seed)
            ).transform(table.values)
            for m, seed in enumerate(seeds)
        }
    else:
        completed = {args.output: imputer.transform(table.values)}
    write_tables(
        {
            path: (table.names, _merge(table.cells, values, missing))
            for path, values in completed.items()
        }
    )
    for path in completed:
        print(f"wrote {path}", file=sys.stderr)


def _merge(cells, values, missing):
    """The original cells, with each missing one replaced by its imputed value."""
    return [
        [repr(float(v)) if gap else cell for cell, v, gap in zip(row, vrow, mrow, strict=True)]
        for row, vrow, mrow in zip(cells, values, missing, strict=True)
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sklearn_em", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="fit the bundled two-Gaussian example")

    clusters = commands.add_parser(
        "cluster",
        help="choose k by BIC and write cluster labels",
        description="Fit Gaussian mixtures for each k (and covariance type), keep the one "
        "with the lowest criterion, print the criterion table and write the labels.",
    )
    clusters.add_argument("data", help="CSV file with a header row; empty cells are missing")
    clusters.add_argument(
        "--k",
        type=_component_range,
        default=list(range(1, 10)),
        help="number of components, K or LOW-HIGH (default 1-9)",
    )
    clusters.add_argument("-o", "--output", required=True, help="CSV file for the labels")
    clusters.add_argument(
        "--covariance-type",
        default="full",
        choices=["full", "tied", "diag", "spherical", "auto"],
        help="'auto' also selects the covariance type (default full)",
    )
    clusters.add_argument("--criterion", default="bic", choices=["bic", "aic"])
    clusters.add_argument(
        "--proba", action="store_true", help="also write each component's probability"
    )
    clusters.add_argument("--plot", metavar="PNG", help="draw the criterion curve (matplotlib)")
    clusters.add_argument("--random-state", type=int, default=0)

    imputes = commands.add_parser(
        "impute",
        help="fill missing cells of a CSV table",
        description="Fit a Gaussian mixture to the observed cells and fill each missing cell "
        "with its conditional expectation (or M posterior draws with --multiple).",
    )
    imputes.add_argument("data", help="CSV file with a header row; empty cells are missing")
    imputes.add_argument("-o", "--output", required=True, help="CSV file for the completed table")
    imputes.add_argument("--n-components", type=_positive, default=1)
    imputes.add_argument(
        "--multiple",
        type=_positive,
        metavar="M",
        help="write M completed copies, OUTPUT_1 ... OUTPUT_M",
    )
    imputes.add_argument("--random-state", type=int, default=0)

    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            demo()
        elif args.command == "cluster":
            cluster(args)
        else:
            impute(args)
    except (InputError, ValueError) as error:
        print(f"error: {error}".splitlines()[0], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
