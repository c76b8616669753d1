"""Small, fast data for the privacy tests (the audit itself is exercised at full size by the
benchmark and the notebook)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from workbench.core.datasets import load_dataset

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def digits_small() -> tuple[np.ndarray, np.ndarray]:
    """160 digits of classes 0-3: small enough for seconds, leaky enough to measure."""
    data = load_dataset("digits")
    keep = data.y < 4
    return data.X[keep][:160], data.y[keep][:160]


@pytest.fixture(scope="session")
def cancer_small() -> tuple[np.ndarray, np.ndarray]:
    data = load_dataset("breast_cancer")
    return data.X[:120], data.y[:120]
