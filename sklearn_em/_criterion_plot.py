"""The command line's --plot: the criterion against k, one panel per covariance type."""

import io
from pathlib import Path

from ._table import InputError

# The image formats --plot writes, named by the file's extension.
IMAGE_FORMATS = ("png", "pdf", "svg")


def image_format(path):
    """The format --plot writes ``path`` in, from its extension; an InputError for another."""
    if str(path) == "-":
        raise InputError(
            "--plot cannot write to standard output (the labels may); name a .png, .pdf "
            "or .svg file."
        )
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in IMAGE_FORMATS:
        raise InputError(
            f"--plot {path}: the image's format follows its name; end it in "
            f"{', '.join('.' + name for name in IMAGE_FORMATS)}."
        )
    return suffix


def pyplot():
    """matplotlib's pyplot on the Agg backend, or an InputError saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install matplotlib") from None
    return plt


def criterion_image(plt, criterion, name, best, image="png", keep=None):
    """The bytes of the criterion curves in format ``image``, the chosen model marked.

    Each covariance type gets its own panel and y scale, so a type whose values lie far
    from the others (often 'spherical') does not flatten them. ``keep``, a list, receives
    the figure open instead of closed (for a test to look at).
    """
    types = list(dict.fromkeys(criterion["covariance_type"]))
    fig, axes = plt.subplots(
        1, len(types), figsize=(3.2 * len(types) + 1, 3.6), sharex=True, squeeze=False
    )
    for ax, cov in zip(axes[0], types, strict=True):
        rows = [i for i, c in enumerate(criterion["covariance_type"]) if c == cov]
        ks = [criterion["n_components"][i] for i in rows]
        values = [criterion[name][i] for i in rows]
        ax.plot(ks, values, marker="o", color="tab:blue")
        if cov == best["covariance_type"]:
            k = best["n_components"]
            ax.plot([k], [values[ks.index(k)]], marker="*", ms=16, color="tab:red", ls="")
            ax.annotate(
                f"best: k={k}",
                (k, values[ks.index(k)]),
                xytext=(0, 12),
                textcoords="offset points",
                ha="center",
                color="tab:red",
            )
        lowest = min(range(len(ks)), key=values.__getitem__)
        ax.set_title(f"{cov}\nlowest {values[lowest]:.6g} at k={ks[lowest]}", fontsize=10)
        ax.set_xlabel("number of components")
        ax.set_xticks(ks if len(ks) <= 12 else ks[:: max(1, len(ks) // 10)])
        ax.margins(y=0.15)
    axes[0][0].set_ylabel(f"{name.upper()} (lower is better)")
    fig.suptitle(
        f"{name.upper()} by number of components; best: k={best['n_components']}, "
        f"{best['covariance_type']}"
    )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=image, dpi=100)
    if keep is None:
        plt.close(fig)
    else:
        keep.append(fig)
    return buffer.getvalue()
