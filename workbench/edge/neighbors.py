"""k-nearest neighbours (``KNeighborsClassifier``) as C: brute force over the stored rows.

The training rows and their labels are written into the header; ``predict_proba`` keeps the
``k`` closest rows by insertion and votes uniformly or by inverse distance, as scikit-learn does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import ModelError
from workbench.edge.cgen import C_TYPES, c_array, float_literal, int_literal, int_type
from workbench.edge.cinterface import GeneratedC, header_end, preamble, predict_by_argmax

__all__ = ["generate_knn", "knn_training_data"]


def knn_training_data(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """The rows a fitted ``KNeighborsClassifier`` searches, and their class indices.

    scikit-learn offers no public accessor for them: ``kneighbors`` returns indices into the
    stored rows but not the rows. This is the one place that reads its private ``_fit_X`` and
    ``_y`` (both present since scikit-learn 0.22, whatever the ``algorithm``).

    Parameters
    ----------
    model : KNeighborsClassifier
        Fitted, single output.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples_fit, n_features), float64
    y : numpy.ndarray of shape (n_samples_fit,), int64
        Indices into ``model.classes_``.
    """
    X = np.asarray(model._fit_X, dtype=np.float64)
    y = np.asarray(model._y).astype(np.int64)
    return X, y


def _vote_code(name: str, ctype: str, k: int, metric: str, weights: str) -> list[str]:
    """C lines adding the ``k`` neighbours' votes into ``proba``."""
    if weights == "uniform":
        return [f"    for (int i = 0; i < {k}; i++) proba[{name}_y[idx[i]]] += 1.0f;"]
    sqrt = "sqrt" if ctype == "double" else "sqrtf"
    dist = f"{sqrt}(best[i])" if metric == "euclidean" else "best[i]"
    return [
        "    int zero = 0;",
        f"    for (int i = 0; i < {k}; i++) if (best[i] == 0) zero = 1;",
        f"    for (int i = 0; i < {k}; i++) {{",
        f"        const {ctype} w = zero ? (best[i] == 0) : 1 / {dist};",
        f"        proba[{name}_y[idx[i]]] += (float)w;",
        "    }",
    ]


def generate_knn(model: Any, name: str, dtype: str) -> GeneratedC:
    """C header of a fitted ``KNeighborsClassifier``.

    Parameters
    ----------
    model : KNeighborsClassifier
        Fitted, single output, Euclidean or Manhattan metric, uniform or distance weights.
    name : str
        C prefix.
    dtype : {"float32", "float64"}
        Input and arithmetic type.

    Returns
    -------
    GeneratedC

    Raises
    ------
    ModelError
        For another metric or a callable ``weights``.
    """
    metric = model.effective_metric_
    if metric not in ("euclidean", "manhattan"):
        raise ModelError(
            f"k-NN metric {metric!r} is not supported; use 'euclidean' or "
            "'manhattan' (minkowski with p=2 or p=1)."
        )
    if model.weights not in ("uniform", "distance"):
        raise ModelError(
            "k-NN with a callable weights function cannot be exported; use "
            "weights='uniform' or 'distance'."
        )
    ctype = C_TYPES[dtype]
    dbl = ctype == "double"
    X, y = knn_training_data(model)
    n, n_features = X.shape
    n_classes = len(model.classes_)
    k = int(model.n_neighbors)
    diff = "d * d" if metric == "euclidean" else ("fabs(d)" if dbl else "fabsf(d)")
    huge = "HUGE_VAL" if dbl else "HUGE_VALF"
    search = [
        f"static void {name}_predict_proba(const {name}_input_t *x, float *proba) {{",
        f"    {ctype} best[{k}];",
        f"    int32_t idx[{k}];",
        f"    for (int i = 0; i < {k}; i++) {{ best[i] = {huge}; idx[i] = 0; }}",
        f"    for (int32_t r = 0; r < {n}; r++) {{",
        f"        {ctype} s = 0;",
        f"        for (int f = 0; f < {n_features}; f++) {{",
        f"            const {ctype} d = ({ctype})x[f] - {name}_X[r * {n_features} + f];",
        f"            s += {diff};",
        "        }",
        f"        if (s < best[{k - 1}]) {{",
        f"            int i = {k - 1};",
        "            while (i > 0 && best[i - 1] > s) { best[i] = best[i - 1]; "
        "idx[i] = idx[i - 1]; i--; }",
        "            best[i] = s; idx[i] = r;",
        "        }",
        "    }",
        f"    for (int c = 0; c < {n_classes}; c++) proba[c] = 0.0f;",
        *_vote_code(name, ctype, k, metric, model.weights),
        "    float total = 0.0f;",
        f"    for (int c = 0; c < {n_classes}; c++) total += proba[c];",
        f"    for (int c = 0; c < {n_classes}; c++) proba[c] /= total;",
        "}",
    ]
    parts = [
        preamble(
            name,
            n_features,
            n_classes,
            ctype,
            f"KNeighborsClassifier k={k}, {metric}, weights={model.weights}, {n} stored "
            f"rows, arithmetic in {ctype}",
        ),
        c_array(ctype, f"{name}_X", X, lambda v: float_literal(v, ctype), per_line=6),
        c_array(int_type(n_classes, False), f"{name}_y", y, int_literal, per_line=16),
        "\n".join(search) + "\n",
        predict_by_argmax(name, n_classes),
        header_end(name),
    ]
    return GeneratedC(
        name=name,
        header="".join(parts),
        in_type=ctype,
        n_features=int(n_features),
        n_classes=n_classes,
        engine="workbench",
        notes=[
            f"brute-force k-NN over {n} stored rows; distance ties may order neighbours "
            "differently than scikit-learn"
        ],
        details={"n_stored_rows": int(n), "k": k},
    )
