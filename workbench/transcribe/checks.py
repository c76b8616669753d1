"""Boundary checks of the transcription tool: bounded sizes, settings and lists of text.

Public functions call these once, before loading a model or decoding, so ``'x'``, ``NaN``,
``10**7`` or a list where text belongs get a :class:`~workbench.core.errors.WorkbenchError`
with a fix instead of a faster-whisper or numpy traceback, a hang or thousands of threads. The
rules shared by every tool live in :mod:`workbench.core.params` and
:mod:`workbench.core.validation`; this module fixes the bounds that fit speech.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_flag
from workbench.core.validation import check_choice, check_positive

__all__ = [
    "MAX_SENTENCES",
        "check_text_list",
    "check_transcriber_params",
]

MAX_SENTENCES = 1000
"""Most sentences or key phrases one summary may ask for."""
MAX_THREADS = 256
MAX_BEAM = 32
MAX_SILENCE_MS = 60_000
MAX_TEMPERATURES = 20


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
    check_positive(
        p["cpu_threads"], name="cpu_threads", integer=True, high=MAX_THREADS, hint="Use 1-8."
    )
    check_positive(
        p["beam_size"], name="beam_size", integer=True, high=MAX_BEAM, hint="1 or 5 is usual."
    )
    check_positive(
        p["vad_min_silence_ms"], name="vad_min_silence_ms", integer=True, high=MAX_SILENCE_MS
    )
    temps = p["temperature"]
    temps = list(temps) if isinstance(temps, tuple | list) else [temps]
    if not temps:
        raise InputError("temperature must be a number or a non-empty tuple of numbers.")
    if len(temps) > MAX_TEMPERATURES:
        raise InputError(f"temperature lists {len(temps)} values; pass at most {MAX_TEMPERATURES}.")
    for t in temps:
        check_positive(
            t, name="temperature", strict=False, high=1.0, hint="Whisper samples at 0-1."
        )
    if not isinstance(p["language"], str) or not p["language"].strip():
        raise InputTypeError(
            f"language must be a language code such as 'en', got {p['language']!r}."
        )
    check_flag(p["vad_filter"], name="vad_filter")
    check_flag(p["word_timestamps"], name="word_timestamps")
