"""The command line: python -m sklearn_em {demo,cluster,impute}."""

import contextlib
import io
import os
import sys
import time
import warnings
from importlib import resources
from pathlib import Path

import numpy as np

from ._cli_parser import build_parser
from ._criterion_plot import criterion_image, image_format, pyplot
from ._output import STDOUT, check_outputs, columns_writer, completed_writer, write_outputs
from ._table import InputError, import_pandas, open_source, read_table

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
    for i, (name, truth) in enumerate(
        zip(("weight", "mean", "std"), TRUE_MIXTURE.values(), strict=True)
    ):
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


def _say(message):
    print(message, file=sys.stderr)


def _read(args):
    """Read the input table named by ``args``, saying so on stderr."""
    import_pandas()  # before reading standard input, if pandas is missing
    source = open_source(args.data)
    _say(f"reading {source.name} ...")
    started = time.perf_counter()
    table = read_table(
        source,
        sep=args.sep,
        encoding=args.encoding,
        header=not args.no_header,
        id_column=args.id_column,
        columns=args.columns,
        drop=args.drop or (),
    )
    n, d = table.values.shape
    _say(
        f"read {n} rows, {d} feature columns ({table.layout.encoding}, separator "
        f"{table.layout.sep!r}) in {time.perf_counter() - started:.1f}s"
    )
    if n < 2:
        raise InputError(f"{source.name} has {n} data row(s); a mixture needs at least 2.")
    return table


def _fit_options(args):
    return {
        "tol": args.tol,
        "max_iter": args.max_iter,
        "n_init": args.n_init,
        "random_state": args.random_state,
        "prior": None if args.prior == "none" else args.prior,
    }


def cluster(args):
    """Select k (and the covariance type) by an information criterion; write labels."""
    from . import GaussianMixtureIC

    check_outputs([args.output] + ([args.plot] if args.plot else []), [args.data])
    image = image_format(args.plot) if args.plot else None
    plt = pyplot() if args.plot else None
    table = _read(args)
    ks = args.k or list(range(1, min(9, len(table.values)) + 1))
    if table.id_name is not None and table.id_name in ("label", *_proba_names(max(ks))):
        raise InputError(
            f"--id-column {table.id_name!r} has the name of an output column; rename it."
        )
    if max(ks) > len(table.values):
        raise InputError(
            f"--k goes up to {max(ks)} components but {table.source.name} has "
            f"{len(table.values)} rows; lower --k."
        )
    X = table.values
    if args.standardize:
        from sklearn.preprocessing import StandardScaler

        X = StandardScaler().fit_transform(X)
    selector = GaussianMixtureIC(
        ks,
        covariance_type="all" if args.covariance_type == "auto" else args.covariance_type,
        criterion=args.criterion,
        verbose=1,  # a line per candidate: the progress display reads them
        **_fit_options(args),
    )
    n_types = 4 if args.covariance_type == "auto" else 1
    _fit_showing_progress(selector, X, n_fits=n_types * len(ks))
    _print_criterion(selector, args, sys.stderr if args.output == STDOUT else sys.stdout)
    _warn_about_selection(selector, ks, len(X))

    columns = {table.id_name: table.ids} if table.id_name else {}
    columns["label"] = selector.labels_
    if args.proba:
        proba = selector.predict_proba(X).T
        columns.update(zip(_proba_names(len(proba)), proba, strict=True))
    writers = {args.output: columns_writer(table, columns)}
    if plt is not None:
        drawn = criterion_image(
            plt, selector.criterion_, args.criterion, selector.best_params_, image
        )
        writers[args.plot] = lambda f: f.write(drawn)
    write_outputs(writers)
    for path in writers:
        if path != STDOUT:
            _say(f"wrote {path}")


def _proba_names(n_components):
    return [f"p{k}" for k in range(n_components)]


def _print_criterion(selector, args, out):
    criterion = selector.criterion_
    print(f"{'k':>4}  {'covariance':<10}  {args.criterion:>14}", file=out)
    best = tuple(selector.best_params_.values())
    for k, cov, value in zip(
        criterion["n_components"],
        criterion["covariance_type"],
        criterion[args.criterion],
        strict=True,
    ):
        mark = "  <- best" if (k, cov) == best else ""
        print(f"{k:>4}  {cov:<10}  {value:14.3f}{mark}", file=out)


