"""
Diagnosing an imputation model
==============================

Multiple imputation is only as good as the model that draws the values.
These diagnostics, from :mod:`sklearn_em.diagnostics`, check the model that
:class:`~sklearn_em.EMImputer` chose for the standardised diabetes data with
30% of its entries hidden. Each function returns its data and a figure.
"""

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from sklearn_em import EMImputer, pool_estimates
from sklearn_em.diagnostics import (
    dispersed_starts,
    imputed_densities,
    log_likelihood_trace,
    overimputation,
)

X = StandardScaler().fit_transform(load_diabetes().data)[:, :4]
rng = np.random.default_rng(0)
holed = np.where(rng.random(X.shape) < 0.3, np.nan, X)
imputer = EMImputer(random_state=0).fit(holed)
print(f"chosen: {imputer.n_components_} component(s), {imputer.covariance_type_!r}")

# %%
# EM's trace: the observed-data log-likelihood never decreases.
_ = log_likelihood_trace(imputer)

# %%
# Overimputation: each observed value hidden in turn and imputed from the
# rest of its row, with a 90% interval from posterior draws. Points near the
# diagonal and about 90% inside their intervals mean the model fits.
data, _ = overimputation(imputer, holed, random_state=0)
print("share inside the 90% intervals, per feature:", np.round(data["coverage"], 2))

# %%
# Observed against imputed values, per feature. Here the values are missing
# completely at random, so the two should look alike.
_ = imputed_densities(imputer, holed)

# %%
# Refits from dispersed random starts: when they all end at the same
# log-likelihood there is one optimum. When they spread, as mixtures' fits
# often do, compare the imputer's own fit with the best of them.
data, _ = dispersed_starts(imputer, holed, n_starts=4, random_state=0)
print("final log-likelihoods of the starts:", np.round(data["final"], 3))
print(f"the imputer's fit: {imputer.mixture_.lower_bound_:.3f}")

# %%
# Proper multiple imputation and Rubin's rules: the mean of the first
# feature, with the fraction of missing information.
imputations = imputer.fit_transform_multiple(holed, n_imputations=5)
means = [completed[:, 0].mean() for completed in imputations]
variances = [completed[:, 0].var(ddof=1) / len(completed) for completed in imputations]
pooled = pool_estimates(means, variances)
low, high = pooled.interval(0.95)
print(
    f"mean {pooled.estimate:.3f}, 95% interval [{low:.3f}, {high:.3f}], "
    f"fraction of missing information {pooled.fraction_missing_information:.2f}"
)
