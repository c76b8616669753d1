"""The user's namespace: which variables a picker may offer, and finding them again later.

A variable is looked up by name when it is used, not when the list was made: a name that was
deleted or rebound since gets a clear message instead of stale data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workbench.core.errors import InputError, InputTypeError

__all__ = ["resolve", "set_options", "user_namespace", "variables"]


def user_namespace(namespace: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """``namespace``, else the running IPython kernel's user namespace, else ``{}``.

    Parameters
    ----------
    namespace : mapping, optional

    Returns
    -------
    mapping
    """
    if namespace is not None:
        if not isinstance(namespace, Mapping):
            raise InputTypeError(f"namespace must be a mapping, got {type(namespace).__name__}.")
        return namespace
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets needs IPython
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def variables(namespace: Mapping[str, Any], accept: Callable[[Any], bool]) -> list[str]:
    """Names of the public variables whose value ``accept`` takes, sorted.

    Parameters
    ----------
    namespace : mapping
    accept : callable
        ``accept(value) -> bool``.

    Returns
    -------
    list of str
    """
    names = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or isinstance(value, type):
            continue
        try:
            ok = accept(value)
        except Exception:  # a user object whose attributes raise is simply not offered
            ok = False
        if ok:
            names.append(name)
    return sorted(names)


def resolve(
    namespace: Mapping[str, Any], name: Any, accept: Callable[[Any], bool], what: str
) -> Any:
    """The value of variable ``name``, checked again now.

    Parameters
    ----------
    namespace : mapping
    name : str or None
    accept : callable
        ``accept(value) -> bool``.
    what : str
        What the variable must hold ("a DataFrame or table", "a fitted estimator").

    Returns
    -------
    object

    Raises
    ------
    InputError
        If no name is chosen, the name no longer exists, or it now holds something else.
    """
    if not name:
        raise InputError(f"No variable chosen; define {what} in the notebook and press ↻.")
    if name not in namespace:
        raise InputError(
            f"Variable {name!r} no longer exists in the notebook; define it again or press ↻ "
            "to refresh the list."
        )
    value = namespace[name]
    if not accept(value):
        raise InputError(
            f"Variable {name!r} now holds a {type(value).__name__}, not {what}; press ↻."
        )
    return value


def set_options(dropdown: Any, options: list[str]) -> None:
    """Give ``dropdown`` new options, keeping its choice when still offered, else the first."""
    old = dropdown.value
    dropdown.options = options
    dropdown.value = old if old in options else (options[0] if options else None)
