"""Audio input: decode files and bytes, validate arrays, resample to Whisper's 16 kHz mono.

Whisper models expect mono float32 samples in [-1, 1] at 16,000 Hz. :func:`load_audio` turns every
accepted input (a path, raw file bytes, a file-like object, or a numpy array with its sample rate)
into exactly that, and raises a :class:`~workbench.core.errors.WorkbenchError` subclass with a fix
for everything else.
"""

from __future__ import annotations

import io
import math
import os
import wave
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import FLOAT32_MAX
from workbench.core.paths import atomic_write, check_write_path
from workbench.core.validation import check_array, check_file

__all__ = ["SAMPLE_RATE", "AudioInput", "check_rate", "load_audio", "resample", "write_wav"]

SAMPLE_RATE = 16_000
"""Sample rate (Hz) every Whisper model works at."""

AudioInput = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | np.ndarray
"""What :func:`load_audio` accepts."""

_MIN_RATE, _MAX_RATE = 1_000, 384_000
# Float audio far outside [-1, 1] is almost always int16 samples cast to float by mistake.
_MAX_FLOAT_PEAK = 32.0
# Resampling output beyond 2**30 float32 samples (4 GiB; 18 h at 16 kHz) is a typo in a rate.
_MAX_RESAMPLED = 2**30


