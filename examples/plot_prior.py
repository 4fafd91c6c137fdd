"""
A prior keeps a component from collapsing
=========================================

Two clusters of 150 points, and four copies of one more point. Fitted with
three components by maximum likelihood, one component settles on the four
copies and shrinks until only ``reg_covar`` holds its variance up: its
density there is a spike, and the likelihood rewards it without bound. With
``prior="conjugate"`` (mclust's conjugate prior) the MAP fit keeps that
component's covariance at a scale drawn from the data, and the other two
components hardly change. The ellipses are two-standard-deviation contours;
the titles give each fit's smallest standard deviation.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

from sklearn_em import GaussianMixture

rng = np.random.default_rng(0)
X = np.vstack(
    [
        rng.normal([0, 0], 1.0, (150, 2)),
        rng.normal([6, 0], 1.0, (150, 2)),
        np.repeat([[3.0, 5.0]], 4, axis=0),
    ]
)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
for ax, prior in zip(axes, [None, "conjugate"], strict=True):
    gm = GaussianMixture(n_components=3, prior=prior, random_state=1).fit(X)
    ax.scatter(X[:, 0], X[:, 1], c=gm.labels_, s=8, cmap="viridis")
    for mean, cov in zip(gm.means_, gm.covariances_, strict=True):
        values, vectors = np.linalg.eigh(cov)
        angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
        # A collapsed ellipse would be invisible: draw it at least a dot wide.
        width, height = np.maximum(2 * 2 * np.sqrt(values[::-1]), 0.05)
        ax.add_patch(Ellipse(mean, width, height, angle=angle, fill=False, lw=2, color="k"))
    smallest = min(np.sqrt(np.linalg.eigvalsh(cov).min()) for cov in gm.covariances_)
    ax.set_title(f"prior={prior!r}: smallest sd {smallest:.2g}")
fig.tight_layout()
plt.show()
