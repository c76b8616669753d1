"""Decode a short buffer with a short encoder window: the streaming fast path.

Whisper was trained on 30-s windows, and faster-whisper pads every window to 30 s (3,000 feature
frames) before the encoder. A streaming pass decodes a buffer of a few seconds, so most of that
encoder work is spent on padding: on 2 CPU cores the tiny.en encoder takes about 0.48 s for 3,000
frames and 0.10 s for 1,000 (CTranslate2 accepts shorter inputs; the positional embeddings are
simply used up to the input length). :func:`short_window_model` returns a view of a loaded
``WhisperModel`` whose encoder sees only the buffered audio plus a margin of padding, and which
decodes only the first window: the text after the window's last timestamp is a fragment of the
word being spoken, which the next pass decodes whole anyway, and decoding such fragments alone is
where Whisper loops ("Good morning. Good morning. ...").

This relies on ``WhisperModel.generate_segments`` calling ``WhisperModel.encode`` once per
window with the padded features, which holds for faster-whisper 1.0-1.2 (the supported range);
the streaming tests check that the short window is really used.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

__all__ = ["FRAMES_PER_SECOND", "WindowDone", "short_window_model"]

FRAMES_PER_SECOND = 100
"""Whisper feature frames per second of audio (hop of 160 samples at 16 kHz)."""


class WindowDone(Exception):
    """Raised by the view's encoder when a second window would start; ends the pass."""


def _content_frames(features: np.ndarray) -> int:
    # faster-whisper pads with exact zeros; a real log-mel column is never all zeros (silence
    # is about -1.5 after Whisper's normalisation), so the last non-zero column ends the audio.
    nonzero = np.flatnonzero(np.any(features != 0, axis=0))
    return int(nonzero[-1]) + 1 if nonzero.size else 1


def short_window_model(
    model: Any, *, margin_s: float = 2.0, one_window: bool = True, stats: dict | None = None
) -> Any:
    """A shallow view of ``model`` that encodes only the audio plus ``margin_s`` of padding.

    Parameters
    ----------
    model : faster_whisper.WhisperModel
        A loaded model; it is not modified (the view shares its weights).
    margin_s : float, default=2.0
        Seconds of padding kept after the audio, rounded up to whole seconds with it (Whisper
        needs some silence after the last word to place the closing timestamp).
    one_window : bool, default=True
        Stop after the first window (see below); False decodes every window, each with the
        short encoder.
    stats : dict, optional
        If given, ``stats["frames"]`` gets the number of encoder frames of each window.

    Returns
    -------
    faster_whisper.WhisperModel
        Use it for one ``transcribe`` call. With ``one_window``, iterate its segments inside
        ``try ... except WindowDone``: the view raises :class:`WindowDone` instead of encoding
        a second window.
    """
    view = copy.copy(model)
    encode = model.encode
    margin = round(margin_s * FRAMES_PER_SECOND)
    calls = 0

    def short_encode(features: np.ndarray) -> Any:
        nonlocal calls
        calls += 1
        if one_window and calls > 1:
            raise WindowDone
        feats = features[0] if features.ndim == 3 else features
        content = _content_frames(feats)
        frames = -(-(content + margin) // FRAMES_PER_SECOND) * FRAMES_PER_SECOND
        frames = min(feats.shape[-1], frames)
        if stats is not None:
            stats.setdefault("frames", []).append(frames)
        return encode(np.ascontiguousarray(feats[:, :frames]))

    view.encode = short_encode
    return view