def load_audio(audio: Any, *, sample_rate: int | None = None) -> np.ndarray:
    """Return ``audio`` as 1-D float32 samples at 16 kHz.

    Parameters
    ----------
    audio : str, path-like, bytes, file-like or numpy.ndarray
        A sound file (any format PyAV/FFmpeg decodes: WAV, FLAC, MP3, OGG, M4A...), its bytes, or
        an array of samples. Integer arrays (e.g. int16 PCM) are scaled to [-1, 1].
    sample_rate : int, optional
        Sample rate of an array in Hz; arrays at another rate than 16,000 Hz are resampled.
        Default 16,000 for arrays. Checked but unused for files, which carry their own rate.

    Returns
    -------
    numpy.ndarray of shape (n_samples,), dtype float32

    Raises
    ------
    ResourceNotFoundError
        If a path does not exist.
    InputError
        If a file cannot be decoded (corrupt or unsupported) or holds no audio, or an array is
        empty, not 1-D, holds NaN/infinity or looks like unscaled integer PCM, or ``sample_rate``
        is out of range.
    InputTypeError
        If ``audio`` is of an unsupported type or an array is not numeric.
    """
    rate = SAMPLE_RATE if sample_rate is None else check_rate(sample_rate)
    if isinstance(audio, np.ndarray):
        samples = _check_samples(audio)
        return resample(samples, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else samples
    if isinstance(audio, list | tuple):
        raise InputTypeError(
            "audio is a Python list; pass np.asarray(samples, dtype=np.float32) "
            "and its sample_rate."
        )
    if isinstance(audio, str | os.PathLike):
        path = check_file(audio)
        return _decode(str(path), name=repr(path.name))
    if isinstance(audio, bytes | bytearray | memoryview):
        if len(audio) == 0:
            raise InputError("The audio bytes are empty; upload or pass a non-empty sound file.")
        return _decode(io.BytesIO(bytes(audio)), name="the uploaded bytes")
    if hasattr(audio, "read"):
        return _decode(audio, name="the file object")
    raise InputTypeError(
        f"Unsupported audio input of type {type(audio).__name__}; pass a file path, file bytes, "
        "a binary file object or a 1-D numpy array of samples."
    )


def check_rate(sample_rate: Any) -> int:
    """Check a sample rate: an integer number of Hz in [1000, 384000].

    Parameters
    ----------
    sample_rate : int

    Returns
    -------
    int

    Raises
    ------
    InputTypeError
        If it is not an integer.
    InputError
        If it is out of range.
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise InputTypeError(f"sample_rate must be an integer number of Hz, got {sample_rate!r}.")
    if not _MIN_RATE <= sample_rate <= _MAX_RATE:
        raise InputError(
            f"sample_rate={sample_rate} Hz is out of range [{_MIN_RATE}, {_MAX_RATE}]; "
            "give the rate the samples were recorded at (often 16000, 44100 or 48000)."
        )
    return int(sample_rate)


def _check_samples(audio: np.ndarray) -> np.ndarray:
    if audio.dtype.kind in "iu":
        info = np.iinfo(audio.dtype)
        scale = float(max(abs(info.min), info.max))
        samples = audio.astype(np.float32) / scale
        if audio.dtype.kind == "u":  # unsigned PCM is centred on half the range
            samples = samples * 2.0 - 1.0
    elif audio.dtype.kind == "f":
        if audio.size and not np.isfinite(audio).all():
            raise InputError("audio contains NaN or infinite samples; clean or clip them first.")
        if audio.size and float(np.abs(audio).max()) > FLOAT32_MAX:
            raise InputError(
                "audio holds values beyond the float32 range; float samples must lie in [-1, 1]."
            )
        samples = audio.astype(np.float32, copy=False)
    else:
        raise InputTypeError(
            f"audio samples must be float or integer PCM, got dtype {audio.dtype}; "
            "convert with np.asarray(audio, dtype=np.float32)."
        )
    if samples.ndim == 2 and 1 in samples.shape:
        samples = samples.reshape(-1)
    if samples.ndim != 1:
        raise InputError(
            f"audio must be 1-D (mono), got shape {audio.shape}; mix channels down first, "
            "e.g. audio.mean(axis=1) for an (n_samples, n_channels) array."
        )
    if samples.size == 0:
        raise InputError("audio is empty (0 samples); pass at least a fraction of a second.")
    if not np.isfinite(samples).all():
        raise InputError("audio contains NaN or infinite samples; clean or clip them first.")
    peak = float(np.abs(samples).max())
    if peak > _MAX_FLOAT_PEAK:
        raise InputError(
            f"audio peaks at {peak:.4g} but float samples must lie in [-1, 1]; int16 PCM stored as "
            "float must be divided by 32768 (or pass it with dtype int16)."
        )
    return np.ascontiguousarray(samples, dtype=np.float32)


def _decode(source: str | BinaryIO, *, name: str) -> np.ndarray:
    # PyAV (FFmpeg) is imported lazily: importing the tool must stay cheap.
    from faster_whisper.audio import decode_audio

    try:
        samples = decode_audio(source, sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises many FFmpeg error types for bad input
        raise InputError(
            f"Could not decode {name} as audio ({type(exc).__name__}: {exc}); the file is corrupt "
            "or not a sound format FFmpeg reads (WAV, FLAC, MP3, OGG, M4A...)."
        ) from None
    if samples.size == 0:
        raise InputError(f"{name} holds no audio samples; pass a file with sound in it.")
    return np.ascontiguousarray(samples, dtype=np.float32)


def resample(samples: np.ndarray, orig_rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Resample 1-D audio with a polyphase anti-aliasing filter.

    Parameters
    ----------
    samples : numpy.ndarray of shape (n_samples,)
        Float samples.
    orig_rate, target_rate : int
        Sample rates in Hz.

    Returns
    -------
    numpy.ndarray of dtype float32

    Raises
    ------
    InputTypeError
        If ``samples`` is not numeric or a rate is not an integer.
    InputError
        If ``samples`` is empty, not 1-D, holds NaN/infinity or values beyond float32, or a
        rate is out of range.
    """
    from scipy.signal import resample_poly

    orig_rate = check_rate(orig_rate)
    target_rate = check_rate(target_rate)
    if isinstance(samples, np.ndarray) and samples.dtype.kind not in "iuf":
        raise InputTypeError(
            f"samples must be float (or integer) numbers, got dtype {samples.dtype}; convert "
            "with np.asarray(samples, dtype=np.float32)."
        )
    samples = check_array(samples, name="samples", ndim=1, float32=True)
    if samples.size * target_rate / orig_rate > _MAX_RESAMPLED:
        raise InputError(
            f"Resampling {samples.size} samples from {orig_rate} to {target_rate} Hz would make "
            "more than 2**30 samples; check the rates or resample shorter pieces."
        )
    if orig_rate == target_rate:
        return np.asarray(samples, dtype=np.float32)
    g = math.gcd(orig_rate, target_rate)
    out = resample_poly(np.asarray(samples, dtype=np.float64), target_rate // g, orig_rate // g)
    return out.astype(np.float32)


def write_wav(
    path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int = SAMPLE_RATE
) -> Path:
    """Write mono float samples in [-1, 1] as a 16-bit PCM WAV file.

    Parameters
    ----------
    path : str or path-like
        Target ``.wav`` file in an existing folder (replaced atomically).
    samples : numpy.ndarray of shape (n_samples,)
        Audio; clipped to [-1, 1].
    sample_rate : int, default=16000
        Rate written into the header.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputTypeError
        If ``path`` is not a path or the samples are not numeric.
    InputError
        If ``path`` is a folder, lacks the ``.wav`` suffix or its folder is not writable, or
        the samples are invalid (see :func:`load_audio`).
    ResourceNotFoundError
        If the folder of ``path`` does not exist.
    """
    p = check_write_path(path, suffixes=[".wav"])
    rate = check_rate(sample_rate)
    data = _check_samples(np.asarray(samples))
    pcm = (np.clip(data, -1.0, 1.0) * 32767.0).round().astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes(pcm.tobytes())
    # All at once: a failed write leaves an existing file as it was.
    return atomic_write(p, buf.getvalue())
