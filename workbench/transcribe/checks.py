"""Boundary checks of the transcription tool: bounded sizes, settings and lists of text.

Public functions call these once, before loading a model or decoding, so ``'x'``, ``NaN``,
``10**7`` or a list where text belongs get a :class:`~workbench.core.errors.WorkbenchError`
with a fix instead of a faster-whisper or numpy traceback, a hang or thousands of threads. The
rules shared by every tool live in :mod:`workbench.core.params` and
:mod:`workbench.core.validation`; this module fixes the bounds that fit speech.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_flag, check_number
from workbench.core.validation import check_choice, check_positive

__all__ = [
    "MAX_SENTENCES",
    "check_bounded",
    "check_text_list",
    "check_transcriber_params",
]

MAX_SENTENCES = 1000
"""Most sentences or key phrases one summary may ask for."""
MAX_THREADS = 256
MAX_BEAM = 32
MAX_SILENCE_MS = 60_000
MAX_TEMPERATURES = 20


def check_bounded(
    value: Any,
    *,
    name: str,
    high: float,
    integer: bool = False,
    strict: bool = True,
    high_open: bool = False,
    hint: str = "",
) -> Any:
    """A positive (``strict``) or non-negative number no larger than ``high``.

    The one bound check of this tool, kept because its messages are part of the tool since its
    first release: a value below the bound reads ``"n must be > 0"`` (or ``">= 0"``), as
    :func:`~workbench.core.validation.check_positive` words it, where
    :func:`~workbench.core.params.check_number` alone would say ``"n must lie in (0, 32]"``.
    The upper bound, and integers above it however large, go to ``check_number``.

    Parameters
    ----------
    value : int or float
        The number given by the user.
    name : str
        Argument name used in the message.
    high : float
        Largest accepted value.
    integer : bool, default=False
        Require an integer.
    strict : bool, default=True
        Refuse zero too.
    high_open : bool, default=False
        Refuse ``high`` itself.
    hint : str, default=""
        Why the upper bound exists.

    Returns
    -------
    int or float
    """
    low, low_open = (1, False) if integer and strict else (0, strict)
    too_big = isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > high
    if not too_big:
        check_positive(value, name=name, strict=strict, integer=integer)
    return check_number(
        value,
        name=name,
        low=low,
        low_open=low_open,
        high=high,
        high_open=high_open,
        # An int beyond the float range is out of range, not "not a finite number".
        integer=integer or too_big,
        hint=hint,
    )


def check_text_list(texts: Any, *, name: str) -> list[str]:
    """One string or an iterable of strings, returned as a list."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, bytes | bytearray) or not isinstance(texts, Iterable):
        raise InputTypeError(
            f"{name} must be a str or a list of str, got {type(texts).__name__}; decode bytes "
            "first."
        )
    out = list(texts)
    for t in out:
        if not isinstance(t, str):
            raise InputTypeError(
                f"{name} must hold only strings, got {t!r} ({type(t).__name__}); convert "
                "each item with str() or drop it."
            )
    return out


def check_transcriber_params(params: dict[str, Any], compute_types: Iterable[str]) -> None:
    """Check the constructor parameters of a ``Transcriber`` (all but the model, which loading
    checks).

    Parameters
    ----------
    params : dict
        ``Transcriber.get_params()``.
    compute_types : iterable of str
        The CTranslate2 compute types accepted.
    """
    p = params
    check_choice(p["compute_type"], compute_types, kind="compute_type")
    check_bounded(
        p["cpu_threads"], name="cpu_threads", integer=True, high=MAX_THREADS, hint="Use 1-8."
    )
    check_bounded(
        p["beam_size"], name="beam_size", integer=True, high=MAX_BEAM, hint="1 or 5 is usual."
    )
    check_bounded(
        p["vad_min_silence_ms"], name="vad_min_silence_ms", integer=True, high=MAX_SILENCE_MS
    )
    temps = p["temperature"]
    temps = list(temps) if isinstance(temps, tuple | list) else [temps]
    if not temps:
        raise InputError("temperature must be a number or a non-empty tuple of numbers.")
    if len(temps) > MAX_TEMPERATURES:
        raise InputError(f"temperature lists {len(temps)} values; pass at most {MAX_TEMPERATURES}.")
    for t in temps:
        check_bounded(t, name="temperature", strict=False, high=1.0, hint="Whisper samples at 0-1.")
    if not isinstance(p["language"], str) or not p["language"].strip():
        raise InputTypeError(
            f"language must be a language code such as 'en', got {p['language']!r}."
        )
    check_flag(p["vad_filter"], name="vad_filter")
    check_flag(p["word_timestamps"], name="word_timestamps")
