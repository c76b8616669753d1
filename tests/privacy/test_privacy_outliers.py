import numpy as np
import pytest

from workbench.core.errors import InputError, InputTypeError, UnknownNameError
from workbench.privacy import outlier_scores


def _blobs(rng):
    X = np.r_[rng.normal(0, 1, (60, 3)), rng.normal(6, 1, (60, 3))]
    y = np.r_[np.zeros(60, int), np.ones(60, int)]
    return X, y


def test_isolation_forest_flags_a_planted_outlier():
    rng = np.random.default_rng(0)
    X, _ = _blobs(rng)
    X[5] = [30.0, -30.0, 30.0]
    scores, flags = outlier_scores(X, method="isolation_forest", random_state=0)
    assert np.argmax(scores) == 5
    assert flags[5]
    again, _ = outlier_scores(X, random_state=0)
    assert np.array_equal(scores, again)


def test_class_distance_finds_a_mislabeled_record():
    rng = np.random.default_rng(1)
    X, y = _blobs(rng)
    y[3] = 1  # a class-0 point labelled 1: far from its class, near the other
    scores, flags = outlier_scores(X, y, method="class_distance", n_neighbors=5)
    assert np.argmax(scores) == 3
    assert flags[3]
    assert flags.sum() <= 3


@pytest.mark.parametrize(
    ("kwargs", "exc", "msg"),
    [
        ({"method": "lof"}, UnknownNameError, "Unknown outlier method 'lof'"),
        ({"method": "class_distance"}, InputError, "needs the class labels"),
        ({"method": "class_distance", "y": np.zeros(120)}, InputError, r"1 class\(es\)"),
        ({"method": "class_distance", "y": np.r_[1, np.zeros(119)]}, InputError, "single record"),
        ({"method": "class_distance", "y": np.arange(7) % 2}, InputError, "different numbers"),
        ({"n_neighbors": 0}, InputError, r"n_neighbors must lie in \[1, 10000\]"),
        ({"n_neighbors": 2.5}, InputTypeError, "n_neighbors must be an integer"),
    ],
)
def test_bad_input(kwargs, exc, msg):
    X, _ = _blobs(np.random.default_rng(0))
    with pytest.raises(exc, match=msg):
        outlier_scores(X, **kwargs)


def test_bad_X():
    with pytest.raises(InputError, match="NaN"):
        outlier_scores([[np.nan, 1.0], [0.0, 1.0]])
    with pytest.raises(InputError, match="at least 2"):
        outlier_scores([[0.0, 1.0]])
