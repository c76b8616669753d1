"""C code generation for the supported scikit-learn estimators: one dispatcher, one module each.

Every generated header exposes the same small interface, whatever the model (see
:mod:`workbench.edge.cinterface`). The generators, one per model family as in emlearn, write
their tables with :mod:`workbench.edge.cgen`:

- :mod:`~workbench.edge.trees`: trees and forests on our own code, in one of the two forms of
  :mod:`~workbench.edge.tree_forms` (compact tables, or generated if/else code);
- :mod:`~workbench.edge.boosting`: HistGradientBoostingClassifier and
  GradientBoostingClassifier (emlearn exports neither), in the same two forms;
- :mod:`~workbench.edge.emlearn_trees`: trees on emlearn's loadable runtime (``eml_trees.h``,
  the format emlearn's MicroPython module loads from CSV) with the threshold trap fixed;
- :mod:`~workbench.edge.mlp`, :mod:`~workbench.edge.naive_bayes`,
  :mod:`~workbench.edge.neighbors`: generated here rather than by emlearn, so that weights are
  written without losing precision and the arithmetic mirrors scikit-learn's.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import InputError
from workbench.edge.boosting import generate_boosting
from workbench.edge.cinterface import GeneratedC
from workbench.edge.emlearn_trees import (
    EMLEARN_MAX_FEATURES,
    emlearn_loadable_trees,
    generate_emlearn_trees,
)
from workbench.edge.mlp import generate_mlp
from workbench.edge.naive_bayes import generate_gaussian_nb
from workbench.edge.neighbors import generate_knn
from workbench.edge.tree_forms import FORMS
from workbench.edge.trees import generate_tree_tables, tree_estimators

__all__ = ["SUPPORTED_ESTIMATORS", "generate"]

#: Estimator class name -> family: the estimators emlearn supports, and the boosted trees it
#: does not.
SUPPORTED_ESTIMATORS: dict[str, str] = {
    "DecisionTreeClassifier": "tree",
    "RandomForestClassifier": "tree",
    "ExtraTreesClassifier": "tree",
    "MLPClassifier": "mlp",
    "GaussianNB": "naive_bayes",
    "KNeighborsClassifier": "knn",
    "HistGradientBoostingClassifier": "boosting",
    "GradientBoostingClassifier": "boosting",
}


def _generate_tree(
    model: Any, name: str, dtype: str, leaves: str, engine: str, form: str
) -> GeneratedC:
    if engine == "emlearn":
        if dtype != "int16" or leaves not in ("class", "uint8"):
            raise InputError(
                "engine='emlearn' runs int16 trees with 'class' or 'uint8' leaves; got "
                f"dtype={dtype!r}, leaves={leaves!r}."
            )
        return generate_emlearn_trees(model, name, leaves)
    code = generate_tree_tables(model, name, dtype, leaves, form)
    if dtype == "int16" and model.n_features_in_ <= EMLEARN_MAX_FEATURES:
        # The MicroPython form: emlearn's CSV. emlearn-micropython's loader reads one class
        # per leaf line, so the CSV carries hard-voting leaves (emlearn 0.23 would print
        # 8-bit leaves as numpy arrays that the loader cannot parse).
        code.csv = emlearn_loadable_trees(model, 0).csv
        if len(tree_estimators(model)) > 1:
            code.notes.append(
                "the MicroPython CSV uses hard voting (its loader reads one class per leaf)"
            )
    return code


def generate(
    model: Any,
    *,
    name: str,
    dtype: str,
    leaves: str,
    engine: str = "workbench",
    form: str = "auto",
) -> GeneratedC:
    """Generate the C header of a fitted, supported estimator.

    Parameters
    ----------
    model : estimator
        Fitted; its class name must be a key of :data:`SUPPORTED_ESTIMATORS`.
    name : str
        Valid C identifier used as prefix.
    dtype : {"float32", "float64", "int16"}
        Input and arithmetic type (trees: float32 or int16; GradientBoosting: float32;
        HistGradientBoosting: float32 or float64).
    leaves : {"class", "uint8", "float", "double"}
        Leaf encoding of classifier trees (ignored otherwise); "double" sums float64 leaf rows in
        scikit-learn's order, exact ties included.
    engine : {"workbench", "emlearn"}, default="workbench"
        Tree runtime: our code, or emlearn's ``eml_trees.h`` (int16 inputs, ``"class"`` or
        ``"uint8"`` leaves; classifier trees only).
    form : {"auto", "tables", "ifelse"}, default="auto"
        C form of the trees of a tree or boosted model with ``engine="workbench"``
        (:mod:`~workbench.edge.tree_forms`): ``"auto"`` applies
        :func:`~workbench.edge.tree_forms.choose_form` and says why in the notes.

    Returns
    -------
    GeneratedC

    Raises
    ------
    InputError
        An engine, dtype or form the model cannot take.
    ModelError
        A boosted model with categorical splits or an init estimator other than the prior.
    """
    family = SUPPORTED_ESTIMATORS[type(model).__name__]
    if form not in ("auto", *FORMS):
        raise InputError(f"form must be 'auto' or one of {list(FORMS)}, got {form!r}.")
    if family == "boosting":
        if engine != "workbench":
            raise InputError(
                f"engine={engine!r} is for classifier trees; {type(model).__name__} runs on "
                "engine='workbench' (emlearn has no boosted trees)."
            )
        return generate_boosting(model, name, dtype, form)
    if family == "tree":
        return _generate_tree(model, name, dtype, leaves, engine, form)
    if family == "mlp":
        return generate_mlp(model, name, dtype)
    if family == "naive_bayes":
        return generate_gaussian_nb(model, name, dtype)
    return generate_knn(model, name, dtype)
