"""The microphone widget: capture in the browser, 16 kHz float32 chunks to the kernel.

:class:`MicrophoneWidget` is an `anywidget <https://anywidget.dev>`_ (no Node build; it works in
JupyterLab 4 and Notebook 7). In the browser, ``getUserMedia`` feeds an ``AudioWorklet`` (its code
is a Blob URL), the audio is mixed to mono, low-passed and down-sampled to 16 kHz, and sent in
chunks of ``chunk_s`` seconds as binary ``float32`` buffers with a sequence number, the browser's
clock and the sample rate. The widget draws Start/Stop buttons, a level meter and the elapsed
time; when there is no microphone or permission is denied it shows why, and the same message is
synced to :attr:`MicrophoneWidget.error` for the kernel side.

:func:`~workbench.transcribe.mic_chunks.parse_chunk` checks one chunk message (every bad payload
raises :class:`~workbench.transcribe.mic_chunks.ChunkError`);
:class:`~workbench.transcribe.live.LiveSession` turns the chunks into text.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from workbench.core.errors import InputError, InputTypeError
from workbench.transcribe.audio import SAMPLE_RATE
from workbench.transcribe.mic_chunks import AudioChunk, ChunkError, parse_chunk

__all__ = ["MicrophoneWidget"]

_DATA = Path(__file__).with_name("data")


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

    def __repr__(self) -> str:
        # No object address: notebooks compare this text across runs.
        return (
            f"MicrophoneWidget(chunk_s={self.chunk_s:g}, recording={self.recording}, "
            f"chunks received={self.n_chunks_})"
        )

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
