"""Small, fast valuation problems shared by the valuation tests."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from workbench.core.datasets import flip_labels, load_dataset
from workbench.core.progress import silenced


@pytest.fixture(autouse=True)
def _quiet():
    with silenced():
        yield


@pytest.fixture(scope="session")
def noisy_cancer():
    """150 training points of breast_cancer with 10% flipped labels, 100 test points."""
    ds = load_dataset("breast_cancer")
    X, Xt, y, yt = train_test_split(
        ds.X, ds.y, train_size=150, test_size=100, random_state=0, stratify=ds.y
    )
    sc = StandardScaler().fit(X)
    y_noisy, flipped = flip_labels(y, 0.1, random_state=0)
    return sc.transform(X), y_noisy, sc.transform(Xt), yt, flipped


@pytest.fixture(scope="session")
def tiny():
    """6 training points, 2 features, 2 classes: small enough to enumerate every subset."""
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(-1, 0.7, (3, 2)), rng.normal(1, 0.7, (3, 2))])
    y = np.array([0, 0, 1, 1, 1, 0])  # the last two labels are "wrong"
    Xt = np.vstack([rng.normal(-1, 0.7, (10, 2)), rng.normal(1, 0.7, (10, 2))])
    yt = np.array([0] * 10 + [1] * 10)
    return X, y, Xt, yt
