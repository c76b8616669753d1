"""Demo classifiers for the audit: an overfitting forest, an MLP, a logistic regression, a tree."""

from __future__ import annotations

from typing import Any

from workbench.core.params import check_random_state
from workbench.privacy.checks import check_name

__all__ = ["DEMO_MODELS", "demo_model"]

DEMO_MODELS: dict[str, str] = {
    "random_forest": "Random forest, 100 fully grown trees (memorizes its training set)",
    "mlp": "Standardized MLP, one hidden layer of 64 units, no early stopping",
    "logistic_regression": "Standardized logistic regression, weak regularization (C=100)",
    "decision_tree": "One fully grown decision tree",
}
"""Names accepted by :func:`demo_model`, with a description."""


def demo_model(name: str, *, random_state: int | None = None) -> Any:
    """A fresh, unfitted scikit-learn classifier of the kind audits are run on.

    Parameters
    ----------
    name : {"random_forest", "mlp", "logistic_regression", "decision_tree"}
        See :data:`DEMO_MODELS`.
    random_state : int, optional
        Seed of the model, in ``[0, 2**32 - 1]``.

    Returns
    -------
    estimator
        An unfitted classifier (a Pipeline for the scale-sensitive models).

    Raises
    ------
    UnknownNameError
        For an unknown name.
    InputError, InputTypeError
        For a seed that is not None or an integer in ``[0, 2**32 - 1]``.
    """
    check_name(name, DEMO_MODELS, kind="demo model")
    random_state = check_random_state(random_state)
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    if name == "random_forest":
        return RandomForestClassifier(n_estimators=100, random_state=random_state)
    if name == "mlp":
        return make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(64,), max_iter=2000, random_state=random_state),
        )
    if name == "logistic_regression":
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=100.0, max_iter=5000, random_state=random_state)
        )
    return DecisionTreeClassifier(random_state=random_state)
