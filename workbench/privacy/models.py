"""Demo classifiers for the audit, taken from the one catalogue in :mod:`workbench.core.models`.

The privacy audit offers the catalogue's models that show memorization: an overfitting forest,
an MLP, a weakly regularized logistic regression and a fully grown tree.
"""

from __future__ import annotations

from typing import Any

from workbench.core import models as catalogue
from workbench.core.validation import check_choice

__all__ = ["DEMO_MODELS", "PRIVACY_MODELS", "demo_model"]

PRIVACY_MODELS: tuple[str, ...] = ("random_forest", "mlp", "logistic_regression", "decision_tree")
"""Catalogue names the privacy audit offers, in the order pickers show them."""

DEMO_MODELS: dict[str, str] = catalogue.describe_models(PRIVACY_MODELS)
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
        For a name outside :data:`DEMO_MODELS`.
    InputError, InputTypeError
        For a seed that is not None or an integer in ``[0, 2**32 - 1]``.
    """
    check_choice(name, DEMO_MODELS, kind="demo model")
    return catalogue.demo_model(name, random_state=random_state)
