"""Training shadow (reference) models on random halves and collecting what the attacks need.

Each model is trained in a worker of :func:`workbench.core.parallel.parallel_map` and sends back
only arrays (probability of the true class, correctness, label-only robustness), never the model.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from workbench.core.errors import ModelError
from workbench.core.parallel import parallel_map

__all__ = [
    "LabelOnlyQueries",
    "ModelOutputs",
    "balanced_membership",
    "pooled_splits",
    "query_model",
    "set_random_state",
    "train_models",
]


@dataclasses.dataclass(frozen=True)
class LabelOnlyQueries:
    """Perturbed queries of the label-only attack: the same noise for every model.

    Parameters
    ----------
    n_queries : int
        Noisy copies of each record.
    noise_scale : float
        Noise standard deviation, as a share of each feature's standard deviation.
    seed : int
        Seed of the noise.
    """

    n_queries: int
    noise_scale: float
    seed: int

    def robustness(self, model: Any, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Share of noisy copies of each record that ``model`` still labels ``y``.

        Parameters
        ----------
        model : fitted classifier
            The model to query.
        X : numpy.ndarray of shape (n_records, n_features)
            The records.
        y : numpy.ndarray of shape (n_records,)
            Their labels.

        Returns
        -------
        numpy.ndarray of shape (n_records,)
        """
        rng = np.random.default_rng(self.seed)
        scale = self.noise_scale * X.std(axis=0)
        noise = rng.standard_normal((self.n_queries, *X.shape)) * scale
        queries = (X[None, :, :] + noise).reshape(-1, X.shape[1])
        pred = np.asarray(model.predict(queries)).reshape(self.n_queries, X.shape[0])
        return (pred == y[None, :]).mean(axis=0)


@dataclasses.dataclass
class ModelOutputs:
    """What the attacks need from a stack of models (rows) on the audit records (columns).

    Attributes
    ----------
    p_true : numpy.ndarray of shape (n_models, n_records) or None
        Probability of the true class (None when no attack needs it).
    correct : numpy.ndarray of bool, shape (n_models, n_records)
        Whether the model's label is right.
    robust : numpy.ndarray of shape (n_models, n_records) or None
        Label-only robustness (None when label-only is not run).
    """

    p_true: np.ndarray | None
    correct: np.ndarray
    robust: np.ndarray | None

    def model(self, k: int) -> dict[str, np.ndarray | None]:
        """Outputs of model ``k`` alone, as :func:`query_model` returns them for one model.

        Parameters
        ----------
        k : int
            Row of the model.

        Returns
        -------
        dict
            ``p_true``, ``robust`` (each None when not collected) and ``correct``, one value per
            record.
        """
        return {
            "p_true": None if self.p_true is None else self.p_true[k],
            "robust": None if self.robust is None else self.robust[k],
            "correct": self.correct[k],
        }

    def models(self, rows: np.ndarray) -> ModelOutputs:
        """Outputs of a subset of the models (e.g. all but the target, as its references).

        Parameters
        ----------
        rows : numpy.ndarray of int
            Rows of the models to keep, in order.

        Returns
        -------
        ModelOutputs
        """
        return ModelOutputs(
            p_true=None if self.p_true is None else self.p_true[rows],
            correct=self.correct[rows],
            robust=None if self.robust is None else self.robust[rows],
        )


def balanced_membership(n_models: int, n_records: int, rng: np.random.Generator) -> np.ndarray:
    """Random training sets where every record is in exactly ``n_models // 2`` of them.

    Balancing (as in Carlini et al.'s LiRA code) guarantees every record both IN and OUT
    reference models, which the per-record Gaussians need.

    Parameters
    ----------
    n_models : int
        Training sets to draw.
    n_records : int
        Records to share among them.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of bool, shape (n_models, n_records)
    """
    rank = rng.random((n_models, n_records)).argsort(axis=0).argsort(axis=0)
    return rank < n_models // 2


