"""ModelPicker: the user's fitted estimator from the notebook, or one of the tool's model types.

A user's model is checked when it is used (:meth:`ModelPicker.get`): it must still exist, be
fitted, be of the right kind, and take the table's features. A model type from the list is
built fresh and, when asked, trained on the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from workbench.core.errors import InputError
from workbench.core.tables import UserTable, check_model_for
from workbench.ui.namespace import resolve, set_options, user_namespace, variables

__all__ = ["ModelPicker", "is_estimator"]


def is_estimator(value: Any) -> bool:
    """Whether ``value`` looks like a scikit-learn estimator instance (``fit`` and ``predict``)."""
    return (
        not isinstance(value, type)
        and callable(getattr(value, "fit", None))
        and callable(getattr(value, "predict", None))
        and callable(getattr(value, "get_params", None))
    )


class ModelPicker(widgets.VBox):
    """Pick a fitted estimator from the notebook, or a model type to train.

    Parameters
    ----------
    model : estimator, optional
        The user's model, offered first as "Your model".
    models : mapping of str to callable, optional
        Model types to train: name → ``build(random_state)`` returning an unfitted estimator.
    default : str, optional
        Model type selected first.
    kind : {"classifier", "regressor"}, optional
        What a user's model must be.
    methods : tuple of str, default=()
        Methods a user's model must have (e.g. ``("predict_proba",)``).
    namespace : mapping, optional
        Where variables are looked up; default the notebook's.
    labels : mapping of str to str, optional
        Display text of each model type.
    """

    def __init__(
        self,
        model: Any = None,
        *,
        models: Mapping[str, Callable[[int | None], Any]] | None = None,
        default: str | None = None,
        kind: str | None = None,
        methods: tuple[str, ...] = (),
        namespace: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self.models = dict(models or {})
        self.kind = kind
        self.methods = tuple(methods)
        self.namespace = user_namespace(namespace)
        style = {"description_width": "90px"}
        options = ([("Your model", "given")] if model is not None else []) + [
            ("Train", "train"),
            ("Variable", "variable"),
        ]
        if not self.models:
            options = [o for o in options if o[1] != "train"]
        self.source = widgets.ToggleButtons(options=options, description="Model", style=style)
        names = list(self.models)
        self.model_type = widgets.Dropdown(
            options=[((labels or {}).get(n, n), n) for n in names],
            value=default if default in names else (names[0] if names else None),
            description="Type",
            style=style,
        )
        self.variable = widgets.Dropdown(options=[], description="Variable", style=style)
        self.refresh_button = widgets.Button(
            description="↻", tooltip="Refresh the list", layout=widgets.Layout(width="40px")
        )
        self.where = widgets.HBox()
        self.refresh()
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.source.observe(lambda _c: self._on_source(), names="value")
        super().__init__([self.source, self.where])
        self._on_source()

    def refresh(self) -> None:
        """Re-read the notebook's variables."""
        set_options(self.variable, variables(self.namespace, is_estimator))

    def _on_source(self) -> None:
        self.where.children = {
            "given": [],
            "train": [self.model_type],
            "variable": [self.variable, self.refresh_button],
        }[self.source.value]

    @property
    def trains(self) -> bool:
        """Whether the choice is a model type to train (not a fitted model)."""
        return self.source.value == "train"

    @property
    def label(self) -> str:
        """What was chosen, for messages and result tables."""
        if self.source.value == "train":
            return str(self.model_type.value)
        if self.source.value == "variable":
            return f"variable {self.variable.value}"
        return type(self.model).__name__

    def build(self, random_state: int | None = 0) -> Any:
        """A fresh, unfitted estimator: the chosen type, or a clone of the user's model."""
        if self.source.value == "train":
            if self.model_type.value is None:
                raise InputError("No model type chosen.")
            return self.models[self.model_type.value](random_state)
        from sklearn.base import clone

        return clone(self._user_model())

    def _user_model(self) -> Any:
        if self.source.value == "given":
            return self.model
        return resolve(self.namespace, self.variable.value, is_estimator, "a fitted estimator")

    def get(self, table: UserTable | None = None, *, random_state: int | None = 0) -> Any:
        """The fitted estimator to use on ``table``.

        A user's model is checked (fitted, kind, methods, the table's features); a model type
        is built and trained on ``table.X``, ``table.y``.

        Parameters
        ----------
        table : UserTable, optional
            Required to train, and to check a user's model against.
        random_state : int, optional
            Seed of a model that is trained here.

        Returns
        -------
        estimator
            Fitted.
        """
        if self.source.value == "train":
            if table is None:
                raise InputError("Pick the data first; the model is trained on it.")
            return self.build(random_state).fit(table.X, table.y)
        model = self._user_model()
        if table is None:
            from workbench.core.validation import check_estimator

            return check_estimator(model, kind=self.kind, methods=self.methods, fitted=True)
        return check_model_for(model, table, kind=self.kind, methods=self.methods)

    def __repr__(self) -> str:
        return f"ModelPicker(source={self.source.value!r})"
