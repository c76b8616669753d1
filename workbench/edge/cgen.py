"""Writing C: number literals that keep full precision, constant arrays, integer types.

The model generators (:mod:`~workbench.edge.trees`, :mod:`~workbench.edge.mlp`,
:mod:`~workbench.edge.naive_bayes`, :mod:`~workbench.edge.neighbors`) write their tables with
these, so every weight and threshold in a header is printed the same way: the shortest literal
that reads back as the exact float32/float64 value (emlearn's ``%.6f`` rounds small values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "C_TYPES",
    "c_array",
    "float32_literal",
    "float64_literal",
    "float_literal",
    "int_literal",
    "int_type",
]

#: ``dtype`` of :func:`~workbench.edge.export` -> C type of the inputs and arithmetic.
C_TYPES: dict[str, str] = {"float32": "float", "float64": "double", "int16": "int16_t"}


def float32_literal(value: float) -> str:
    """The shortest C ``float`` literal that reads back as ``numpy.float32(value)``.

    Parameters
    ----------
    value : float

    Returns
    -------
    str
        E.g. ``"1.5e-05f"``.
    """
    text = np.format_float_scientific(np.float32(value), unique=True)
    return text + "f"


def float64_literal(value: float) -> str:
    """The shortest C ``double`` literal that reads back as ``float(value)``.

    Parameters
    ----------
    value : float

    Returns
    -------
    str
    """
    return repr(float(value))


def float_literal(value: float, ctype: str) -> str:
    """A literal of the C type ``ctype``: float32 for ``"float"``, else float64.

    Parameters
    ----------
    value : float
    ctype : {"float", "double"}

    Returns
    -------
    str
    """
    return float32_literal(value) if ctype == "float" else float64_literal(value)


def int_literal(value: Any) -> str:
    """A C integer literal.

    Parameters
    ----------
    value : int or numpy integer

    Returns
    -------
    str
    """
    return str(int(value))


def c_array(
    ctype: str, name: str, values: Any, fmt: Callable[[Any], str], per_line: int = 8
) -> str:
    """A ``static const`` C array of ``values`` (flattened in C order), one line per chunk.

    Parameters
    ----------
    ctype : str
        C element type.
    name : str
        C identifier of the array.
    values : array-like
        Flattened row by row, so a 2-d matrix ``w`` is read in C as ``w[i * n_cols + j]``.
    fmt : callable
        Turns one value into its literal (:func:`float_literal`, :func:`int_literal`, ...).
    per_line : int, default=8
        Values per source line.

    Returns
    -------
    str
        The declaration; an empty ``values`` is written as one zero (C has no empty arrays).
    """
    vals = [fmt(v) for v in np.asarray(values).ravel()]
    lines = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines) if lines else "0"
    return f"static const {ctype} {name}[{max(len(vals), 1)}] = {{\n    {body}\n}};\n"


def int_type(max_abs: int, signed: bool = True) -> str:
    """The smallest C integer type (of those used here) that holds values up to ``max_abs``.

    Parameters
    ----------
    max_abs : int
        Largest magnitude to hold (exclusive bound of the type's range).
    signed : bool, default=True
        ``int16_t``/``int32_t`` when True, else ``uint8_t``/``uint16_t``/``uint32_t``.

    Returns
    -------
    str
    """
    if signed:
        return "int16_t" if max_abs < 2**15 else "int32_t"
    return "uint8_t" if max_abs < 2**8 else ("uint16_t" if max_abs < 2**16 else "uint32_t")
