"""
Choosing k: BIC on the training data against held-out scores
=============================================================

Three ways to score ``k`` on the standardised wine data (178 samples, 13
features, 'full' covariances), each with three seeds:

- BIC on the training data, as :class:`~sklearn_em.GaussianMixtureIC` computes it;
- :func:`~sklearn_em.bic_scorer` inside
  :class:`~sklearn.model_selection.GridSearchCV`, which scores BIC on each
  *held-out* fold of 36 samples;
- the held-out log-likelihood, ``GridSearchCV``'s default scoring.

The held-out BIC pays the full penalty ``p log n`` for every fold's small
likelihood, so it picks one component; the training BIC and the held-out
likelihood both find structure.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from sklearn_em import GaussianMixture, GaussianMixtureIC, bic_scorer

X = StandardScaler().fit_transform(load_wine().data)
ks = np.arange(1, 9)
grid = {"n_components": ks}
panels = {
    "BIC on the training data": [],
    "BIC on held-out folds": [],
    "held-out log-likelihood": [],
}
for seed in range(3):
    folds = KFold(5, shuffle=True, random_state=seed)
    selector = GaussianMixtureIC(n_components=8, random_state=seed).fit(X)
    panels["BIC on the training data"].append(selector.criterion_["bic"])
    held_out_bic = GridSearchCV(
        GaussianMixture(random_state=seed), grid, scoring=bic_scorer, cv=folds
    )
    panels["BIC on held-out folds"].append(-held_out_bic.fit(X).cv_results_["mean_test_score"])
    held_out = GridSearchCV(GaussianMixture(random_state=seed), grid, cv=folds).fit(X)
    panels["held-out log-likelihood"].append(-held_out.cv_results_["mean_test_score"])

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharex=True)
for ax, (title, curves) in zip(axes, panels.items(), strict=True):
    picks = []
    for seed, values in enumerate(curves):
        best = int(np.argmin(values))
        picks.append(ks[best])
        ax.plot(ks, values, marker="o", alpha=0.8, label=f"seed {seed}")
        ax.plot(ks[best], values[best], marker="*", ms=14, color="k")
    ax.set_title(f"{title}\npicks k = {', '.join(map(str, picks))}", fontsize=10)
    ax.set_xlabel("number of components")
axes[0].set_ylabel("lower is better")
axes[2].set_ylabel("minus mean log-likelihood")
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()
