"""Per-feature contributions of a model's margin, in Python and as SQL (``<name>_explain``).

The margin is the model's output before its last link: log-odds for boosted and linear
classifiers (one per class for 3+ classes), the raw score of a regressor (before ``exp`` for
Poisson/Gamma losses), the class probability for forests and single trees (their own output).
For every row, ``base_value + sum(contributions) == output`` (local accuracy).

- **Linear models** (after per-column scalers and one-hot encoders): exact, on the raw columns.
  A numeric column contributes ``w * (x - mean)``, where ``w`` is the model's coefficient
  carried back through the scalers and ``mean`` the column's mean over the background rows; a
  text column contributes its category's coefficient minus that coefficient's background mean.
  These are the SHAP values of a linear model with independent features.
- **Trees** (decision trees, forests, GradientBoosting, HistGradientBoosting without categorical
  splits): TreeSHAP (path-dependent) from the ``shap`` library, run on the exact trees that
  :mod:`workbench.indb.sql_trees` compiles, so NaN follows the model's ``missing_go_to_left``.

An :class:`Explainer` is plain numbers (:meth:`Explainer.to_dict` is JSON), so a store can keep it
next to the model and re-create the SQL function after reopening the database, without pickle.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_random_state, check_size
from workbench.core.results import Result
from workbench.core.validation import check_estimator
from workbench.indb.explain_model import decode_threshold, explainer_spec
from workbench.indb.explain_terms import transform_with_terms

__all__ = ["Explainer", "Explanation", "make_explainer", "register_explain"]

#: Background rows kept at most (means and category frequencies of the linear explainer).
MAX_BACKGROUND = 100_000


@dataclass(repr=False)
class Explanation(Result):
    """Contributions of every feature to the margin of each row.

    Attributes
    ----------
    features : list of str
    values : ndarray of shape (n_rows, n_features) or (n_rows, n_features, n_classes)
    base_value : float or ndarray of shape (n_classes,)
        Expected margin over the background (linear) or the training data (trees).
    output : ndarray of shape (n_rows,) or (n_rows, n_classes)
        ``base_value + values.sum(axis=1)``: the model's margin.
    margin : str
        What the margin is, in words.
    classes : list, optional
        Class labels, one per output, for 3+ classes.
    """

    features: list[str]
    values: np.ndarray
    base_value: float | np.ndarray
    output: np.ndarray
    margin: str
    classes: list[Any] | None = None

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Contributions to the {self.margin}"

    def summary(self) -> dict[str, Any]:
        """Rows, margin and base value."""
        return {"rows": int(self.values.shape[0]), "margin": self.margin,
                "base_value": np.asarray(self.base_value).tolist()}

    def to_frame(self) -> pd.DataFrame:
        """One row per (row, feature[, class]): columns row, feature, (class,) contribution."""
        v = self.values
        rows, feats = np.meshgrid(np.arange(v.shape[0]), self.features, indexing="ij")
        if v.ndim == 2:
            return pd.DataFrame({"row": rows.ravel(), "feature": feats.ravel(),
                                 "contribution": v.ravel()})
        k = v.shape[2]
        return pd.DataFrame({
            "row": np.repeat(rows.ravel(), k), "feature": np.repeat(feats.ravel(), k),
            "class": np.tile(np.asarray(self.classes, dtype=object), rows.size),
            "contribution": v.ravel(),
        })


class Explainer:
    """Contributions of one fitted model, kept as plain numbers (see the module docstring).

    Parameters
    ----------
    spec : dict
        What :meth:`to_dict` returns (build one with :func:`make_explainer`).

    Attributes
    ----------
    features : list of str
        Input columns, in the model's order.
    kinds : list of {"numeric", "string"}
    kind : {"linear", "trees"}
    margin : str
    classes : list or None
        Class labels for 3+ classes (one output each), else None.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        if not isinstance(spec, dict) or spec.get("kind") not in ("linear", "trees"):
            raise InputTypeError("spec must be the dict of Explainer.to_dict().")
        keys = {"features", "kinds", "margin", "terms"} | (
            {"base", "parts"} if spec["kind"] == "linear" else {"base_offset", "trees"})
        missing = sorted(keys - set(spec))
        if missing or len(spec["features"]) != len(spec["kinds"]):
            raise InputError(f"spec is not a whole explainer (missing {missing}); build it with "
                             "make_explainer or Explainer.to_dict().")
        self.spec = spec
        self.features = list(spec["features"])
        self.kinds = list(spec["kinds"])
        self.kind = spec["kind"]
        self.margin = spec["margin"]
        self.classes = spec.get("classes")
        self._shap: Any = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """The explainer as JSON-safe data (``json.dumps`` works on it)."""
        return self.spec

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Explainer:
        """Inverse of :meth:`to_dict`."""
        return cls(spec)

    @property
    def sql_type(self) -> str:
        """Return type of the SQL function ``<name>_explain``."""
        v = "DOUBLE[]" if self.classes else "DOUBLE"
        return f"STRUCT(base_value {v}, output {v}, contributions MAP(VARCHAR, {v}))"

    # ------------------------------------------------------------------ computing
    def _tree_explainer(self) -> Any:
        if self._shap is None:
            with self._lock:
                if self._shap is None:
                    self._shap = _shap_explainer(self.spec)
        return self._shap

    def _values(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(values (n, F, K), base (K,)) for rows of raw columns."""
        spec = self.spec
        n_out = len(spec["base"]) if self.kind == "linear" else len(spec["base_offset"])
        if self.kind == "linear":
            out = np.zeros((len(X), len(self.features), n_out))
            for j, name in enumerate(self.features):
                col = X[name].to_numpy()
                part = spec["parts"][j]
                if part["weight"] is not None:
                    x = np.asarray(col, dtype=np.float64)
                    out[:, j, :] = np.outer(x - part["center"], part["weight"])
                if part["categories"] is not None:
                    table = {_key(c): v for c, v in part["categories"]}
                    unknown = np.asarray(part["unknown"])
                    out[:, j, :] += np.asarray(
                        [table.get(_key(c), unknown) for c in col], dtype=np.float64
                    ).reshape(len(X), n_out)
            return out, np.asarray(spec["base"], dtype=np.float64)
        Z = transform_with_terms(spec["terms"], X, self.features)
        explainer = self._tree_explainer()
        phi = np.asarray(explainer.shap_values(Z, check_additivity=False), dtype=np.float64)
        phi = phi.reshape(len(X), Z.shape[1], -1)
        out = np.zeros((len(X), len(self.features), phi.shape[2]))
        for i, term in enumerate(spec["terms"]):
            out[:, term[1], :] += phi[:, i, :]
        base = np.asarray(explainer.expected_value, dtype=np.float64).reshape(-1)
        return out, base

    def explain(self, X: pd.DataFrame) -> Explanation:
        """Contributions of each feature for each row of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            Rows holding the model's columns (numbers may be NaN for trees).

        Returns
        -------
        Explanation

        Raises
        ------
        InputTypeError
            If ``X`` is not a DataFrame.
        InputError
            If a column is missing.
        """
        if not isinstance(X, pd.DataFrame):
            raise InputTypeError(f"X must be a pandas DataFrame, got {type(X).__name__}.")
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise InputError(f"X lacks the model's column(s) {missing}.")
        values, base = self._values(X)
        output = base + values.sum(axis=1)
        if not self.classes:
            values, base, output = values[:, :, 0], base[0], output[:, 0]
        base_value = float(base) if np.ndim(base) == 0 else base
        return Explanation(list(self.features), values, base_value, output, self.margin,
                           self.classes)

    # ------------------------------------------------------------------ SQL
    def batch(self, *arrays: Any) -> Any:
        """Explain one DuckDB batch (pyarrow arrays, one per feature); a pyarrow struct array."""
        import pyarrow as pa

        cols = {}
        for name, arr in zip(self.features, arrays, strict=True):
            a = arr.combine_chunks() if hasattr(arr, "combine_chunks") else arr
            cols[name] = a.to_numpy(zero_copy_only=False)
        X = pd.DataFrame(cols)
        values, base = self._values(X)
        n, n_feat, k = values.shape
        output = base + values.sum(axis=1)
        many = bool(self.classes)

        def col(v: np.ndarray) -> Any:  # (m, k) -> DOUBLE[] per row, or DOUBLE
            if not many:
                return pa.array(v[:, 0])
            return pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), k).cast(
                pa.list_(pa.float64()))

        keys = pa.array(np.tile(np.asarray(self.features, dtype=object), n), type=pa.string())
        items = col(values.reshape(n * n_feat, k))
        offsets = pa.array(np.arange(0, (n + 1) * n_feat, n_feat, dtype=np.int32))
        contributions = pa.MapArray.from_arrays(offsets, keys, items)
        return pa.StructArray.from_arrays(
            [col(np.tile(base, (n, 1))), col(output), contributions],
            names=["base_value", "output", "contributions"],
        )

    def function(self) -> tuple[Any, list[str], str]:
        """What ``con.create_function`` needs to make this explainer an SQL function.

        Returns
        -------
        udf : callable
            An Arrow UDF with one named parameter per feature.
        arg_types : list of str
            ``DOUBLE`` or ``VARCHAR`` per feature, in order.
        return_type : str
            :attr:`sql_type`.

        Examples
        --------
        >>> udf, args, ret = explainer.function()                     # doctest: +SKIP
        >>> con.create_function("churn_v2_explain", udf, args, ret, type="arrow")  # doctest: +SKIP
        """
        params = ", ".join(f"a{i}" for i in range(len(self.features)))
        namespace: dict[str, Any] = {"_batch": self.batch}
        # The source holds only generated parameter names (a0, a1, ...), never user text.
        exec(f"def udf({params}):\n    return _batch({params})\n", namespace)
        types = ["DOUBLE" if k == "numeric" else "VARCHAR" for k in self.kinds]
        return namespace["udf"], types, self.sql_type

    def register(self, con: Any, name: str) -> str:
        """Create the SQL function ``<name>_explain(<features>)`` on a DuckDB connection.

        Parameters
        ----------
        con : duckdb.DuckDBPyConnection
        name : str
            Model name (lowercase letters, digits and ``_``).

        Returns
        -------
        str
            The function name.

        Raises
        ------
        InputError
            If ``name`` is not a model name, or a function of that name exists.
        """
        from workbench.indb.checks import check_model_name

        fname = f"{check_model_name(name)}_explain"
        existing = {r[0] for r in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()}
        if fname in existing:
            raise InputError(f"An SQL function named {fname!r} exists already; drop it first.")
        udf, types, ret = self.function()
        con.create_function(fname, udf, types, ret, type="arrow", side_effects=False)
        return fname


def _key(value: Any) -> Any:
    """Category lookup key: numbers by value (1 == 1.0), text as text."""
    if isinstance(value, bool | np.bool_):
        return value
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return value


def _shap_explainer(spec: dict[str, Any]) -> Any:
    try:
        import shap
    except ImportError as exc:  # pragma: no cover - shap is a dependency
        from workbench.core.errors import DependencyError

        raise DependencyError(
            "Explaining trees needs the shap package: pip install 'shap>=0.51'."
        ) from exc
    trees = []
    for t in spec["trees"]:
        trees.append({
            "children_left": np.asarray(t["children_left"], dtype=np.int32),
            "children_right": np.asarray(t["children_right"], dtype=np.int32),
            "children_default": np.asarray(t["children_default"], dtype=np.int32),
            "features": np.asarray(t["features"], dtype=np.int32),
            "thresholds": decode_threshold(t["thresholds"]),
            "values": np.asarray(t["values"], dtype=np.float64),
            "node_sample_weight": np.asarray(t["node_sample_weight"], dtype=np.float64),
        })
    model = {"trees": trees, "base_offset": np.asarray(spec["base_offset"], dtype=np.float64),
             "tree_output": "raw_value", "input_dtype": np.float64,
             "internal_dtype": np.float64}
    return shap.TreeExplainer(model)


def make_explainer(
    model: Any,
    X: pd.DataFrame,
    *,
    max_background: int = 1000,
    random_state: int | None = 0,
) -> Explainer:
    """Build the explainer of a fitted model.

    Parameters
    ----------
    model : estimator
        Fitted linear model or tree model, or a Pipeline of per-column scalers/encoders ending
        in one (see the module docstring).
    X : pandas.DataFrame
        Background rows like the training data: the model's columns; their means and
        category frequencies define the linear base value.
    max_background : int, default=1000
        Rows of ``X`` used (sampled with ``random_state``), at most 100,000.
    random_state : int, optional

    Returns
    -------
    Explainer

    Raises
    ------
    InputTypeError, InputError, NotFittedError
        Bad model or rows.
    ModelError
        If the model or a step is not explained (the message lists what is).
    """
    from workbench.indb.checks import check_numeric_columns, check_text_columns
    from workbench.indb.features import NUMERIC, features_from_frame

    check_estimator(model, methods=("predict",), fitted=True)
    max_background = check_size(max_background, name="max_background", high=MAX_BACKGROUND)
    random_state = check_random_state(random_state)
    features = features_from_frame(model, X)
    names = [f.name for f in features]
    check_text_columns(X, [f.name for f in features if f.kind != NUMERIC], name="X")
    check_numeric_columns(X, [f.name for f in features if f.kind == NUMERIC], name="X",
                          allow_nan=True)
    sample = X[names]
    if len(sample) > max_background:
        sample = sample.sample(n=max_background, random_state=random_state)
    return Explainer(explainer_spec(model, sample, names, [f.kind for f in features]))


def register_explain(con: Any, name: str, model: Any, X: pd.DataFrame) -> Explainer:
    """Build the explainer of ``model`` and create ``<name>_explain(...)`` on ``con``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    name : str
        Model name; the function takes the model's columns in order, like ``<name>_predict``.
    model : estimator
    X : pandas.DataFrame
        Background rows (see :func:`make_explainer`).

    Returns
    -------
    Explainer

    Examples
    --------
    >>> register_explain(con, "churn", model, X)                     # doctest: +SKIP
    >>> con.sql("SELECT churn_explain(tenure_months, plan).contributions FROM t")  # doctest: +SKIP
    """
    import duckdb

    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise InputTypeError(f"con must be a DuckDB connection, got {type(con).__name__}.")
    explainer = make_explainer(model, X)
    explainer.register(con, name)
    return explainer
