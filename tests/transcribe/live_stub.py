"""A model-free decoder for the live-session tests: one word per loud half second.

Each half second of audio (on the stream's absolute half-second grid) whose RMS exceeds 0.01
becomes the word ``" w<k>"`` (``k`` = its index on the grid; every fourth ends a sentence), so
two passes over the same audio agree and the streaming session confirms words exactly as it
would with Whisper, in microseconds and with timestamps that tests can predict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.transcribe import SAMPLE_RATE, Segment, Word
from workbench.transcribe.decoder import WhisperDecoder

HALF = SAMPLE_RATE // 2


def tone(seconds: float, *, amplitude: float = 0.3, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A 220 Hz tone: 'speech' for the stub."""
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


class StubDecoder(WhisperDecoder):
    """Decodes loud half seconds to numbered words; nothing is loaded."""

    def __init__(self) -> None:
        super().__init__()
        self.n_decodes = 0
        self.max_samples = 0

    def load(self) -> StubDecoder:
        return self

    def decode(self, samples: np.ndarray, *, offset: float, **_kw: Any):
        self.n_decodes += 1
        self.max_samples = max(self.max_samples, samples.size)
        first = int(np.ceil(offset * 2 - 1e-6))
        segments = []
        k = first
        while True:
            a = round(k * HALF - offset * SAMPLE_RATE)
            if a + HALF > samples.size:
                break
            frame = samples[a : a + HALF]
            if float(np.sqrt(np.mean(frame**2))) > 0.01:
                text = f" w{k}" + ("." if k % 4 == 3 else "")
                w = Word(k / 2, k / 2 + 0.4, text, 0.9)
                segments.append(Segment(len(segments), w.start, w.end, text, -0.1, 0.0, (w,)))
            k += 1
        return iter(segments)