def pooled_splits(
    n_records: int, n_models: int, random_state: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Training sets and seeds of the models an audit trains, from ``random_state`` alone.

    :func:`workbench.privacy.audit` calls this, so the same arguments rebuild the exact models
    of an audit (model ``k``: ``clone(estimator)`` with every ``random_state`` set to
    ``seeds[k]``, fitted on the rows where ``members[k]`` holds); benchmarks use that to give
    other tools the same targets.

    Parameters
    ----------
    n_records : int
        Records in the audit.
    n_models : int
        Models (``n_shadows + 1`` in pooled mode, ``n_shadows`` in given mode).
    random_state : int, optional
        Seed.

    Returns
    -------
    members : numpy.ndarray of bool, shape (n_models, n_records)
    seeds : numpy.ndarray of int, shape (n_models,)
    """
    rng = np.random.default_rng(random_state)
    members = balanced_membership(n_models, n_records, rng)
    return members, rng.integers(0, 2**31 - 1, size=n_models)


def set_random_state(estimator: Any, seed: int) -> Any:
    """Set every ``random_state`` parameter (nested ones included) of an estimator to ``seed``.

    Parameters
    ----------
    estimator : estimator
        Changed in place (a clone, in the audit).
    seed : int
        The seed.

    Returns
    -------
    estimator
        ``estimator`` itself.
    """
    params = estimator.get_params(deep=True)
    keys = {k: seed for k in params if k == "random_state" or k.endswith("__random_state")}
    if keys:
        estimator.set_params(**keys)
    return estimator


def query_model(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    need_proba: bool,
    label_only: LabelOnlyQueries | None,
) -> dict[str, np.ndarray | None]:
    """Probability of the true class, correctness and label-only robustness of one model.

    A class the model never saw gets probability 0 (its training half lacked it).

    Parameters
    ----------
    model : fitted classifier
        The model to query.
    X, y : numpy.ndarray
        All audit records and their labels.
    need_proba : bool
        Collect ``predict_proba`` of the true class.
    label_only : LabelOnlyQueries or None
        Collect label-only robustness.

    Returns
    -------
    dict
        ``p_true`` and ``robust`` (None when not collected) and ``correct``, one value per record.
    """
    out: dict[str, np.ndarray | None] = {"p_true": None, "robust": None}
    pred = np.asarray(model.predict(X))
    out["correct"] = pred == y
    if need_proba:
        proba = np.asarray(model.predict_proba(X), dtype=float)
        col = {c: i for i, c in enumerate(np.asarray(model.classes_).tolist())}
        idx = np.array([col.get(v, -1) for v in y.tolist()])
        p = np.where(idx >= 0, proba[np.arange(len(y)), np.maximum(idx, 0)], 0.0)
        out["p_true"] = p
    if label_only is not None:
        out["robust"] = label_only.robustness(model, X, y)
    return out


def _fit_and_query(
    job: tuple[int, np.ndarray, int],
    *,
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    need_proba: bool,
    label_only: LabelOnlyQueries | None,
) -> dict[str, np.ndarray | None]:
    from sklearn.base import clone

    k, mask, seed = job
    model = set_random_state(clone(estimator), seed)
    try:
        model.fit(X[mask], y[mask])
    except Exception as exc:  # a failed fit must not vanish: say which model and why
        raise ModelError(
            f"Training model {k} ({type(estimator).__name__}) on {int(mask.sum())} records "
            f"failed: {type(exc).__name__}: {exc}"
        ) from None
    return query_model(model, X, y, need_proba=need_proba, label_only=label_only)


def train_models(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    members: np.ndarray,
    seeds: np.ndarray,
    *,
    need_proba: bool,
    label_only: LabelOnlyQueries | None,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
    desc: str = "Training shadow models",
) -> ModelOutputs:
    """Train one clone of ``estimator`` per row of ``members`` and query it on all of ``X``.

    Parameters
    ----------
    estimator : estimator
        Template, cloned for each model.
    X, y : numpy.ndarray
        All audit records.
    members : numpy.ndarray of bool, shape (n_models, n_records)
        Training set of each model.
    seeds : numpy.ndarray of int, shape (n_models,)
        ``random_state`` of each model.
    need_proba : bool
        Collect ``predict_proba`` of the true class.
    label_only : LabelOnlyQueries or None
        Collect label-only robustness.
    n_jobs : int, optional
        Parallel workers (joblib convention).
    show_progress : bool, optional
        Force the progress bar on or off.
    desc : str
        Progress-bar label.

    Returns
    -------
    ModelOutputs
    """
    fn = functools.partial(
        _fit_and_query,
        estimator=estimator,
        X=X,
        y=y,
        need_proba=need_proba,
        label_only=label_only,
    )
    jobs = [(k, members[k], int(seeds[k])) for k in range(members.shape[0])]
    outs = parallel_map(fn, jobs, n_jobs=n_jobs, desc=desc, show_progress=show_progress)
    return ModelOutputs(
        p_true=np.vstack([o["p_true"] for o in outs]) if need_proba else None,
        correct=np.vstack([o["correct"] for o in outs]),
        robust=np.vstack([o["robust"] for o in outs]) if label_only is not None else None,
    )
