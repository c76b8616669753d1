"""m2cgen, the float64 peer of ``benchmarks/edge_bench.py``, wrapped into the harness interface.

m2cgen is never a dependency of the project: it is imported from a benchmark-only virtual
environment, ``benchmarks/.venv-edge`` (``python -m venv benchmarks/.venv-edge &&
benchmarks/.venv-edge/bin/pip install --no-deps m2cgen==0.10.0``; m2cgen is pure Python and
needs nothing the main venv lacks). Without it the m2cgen rows are left out.

m2cgen 0.10.0 converts scikit-learn's trees and forests (``export_to_c``) but has no assembler
for ``GradientBoostingClassifier``. :func:`m2cgen_gradient_boosting` builds that model from
m2cgen's own parts the way its XGBoost and LightGBM assemblers build theirs: m2cgen's
``TreeModelAssembler`` for every regression tree, each leaf scaled by the learning rate and
added to the class's raw score in scikit-learn's order (baseline first), then m2cgen's
``SoftmaxExpr`` (or ``SigmoidExpr`` for two classes), printed by m2cgen's ``CInterpreter``.
The C is m2cgen's (float64 ``double`` throughout); only the assembly of the sum is ours.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path
from typing import Any

from workbench.edge.boosting import boosted_trees
from workbench.edge.cinterface import GeneratedC, preamble

ROOT = Path(__file__).resolve().parent

__all__ = ["load_m2cgen", "m2cgen_code", "m2cgen_gradient_boosting", "m2cgen_supports"]


def load_m2cgen() -> Any:
    """m2cgen from ``benchmarks/.venv-edge``, or None when that environment is missing."""
    for site in glob.glob(str(ROOT / ".venv-edge/lib/python3*/site-packages")):
        if site not in sys.path:
            sys.path.append(site)  # after the main venv: its numpy/sklearn win
    try:
        import m2cgen

        return m2cgen
    except ImportError:
        return None


def m2cgen_supports(model: Any) -> bool:
    """Whether the benchmark has an m2cgen export of ``model`` (trees, forests, GB)."""
    return type(model).__name__ in {
        "DecisionTreeClassifier",
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "GradientBoostingClassifier",
    }


def _wrap(m2c: Any, model: Any, code: str, name: str) -> GeneratedC:
    """``score(double *input, double *output)`` behind the common interface."""
    nf, nc = int(model.n_features_in_), len(model.classes_)
    header = (
        preamble(name, nf, nc, "double", f"m2cgen {m2c.__version__} {type(model).__name__}")
        + "#include <string.h>\n"
        + code
        + f"\nstatic void {name}_predict_proba(const double *x, float *p) {{\n"
        f"    double out[{nc}];\n    score((double *)x, out);\n"
        f"    for (int c = 0; c < {nc}; c++) p[c] = (float)out[c];\n}}\n"
        f"static int32_t {name}_predict(const double *x) {{\n"
        f"    double out[{nc}];\n    score((double *)x, out);\n    int32_t best = 0;\n"
        f"    for (int32_t c = 1; c < {nc}; c++) if (out[c] > out[best]) best = c;\n"
        "    return best;\n}\n#endif\n"
    )
    return GeneratedC(
        name=name,
        header=header,
        in_type="double",
        n_features=nf,
        n_classes=nc,
        engine=f"m2cgen {m2c.__version__}",
    )


def m2cgen_gradient_boosting(m2c: Any, model: Any) -> str:
    """m2cgen's C for a fitted ``GradientBoostingClassifier`` (see the module docstring)."""
    from m2cgen import ast
    from m2cgen.assemblers import TreeModelAssembler
    from m2cgen.assemblers.utils import apply_op_to_expressions
    from m2cgen.interpreters import CInterpreter

    baseline = boosted_trees(model).baseline  # scikit-learn's init raw scores (float64)
    rate = ast.NumVal(float(model.learning_rate))
    n_scores = model.estimators_.shape[1]
    scores = []
    for k in range(n_scores):
        terms = [ast.NumVal(float(baseline[k]))] + [
            ast.BinNumExpr(
                rate, TreeModelAssembler(model.estimators_[i, k]).assemble(), ast.BinNumOpType.MUL
            )
            for i in range(model.n_estimators_)
        ]
        scores.append(apply_op_to_expressions(ast.BinNumOpType.ADD, *terms))
    if n_scores == 1:
        # m2cgen's binary boosting output: [1 - sigmoid(s), sigmoid(s)].
        p1 = ast.SigmoidExpr(scores[0], to_reuse=True)
        expr = ast.VectorVal([ast.BinNumExpr(ast.NumVal(1.0), p1, ast.BinNumOpType.SUB), p1])
    else:
        expr = ast.SoftmaxExpr(scores)
    return CInterpreter(indent=4, function_name="score").interpret(expr)


def m2cgen_code(m2c: Any, model: Any, name: str = "m2c") -> GeneratedC:
    """m2cgen's C for ``model`` behind the harness interface.

    Parameters
    ----------
    m2c : module
        From :func:`load_m2cgen`.
    model : estimator
        A fitted model for which :func:`m2cgen_supports` is true.
    name : str
        C prefix.

    Returns
    -------
    GeneratedC
    """
    if type(model).__name__ == "GradientBoostingClassifier":
        code = m2cgen_gradient_boosting(m2c, model)
    else:
        code = m2c.export_to_c(model)
    return _wrap(m2c, model, code, name)