def _warn_about_selection(selector, ks, n_rows):
    # An unconverged chosen fit is GaussianMixtureIC's own ConvergenceWarning,
    # a collapsed one its UserWarning: no advice to widen the range then.
    criterion, best = selector.criterion_, selector.best_params_
    unconverged = criterion["converged"].count(False)
    if unconverged:
        _say(f"warning: {unconverged} of {len(criterion['converged'])} fits did not converge.")
    k = best["n_components"]
    if len(ks) > 1 and k == max(ks) and k >= n_rows:
        _say(f"warning: the best k is {k}, one component per row: too few rows to choose k.")
    elif selector._collapsed:
        _say("warning: --prior conjugate keeps every component's covariance proper.")
    elif len(ks) > 1 and k == max(ks):
        _say(
            f"warning: the best k is the largest tried ({k}); the criterion may fall further. "
            f"Try a wider range, e.g. --k {min(ks)}-{min(2 * k, n_rows)}."
        )
    elif len(ks) > 1 and k == min(ks) > 1:
        _say(f"warning: the best k is the smallest tried ({k}); try a range starting lower.")


class FitProgress(io.TextIOBase):
    """The estimators' progress lines: a bar over the fits on a terminal, the lines otherwise.

    Parameters
    ----------
    stream : text file
        Where to show the progress (standard error).
    n_fits : int
        How many fits print a line starting "k=" (GaussianMixtureIC's candidates); with
        fewer than two, or off a terminal, every line passes through as it is.
    """

    def __init__(self, stream, n_fits):
        self.stream, self.n_fits, self.done, self.pending = stream, n_fits, 0, ""
        self.bar = n_fits > 1 and stream.isatty()

    def writable(self):
        return True

    def write(self, text):
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if not self.bar:
                self.stream.write(line + "\n")
                continue
            self.done += line.startswith("k=")
            filled = 20 * self.done // self.n_fits
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.n_fits} fits"
                f"  {line[:40]:<40}"
            )
        self.stream.flush()
        return len(text)

    def finish(self):
        if self.bar:
            self.stream.write("\n")


def _fit_showing_progress(estimator, X, n_fits=1, fit=None):
    """``fit(X)`` (by default ``estimator.fit``) with the estimator's progress
    on stderr, then say how long it took; returns what ``fit`` returns."""
    started = time.perf_counter()
    progress = FitProgress(sys.stderr, n_fits)
    try:
        with contextlib.redirect_stdout(progress):
            result = (estimator.fit if fit is None else fit)(X)
    finally:
        progress.finish()
    _say(
        f"fitted {type(estimator).__name__} to {X.shape[0]} rows in "
        f"{time.perf_counter() - started:.1f}s ({estimator.n_iter_} iterations of the kept fit)"
    )
    return result


def _imputed_paths(args):
    if not args.multiple:
        return [args.output]
    if args.output == STDOUT:
        raise InputError("--multiple writes M files; give -o a file name, not '-'.")
    output = Path(args.output)
    return [
        str(output.with_name(f"{output.stem}_{m + 1}{output.suffix}"))
        for m in range(args.multiple)
    ]


def impute(args):
    """Fill the missing cells of a table; with --multiple, write M posterior draws."""
    from . import EMImputer

    paths = _imputed_paths(args)
    check_outputs(paths, [args.data])
    table = _read(args)
    imputer = EMImputer(
        args.n_components, covariance_type=args.covariance_type, **_fit_options(args)
    )
    if args.multiple:
        # Proper multiple imputation: each copy draws the model too (a fit each).
        def fit(X):
            return imputer.fit_transform_multiple(X, n_imputations=args.multiple)

        completed = _fit_showing_progress(imputer, table.values, fit=fit)
    else:
        _fit_showing_progress(imputer, table.values)
        completed = [imputer.transform(table.values)]
    write_outputs(
        {
            path: completed_writer(table, values)
            for path, values in zip(paths, completed, strict=True)
        }
    )
    for path in paths:
        if path != STDOUT:
            _say(f"wrote {path}")


def _show_warning(message, category, *_args, **_kwargs):
    hint = " (see --max-iter and --tol)" if category.__name__ == "ConvergenceWarning" else ""
    _say(f"warning: {str(message).splitlines()[0]}{hint}")


def main(argv=None):
    args = build_parser().parse_args(argv)
    commands = {"demo": lambda _: demo(), "cluster": cluster, "impute": impute}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            commands[args.command](args)
    except (InputError, ValueError) as error:
        _say(f"error: {error}".splitlines()[0])
        return 2
    except KeyboardInterrupt:
        _say("interrupted; no output was written.")
        return 130
    except BrokenPipeError:  # the reader of standard output went away (| head, say)
        sys.stdout = open(os.devnull, "w")  # so that the exit flushes nowhere, quietly
        return 1
    except OSError as error:  # a disk full or a file gone while writing
        where = f"{error.filename}: " if error.filename else ""
        _say(f"error: {where}{error.strerror or error}; no output was written.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
