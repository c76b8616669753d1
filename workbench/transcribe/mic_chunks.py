"""Chunks of microphone audio as the browser sends them, checked (headless: no widget imports).

The :class:`~workbench.transcribe.microphone.MicrophoneWidget` sends each chunk as a message
``{"type": "chunk", "seq", "rate", "t", "level"}`` with one binary buffer of little-endian
float32 samples; :func:`parse_chunk` checks it and every bad payload raises :class:`ChunkError`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.transcribe.audio import check_rate

__all__ = ["MAX_CHUNK_S", "AudioChunk", "ChunkError", "parse_chunk"]

MAX_CHUNK_S = 10.0
"""Longest chunk accepted (the widget sends 0.5-1 s)."""
_MAX_SEQ = 2**53  # JavaScript's largest exact integer


class ChunkError(InputError):
    """A chunk message from the browser is malformed (wrong fields, buffer size or values)."""


@dataclasses.dataclass(frozen=True)
class AudioChunk:
    """One chunk of microphone audio as the browser sent it.

    Attributes
    ----------
    seq : int
        Sequence number (0, 1, 2... per recording).
    samples : numpy.ndarray of dtype float32
        Mono samples in [-1, 1] at ``sample_rate``.
    sample_rate : int
    sent_at_ms : float
        The browser's clock (ms since the epoch) when it sent the chunk; NaN if not given.
    level : float
        RMS level the browser measured; NaN if not given.
    """

    seq: int
    samples: np.ndarray
    sample_rate: int
    sent_at_ms: float = float("nan")
    level: float = float("nan")

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.size / self.sample_rate


def _number(content: dict[str, Any], key: str) -> float:
    value = content.get(key)
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ChunkError(f"Chunk field {key!r} must be a number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ChunkError(f"Chunk field {key!r} must be finite, got {value!r}.")
    return value


def parse_chunk(content: Any, buffers: Sequence[Any]) -> AudioChunk:
    """Check a chunk message from the widget and return its audio.

    Parameters
    ----------
    content : dict
        ``{"type": "chunk", "seq": int, "rate": int, "t": ms, "level": float}``.
    buffers : sequence of bytes-like
        Exactly one buffer of little-endian float32 samples.

    Returns
    -------
    AudioChunk

    Raises
    ------
    ChunkError
        If a field is missing or wrong, there is not exactly one buffer, its size is not a
        whole number of float32 samples, it is empty or longer than :data:`MAX_CHUNK_S`, or a
        sample is NaN, infinite or beyond [-1, 1] by more than a rounding error.
    """
    if not isinstance(content, dict):
        raise ChunkError(f"A chunk message must be a dict, got {type(content).__name__}.")
    if content.get("type") != "chunk":
        raise ChunkError(f"Not a chunk message: type {content.get('type')!r}.")
    seq = content.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, numbers.Integral) or not 0 <= seq < _MAX_SEQ:
        raise ChunkError(f"Chunk field 'seq' must be an integer >= 0, got {seq!r}.")
    try:
        rate = check_rate(content.get("rate"))
    except (InputError, InputTypeError) as exc:
        raise ChunkError(f"Chunk field 'rate': {exc}") from None
    sent_at, level = _number(content, "t"), _number(content, "level")
    if not isinstance(buffers, list | tuple) or len(buffers) != 1:
        n = len(buffers) if isinstance(buffers, list | tuple) else type(buffers).__name__
        raise ChunkError(f"A chunk carries exactly one binary buffer, got {n}.")
    try:
        raw = memoryview(buffers[0]).cast("B")
    except TypeError:
        raise ChunkError(
            f"The chunk buffer must be bytes-like, got {type(buffers[0]).__name__}."
        ) from None
    if raw.nbytes == 0 or raw.nbytes % 4:
        raise ChunkError(
            f"The chunk buffer holds {raw.nbytes} bytes; float32 audio needs a positive "
            "multiple of 4."
        )
    if raw.nbytes // 4 > MAX_CHUNK_S * rate:
        raise ChunkError(
            f"The chunk holds {raw.nbytes // 4 / rate:.1f} s of audio; chunks are at most "
            f"{MAX_CHUNK_S:g} s."
        )
    samples = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.isfinite(samples).all():
        raise ChunkError("The chunk holds NaN or infinite samples; the capture is broken.")
    if np.abs(samples).max() > 1.01:
        raise ChunkError(
            f"The chunk's samples reach {np.abs(samples).max():.3g}; audio must lie in [-1, 1]."
        )
    return AudioChunk(int(seq), samples, rate, sent_at, level)
