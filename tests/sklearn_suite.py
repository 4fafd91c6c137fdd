"""Load one of the installed scikit-learn's own test files, with its estimator swapped.

A suite is the file's source with a few exact replacements (which estimator
it imports), compiled under the file's own path so that tracebacks point into
scikit-learn's code. Tests named in ``deselected`` are left out, each with its
reason; a replacement or a deselected name the file no longer has is an
error, so that a new scikit-learn release cannot silently test less.
"""

from pathlib import Path

import sklearn


def suite_path(relative):
    """The path of a test file inside the installed scikit-learn."""
    return Path(sklearn.__file__).parent / relative


def load_suite(relative, replacements, deselected):
    """The test functions and fixtures of a scikit-learn test file, rewritten.

    Parameters
    ----------
    relative : str
        The file's path inside the ``sklearn`` package.
    replacements : dict of str to str
        Exact source snippets and what replaces them; each must occur once.
    deselected : dict of str to str
        Test function names left out, and why.

    Returns
    -------
    namespace : dict
        The module's names, without the deselected tests, ready for
        ``globals().update``.
    """
    path = suite_path(relative)
    source = path.read_text(encoding="utf-8")
    for old, new in replacements.items():
        count = source.count(old)
        if count != 1:
            raise AssertionError(f"{path}: expected {old!r} once, found it {count} times.")
        source = source.replace(old, new)
    namespace = {"__name__": f"sklearn_suite.{path.stem}", "__file__": str(path)}
    exec(compile(source, str(path), "exec"), namespace)
    stale = sorted(set(deselected) - set(namespace))
    if stale:
        raise AssertionError(f"{path} has no tests named {stale}: update the deselections.")
    for name in deselected:
        del namespace[name]
    return {name: value for name, value in namespace.items() if not name.startswith("__")}
