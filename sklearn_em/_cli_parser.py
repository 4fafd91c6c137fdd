"""The command line's arguments: their types, help texts and examples."""

import argparse
import csv
import io
import textwrap

import numpy as np

from . import __version__
from ._table import shorten

MAX_COMPONENTS = 1000


def _component_range(text):
    """``"3"`` or ``"1-10"`` as a list of component counts."""
    try:
        low, _, high = text.partition("-")
        low, high = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K or LOW-HIGH, got {text!r}") from None
    if not 1 <= low <= high:
        raise argparse.ArgumentTypeError(f"expected 1 <= LOW <= HIGH, got {text!r}")
    if high > MAX_COMPONENTS:
        raise argparse.ArgumentTypeError(
            f"expected at most {MAX_COMPONENTS} components, got {shorten(text)!r}"
        )
    return list(range(low, high + 1))


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _names(text):
    """Column names separated by commas; one holding a comma is quoted as in a CSV
    file (``'"height, cm",weight'``)."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        if len(rows) > 1:
            raise csv.Error("a line break outside quotes")
    except csv.Error as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of names ({error}); separate them with commas and "
            "quote a name that holds a comma, a quote or a line break as in CSV: "
            "'\"a, b\",c'"
        ) from None
    return [name for name in (rows[0] if rows else []) if name]


INPUT_HELP = """\
Input: a CSV file, or - for standard input. The separator (one of , ; tab |)
and the encoding (UTF-8, a BOM's, else cp1252 with a warning) are found from
the file unless given. Missing cells are empty or one of pandas' markers (NA,
N/A, NaN, nan, null, NULL, None, #N/A, <NA>, ...). Every row must have one
cell per column.
"""

CLUSTER_EXAMPLES = """\
examples:
  python -m sklearn_em cluster data.csv --k 1-10 -o labels.csv
  python -m sklearn_em cluster data.csv --covariance-type auto --plot bic.png -o labels.csv
  python -m sklearn_em cluster data.csv --id-column name --standardize --proba -o labels.csv
  cat data.csv | python -m sklearn_em cluster - --k 3 -o - > labels.csv
"""

IMPUTE_EXAMPLES = """\
examples:
  python -m sklearn_em impute in.csv -o out.csv
  python -m sklearn_em impute in.csv --n-components 2 --covariance-type tied --tol 1e-2 -o out.csv
  python -m sklearn_em impute in.csv --id-column name --multiple 5 -o out.csv   (out_1.csv ...)
"""


def _add_input_options(parser):
    parser.add_argument("data", help="the CSV file to read, or - for standard input")
    parser.add_argument(
        "--sep", help="the separator, one character (default: found from the file)"
    )
    parser.add_argument("--encoding", help="the file's encoding, e.g. latin-1 (default: found)")
    parser.add_argument(
        "--no-header",
        action="store_true",
        help="the first line is data; columns are then named 1, 2, ...",
    )
    parser.add_argument(
        "--id-column",
        metavar="NAME",
        help="a column copied to the outputs as text, not modelled (e.g. a name or ID)",
    )
    choose = parser.add_mutually_exclusive_group()
    choose.add_argument(
        "--columns",
        type=_names,
        metavar="A,B,...",
        help="model only these columns (quote a name with a comma: '\"a, b\",c')",
    )
    choose.add_argument(
        "--drop",
        type=_names,
        metavar="A,B,...",
        help="do not model these columns (quote a name with a comma: '\"a, b\",c')",
    )


def _add_fit_options(parser, covariance_types, default_covariance):
    parser.add_argument(
        "--covariance-type",
        default=default_covariance,
        choices=covariance_types,
        help=f"shape of each component's covariance (default {default_covariance})"
        + ("; auto tries all four and keeps the best" if "auto" in covariance_types else ""),
    )
    parser.add_argument(
        "--tol",
        type=_positive_float,
        default=1e-3,
        help="stop when the mean log-likelihood gains less than this (default 1e-3)",
    )
    parser.add_argument(
        "--max-iter",
        type=_positive,
        metavar="N",
        default=100,
        help="at most this many EM iterations per fit (default 100)",
    )
    parser.add_argument(
        "--n-init",
        type=_positive,
        metavar="N",
        default=1,
        help="fits from this many starts, the best kept (default 1)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        metavar="SEED",
        default=0,
        help="seed for the starts (and draws); the same seed gives the same output (default 0)",
    )
    parser.add_argument(
        "--prior",
        choices=["none", "conjugate"],
        default="none",
        help="conjugate: MAP EM with mclust's default prior, which keeps components from "
        "collapsing on small or degenerate data (default none: maximum likelihood)",
    )


def _paragraph(text):
    return textwrap.fill(text, 80) + "\n\n"


def build_parser():
    """The argument parser of ``python -m sklearn_em``."""
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_em",
        description="Gaussian mixtures fitted by EM on CSV files, rows with missing cells "
        "included. Each command has --help.",
    )
    parser.add_argument("--version", action="version", version=f"sklearn-em {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "demo",
        help="fit the bundled two-Gaussian example",
        description="Fit 1000 bundled draws of 0.6 N(2, 4^2) + 0.4 N(9, 2^2) and print the "
        "recovered parameters beside the truth and scikit-learn's.",
    )

    formatter = argparse.RawDescriptionHelpFormatter
    clusters = commands.add_parser(
        "cluster",
        help="choose k by BIC and write cluster labels",
        formatter_class=formatter,
        description=_paragraph(
            "Fit a Gaussian mixture for each k (and covariance type), keep the one with the "
            "lowest criterion, print the criterion table and write the labels (after the "
            "--id-column, if given)."
        )
        + INPUT_HELP,
        epilog=CLUSTER_EXAMPLES,
    )
    _add_input_options(clusters)
    clusters.add_argument(
        "-o", "--output", required=True, help="CSV file for the labels, or - for standard output"
    )
    clusters.add_argument(
        "--k",
        type=_component_range,
        default=None,
        metavar="K|LOW-HIGH",
        help="number of components to try, K or LOW-HIGH (default 1-9, at most one per row)",
    )
    _add_fit_options(clusters, ["full", "tied", "diag", "spherical", "auto"], "full")
    clusters.add_argument(
        "--criterion",
        default="bic",
        choices=["bic", "aic"],
        help="information criterion to minimise (default bic)",
    )
    clusters.add_argument(
        "--standardize",
        action="store_true",
        help="scale each column to mean 0 and variance 1 before fitting",
    )
    clusters.add_argument(
        "--proba", action="store_true", help="also write each component's probability"
    )
    clusters.add_argument(
        "--plot",
        metavar="IMAGE",
        help="draw the criterion against k into a .png, .pdf or .svg file (needs matplotlib)",
    )

    imputes = commands.add_parser(
        "impute",
        help="fill missing cells of a CSV table",
        formatter_class=formatter,
        description=_paragraph(
            "Fit a Gaussian mixture to the observed cells and fill each missing cell with its "
            "conditional expectation (or M posterior draws with --multiple). Everything else "
            "in the file is written back as it was."
        )
        + INPUT_HELP,
        epilog=IMPUTE_EXAMPLES,
    )
    _add_input_options(imputes)
    imputes.add_argument(
        "-o",
        "--output",
        required=True,
        help="CSV file for the completed table, or - for standard output",
    )
    imputes.add_argument(
        "--n-components",
        type=_positive,
        default=1,
        metavar="K",
        help="components of the mixture (default 1: one Gaussian)",
    )
    _add_fit_options(imputes, ["full", "tied", "diag", "spherical"], "full")
    imputes.add_argument(
        "--multiple",
        type=_positive,
        metavar="M",
        help="write M completed copies drawn from the posterior, OUTPUT_1 ... OUTPUT_M",
    )
    return parser
