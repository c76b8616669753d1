"""Train a model on a table: one call from DataFrame to a fitted, scored, registrable Pipeline.

Every model is ``ColumnTransformer(numbers, OneHotEncoder on text) → estimator`` (numbers are
standardized for the linear model and passed through for trees), so it takes one SQL argument per
column, numeric or text.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from workbench.core.errors import InputError, InputTypeError
from workbench.core.parallel import effective_n_jobs
from workbench.core.params import check_number, check_random_state
from workbench.core.results import Result
from workbench.core.validation import (
    check_choice,
    check_classification_target,
    check_columns,
    check_n_jobs,
    check_regression_target,
)
from workbench.indb.checks import check_numeric_columns, check_text_columns

__all__ = ["MAX_CLASSES", "MODEL_TYPES", "TrainResult", "train_model"]

#: Most classes a target may have: a text column of ids is not a target.
MAX_CLASSES = 100
#: Fewest rows to train on.
MIN_ROWS = 20

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
    if pd.api.types.is_bool_dtype(y):
        return "classification"
    if pd.api.types.is_numeric_dtype(y):
        values = y.to_numpy(dtype=np.float64)
        if pd.api.types.is_float_dtype(y) and not np.array_equal(values, np.round(values)):
            return "regression"
        return "classification" if y.nunique() <= 20 else "regression"
    return "classification"


def _check_inputs(
    frame: Any, target: Any, features: Any, model: Any
) -> tuple[pd.DataFrame, pd.Series, str, list[str], list[str]]:
    """Check the table, target and features; return (X, y, task, text columns, numeric ones)."""
    if not isinstance(frame, pd.DataFrame):
        raise InputTypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    if not isinstance(target, str):
        raise InputTypeError(f"target must be a column name (str), got {target!r}.")
    if isinstance(features, str) or not isinstance(features, list | tuple):
        raise InputTypeError("features must be a list of column names.")
    if not all(isinstance(f, str) for f in features):
        raise InputTypeError(f"features must be column names (str), got {list(features)!r}.")
    features = list(features)
    if not features:
        raise InputError("features is empty; choose at least one input column.")
    if len(set(features)) != len(features):
        raise InputError(f"features names a column twice: {features}; list each once.")
    if target in features:
        raise InputError(f"The target {target!r} is also a feature; remove it from features.")
    check_columns([str(c) for c in frame.columns], [target, *features], what="table")
    check_choice(model, MODEL_TYPES, kind="model type")
    if len(frame) < MIN_ROWS:
        raise InputError(
            f"The table has {len(frame)} rows; at least {MIN_ROWS} are needed to train."
        )
    y = frame[target]
    if y.isna().any():
        raise InputError(f"Target {target!r} has {int(y.isna().sum())} NULL value(s); drop them.")
    task = _task_of(y)
    if task == "classification":
        check_classification_target(y, name=f"target {target!r}")
        if y.nunique() > MAX_CLASSES:
            raise InputError(
                f"Target {target!r} has {y.nunique()} distinct values; classification takes at "
                f"most {MAX_CLASSES} classes. Choose a label column, or a numeric target to "
                "regress."
            )
        if pd.api.types.is_numeric_dtype(y):  # 0.0/1.0 or True/False -> 0/1 labels
            y = y.astype(np.int64)
    else:
        y = pd.Series(
            check_regression_target(y.to_numpy(dtype=np.float64), name=f"target {target!r}",
                                    float32=True),
            index=y.index, name=target,
        )
    X = frame[features].copy()
    text, numeric = [], []
    for col in features:
        dtype = X[col].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            numeric.append(col)
            if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # nullable: NA -> NaN
                X[col] = X[col].to_numpy(dtype=np.float64, na_value=np.nan)
        elif pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            text.append(col)
        else:
            raise InputTypeError(
                f"Feature {col!r} has dtype {dtype}; use numeric or text columns (convert dates "
                "to numbers, e.g. days since a reference date)."
            )
    check_text_columns(X, text, name="frame")
    if model != "boosting" and numeric and X[numeric].isna().any().any():
        raise InputError(
            "Numeric features hold NULL/NaN values; drop them or choose model='boosting', "
            "which handles missing values."
        )
    check_numeric_columns(X, numeric, name="frame", allow_nan=model == "boosting")
    return X, y, task, text, numeric


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
        Column to predict, without NULLs. Text columns (at most 100 values) and whole-number
        columns with at most 20 values are classified (as integer labels); other numeric
        columns are regressed.
    features : list of str
        Input columns, numeric or text (text without NULLs). Numbers must be finite and
        within float32 (the stored model reads float32); NaN only with ``model="boosting"``.
    model : {"linear", "tree", "forest", "boosting"}, default="linear"
        See :data:`MODEL_TYPES`.
    test_size : float, default=0.25
        Held-out share, in (0, 1), leaving at least 10 training rows.
    random_state : int, optional
        Seed of the split and of the estimators, in ``[0, 2**32 - 1]``.
    n_jobs : int, optional
        Threads of the forest and of the OpenMP/BLAS pools during fitting; ``None`` means 1
        (or the active ``joblib.parallel_config``), ``-1`` every core.

    Returns
    -------
    TrainResult

    Raises
    ------
    InputTypeError
        If ``frame`` is not a DataFrame, ``features`` is not a list of names, a feature is
        neither numeric nor text, or ``random_state`` is not an integer.
    InputError
        Missing columns, the target among the features, NULL targets, too few rows or
        classes, NaN (except for boosting), infinite or float32-overflowing numbers, a seed
        out of range.
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

    X, y, task, text, numeric = _check_inputs(frame, target, features, model)
    test_size = check_number(
        test_size, name="test_size", low=0, high=1, low_open=True, high_open=True
    )
    random_state = check_random_state(random_state)
    n_jobs = check_n_jobs(n_jobs)
    n_test = math.ceil(test_size * len(X))
    if n_test < 1 or len(X) - n_test < MIN_ROWS // 2:
        raise InputError(
            f"test_size={test_size:g} leaves {len(X) - n_test} training and {n_test} test rows "
            f"of {len(X)}; choose a test_size between 0.1 and 0.5."
        )
    features = list(X.columns)
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
    counts = y.value_counts() if clf else None
    strat = (
        y
        if clf and counts.min() >= 2 and min(n_test, len(X) - n_test) >= len(counts)
        else None
    )
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=strat
    )
    if clf and y_tr.nunique() < 2:
        raise InputError(
            "The training split holds a single class; use more rows, another random_state or "
            "a larger share of the rare class."
        )
    # OpenMP/BLAS pools default to every core; on a busy machine HistGradientBoosting then
    # spins (measured 60 s instead of 0.5 s): use n_jobs threads, 1 unless asked.
    with threadpool_limits(limits=effective_n_jobs(n_jobs)):
        pipe.fit(X_tr, y_tr)
        pred = pipe.predict(X_te)
        proba = pipe.predict_proba(X_te) if clf and y.nunique() == 2 else None
    if clf:
        metrics = {"accuracy": float(accuracy_score(y_te, pred))}
        if y.nunique() == 2 and y_te.nunique() == 2:
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
