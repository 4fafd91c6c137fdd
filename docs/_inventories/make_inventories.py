"""Write Sphinx inventories of scikit-learn, numpy and pandas from the installed packages.

The docs are built where only package registries are reachable, so intersphinx cannot fetch
the projects' own ``objects.inv``. This script writes stand-ins: every public class, function
and method of the modules below, each pointed at the page where the project's documentation
keeps it (their URL patterns). Run it when those packages change much::

    python docs/_inventories/make_inventories.py
"""

import importlib
import inspect
import zlib
from pathlib import Path

HERE = Path(__file__).parent

PROJECTS = {
    "sklearn": {
        "project": "scikit-learn",
        "modules": [
            "sklearn",
            "sklearn.base",
            "sklearn.cluster",
            "sklearn.compose",
            "sklearn.datasets",
            "sklearn.decomposition",
            "sklearn.exceptions",
            "sklearn.impute",
            "sklearn.metrics",
            "sklearn.mixture",
            "sklearn.model_selection",
            "sklearn.pipeline",
            "sklearn.preprocessing",
            "sklearn.utils",
        ],
        "page": "modules/generated/{owner}.html",
    },
    "numpy": {
        "project": "NumPy",
        "modules": ["numpy", "numpy.linalg", "numpy.random"],
        "page": "reference/generated/{name}.html",
    },
    "pandas": {
        "project": "pandas",
        "modules": ["pandas"],
        "page": "reference/api/{name}.html",
    },
    "python": {"project": "Python", "modules": [], "page": "", "version": "3"},
}


# Targets numpydoc's default type aliases ("array-like", "bool", ...) point at.
EXTRA = {
    "numpy": [("array_like", "std:term", "glossary.html#term-array_like")],
    "python": [
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#boolean-values"),
        *(
            (name, "py:class", f"library/functions.html#{name}")
            for name in ["bool", "int", "float", "str", "dict", "list", "tuple", "object"]
        ),
        ("None", "py:data", "library/constants.html#None"),
    ],
}


def entries(package, spec):
    """(name, role, page) for each public object of the project's modules."""
    seen = set()
    for module_name in spec["modules"]:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if n[0] != "_"]
        for attribute in names:
            try:
                obj = getattr(module, attribute, None)
            except ImportError:  # experimental names that need an explicit enable
                continue
            name = f"{module_name}.{attribute}"
            if obj is None or name in seen or inspect.ismodule(obj):
                continue
            seen.add(name)
            if inspect.isclass(obj):
                yield name, "class", spec["page"].format(name=name, owner=name)
                for method, member in vars(obj).items():
                    if method[0] != "_" and callable(member):
                        full = f"{name}.{method}"
                        page = name if package == "sklearn" else full
                        yield full, "method", spec["page"].format(name=page, owner=name)
            elif callable(obj):
                yield name, "function", spec["page"].format(name=name, owner=name)


def write(package, spec):
    version = importlib.import_module(package).__version__ if spec["modules"] else spec["version"]
    lines = [
        f"{name} py:{role} 1 {page}#$ -"
        for name, role, page in sorted(set(entries(package, spec)))
    ]
    lines += [f"{name} {role} -1 {uri} -" for name, role, uri in EXTRA.get(package, [])]
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {spec['project']}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = zlib.compress(("\n".join(lines) + "\n").encode())
    (HERE / f"{package}.inv").write_bytes(header.encode() + body)
    print(f"{package}.inv: {len(lines)} objects of {spec['project']} {version}")


if __name__ == "__main__":
    # scikit-learn's experimental estimators are public once enabled
    importlib.import_module("sklearn.experimental.enable_iterative_imputer")
    importlib.import_module("sklearn.experimental.enable_halving_search_cv")
    for package, spec in PROJECTS.items():
        write(package, spec)
