"""
Imputation error against scikit-learn's imputers
================================================

Entries of the standardised wine data (178 samples, 13 features) are hidden
completely at random, and each imputer fills them. The error is the root
mean squared difference from the hidden values, in standard deviations.
Each point is the mean over five random masks, the bar their standard
deviation. EMImputer chooses its mixture by overimputation (its default).

At 10% and 20% missing, the three imputers that use the other features
(EMImputer, IterativeImputer, KNNImputer) lie within one another's spread.
At 30% and 40%, EMImputer's mean error is the lowest of the four, by more
than the spreads. SimpleImputer, which fills column means, stays near 1.
The table under the figure gives the means and standard deviations.
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
seeds = range(5)
imputers = {
    "EMImputer": lambda seed: EMImputer(random_state=seed),
    # enough rounds for its stopping rule to be met at these fractions
    "IterativeImputer": lambda seed: IterativeImputer(max_iter=100, random_state=seed),
    "KNNImputer": lambda seed: KNNImputer(),
    "SimpleImputer": lambda seed: SimpleImputer(),
}
errors = {name: np.empty((len(fractions), len(seeds))) for name in imputers}
for i, fraction in enumerate(fractions):
    for seed in seeds:
        mask = np.random.default_rng(seed).random(X.shape) < fraction
        holed = np.where(mask, np.nan, X)
        for name, make in imputers.items():
            filled = make(seed).fit_transform(holed)
            errors[name][i, seed] = np.sqrt(np.mean((filled[mask] - X[mask]) ** 2))

fig, ax = plt.subplots(figsize=(6, 4))
for offset, (name, values) in zip([-0.006, -0.002, 0.002, 0.006], errors.items(), strict=True):
    ax.errorbar(
        np.add(fractions, offset),
        values.mean(axis=1),
        yerr=values.std(axis=1),
        marker="o",
        capsize=3,
        label=name,
    )
ax.set_xlabel("fraction of entries missing")
ax.set_ylabel("RMSE on the hidden entries (sd units)")
ax.set_xticks(fractions)
ax.legend()
fig.tight_layout()
plt.show()

for name, values in errors.items():
    cells = "  ".join(
        f"{m:.3f}±{s:.3f}" for m, s in zip(values.mean(1), values.std(1), strict=True)
    )
    print(f"{name:17} {cells}")
