"""espeak-ng synthesis (the fixture generator; CI installs the apt package) and the demo clip."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from workbench.core.errors import DependencyError, InputError, InputTypeError
from workbench.transcribe import demo_clip, demo_text, load_audio, synthesize, word_error_rate


def test_synthesized_speech_is_recognized(transcriber, tmp_path):
    text = "Please open the window before the meeting starts."
    audio = synthesize(text, tmp_path / "s.wav", words_per_minute=150)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 2.0 < audio.size / 16000 < 6.0 and 0.05 < np.abs(audio).max() <= 1.0
    assert load_audio(tmp_path / "s.wav").size == audio.size
    assert word_error_rate(text, transcriber.transcribe(audio).text) <= 0.25


def test_synthesize_bad_input():
    with pytest.raises(InputError, match="text is empty"):
        synthesize("   ")
    with pytest.raises(InputTypeError, match="text must be a str"):
        synthesize(b"bytes")
    with pytest.raises(InputError, match="words_per_minute must be > 0"):
        synthesize("hi", words_per_minute=0)


def test_missing_espeak_is_a_dependency_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(DependencyError, match="apt-get install espeak-ng"):
        synthesize("hello")


def test_demo_clip_and_text_match():
    audio = load_audio(demo_clip())
    assert 30 < audio.size / 16000 < 40
    assert demo_text().startswith("Welcome to the weekly planning meeting.")
    assert len(demo_text().split()) == 66
