"""The boundary of streaming: chunks of audio, sources of chunks and the session's settings.

:func:`iter_chunks` cuts a recording into chunks; :func:`check_chunk_source` and
:func:`check_session_params` check what :meth:`Transcriber.stream` and
:class:`~workbench.transcribe.StreamingSession` are given, once, before a model is loaded.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_flag
from workbench.core.validation import check_choice, check_positive
from workbench.transcribe.audio import SAMPLE_RATE, check_rate
from workbench.transcribe.checks import MAX_SENTENCES

__all__ = [
    "MAX_BUFFER_S",
    "MAX_CHUNK_S",
    "check_chunk_source",
    "check_session_params",
    "iter_chunks",
]

MAX_BUFFER_S = 28.0
"""Most audio a stream keeps buffered: Whisper decodes a 30-s window at once."""
MAX_CHUNK_S = 3600.0
"""Longest chunk :func:`iter_chunks` cuts (one hour)."""
MIN_CHUNK_S = 0.01
"""Shortest chunk :func:`iter_chunks` cuts (10 ms; shorter would make millions of chunks)."""
MAX_PROMPT_CHARS = 1000
MAX_MARGIN_S = 10.0


def iter_chunks(
    audio: np.ndarray, chunk_s: float = 1.0, sample_rate: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Cut samples into consecutive chunks of ``chunk_s`` seconds (to play a file as a stream).

    The arguments are checked when this is called, not when the first chunk is taken.

    Parameters
    ----------
    audio : numpy.ndarray of shape (n_samples,)
        Float or integer PCM samples, finite.
    chunk_s : float, default=1.0
        Seconds per chunk, in [0.01, 3600].
    sample_rate : int, default=16000
        Rate of ``audio`` in Hz.

    Returns
    -------
    iterator of numpy.ndarray
        Views of ``audio``; the last chunk may be shorter.

    Raises
    ------
    InputTypeError
        If ``audio`` is not a numeric numpy array, or a number has the wrong type.
    InputError
        If ``audio`` is not 1-D or holds NaN/infinity, or a number is out of range.
    """
    if not isinstance(audio, np.ndarray):
        raise InputTypeError(
            f"audio must be a numpy array of samples, got {type(audio).__name__}; load a file "
            "with load_audio(path) first."
        )
    if audio.dtype.kind not in "iuf":
        raise InputTypeError(f"audio samples must be float or integer PCM, got {audio.dtype}.")
    if audio.ndim != 1:
        raise InputError(f"audio must be 1-D (mono), got shape {audio.shape}; mix channels down.")
    if audio.dtype.kind == "f" and audio.size and not np.isfinite(audio).all():
        raise InputError("audio contains NaN or infinite samples; clean or clip them first.")
    if check_positive(chunk_s, name="chunk_s", high=MAX_CHUNK_S) < MIN_CHUNK_S:
        raise InputError(f"chunk_s={chunk_s} is shorter than {MIN_CHUNK_S} s; pass e.g. 1.0.")
    rate = check_rate(sample_rate)
    return _chunks(audio, max(1, round(chunk_s * rate)))


def _chunks(audio: np.ndarray, step: int) -> Iterator[np.ndarray]:
    for i in range(0, len(audio), step):
        yield audio[i : i + step]


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_chunk_source(chunks: Any) -> Iterable[Any]:
    """Refuse what cannot be a sequence of chunks: None, text, bytes or one array of samples."""
    if isinstance(chunks, np.ndarray):
        raise InputTypeError(
            "chunks is one array of samples; pass an iterable of chunks, e.g. "
            "iter_chunks(audio, 1.0), or use transcribe() for a whole recording."
        )
    if isinstance(chunks, str | bytes | bytearray) or not isinstance(chunks, Iterable):
        raise InputTypeError(
            f"chunks must be an iterable of numpy arrays (e.g. iter_chunks(audio, 1.0)), got "
            f"{type(chunks).__name__}."
        )
    return chunks


def check_session_params(
    *,
    sample_rate: Any,
    min_chunk_s: Any,
    buffer_trim_s: Any,
    summary_sentences: Any,
    prompt_chars: Any,
    encoder_window: Any,
    window_margin_s: Any,
    repetition_guard: Any = True,
    skip_silence: Any = True,
    edge_s: Any = 0.5,
    min_buffer_s: Any = 6.0,
) -> dict[str, Any]:
    """Check the settings of a streaming session; return them normalized.

    Returns
    -------
    dict
        The same keys, with floats and ints converted and ``sample_rate`` checked.
    """
    if sample_rate is not None:
        sample_rate = check_rate(sample_rate)
    check_positive(min_chunk_s, name="min_chunk_s", high=MAX_BUFFER_S)
    if _is_real(buffer_trim_s) and buffer_trim_s > MAX_BUFFER_S - 2:
        raise InputError(
            f"buffer_trim_s={buffer_trim_s} is too long: Whisper decodes at most 30 s at once; "
            f"use at most {MAX_BUFFER_S - 2:g}."
        )
    check_positive(buffer_trim_s, name="buffer_trim_s", high=MAX_BUFFER_S - 2)
    if min_chunk_s >= buffer_trim_s:
        raise InputError("min_chunk_s must be shorter than buffer_trim_s.")
    check_positive(
        summary_sentences, name="summary_sentences", integer=True, strict=False, high=MAX_SENTENCES
    )
    check_positive(
        prompt_chars, name="prompt_chars", integer=True, strict=False, high=MAX_PROMPT_CHARS
    )
    check_choice(encoder_window, ("short", "full"), kind="encoder_window")
    check_positive(window_margin_s, name="window_margin_s", strict=False, high=MAX_MARGIN_S)
    check_flag(repetition_guard, name="repetition_guard")
    check_flag(skip_silence, name="skip_silence")
    check_positive(edge_s, name="edge_s", strict=False, high=MAX_MARGIN_S)
    check_positive(min_buffer_s, name="min_buffer_s", strict=False, high=MAX_MARGIN_S)
    return {
        "sample_rate": sample_rate,
        "min_chunk_s": float(min_chunk_s),
        "buffer_trim_s": float(buffer_trim_s),
        "summary_sentences": int(summary_sentences),
        "prompt_chars": int(prompt_chars),
        "encoder_window": encoder_window,
        "window_margin_s": float(window_margin_s),
        "repetition_guard": bool(repetition_guard),
        "skip_silence": bool(skip_silence),
        "edge_s": float(edge_s),
        "min_buffer_s": float(min_buffer_s),
    }
