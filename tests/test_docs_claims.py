"""What the README and the "Choosing k" guide say about BIC on wine, checked."""

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from sklearn_em import GaussianMixture, GaussianMixtureIC, bic_scorer


def test_held_out_bic_picks_one_component_where_training_bic_picks_two():
    X = StandardScaler().fit_transform(load_wine().data)
    grid = {"n_components": range(1, 9)}
    folds = KFold(5, shuffle=True, random_state=0)
    held_out = GridSearchCV(GaussianMixture(random_state=0), grid, scoring=bic_scorer, cv=folds)
    assert held_out.fit(X).best_params_ == {"n_components": 1}
    assert GaussianMixtureIC(8, random_state=0).fit(X).best_params_["n_components"] == 2
    likelihood = GridSearchCV(GaussianMixture(random_state=0), grid, cv=folds).fit(X)
    assert likelihood.best_params_["n_components"] in (2, 3)
    # the README's recipe for training-data BIC through GridSearchCV: fit and score on all rows
    everything = np.arange(len(X))
    training = GridSearchCV(
        GaussianMixture(random_state=0), grid, scoring=bic_scorer, cv=[(everything, everything)]
    )
    assert training.fit(X).best_params_ == {"n_components": 2}
