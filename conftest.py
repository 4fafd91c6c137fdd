"""Settings that must precede the first import of scipy."""

import os

# scikit-learn's check_array_api_input runs only with scipy's array API mode
# on; without it the check is skipped rather than passed.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
