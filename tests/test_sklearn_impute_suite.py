"""scikit-learn's own imputer tests, run with EMImputer as the imputer under test.

Only the lists of imputers change. EMImputer refuses sparse input (a
Gaussian mixture's covariances are dense), so the sparse test is deselected
and tests/test_impute.py checks the error instead.
"""

from .sklearn_suite import load_suite

IMPUTERS = {
    "def imputers():\n    return [IterativeImputer(tol=0.1), KNNImputer(), SimpleImputer()]\n": (
        "def imputers():\n    return [EMImputer()]\n"
    ),
    "def sparse_imputers():\n    return [SimpleImputer()]\n": (
        "def sparse_imputers():\n    return [EMImputer()]\n"
    ),
    "from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer\n": (
        "from sklearn_em import EMImputer\n"
    ),
}

DESELECTED = {
    "test_imputers_add_indicator_sparse": (
        "EMImputer refuses sparse matrices with a clear error (tested in tests/test_impute.py)"
    ),
}

globals().update(load_suite("impute/tests/test_common.py", IMPUTERS, DESELECTED))
