"""Vectorized DuckDB functions that run an ONNX model with onnxruntime on whole Arrow batches.

DuckDB hands an Arrow UDF one ``pyarrow.ChunkedArray`` per argument for a vector of up to 2,048
rows, and calls it from several of its worker threads at once. One onnxruntime session is shared by
those threads (``InferenceSession.run`` is thread-safe) and runs single-threaded inside each call:
DuckDB already parallelizes across batches, and extra intra-op threads measured slower.

Semantics, the same for every model type:

- a row with a NULL in any argument returns NULL (the model is not asked);
- NaN in a numeric argument reaches the model only when the model was registered with
  ``nan_policy="pass"`` (scikit-learn accepts NaN and the ONNX model matched it on rows with NaN
  at registration); otherwise the query fails with an :class:`~workbench.core.errors.InputError`
  naming the column and the fix (``NULLIF(x, 'nan'::DOUBLE)`` for NULL, or impute);
- infinity and magnitudes above the largest float32 fail the query (scikit-learn refuses
  infinity too, and float32 ONNX inputs would overflow);
- every other row gets the model's answer; a non-finite answer fails the query
  (:class:`~workbench.core.errors.ModelError`) instead of becoming a silent NULL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from workbench.core.errors import InputError, ModelError
from workbench.core.params import FLOAT32_MAX
from workbench.indb.features import NUMERIC, Feature
from workbench.indb.onnx_export import MATRIX_INPUT, make_feed

__all__ = ["NAN_POLICIES", "OnnxRunner", "make_udf", "return_type"]

NAN_POLICIES = ("pass", "error")


class OnnxRunner:
    """Lazily created onnxruntime session for one stored model, with call statistics.

    Parameters
    ----------
    onnx_bytes : bytes
        Serialized ONNX model.
    features : list of Feature
        Input columns, in SQL argument order.
    column_mode : bool
        One ONNX input per column (True) or one float32 matrix ``"X"`` (False).
    threads : int, default=1
        onnxruntime intra-op threads per call.
    classes : list, optional
        Class labels of a classifier (their type decides the label output type).
    nan_policy : {"error", "pass"}, default="error"
        What a NaN in a numeric argument does: fail the query, or reach the model.
    label : str, default="model"
        How messages name the model, e.g. ``"model 'churn' v2"``.

    Attributes
    ----------
    calls : int
        Number of batches run.
    rows : int
        Number of rows run.
    thread_ids : set of int
        Python thread idents that called the model (how many DuckDB threads used it).
    """

    def __init__(
        self,
        onnx_bytes: bytes,
        features: list[Feature],
        column_mode: bool,
        threads: int = 1,
        classes: list[Any] | None = None,
        nan_policy: str = "error",
        label: str = "model",
    ) -> None:
        if nan_policy not in NAN_POLICIES:
            raise ModelError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}.")
        self.nan_policy = nan_policy
        self.label = label
        self.onnx_bytes = onnx_bytes
        self.classes = classes
        self.features = list(features)
        self._numeric = [j for j, f in enumerate(self.features) if f.kind == NUMERIC]
        self.column_mode = column_mode
        self.threads = int(threads)
        self.calls = 0
        self.rows = 0
        self.thread_ids: set[int] = set()
        self._session: Any = None
        self._lock = threading.Lock()
        self._stats_lock = threading.Lock()

    @property
    def session(self) -> Any:
        """The onnxruntime ``InferenceSession``, created on first use."""
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import onnxruntime as ort

                    opts = ort.SessionOptions()
                    opts.intra_op_num_threads = self.threads
                    opts.inter_op_num_threads = 1
                    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                    # A spinning idle pool steals CPU from DuckDB's own threads.
                    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                    self._session = ort.InferenceSession(
                        self.onnx_bytes, sess_options=opts, providers=["CPUExecutionProvider"]
                    )
        return self._session

    def run(self, columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """Run the model on one array per feature; return (labels or values, probabilities)."""
        outs = self.session.run(None, make_feed(self.features, columns, self.column_mode))
        first = np.asarray(outs[0])
        if first.ndim == 2 and first.shape[1] == 1:
            first = first.ravel()
        proba = np.asarray(outs[1], dtype=np.float64) if len(outs) > 1 else None
        return first, proba

    def _output_names(self, output: str) -> list[str]:
        names = [o.name for o in self.session.get_outputs()]
        # Asking onnxruntime only for what the SQL function returns saves a copy per batch.
        return names[1:2] if output == "proba" else names

    def _check_numbers(self, cols: list[np.ndarray], null: np.ndarray | None) -> None:
        """Refuse NaN (unless the model passes it), infinity and float32 overflow; skip NULLs."""
        for f, col in zip(self.features, cols, strict=True):
            if f.kind != NUMERIC or col.dtype.kind != "f":
                continue
            with np.errstate(invalid="ignore"):
                bad = ~(np.abs(col) <= FLOAT32_MAX)  # NaN, inf and overflow in one pass
            if null is not None:
                bad &= ~null
            if not bad.any():
                continue
            nan = np.isnan(col) & bad
            if nan.any() and self.nan_policy == "error":
                raise InputError(
                    f"{self.label} got NaN in argument {f.name!r} ({int(nan.sum())} row(s)), but "
                    "it was registered with nan_policy='error': scikit-learn refuses NaN for "
                    "this model, or the ONNX model answers differently from it on rows with "
                    f"NaN. Pass NULL instead to get NULL (NULLIF({f.name}, 'nan'::DOUBLE)), or "
                    "impute the value."
                )
            big = bad & ~nan
            if big.any():
                raise InputError(
                    f"{self.label} got {float(col[big][0]):g} in argument {f.name!r} "
                    f"({int(big.sum())} row(s)): arguments must be finite numbers within "
                    f"±{FLOAT32_MAX:.3g} (the model reads float32). Replace them with NULL or "
                    "clip them."
                )

    def _feed(self, arrays: tuple[Any, ...]) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """ONNX inputs from DuckDB's Arrow arrays, and the mask of rows holding a NULL."""
        n = len(arrays[0])
        null: np.ndarray | None = None
        cols = []
        for arr in arrays:
            a = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
            if a.null_count:
                m = a.is_null().to_numpy(zero_copy_only=False)
                null = m if null is None else null | m
            cols.append(a.to_numpy(zero_copy_only=False))  # zero-copy for DOUBLE without NULLs
        numeric = self._numeric
        # The float64 -> float32 cast happens here, explicitly; an overflow becomes inf there.
        with np.errstate(over="ignore"):
            if not self.column_mode:
                block = np.empty((n, len(cols)), dtype=np.float32)
                for j, col in enumerate(cols):
                    block[:, j] = col
                feed = {MATRIX_INPUT: block}
            else:
                # One row per numeric feature: each row is a contiguous (n, 1) input.
                block = np.empty((len(numeric), n), dtype=np.float32)
                feed = {}
                for i, j in enumerate(numeric):
                    block[i] = cols[j]
                    feed[self.features[j].name] = block[i].reshape(-1, 1)
                for f, col in zip(self.features, cols, strict=True):
                    if f.kind != NUMERIC:
                        if null is not None:
                            col = np.where(null, "", col)  # onnxruntime takes no None strings
                        feed[f.name] = col.astype(object).reshape(-1, 1)
            flat = block.ravel()
            # One float32 dot product: finite and small when no value is NaN, inf or above
            # float32; otherwise (or when the sum of squares merely overflows) the exact check.
            if numeric and not flat @ flat <= FLOAT32_MAX:
                self._check_numbers(cols, null)
        return feed, null

    def batch(self, arrays: tuple[Any, ...], output: str) -> Any:
        """Evaluate one DuckDB batch (pyarrow arrays) and return a pyarrow array."""
        import pyarrow as pa

        n = len(arrays[0])
        with self._stats_lock:
            self.calls += 1
            self.rows += n
            self.thread_ids.add(threading.get_ident())
        feed, null = self._feed(arrays)
        outs = self.session.run(self._output_names(output), feed)
        if output == "value":
            vals = np.asarray(outs[0], dtype=np.float64).ravel()
            self._check_answers(vals, null)
            return pa.array(vals, mask=null if null is not None and null.any() else None)
        proba = np.asarray(outs[-1], dtype=np.float64)
        binary = proba.shape[1] == 2
        p1 = np.ascontiguousarray(proba[:, 1]) if binary else None
        self._check_answers(proba, null)
        mask = null if null is not None and null.any() else None
        if output == "predict":
            labels = np.asarray(outs[0]).ravel()
            if self.classes is not None and isinstance(self.classes[0], str):
                return pa.array(labels.astype(object), type=pa.string(), mask=mask)
            return pa.array(labels.astype(np.int64), mask=mask)
        if binary:
            return pa.array(p1, mask=mask)
        flat = pa.array(proba.ravel())
        lists = pa.FixedSizeListArray.from_arrays(
            flat, proba.shape[1], mask=pa.array(mask) if mask is not None else None
        )
        return lists.cast(pa.list_(pa.float64()))

    def _check_answers(self, answers: np.ndarray, null: np.ndarray | None) -> None:
        if np.isfinite(answers.sum()):  # one reduction in the usual case
            return
        nonfinite = ~np.isfinite(answers)
        if nonfinite.ndim == 2:
            nonfinite = nonfinite.any(axis=1)
        if null is not None:
            nonfinite = nonfinite & ~null
        if nonfinite.any():
            raise ModelError(
                f"{self.label} returned a non-finite answer for {int(nonfinite.sum())} row(s) "
                "without NULL arguments, where scikit-learn answers with a number; check those "
                "rows' values (extreme magnitudes overflow float32) or re-register the model."
            )


