"""Exception hierarchy of the workbench.

Every bad input raises a :class:`WorkbenchError` subclass whose message says what was wrong and what
to do about it. Subclasses also inherit from the built-in exception that fits (``ValueError``,
``TypeError``, ``ImportError``, ``FileNotFoundError``), so code written against plain Python or
scikit-learn conventions keeps working.
"""

from __future__ import annotations

__all__ = [
    "DependencyError",
    "InputError",
    "InputTypeError",
    "IntegrityError",
    "ModelError",
    "NotFittedError",
    "PluginError",
    "ResourceNotFoundError",
    "UnknownNameError",
    "WorkbenchError",
]


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose.

    Panels catch this class and show its message instead of a traceback.
    """


class InputError(WorkbenchError, ValueError):
    """A value given to a public function is wrong: shape, range, NaN, empty, inconsistent."""


class InputTypeError(WorkbenchError, TypeError):
    """A value given to a public function has the wrong type."""


class UnknownNameError(InputError):
    """A name (method, dataset, model, column, tool) is not one the workbench knows.

    Parameters
    ----------
    kind : str
        What sort of name it is, e.g. ``"method"``.
    name : str
        The name that was given.
    choices : iterable of str
        The names that would have been accepted; listed in the message.
    """

    def __init__(self, kind: str, name: object, choices: object = ()) -> None:
        self.kind = kind
        self.name = name
        self.choices = sorted(str(c) for c in choices)  # type: ignore[attr-defined]
        hint = f" Choose one of: {', '.join(self.choices)}." if self.choices else ""
        super().__init__(f"Unknown {kind} {name!r}.{hint}")


class ModelError(WorkbenchError, ValueError):
    """A model cannot be used as asked: unsupported estimator, failed conversion, bad parity."""


class NotFittedError(ModelError):
    """An estimator must be fitted before this call; call ``fit`` first."""


class DependencyError(WorkbenchError, ImportError):
    """An optional package or system program is missing; the message names how to install it."""


class IntegrityError(WorkbenchError, ValueError):
    """Stored bytes do not match their recorded checksum: refuse to use them."""


class ResourceNotFoundError(WorkbenchError, FileNotFoundError):
    """A file, folder or stored object that was asked for does not exist."""


class PluginError(WorkbenchError):
    """A ``workbench.tools`` entry point could not be loaded or is not a valid tool spec."""
