"""Shared fixtures of the transcription tests: the model is loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(__file__).with_name("data")


@pytest.fixture(scope="session")
def transcriber():
    """The default offline Transcriber (tiny.en int8), loaded once for every test."""
    from workbench.transcribe import Transcriber

    return Transcriber().load()


@pytest.fixture(scope="session")
def clips():
    """Name → (wav path, source text) of the committed espeak-ng fixtures."""
    return {
        p.stem: (p, p.with_suffix(".txt").read_text(encoding="utf-8").strip())
        for p in sorted(DATA.glob("*.wav"))
    }


@pytest.fixture(scope="session")
def weather_transcript(transcriber, clips):
    """Transcript of the weather clip, computed once."""
    return transcriber.transcribe(clips["weather"][0])
