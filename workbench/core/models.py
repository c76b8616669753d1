"""The one catalogue of demo models: unfitted scikit-learn estimators that panels and demos offer.

Each tool offers the entries that suit it (the edge panel the exportable families, the privacy audit
the models that memorize), but every configuration is written once, here. The user's own fitted
estimator is always the first choice; these are for trying a tool without one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from workbench.core.params import check_random_state
from workbench.core.validation import check_choice

__all__ = ["DEMO_MODELS", "DemoModel", "demo_model", "describe_models"]


@dataclass(frozen=True)
class DemoModel:
    """One catalogue entry.

    Attributes
    ----------
    name : str
        Catalogue key.
    description : str
        One line for pickers and docs.
    build : callable
        ``build(random_state)`` returns a fresh, unfitted estimator.
    """

    name: str
    description: str
    build: Callable[[int | None], Any]


def _rf(n: int, depth: int | None) -> Callable[[int | None], Any]:
    def build(rs: int | None) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=n, max_depth=depth, random_state=rs)

    return build


def _extra_trees(rs: int | None) -> Any:
    from sklearn.ensemble import ExtraTreesClassifier

    return ExtraTreesClassifier(n_estimators=10, max_depth=10, random_state=rs)


def _tree(depth: int | None) -> Callable[[int | None], Any]:
    def build(rs: int | None) -> Any:
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=depth, random_state=rs)

    return build


def _scaled_mlp(rs: int | None) -> Any:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=2000, random_state=rs)
    )


def _small_mlp(rs: int | None) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier((16,), max_iter=1000, random_state=rs)


def _scaled_logistic(rs: int | None) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(), LogisticRegression(C=100.0, max_iter=5000, random_state=rs)
    )


def _logistic(rs: int | None) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def _gaussian_nb(rs: int | None) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB()


def _knn(rs: int | None) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=5)


DEMO_MODELS: dict[str, DemoModel] = {
    m.name: m
    for m in (
        DemoModel("random_forest", "Random forest, 100 fully grown trees (memorizes its training "
                  "set)", _rf(100, None)),
        DemoModel("random_forest_small", "Random forest, 10 trees of depth 10", _rf(10, 10)),
        DemoModel("extra_trees_small", "Extra trees, 10 trees of depth 10", _extra_trees),
        DemoModel("decision_tree", "One fully grown decision tree", _tree(None)),
        DemoModel("decision_tree_depth6", "Decision tree of depth 6", _tree(6)),
        DemoModel("decision_tree_depth8", "Decision tree of depth 8", _tree(8)),
        DemoModel("mlp", "Standardized MLP, one hidden layer of 64 units, no early stopping",
                  _scaled_mlp),
        DemoModel("mlp_small", "MLP, one hidden layer of 16 units", _small_mlp),
        DemoModel("logistic_regression", "Standardized logistic regression, weak regularization "
                  "(C=100)", _scaled_logistic),
        DemoModel("logistic_regression_default", "Logistic regression, scikit-learn defaults "
                  "(max_iter=1000)", _logistic),
        DemoModel("gaussian_nb", "Gaussian naive Bayes", _gaussian_nb),
        DemoModel("knn5", "5-nearest neighbours", _knn),
    )
}
"""Every demo model, by name."""


def demo_model(name: str, *, random_state: int | None = None) -> Any:
    """A fresh, unfitted estimator from the catalogue.

    Parameters
    ----------
    name : str
        A key of :data:`DEMO_MODELS`.
    random_state : int, optional
        Seed of the model (ignored by deterministic models).

    Returns
    -------
    estimator

    Raises
    ------
    UnknownNameError
        For an unknown name.
    """
    check_choice(name, DEMO_MODELS, kind="demo model")
    return DEMO_MODELS[name].build(check_random_state(random_state))


def describe_models(names: Iterable[str]) -> dict[str, str]:
    """Name → description of the given catalogue entries (for a picker's options)."""
    out = {}
    for name in names:
        check_choice(name, DEMO_MODELS, kind="demo model")
        out[name] = DEMO_MODELS[name].description
    return out
