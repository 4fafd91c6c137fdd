"""
Imputation error against scikit-learn's imputers
================================================

Entries of the standardised wine data are hidden completely at random, and
each imputer fills them. The error is the root mean squared difference from
the hidden values, in standard deviations. EMImputer uses the correlations
between features through its fitted mixture (chosen by overimputation); its
advantage grows with the fraction missing.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.preprocessing import StandardScaler

from sklearn_em import EMImputer

X = StandardScaler().fit_transform(load_wine().data)
fractions = [0.1, 0.2, 0.3, 0.4]
imputers = {
    "EMImputer": lambda: EMImputer(random_state=0),
    "IterativeImputer": lambda: IterativeImputer(random_state=0),
    "KNNImputer": KNNImputer,
    "SimpleImputer": SimpleImputer,
}
errors = {name: [] for name in imputers}
for fraction in fractions:
    mask = np.random.default_rng(0).random(X.shape) < fraction
    holed = np.where(mask, np.nan, X)
    for name, make in imputers.items():
        filled = make().fit_transform(holed)
        errors[name].append(np.sqrt(np.mean((filled[mask] - X[mask]) ** 2)))

fig, ax = plt.subplots(figsize=(6, 4))
for name, values in errors.items():
    ax.plot(fractions, values, marker="o", label=name)
ax.set_xlabel("fraction of entries missing")
ax.set_ylabel("RMSE on the hidden entries")
ax.legend()
fig.tight_layout()
plt.show()
