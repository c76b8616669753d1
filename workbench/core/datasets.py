"""Demo datasets that need no download: scikit-learn's bundled tables and small generators.

Tools with domain-specific data (vibration windows, product launches, speech clips) keep their
generators in their own folder; this module holds what several tools share.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from workbench.core.errors import InputError
from workbench.core.validation import check_choice, check_probability

__all__ = ["Dataset", "flip_labels", "list_datasets", "load_dataset"]


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A tabular supervised-learning dataset.

    Attributes
    ----------
    name : str
    X : numpy.ndarray of shape (n_samples, n_features)
    y : numpy.ndarray of shape (n_samples,)
    feature_names : list of str
    target_names : list of str
        Class names (classification) or ``[target]`` (regression).
    task : {"classification", "regression"}
    description : str
        One paragraph on origin and licence.
    image_shape : tuple of int, optional
        Shape of one row viewed as an image (digits: ``(8, 8)``).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_names: list[str]
    task: str
    description: str
    image_shape: tuple[int, int] | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """Features and a ``target`` column as one DataFrame."""
        df = pd.DataFrame(self.X, columns=self.feature_names)
        df["target"] = self.y
        return df

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n_samples={self.X.shape[0]}, "
            f"n_features={self.X.shape[1]}, task={self.task!r})"
        )


def _sklearn(loader_name: str, description: str, image_shape=None) -> Callable[[], Dataset]:
    def load() -> Dataset:
        import sklearn.datasets as skd

        bunch = getattr(skd, loader_name)()
        name = loader_name.removeprefix("load_")
        names = [str(n) for n in getattr(bunch, "feature_names", [])] or [
            f"x{i}" for i in range(bunch.data.shape[1])
        ]
        target_names = [str(t) for t in getattr(bunch, "target_names", ["target"])]
        task = "regression" if bunch.target.dtype.kind == "f" else "classification"
        return Dataset(
            name=name,
            X=np.asarray(bunch.data, dtype=np.float64),
            y=np.asarray(bunch.target),
            feature_names=names,
            target_names=target_names if task == "classification" else ["target"],
            task=task,
            description=description,
            image_shape=image_shape,
        )

    return load


_LOADERS: dict[str, Callable[[], Dataset]] = {
    "breast_cancer": _sklearn(
        "load_breast_cancer",
        "Wisconsin diagnostic breast cancer: 569 tumours, 30 cell-nucleus features, malignant vs "
        "benign (UCI, bundled with scikit-learn, BSD-3).",
    ),
    "digits": _sklearn(
        "load_digits",
        "Handwritten digits: 1,797 images of 8x8 pixels, 10 classes (UCI, bundled with "
        "scikit-learn, BSD-3).",
        image_shape=(8, 8),
    ),
    "wine": _sklearn(
        "load_wine",
        "Wine recognition: 178 wines, 13 chemical features, 3 cultivars (UCI, bundled with "
        "scikit-learn, BSD-3).",
    ),
    "diabetes": _sklearn(
        "load_diabetes",
        "Diabetes progression: 442 patients, 10 standardized features, a regression target "
        "(Efron et al. 2004, bundled with scikit-learn, BSD-3).",
    ),
}


_TASKS = {
    "breast_cancer": "classification",
    "digits": "classification",
    "wine": "classification",
    "diabetes": "regression",
}


def list_datasets(task: str | None = None) -> list[str]:
    """Names accepted by :func:`load_dataset`.

    Parameters
    ----------
    task : {"classification", "regression"}, optional
        Only the datasets of this task.
    """
    if task is None:
        return sorted(_LOADERS)
    check_choice(task, ("classification", "regression"), kind="task")
    return sorted(n for n in _LOADERS if _TASKS[n] == task)


def load_dataset(name: str) -> Dataset:
    """Load a bundled dataset by name (no download).

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.

    Returns
    -------
    Dataset
    """
    check_choice(name, _LOADERS, kind="dataset")
    return _LOADERS[name]()


def flip_labels(
    y: np.ndarray, fraction: float = 0.1, *, random_state: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Assign a different, random class to a fraction of the labels.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (at least two classes).
    fraction : float, default=0.1
        Share of labels to flip, in (0, 1).
    random_state : int, optional
        Seed.

    Returns
    -------
    y_noisy : numpy.ndarray
        Labels with ``round(fraction * n)`` entries changed.
    flipped : numpy.ndarray of bool
        Mask of the changed entries.
    """
    check_probability(fraction, name="fraction")
    y = np.asarray(y)
    classes = np.unique(y)
    if classes.size < 2:
        raise InputError("flip_labels needs at least two classes in y.")
    rng = np.random.default_rng(random_state)
    n_flip = round(fraction * y.size)
    idx = rng.choice(y.size, size=n_flip, replace=False)
    y_noisy = y.copy()
    for i in idx:
        others = classes[classes != y[i]]
        y_noisy[i] = rng.choice(others)
    flipped = np.zeros(y.size, dtype=bool)
    flipped[idx] = True
    return y_noisy, flipped
