"""The microphone widget: capture in the browser, 16 kHz float32 chunks to the kernel.

:class:`MicrophoneWidget` is an `anywidget <https://anywidget.dev>`_ (no Node build; it works in
JupyterLab 4 and Notebook 7). In the browser, ``getUserMedia`` feeds an ``AudioWorklet`` (its code
is a Blob URL), the audio is mixed to mono, low-passed and down-sampled to 16 kHz, and sent in
chunks of ``chunk_s`` seconds as binary ``float32`` buffers with a sequence number, the browser's
clock and the sample rate. The widget draws Start/Stop buttons, a level meter and the elapsed
time; when there is no microphone or permission is denied it shows why, and the same message is
synced to :attr:`MicrophoneWidget.error` for the kernel side.

:func:`parse_chunk` checks one chunk message (every bad payload raises :class:`ChunkError`);
:class:`~workbench.transcribe.live.LiveSession` turns the chunks into text.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from workbench.core.errors import InputError, InputTypeError
from workbench.transcribe.audio import SAMPLE_RATE, check_rate

__all__ = ["AudioChunk", "ChunkError", "MicrophoneWidget", "parse_chunk"]

_DATA = Path(__file__).with_name("data")
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


class MicrophoneWidget(anywidget.AnyWidget):
    """Record from the browser's microphone and hand 16 kHz chunks to the kernel.

    Parameters
    ----------
    chunk_s : float, default=0.5
        Seconds per chunk sent to the kernel, in [0.25, 2].
    on_chunk : callable, optional
        Called with each valid :class:`AudioChunk` (in the kernel's comm thread: keep it quick;
        :class:`~workbench.transcribe.live.LiveSession` only queues it).

    Attributes
    ----------
    recording : bool
        True while the browser records (set False from the kernel to stop it).
    error : str
        The message the widget shows when the microphone cannot start (no device, permission
        denied, insecure page); empty otherwise.
    status : str
        A line of text the kernel side shows under the buttons.
    n_chunks_ : int
        Valid chunks received.
    bad_chunks_ : list of str
        Why chunks were refused (the last 20).
    """

    _esm = _DATA / "microphone.js"
    _css = _DATA / "microphone.css"
    recording = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    chunk_s = traitlets.Float(0.5).tag(sync=True)
    sample_rate = traitlets.Int(SAMPLE_RATE).tag(sync=True)

    def __init__(
        self, *, chunk_s: float = 0.5, on_chunk: Callable[[AudioChunk], Any] | None = None
    ) -> None:
        if isinstance(chunk_s, bool) or not isinstance(chunk_s, numbers.Real):
            raise InputTypeError(f"chunk_s must be a number of seconds, got {chunk_s!r}.")
        if not (math.isfinite(chunk_s) and 0.25 <= chunk_s <= 2.0):
            raise InputError(f"chunk_s must lie in [0.25, 2] seconds, got {chunk_s!r}.")
        if on_chunk is not None and not callable(on_chunk):
            raise InputTypeError(f"on_chunk must be callable, got {type(on_chunk).__name__}.")
        super().__init__(chunk_s=float(chunk_s))
        self.n_chunks_ = 0
        self.bad_chunks_: list[str] = []
        self._chunk_handlers: list[Callable[[AudioChunk], Any]] = []
        self._event_handlers: list[Callable[[dict[str, Any]], Any]] = []
        if on_chunk is not None:
            self._chunk_handlers.append(on_chunk)
        self.on_msg(self._on_comm_msg)

    def on_chunk(self, callback: Callable[[AudioChunk], Any]) -> None:
        """Also call ``callback(chunk)`` for every valid chunk."""
        if not callable(callback):
            raise InputTypeError(f"callback must be callable, got {type(callback).__name__}.")
        self._chunk_handlers.append(callback)

    def on_event(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Call ``callback(message)`` for ``start`` and ``stop`` messages from the browser."""
        if not callable(callback):
            raise InputTypeError(f"callback must be callable, got {type(callback).__name__}.")
        self._event_handlers.append(callback)

    def _on_comm_msg(self, _widget: Any, content: Any, buffers: Any) -> None:
        self.receive(content, buffers)

    def receive(self, content: Any, buffers: Sequence[Any] = ()) -> AudioChunk | None:
        """Handle one message from the browser (what the comm calls; tests call it directly).

        A malformed chunk never raises here (the comm thread must go on): it is counted in
        :attr:`bad_chunks_` and shown in :attr:`status`.

        Returns
        -------
        AudioChunk or None
            The chunk, or None for other messages and refused chunks.
        """
        kind = content.get("type") if isinstance(content, dict) else None
        if kind in ("start", "stop"):
            for handler in list(self._event_handlers):
                handler(dict(content))
            return None
        if kind != "chunk":
            return None
        try:
            chunk = parse_chunk(content, list(buffers) if buffers is not None else [])
        except ChunkError as exc:
            self.bad_chunks_ = [*self.bad_chunks_[-19:], str(exc)]
            self.status = f"Refused a chunk from the browser: {exc}"
            return None
        self.n_chunks_ += 1
        for handler in list(self._chunk_handlers):
            handler(chunk)
        return chunk

    def confirm(self, ends: Sequence[float], *, live: bool = True) -> None:
        """Tell the browser that words ending at ``ends`` (stream seconds) were confirmed.

        The widget measures each word's confirmation delay from it: the time the message
        arrives minus the time the word's end was captured (shown as a median, and kept in the
        ``data-delays`` attribute of the widget's element). ``live=False`` marks words
        confirmed only because the recording stopped (not counted).
        """
        self.send({"type": "confirmed", "ends": [round(float(e), 3) for e in ends], "live": live})