def return_type(task: str, classes: list[Any] | None, output: str) -> str:
    """SQL return type of a model function.

    Parameters
    ----------
    task : {"classification", "regression"}
    classes : list, optional
        Class labels of a classifier.
    output : {"predict", "proba", "value"}

    Returns
    -------
    str
        ``DOUBLE``, ``BIGINT``, ``VARCHAR`` or ``DOUBLE[]``.
    """
    if task == "regression" or output == "value":
        return "DOUBLE"
    if output == "proba":
        return "DOUBLE" if classes is not None and len(classes) == 2 else "DOUBLE[]"
    return "VARCHAR" if classes is not None and isinstance(classes[0], str) else "BIGINT"


def make_udf(resolve: Callable[[], tuple[OnnxRunner, str]], n_args: int) -> Any:
    """A Python function with one named parameter per argument, as DuckDB's Arrow UDFs need.

    Parameters
    ----------
    resolve : callable
        Returns the ``(runner, output)`` the function calls now, with ``output`` one of
        ``"predict"`` (labels), ``"proba"`` (binary: P(classes[1]); multiclass: a list) or
        ``"value"`` (regression). Looking the target up at call time lets a store re-point
        ``<name>_predict`` to a new version without touching DuckDB's catalog.
    n_args : int
        Number of SQL arguments.

    Returns
    -------
    callable
    """
    params = ", ".join(f"a{i}" for i in range(n_args))
    namespace: dict[str, Any] = {"_resolve": resolve}
    # The source holds only generated parameter names (a0, a1, ...), never user text.
    exec(
        f"def udf({params}):\n"
        "    runner, output = _resolve()\n"
        f"    return runner.batch(({params},), output)\n",
        namespace,
    )
    return namespace["udf"]
