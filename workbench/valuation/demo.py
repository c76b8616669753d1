"""Demo problems for the valuation tool: bundled scikit-learn data with flipped labels."""

from __future__ import annotations

import dataclasses

import numpy as np

from workbench.core.datasets import flip_labels, load_dataset
from workbench.core.errors import InputError
from workbench.core.params import check_random_state, check_text
from workbench.core.validation import check_probability

__all__ = ["NoisySplit", "noisy_split"]


@dataclasses.dataclass(frozen=True, repr=False)
class NoisySplit:
    """A train/test split whose training labels were partly flipped on purpose.

    Attributes
    ----------
    name : str
        Dataset name.
    X, y : numpy.ndarray
        Standardized training features and their (noisy) labels.
    X_test, y_test : numpy.ndarray
        Standardized test features and clean labels.
    flipped : numpy.ndarray of bool
        Which training labels were flipped.
    y_clean : numpy.ndarray
        The original training labels.
    images : numpy.ndarray or None
        Raw training rows reshaped to images (digits), for display.
    target_names : list of str
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    flipped: np.ndarray
    y_clean: np.ndarray
    images: np.ndarray | None
    target_names: list[str]

    def __repr__(self) -> str:
        return (
            f"NoisySplit(name={self.name!r}, n_train={self.y.size}, n_test={self.y_test.size}, "
            f"n_flipped={int(self.flipped.sum())})"
        )


def noisy_split(
    name: str = "breast_cancer",
    flip_fraction: float = 0.1,
    *,
    test_size: float = 0.25,
    random_state: int | None = 0,
) -> NoisySplit:
    """Load a bundled classification dataset, split it, standardize it, flip training labels.

    Parameters
    ----------
    name : str, default="breast_cancer"
        A classification dataset of :func:`workbench.core.datasets.load_dataset`.
    flip_fraction : float, default=0.1
        Share of training labels changed to another class, in [0, 1).
    test_size : float, default=0.25
        Share of points held out (stratified), in (0, 1).
    random_state : int, optional
        Seed of the split and of the flips, in ``[0, 2**32 - 1]``.

    Returns
    -------
    NoisySplit
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    check_text(name, name="name")
    random_state = check_random_state(random_state)
    check_probability(flip_fraction, name="flip_fraction", open_interval=False)
    if flip_fraction >= 1:
        raise InputError(f"flip_fraction must be < 1, got {flip_fraction}.")
    check_probability(test_size, name="test_size")
    ds = load_dataset(name)
    if ds.task != "classification":
        raise InputError(f"Dataset {name!r} is a regression task; pick a classification dataset.")
    n, n_classes = ds.y.size, np.unique(ds.y).size
    n_test = int(np.ceil(test_size * n))
    if min(n_test, n - n_test) < n_classes:
        raise InputError(
            f"test_size={test_size} puts {n_test} of {n} points in the test set; both sets "
            f"need at least {n_classes} (one per class). Use a value such as 0.25."
        )
    idx = np.arange(ds.y.size)
    tr, te = train_test_split(idx, test_size=test_size, random_state=random_state, stratify=ds.y)
    scaler = StandardScaler().fit(ds.X[tr])
    y = ds.y[tr]
    if flip_fraction > 0:
        y_noisy, flipped = flip_labels(y, flip_fraction, random_state=random_state)
    else:
        y_noisy, flipped = y.copy(), np.zeros(y.size, dtype=bool)
    images = ds.X[tr].reshape(-1, *ds.image_shape) if ds.image_shape else None
    return NoisySplit(
        name=name,
        X=scaler.transform(ds.X[tr]),
        y=y_noisy,
        X_test=scaler.transform(ds.X[te]),
        y_test=ds.y[te],
        flipped=flipped,
        y_clean=y,
        images=images,
        target_names=ds.target_names,
    )
