"""Shared fixtures of the edge tests: small fitted models and the vibration demo."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from workbench.core.datasets import load_dataset
from workbench.edge import make_vibration_windows, vibration_features


@pytest.fixture(scope="session")
def wine_split():
    ds = load_dataset("wine")
    return train_test_split(ds.X, ds.y, test_size=0.4, random_state=0, stratify=ds.y)


@pytest.fixture(scope="session")
def cancer_split():
    ds = load_dataset("breast_cancer")
    return train_test_split(ds.X, ds.y, test_size=0.3, random_state=0, stratify=ds.y)


@pytest.fixture(scope="session")
def vibration():
    data = make_vibration_windows(60, random_state=1)
    Xq = vibration_features(data.windows, quantize=True)
    n = 160
    return data, Xq[:n], data.y[:n], Xq[n:], data.y[n:], data.windows[n:]


@pytest.fixture(scope="session")
def integer_data():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(600, 4)).astype(float)
    y = ((X[:, 0] + X[:, 1] > 20) ^ (X[:, 2] > 9)).astype(int)
    return X[:400], y[:400], X[400:], y[400:]
