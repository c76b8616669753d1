"""Train a model on a table: one call from DataFrame to a fitted, scored, registrable Pipeline.

Every model is ``ColumnTransformer(numbers, OneHotEncoder on text) → estimator`` (numbers are
standardized for the linear model and passed through for trees), so it takes one SQL argument per
column, numeric or text.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from workbench.core.errors import InputError, InputTypeError
from workbench.core.parallel import effective_n_jobs
from workbench.core.results import Result
from workbench.core.validation import check_choice, check_columns, check_n_jobs, check_probability

__all__ = ["MODEL_TYPES", "TrainResult", "train_model"]

MODEL_TYPES = {
    "linear": "LogisticRegression (classification) or Ridge (regression); compiles to SQL",
    "tree": "a depth-6 decision tree; compiles to SQL",
    "forest": "10 trees of depth 6; compiles to SQL while under the node budget",
    "boosting": "HistGradientBoosting, 100 iterations; SQL function only",
}


@dataclasses.dataclass(repr=False)
class TrainResult(Result):
    """A fitted Pipeline with its held-out metrics.

    Attributes
    ----------
    model : sklearn.pipeline.Pipeline
        The fitted pipeline.
    task : {"classification", "regression"}
    features : list of str
    target : str
    metrics : dict of str to float
        Held-out accuracy and ROC AUC (binary), or R² and MAE.
    n_train, n_test : int
    X_sample : pandas.DataFrame
        Training rows to pass to ``ModelStore.register`` as the parity sample.
    """

    model: Any
    task: str
    features: list[str]
    target: str
    metrics: dict[str, float]
    n_train: int
    n_test: int
    _X_sample: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    @property
    def X_sample(self) -> pd.DataFrame:
        """Training rows for the parity check of ``ModelStore.register``."""
        return self._X_sample

    def summary(self) -> dict[str, Any]:
        """Task, sizes and held-out metrics."""
        return {"task": self.task, "n_train": self.n_train, "n_test": self.n_test, **self.metrics}

    def to_frame(self) -> pd.DataFrame:
        """Metrics as a table."""
        return pd.DataFrame({"metric": list(self.metrics), "value": list(self.metrics.values())})


def _task_of(y: pd.Series) -> str:
    if pd.api.types.is_float_dtype(y) and y.nunique() > 20:
        return "regression"
    if pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
        return "classification" if y.nunique() <= 20 else "regression"
    return "classification"


def train_model(
    frame: pd.DataFrame,
    target: str,
    features: list[str],
    model: str = "linear",
    *,
    test_size: float = 0.25,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> TrainResult:
    """Fit a preprocessing + estimator Pipeline on a table and score it on held-out rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table (e.g. ``store.con.table("customers").df()``).
    target : str
        Column to predict. Integer or text columns with at most 20 values are classified,
        other numeric columns regressed.
    features : list of str
        Input columns, numeric or text.
    model : {"linear", "tree", "forest", "boosting"}, default="linear"
        See :data:`MODEL_TYPES`.
    test_size : float, default=0.25
        Held-out share, in (0, 1).
    random_state : int, optional
        Seed of the split and of the estimators.
    n_jobs : int, optional
        Threads of the forest and of the OpenMP/BLAS pools during fitting; ``None`` means 1
        (or the active ``joblib.parallel_config``), ``-1`` every core.

    Returns
    -------
    TrainResult

    Raises
    ------
    InputTypeError
        If ``frame`` is not a DataFrame or ``features`` is not a list of names.
    InputError
        Missing columns, the target among the features, NULL targets or too few rows.
    UnknownNameError
        Unknown ``model``.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if not isinstance(frame, pd.DataFrame):
        raise InputTypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    if isinstance(features, str) or not isinstance(features, list | tuple):
        raise InputTypeError("features must be a list of column names.")
    features = [str(f) for f in features]
    if not features:
        raise InputError("features is empty; choose at least one input column.")
    if target in features:
        raise InputError(f"The target {target!r} is also a feature; remove it from features.")
    check_columns([str(c) for c in frame.columns], [target, *features], what="table")
    check_choice(model, MODEL_TYPES, kind="model type")
    check_probability(test_size, name="test_size")
    n_jobs = check_n_jobs(n_jobs)
    y = frame[target]
    if y.isna().any():
        raise InputError(f"Target {target!r} has {int(y.isna().sum())} NULL value(s); drop them.")
    if len(frame) < 20:
        raise InputError(f"The table has {len(frame)} rows; at least 20 are needed to train.")
    task = _task_of(y)
    X = frame[features]
    text = [c for c in features if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in features if c not in text]
    if model != "boosting" and numeric and X[numeric].isna().any().any():
        raise InputError(
            "Numeric features hold NULL/NaN values; drop them or choose model='boosting', "
            "which handles missing values."
        )
    pre = ColumnTransformer(
        [
            # Trees need no scaling, and float32 scaling in ONNX can move a value across a
            # threshold that sits one float32 step away (measured: 0.02 probability change).
            ("num", StandardScaler() if model == "linear" else "passthrough", numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), text),
        ],
        remainder="drop",
    )
    clf = task == "classification"
    rs = random_state
    est = {
        "linear": lambda: LogisticRegression(max_iter=1000) if clf else Ridge(),
        "tree": lambda: (DecisionTreeClassifier if clf else DecisionTreeRegressor)(
            max_depth=6, random_state=rs
        ),
        "forest": lambda: (RandomForestClassifier if clf else RandomForestRegressor)(
            n_estimators=10, max_depth=6, random_state=rs, n_jobs=n_jobs
        ),
        "boosting": lambda: (
            HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
        )(max_iter=100, random_state=rs),
    }[model]()
    pipe = Pipeline([("prepare", pre), ("model", est)])
    strat = y if clf and y.value_counts().min() >= 2 else None
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=strat
    )
    # OpenMP/BLAS pools default to every core; on a busy machine HistGradientBoosting then
    # spins (measured 60 s instead of 0.5 s): use n_jobs threads, 1 unless asked.
    with threadpool_limits(limits=effective_n_jobs(n_jobs)):
        pipe.fit(X_tr, y_tr)
        pred = pipe.predict(X_te)
        proba = pipe.predict_proba(X_te) if clf and y.nunique() == 2 else None
    if clf:
        metrics = {"accuracy": float(accuracy_score(y_te, pred))}
        if y.nunique() == 2:
            metrics["roc_auc"] = float(roc_auc_score(y_te, proba[:, 1]))
    else:
        metrics = {
            "r2": float(r2_score(y_te, pred)),
            "mae": float(mean_absolute_error(y_te, pred)),
        }
    return TrainResult(
        model=pipe,
        task=task,
        features=features,
        target=target,
        metrics={k: round(v, 4) for k, v in metrics.items()},
        n_train=len(X_tr),
        n_test=len(X_te),
        _X_sample=X_tr.iloc[: min(len(X_tr), 2000)].reset_index(drop=True),
    )
