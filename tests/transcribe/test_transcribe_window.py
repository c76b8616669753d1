"""The short encoder window of streaming passes: real model, real audio."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.transcribe import demo_clip, load_audio, word_error_rate
from workbench.transcribe.window import WindowDone, _content_frames, short_window_model


def test_content_frames_ends_at_the_zero_padding():
    feats = np.zeros((80, 3000), np.float32)
    feats[:, :437] = -1.5  # what digital silence looks like after Whisper's normalisation
    feats[3, 436] = 0.0  # a single zero inside the audio does not end it
    assert _content_frames(feats) == 437
    assert _content_frames(np.zeros((80, 3000), np.float32)) == 1


def _decode(transcriber, audio, **window):
    """Segments and encoder frames of one decoding with the short-window options ``window``."""
    stats: dict = {"frames": []}
    segments = list(
        transcriber.decode(audio, show_progress=False, offset=0.0, window_stats=stats, **window)
    )
    return segments, stats["frames"]


def test_short_window_encodes_only_the_audio_and_matches_full_decoding(transcriber, clips):
    path, text = clips["library"]
    audio = load_audio(path)  # 10.9 s
    short, frames = _decode(transcriber, audio, short_window_margin_s=1.0)
    # 10.9 s of audio + 1 s margin, rounded up to whole seconds: 12 s of the 30-s window.
    assert frames == [1200]
    full, frames = _decode(transcriber, audio)
    assert frames == []  # the model's own encoder: padded 30-s windows
    short_text = " ".join(s.text for s in short)
    full_text = " ".join(s.text for s in full)
    assert word_error_rate(text, short_text) <= 0.2
    assert word_error_rate(full_text, short_text) <= 0.2
    assert all(w.end <= 11.0 for s in short for w in s.words)


def test_one_window_stops_where_a_second_window_would_start(transcriber):
    audio = load_audio(demo_clip())  # 36 s: more than one 30-s window
    first, frames = _decode(transcriber, audio, short_window_margin_s=1.0, one_window=True)
    assert frames == [3000]
    assert first and max(s.end for s in first) <= 30.0
    segments, frames = _decode(transcriber, audio, short_window_margin_s=1.0, one_window=False)
    assert len(frames) >= 2 and frames[-1] < 3000
    assert max(s.end for s in segments) > 30.0


def test_the_view_leaves_the_shared_model_alone(transcriber):
    model = transcriber.model_
    view = short_window_model(model, margin_s=0.5)
    assert view.model is model.model  # weights shared, not copied
    assert "encode" not in vars(model)
    feats = np.zeros((80, 3000), np.float32)
    feats[:, :250] = -1.0
    out = view.encode(feats)
    assert out.shape[1] == 150  # 300 frames in, half as many encoder positions out
    with pytest.raises(WindowDone):
        view.encode(feats)
    assert model.encode(feats[None]).shape[1] == 1500
