"""Where speech starts in a streaming buffer, by the Silero VAD model that faster-whisper ships.

A streaming buffer that begins with seconds of silence (a pause between speakers, a stream that
starts quiet) is where tiny.en goes wrong: it writes nothing, or repeats the prompt's last
sentence with zero-length timestamps, or puts a word at the start of the silence. Cutting the
silence off before decoding avoids all three and makes the pass shorter. The model runs offline
(it is part of the faster-whisper package) in a few milliseconds per second of audio.
"""

from __future__ import annotations

import numpy as np

from workbench.transcribe.audio import SAMPLE_RATE

__all__ = ["speech_regions", "speech_start"]


def speech_regions(samples: np.ndarray, *, threshold: float = 0.5) -> list[tuple[float, float]]:
    """Start and end (s from the start of ``samples``) of each stretch of speech.

    Parameters
    ----------
    samples : numpy.ndarray of float32
        Mono samples at 16 kHz.
    threshold : float, default=0.5
        Silero speech probability above which a 32-ms window is speech.

    Returns
    -------
    list of (float, float)
        Empty when there is no speech.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if samples.size < 512:
        return []
    options = VadOptions(
        threshold=threshold,
        min_speech_duration_ms=100,
        min_silence_duration_ms=100,
        speech_pad_ms=0,
    )
    found = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)
    return [(f["start"] / SAMPLE_RATE, f["end"] / SAMPLE_RATE) for f in found]


def speech_start(samples: np.ndarray, *, threshold: float = 0.5) -> float | None:
    """Seconds from the start of ``samples`` to the first speech, or None if there is none.

    Parameters
    ----------
    samples : numpy.ndarray of float32
        Mono samples at 16 kHz.
    threshold : float, default=0.5
        Silero speech probability above which a 32-ms window is speech.

    Returns
    -------
    float or None
    """
    regions = speech_regions(samples, threshold=threshold)
    return regions[0][0] if regions else None
